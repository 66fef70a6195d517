"""Exercise every GPU path against ONNX Runtime on the CPU and print PASS/FAIL per path.

    tools/gpu_check.sh [--bundle DIR] [--keep-cache DIR]    # on a machine with an NVIDIA GPU

Paths: ONNX Runtime CUDA; ONNX Runtime TensorRT EP (cold start, then with its engine cache);
native TensorRT cold build and cache hit of every model (text encoder included), each model's
outputs (batches above the profile maxima chunked, a vocabulary of labels × templates, the
decoder's prefill with an empty cache and its decode steps with the cache kept on the device),
full captions equal to the CPU's greedy output, and FP16. Each line gives the time and the
largest |Δ| against the CPU. A path whose package is missing is SKIP with the reason; the exit
status is 1 if any path FAILs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ros_pointlang.backends import BackendOptions, BackendUnavailable, open_session
from ros_pointlang.bundle import Bundle, load_bundle
from ros_pointlang.profiles import bundle_profiles

FP32_TOLERANCE = 2e-3  # native FP32 engines (TF32 off): summation order only
ORT_GPU_TOLERANCE = 1e-2  # ONNX Runtime's CUDA kernels may use TF32 from Ampere on
FP16_TOLERANCE = 5e-2  # on unit-norm embeddings
# An int8 bundle (`--quantize int8`): GPU int8 kernels round activations independently of the
# CPU's, so outputs agree to the int8 step and a near tie may decode another caption word.
INT8_TOLERANCE = 5e-2


def is_int8(bundle: Bundle) -> bool:
    """True for a bundle whose point encoder, bridge and decoder are int8."""
    return bundle.manifest.get("quantization", {}).get("precision") == "int8"


def tolerance(bundle: Bundle, float_tolerance: float) -> float:
    """The largest |Δ| a path may show against the CPU for this bundle."""
    return max(float_tolerance, INT8_TOLERANCE) if is_int8(bundle) else float_tolerance


class Skip(Exception):
    """This path cannot run here (a package or provider is missing)."""


def _clouds(count: int, seed: int = 0) -> list[np.ndarray]:
    """Box-like objects of different sizes a few metres ahead, as scene clusters look."""
    rng = np.random.default_rng(seed)
    clouds = []
    for _ in range(count):
        size = rng.uniform(0.2, 2.0, 3)
        points = rng.uniform(-0.5, 0.5, (int(rng.integers(200, 1500)), 3)) * size
        centre = np.array([rng.uniform(2, 10), rng.uniform(-3, 3), size[2] / 2])
        clouds.append((points + centre).astype(np.float32))
    return clouds


def _encoder_feeds(bundle: Bundle, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(batch, int(bundle.encoder["num_points"]), 3)).astype(np.float32)
    points /= np.abs(points).max()
    return {
        "points": points,
        "size": rng.uniform(0.2, 2.0, (batch, 3)).astype(np.float32),
        "size_known": rng.random(batch) > 0.3,
    }


def _text_feeds(bundle: Bundle, labels: int) -> dict[str, np.ndarray]:
    from tokenizers import Tokenizer

    text = bundle.text_encoder
    tokenizer = Tokenizer.from_file(str(bundle.file(text["tokenizer_file"])))
    tokenizer.enable_truncation(int(text.get("max_tokens", 128)))
    tokenizer.enable_padding()
    templates = bundle.labels["prompt_templates"]
    prompts = [t.format(f"object {i}") for i in range(labels) for t in templates]
    encoded = tokenizer.encode_batch(prompts)
    return {
        "input_ids": np.array([e.ids for e in encoded], np.int64),
        "attention_mask": np.array([e.attention_mask for e in encoded], np.int64),
    }


def _max_delta(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(
        float(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)).max())
        for x, y in zip(a, b, strict=True)
    )


def _model_deltas(bundle: Bundle, options: BackendOptions) -> float:
    """Largest |Δ| of every model's outputs on `options` vs the CPU: the encoder at 1, 32 and
    40 objects (chunked), the text encoder on 40 labels × templates, the bridge, and the
    decoder's prefill (empty cache) plus five decode steps feeding back its own cache."""
    cpu = BackendOptions()
    worst = 0.0

    def compare(name: str, feeds: dict[str, np.ndarray], outputs: list[str]) -> None:
        nonlocal worst
        got = open_session(bundle.file(name), options).run(outputs, feeds)
        want = open_session(bundle.file(name), cpu).run(outputs, feeds)
        worst = max(worst, _max_delta(got, want))

    for batch in (1, 32, 40):
        compare(bundle.encoder["file"], _encoder_feeds(bundle, batch), ["embedding", "tokens"])
    if bundle.file(bundle.text_encoder["file"]).is_file():
        compare(bundle.text_encoder["file"], _text_feeds(bundle, 40), ["embedding"])
    generation = bundle.generation
    if not generation:
        return worst
    encoder = open_session(bundle.file(bundle.encoder["file"]), cpu)
    feeds = _encoder_feeds(bundle, 3, seed=1)
    _, tokens = encoder.run(["embedding", "tokens"], feeds)
    bridge_feeds = {
        "point_tokens": tokens,
        "size": feeds["size"],
        "size_known": feeds["size_known"],
    }
    compare(generation["bridge_file"], bridge_feeds, ["prefix"])
    prefix = open_session(bundle.file(generation["bridge_file"]), cpu).run(
        ["prefix"], bridge_feeds
    )[0]
    sessions = [open_session(bundle.file(generation["decoder_file"]), o) for o in (options, cpu)]
    layers, heads, head_dim = (int(d) for d in generation["cache_shape"])
    outputs = ["logits", "present_keys", "present_values"]
    batch, queries, width = prefix.shape
    ids = np.full((batch, 6), 5, np.int64)
    empty = np.zeros((layers, batch, heads, 0, head_dim), np.float32)
    mask = np.ones((batch, queries + ids.shape[1]), np.int64)
    state = []
    for session in sessions:
        state.append(
            session.run(
                outputs,
                {
                    "input_ids": ids,
                    "prefix": prefix,
                    "past_keys": empty,
                    "past_values": empty,
                    "attention_mask": mask,
                },
            )
        )
    worst = max(worst, _max_delta(state[0], state[1]))
    for _ in range(5):
        token = state[1][0][:, -1].argmax(-1)[:, None].astype(np.int64)  # the CPU's choice
        mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], 1)
        none = np.zeros((batch, 0, width), np.float32)
        state = [
            session.run(
                outputs,
                {
                    "input_ids": token,
                    "prefix": none,
                    "past_keys": s[1],
                    "past_values": s[2],
                    "attention_mask": mask,
                },
            )
            for session, s in zip(sessions, state, strict=True)
        ]
        worst = max(worst, _max_delta(state[0], state[1]))
    return worst


def _captions(bundle: Bundle, options: BackendOptions, clouds: list[np.ndarray]) -> list[str]:
    from ros_pointlang.pipeline import Pipeline

    pipeline = Pipeline.from_bundle(bundle.path, backend=options)
    return [g.text for g in pipeline.caption_encoded(pipeline.encode(clouds))]


Body = Callable[[], tuple[float | None, str]]


class Check:
    def __init__(self, bundle: Bundle, cache: Path) -> None:
        self.bundle, self.cache = bundle, cache
        self.rows: list[tuple[str, str, float, float | None, str]] = []
        self.clouds = _clouds(6)
        self.cpu_captions = _captions(bundle, BackendOptions(), self.clouds)

    def path(self, name: str, body: Body, tolerance: float | None = None) -> None:
        started = time.perf_counter()
        try:
            delta, note = body()
            result = "PASS" if delta is None or tolerance is None or delta <= tolerance else "FAIL"
        except (Skip, BackendUnavailable) as why:
            delta, note, result = None, str(why), "SKIP"
        except Exception as error:  # a check reports every failure and goes on
            delta, note, result = None, f"{type(error).__name__}: {error}", "FAIL"
            traceback.print_exc()
        self.rows.append((name, result, time.perf_counter() - started, delta, note))
        d = "-" if delta is None else f"{delta:.2e}"
        print(f"{result:4}  {name:42} {self.rows[-1][2]:7.1f} s  max|Δ| {d:>8}  {note}", flush=True)

    def captions_equal(self, options: BackendOptions) -> tuple[None, str]:
        got = _captions(self.bundle, options, self.clouds)
        same = sum(a == b for a, b in zip(got, self.cpu_captions, strict=True))
        if is_int8(self.bundle):  # counted, not required: see INT8_TOLERANCE
            return None, f"{same}/{len(got)} captions equal the CPU's (int8 bundle)"
        if same != len(got):
            raise AssertionError(
                f"{same}/{len(got)} captions equal the CPU's greedy output: {got} vs "
                f"{self.cpu_captions}"
            )
        return None, f"{same}/{len(got)} captions equal the CPU's"


def _with_provider(provider: str, body: Body) -> Body:
    """`body`, or SKIP where this onnxruntime lacks `provider` altogether."""

    def checked() -> tuple[float | None, str]:
        import onnxruntime as ort

        if provider not in ort.get_available_providers():
            raise Skip(
                f"onnxruntime {ort.__version__} has no {provider} (pip install onnxruntime-gpu)"
            )
        return body()

    return checked


def _environment() -> str:
    """One line: onnxruntime and its providers, TensorRT, the CUDA device."""
    import onnxruntime as ort

    from ros_pointlang.tensorrt_engine import cuda_device, import_tensorrt

    parts = [f"onnxruntime {ort.__version__} {ort.get_available_providers()}"]
    try:
        trt, cudart = import_tensorrt()
        parts.append(f"TensorRT {trt.__version__}")
        device = cuda_device(cudart)
        parts.append(f"{device.name} (compute capability {device.compute_capability})")
    except BackendUnavailable as why:
        parts.append(str(why))
    return "; ".join(parts)


def run(bundle_path: Path | None, cache: Path) -> int:
    from ros_pointlang.tensorrt_engine import build_bundle_engines, import_tensorrt

    bundle = load_bundle(bundle_path)
    print(_environment(), flush=True)
    check = Check(bundle, cache)
    profiles = bundle_profiles(bundle)
    cuda = BackendOptions(name="onnxruntime-cuda")
    with_cuda = "CUDAExecutionProvider"
    check.path(
        "onnxruntime CUDA: models",
        _with_provider(with_cuda, lambda: (_model_deltas(bundle, cuda), "every model's outputs")),
        tolerance(bundle, ORT_GPU_TOLERANCE),
    )
    check.path(
        "onnxruntime CUDA: captions", _with_provider(with_cuda, lambda: check.captions_equal(cuda))
    )

    ep = BackendOptions(name="onnxruntime-tensorrt", engine_cache=cache / "ep", profiles=profiles)
    with_trt = "TensorrtExecutionProvider"
    ep_files = ep.engine_cache / "onnxruntime"

    def ep_start(cached: bool) -> tuple[None, str]:
        before = sorted(ep_files.glob("*")) if ep_files.is_dir() else []
        _, note = check.captions_equal(ep)
        after = sorted(ep_files.glob("*"))
        if cached and after != before:
            raise AssertionError(f"the EP built {len(after) - len(before)} engines again")
        if not cached and not after:
            raise AssertionError(f"the EP left no engines in {ep_files}")
        return None, f"{note}; {len(after)} files in its engine cache"

    check.path(
        "onnxruntime TensorRT EP: cold start",
        _with_provider(with_trt, lambda: ep_start(cached=False)),
    )
    check.path(
        "onnxruntime TensorRT EP: engine cache",
        _with_provider(with_trt, lambda: ep_start(cached=True)),
    )
    check.path(
        "onnxruntime TensorRT EP: models",
        _with_provider(with_trt, lambda: (_model_deltas(bundle, ep), "every model's outputs")),
        tolerance(bundle, ORT_GPU_TOLERANCE),
    )

    native = BackendOptions(name="tensorrt", engine_cache=cache / "native", profiles=profiles)

    def build(expect_hit: bool, fp16: bool = False) -> tuple[None, str]:
        trt, _ = import_tensorrt()
        built = build_bundle_engines(bundle.path, native.engine_cache, fp16=fp16)
        hits = [b.model for b in built if b.cache_hit]
        if expect_hit and len(hits) != len(built):
            raise AssertionError(f"only {hits} came from the cache")
        if not expect_hit and hits:
            raise AssertionError(f"{hits} came from a cache that should be empty")
        return None, f"TensorRT {trt.__version__}: " + ", ".join(
            f"{b.model} {b.seconds:.1f} s" for b in built
        )

    check.path("TensorRT: cold build, every model", lambda: build(False))
    check.path("TensorRT: cache hit, every model", lambda: build(True))
    check.path(
        "TensorRT: models (chunks, prefill, decode)",
        lambda: (_model_deltas(bundle, native), "every model's outputs"),
        tolerance(bundle, FP32_TOLERANCE),
    )
    check.path("TensorRT: captions", lambda: check.captions_equal(native))

    fp16 = BackendOptions(
        name="tensorrt", fp16=True, engine_cache=cache / "native", profiles=profiles
    )

    def half() -> tuple[float, str]:
        trt, _ = import_tensorrt()
        if getattr(trt.BuilderFlag, "FP16", None) is None:
            raise Skip(
                f"TensorRT {trt.__version__} is strongly typed only: FP16 needs an FP16 ONNX model"
            )
        build_bundle_engines(bundle.path, native.engine_cache, fp16=True)
        feeds = _encoder_feeds(bundle, 8)
        got = open_session(bundle.file(bundle.encoder["file"]), fp16).run(["embedding"], feeds)
        want = open_session(bundle.file(bundle.encoder["file"]), BackendOptions()).run(
            ["embedding"], feeds
        )
        captions = _captions(bundle, fp16, check.clouds)
        same = sum(a == b for a, b in zip(captions, check.cpu_captions, strict=True))
        return _max_delta(got, want), f"embeddings; {same}/{len(captions)} captions equal the CPU's"

    check.path("TensorRT: FP16", half, FP16_TOLERANCE)
    failed = [row[0] for row in check.rows if row[1] == "FAIL"]
    print(
        f"{len(check.rows) - len(failed)} of {len(check.rows)} paths passed or skipped"
        + (f"; FAILED: {failed}" if failed else "")
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gpu_check", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", type=Path, help="model bundle (default: the shipped one)")
    parser.add_argument(
        "--keep-cache",
        type=Path,
        help="engine cache folder to use and keep (default: a fresh temporary one, so the "
        "cold build is cold)",
    )
    args = parser.parse_args(argv)
    if args.keep_cache:
        return run(args.bundle, args.keep_cache)
    with tempfile.TemporaryDirectory(prefix="pointlang-gpu-check-") as folder:
        return run(args.bundle, Path(folder))


if __name__ == "__main__":
    raise SystemExit(main())
