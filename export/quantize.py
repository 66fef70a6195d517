"""int8 point encoder, bridge and decoder for a bundle: static QDQ, calibrated on real clouds.

    pointlang-export bundle ... --quantize int8 [--calibration DIR ...]
    pointlang-export quantize --bundle FP32_BUNDLE --out INT8_BUNDLE [--calibration DIR ...]

`quantize_bundle` rewrites a bundle's float point_encoder.onnx, bridge.onnx and decoder.onnx
as int8 ONNX in place, measures each against the float graph it replaces, and records what it
did in the manifest (`quantization`, and the hashes). The text encoder is int8 already.

How, and why (measured on the shipped bundle; README "Smaller and faster: int8"):
- Static QDQ: per-channel symmetric int8 weights of every MatMul and Gemm whose weight is a
  constant, and per-tensor symmetric int8 activations with scales fixed by calibration
  (MinMax) on clouds prepared as the robot prepares them, taken from data-engine folders.
  Fixed scales make an object's embedding independent of the other objects in its batch;
  dynamic int8 (per-run activation scales, as the text encoder has) does not, and the node
  encodes every object of a sweep in one batch.
- Activation x activation MatMuls (attention scores and mixing) stay float: quantising them
  costs accuracy for little speed at 49 tokens.
- Symmetric int8 with zero points 0 and float biases is the Q/DQ form TensorRT's ONNX parser
  takes (explicit quantization); MatMulInteger and DynamicQuantizeLinear, which dynamic
  quantisation writes, it does not parse at all.
- The bridge and decoder are calibrated on real generation: captions and questions of the
  calibration clouds decoded greedily with the float graphs, every decoder call (prefill with
  its prefix and each cached decode step) recorded as a calibration input.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ros_pointlang.bundle import load_bundle, read_manifest, sha256_file, write_manifest

QUANTIZATIONS = ("none", "int8")
QUANTIZED_OPS = ("MatMul", "Gemm")
CALIBRATION_CLOUDS = 256  # encoder calibration inputs, spread over categories and sensors
LANGUAGE_CLOUDS = 48  # clouds whose captions and answers calibrate the bridge and decoder
PARITY_CLOUDS = 128  # held-out clouds the int8 encoder is compared on
BATCH = 16
MIN_COSINE = 0.95  # int8 encoder embedding against float, worst cloud: below this it fails
SCHEME = (
    "static QDQ int8 (ONNX Runtime quantize_static): per-channel symmetric int8 weights of "
    "every MatMul and Gemm with constant weights, per-tensor symmetric int8 activations "
    "calibrated (MinMax) on prepared clouds, float biases; attention's activation x activation "
    "MatMuls stay float"
)


def calibration_split(roots: Sequence[str | Path]) -> tuple[list[dict], list[dict]]:
    """Calibration and held-out objects of data-engine folders, each spread evenly over all
    their objects (so every category and sensor is in both): up to CALIBRATION_CLOUDS and
    PARITY_CLOUDS, a third held out when the folders hold fewer."""
    from training.dataset import load_objects

    objects, _ = load_objects([str(r) for r in roots])
    if len(objects) < 12:
        raise ValueError(
            f"calibration folders {list(roots)} hold {len(objects)} objects; expected at least 12"
        )
    order = sorted(objects, key=lambda o: (o["category"], o["sensor"], str(o.get("id", ""))))
    wanted = CALIBRATION_CLOUDS + PARITY_CLOUDS
    spread = order[:: max(1, len(order) // wanted)][:wanted]
    held = min(PARITY_CLOUDS, len(spread) // 3)
    step = len(spread) / held
    held_index = {int(k * step) for k in range(held)}
    held_out = [o for i, o in enumerate(spread) if i in held_index]
    calibration = [o for i, o in enumerate(spread) if i not in held_index]
    return calibration[:CALIBRATION_CLOUDS], held_out


def encoder_feeds(objects: Sequence[dict], num_points: int) -> list[dict[str, np.ndarray]]:
    """Encoder inputs of `objects` as the runtime prepares them, in batches of BATCH; every
    fourth cloud has its size unknown (the CAD branch)."""
    from ros_pointlang.preprocess import prepare_objects
    from training.dataset import load_cloud

    feeds = []
    for start in range(0, len(objects), BATCH):
        chunk = objects[start : start + BATCH]
        prepared = prepare_objects([load_cloud(o) for o in chunk], num_points)
        feeds.append(
            {
                "points": np.stack([p.points for p in prepared]).astype(np.float32),
                "size": np.stack([p.size for p in prepared]).astype(np.float32),
                "size_known": (np.arange(start, start + len(chunk)) % 4 != 3),
            }
        )
    return feeds


class _Reader:
    """onnxruntime's CalibrationDataReader over a list of feeds."""

    def __init__(self, feeds: Sequence[dict[str, np.ndarray]]) -> None:
        self._feeds: Iterator[dict[str, np.ndarray]] = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def constant_weight_nodes(model: Any) -> list[str]:
    """Names of the MatMul and Gemm nodes whose second input is a weight (an initializer):
    what gets int8; activation x activation MatMuls (attention, in-graph distances) do not."""
    weights = {i.name for i in model.graph.initializer}
    return [
        n.name
        for n in model.graph.node
        if n.op_type in QUANTIZED_OPS and len(n.input) > 1 and n.input[1] in weights
    ]


def keep_float_elsewhere(model: Any, quantized: set[str]) -> int:
    """Give every node that is not quantised its float input back; returns how many inputs.

    ONNX Runtime's QDQ quantiser quantises a tensor for all its consumers: the centres that feed
    the position MLP would then also feed the in-graph kNN, which picks other neighbours on
    rounded coordinates (measured: worst embedding cosine 0.38 instead of 0.98). Only the
    quantised MatMul/Gemm read the Q/DQ pair after this.
    """
    producer = {o: n for n in model.graph.node for o in n.output}
    outputs = {o.name for o in model.graph.output}
    restored = 0
    for dq in [n for n in model.graph.node if n.op_type == "DequantizeLinear"]:
        q = producer.get(dq.input[0])
        if q is None or q.op_type != "QuantizeLinear":
            continue  # a weight's DequantizeLinear
        if dq.output[0] in outputs:
            raise ValueError(f"graph output {dq.output[0]!r} is quantised; expected float outputs")
        for node in model.graph.node:
            if node.name in quantized:
                continue
            for k, name in enumerate(node.input):
                if name == dq.output[0]:
                    node.input[k] = q.input[0]
                    restored += 1
    return restored


def quantize_model(
    float_path: Path, out_path: Path, feeds: Sequence[dict[str, np.ndarray]]
) -> dict[str, Any]:
    """Write the static QDQ int8 graph of `float_path` to `out_path`, calibrated on `feeds`;
    returns what was quantised."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not feeds:
        raise ValueError(f"no calibration inputs for {float_path.name}; expected at least one")
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / float_path.name
        # ONNX shape inference (the symbolic one gives up on the decoder); no optimisation,
        # so the file stays the exported graph (ONNX Runtime fuses at load time anyway).
        quant_pre_process(
            str(float_path), str(prepared), skip_optimization=True, skip_symbolic_shape=True
        )
        nodes = constant_weight_nodes(onnx.load(str(prepared)))
        written = Path(tmp) / f"int8-{float_path.name}"
        quantize_static(
            str(prepared),
            str(written),
            _Reader(feeds),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(QUANTIZED_OPS),
            nodes_to_quantize=nodes,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={
                "ActivationSymmetric": True,
                "WeightSymmetric": True,
                "QuantizeBias": False,
                # Inputs only: each MatMul's float output feeds its bias and activation.
                "OpTypesToExcludeOutputQuantization": list(QUANTIZED_OPS),
                "DedicatedQDQPair": True,  # TensorRT takes no Q/DQ pair shared by two nodes
            },
        )
        graph = onnx.load(str(written))
        restored = keep_float_elsewhere(graph, set(nodes))
        onnx.checker.check_model(graph)
        tmp_out = out_path.with_suffix(".tmp")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(graph, str(tmp_out))
    tmp_out.replace(out_path)
    total = sum(1 for n in graph.graph.node if n.op_type in QUANTIZED_OPS)
    return {
        "quantized_ops": len(nodes),
        "float_ops": total - len(nodes),
        "float_inputs_restored": restored,
        "calibration_runs": len(feeds),
    }


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def encoder_parity(
    float_path: Path, int8_path: Path, feeds: Sequence[dict[str, np.ndarray]]
) -> dict[str, float]:
    """Cosine between float and int8 embeddings, and the largest |Δ| of embeddings and tokens."""
    reference, candidate = _session(float_path), _session(int8_path)
    cosines, embedding_diff, token_diff = [], 0.0, 0.0
    for feed in feeds:
        e_ref, t_ref = reference.run(["embedding", "tokens"], feed)
        e_new, t_new = candidate.run(["embedding", "tokens"], feed)
        cosines.append((e_ref * e_new).sum(axis=1))
        embedding_diff = max(embedding_diff, float(np.abs(e_ref - e_new).max()))
        token_diff = max(token_diff, float(np.abs(t_ref - t_new).max()))
    cosine = np.concatenate(cosines)
    return {
        "clouds": len(cosine),
        "cosine_min": float(cosine.min()),
        "cosine_mean": float(cosine.mean()),
        "embedding_max_abs_diff": embedding_diff,
        "tokens_max_abs_diff": token_diff,
    }


class _Recording:
    """An ONNX Runtime session that keeps a copy of every feed it runs."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.feeds: list[dict[str, np.ndarray]] = []

    def get_inputs(self) -> Any:
        return self._session.get_inputs()

    def run(self, outputs: Sequence[str] | None, feeds: dict[str, np.ndarray]) -> Any:
        self.feeds.append({k: np.array(v) for k, v in feeds.items()})
        return self._session.run(outputs, feeds)


def _language_prompts(objects: Sequence[dict]) -> list[str]:
    """The caption prompt and the objects' first questions, each a calibration pass."""
    from ros_pointlang.decode import DESCRIBE

    questions = sorted({pair["question"] for o in objects for pair in o.get("qa", [])[:2]})
    return [DESCRIBE, *questions[:: max(1, len(questions) // 4)][:4]]


def language_feeds(
    bundle: Path, objects: Sequence[dict]
) -> tuple[list[dict[str, np.ndarray]], list[dict[str, np.ndarray]]]:
    """Bridge and decoder inputs of float greedy decoding of captions and questions."""
    from ros_pointlang.decode import Generator, Language
    from ros_pointlang.pipeline import Pipeline
    from training.dataset import load_cloud

    pipeline = Pipeline.from_bundle(bundle)
    language = pipeline._require_language()
    generator: Generator = language.generator
    bridge, decoder = _Recording(generator.bridge), _Recording(generator.decoder)
    generator.bridge, generator.decoder = bridge, decoder
    prompts = _language_prompts(objects)
    for start in range(0, len(objects), BATCH):
        chunk = objects[start : start + BATCH]
        encoded = pipeline.encode([load_cloud(o) for o in chunk])
        for prompt in prompts:
            Language.generate(
                language,
                encoded.tokens,
                encoded.size,
                encoded.size_known,
                prompt,
                embeddings=encoded.embeddings,
            )
    # One bridge run per prompt sees the same inputs: keep one.
    return bridge.feeds[:: len(prompts)], decoder.feeds


def greedy_agreement(float_bundle: Path, int8_bundle: Path, objects: Sequence[dict]) -> float:
    """Share of captions and answers of `objects` that the int8 bridge and decoder decode to
    exactly the float graphs' text (the float encoder's tokens feed both)."""
    from ros_pointlang.decode import Language
    from ros_pointlang.pipeline import Pipeline
    from training.dataset import load_cloud

    reference = Pipeline.from_bundle(float_bundle)
    candidate = Language(load_bundle(int8_bundle), reference.options)
    language = reference._require_language()
    same, total = 0, 0
    for start in range(0, len(objects), BATCH):
        encoded = reference.encode([load_cloud(o) for o in objects[start : start + BATCH]])
        for prompt in _language_prompts(objects):
            args = (encoded.tokens, encoded.size, encoded.size_known, prompt)
            want = language.generate(*args, embeddings=encoded.embeddings)
            got = candidate.generate(*args, embeddings=encoded.embeddings)
            same += sum(a.text == b.text for a, b in zip(want, got, strict=True))
            total += len(want)
    return same / total


def quantize_bundle(bundle: Path, calibration: Sequence[str | Path]) -> dict[str, Any]:
    """Rewrite `bundle`'s float point encoder, bridge and decoder as int8 in place, calibrated
    on the data-engine folders `calibration`; returns the manifest's `quantization` entry.

    Raises ValueError when the bundle is int8 already, or the int8 encoder's worst cosine to
    the float one is below MIN_COSINE (the float files are then left as they were).
    """
    manifest = read_manifest(bundle)
    if manifest.get("quantization", {}).get("precision", "fp32") != "fp32":
        raise ValueError(f"bundle {bundle} is quantised already; quantise its float export")
    loaded = load_bundle(bundle)
    if not calibration:
        raise ValueError("int8 needs calibration data; pass pointlang-data objects folders")
    num_points = int(loaded.encoder["num_points"])
    calib, held_out = calibration_split(calibration)
    entry: dict[str, Any] = {
        "precision": "int8",
        "scheme": SCHEME,
        "calibration_data": [str(r) for r in calibration],
        "how": "pointlang-export quantize --bundle <float bundle> --out <this folder> "
        "--calibration <folders>, or pointlang-export bundle ... --quantize int8",
        "models": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        float_bundle = Path(tmp) / "float"
        shutil.copytree(bundle, float_bundle)  # the reference, and what a failure leaves
        encoder_file = loaded.encoder["file"]
        staged = {encoder_file: Path(tmp) / encoder_file}
        print(f"quantising {encoder_file} on {len(calib)} calibration clouds")
        info = quantize_model(
            float_bundle / encoder_file, staged[encoder_file], encoder_feeds(calib, num_points)
        )
        parity = encoder_parity(
            float_bundle / encoder_file, staged[encoder_file], encoder_feeds(held_out, num_points)
        )
        if parity["cosine_min"] < MIN_COSINE:
            raise ValueError(
                f"the int8 {encoder_file}'s worst embedding cosine to the float one is "
                f"{parity['cosine_min']:.4f} (< {MIN_COSINE}) on {parity['clouds']} held-out "
                "clouds; keep this bundle float (--quantize none)"
            )
        entry["models"][encoder_file] = {**info, "calibration_clouds": len(calib), "parity": parity}
        generation = loaded.generation
        if generation:
            language_objects = calib[:: max(1, len(calib) // LANGUAGE_CLOUDS)][:LANGUAGE_CLOUDS]
            bridge_feeds, decoder_feeds = language_feeds(float_bundle, language_objects)
            for key, feeds in (("bridge_file", bridge_feeds), ("decoder_file", decoder_feeds)):
                name = generation[key]
                print(f"quantising {name} on {len(feeds)} recorded runs")
                staged[name] = Path(tmp) / name
                entry["models"][name] = {
                    **quantize_model(float_bundle / name, staged[name], feeds),
                    "calibration_clouds": len(language_objects),
                }
        # Only now, with every int8 graph written, replace the float files.
        for name, path in staged.items():
            entry["models"][name]["float_sha256"] = sha256_file(float_bundle / name)
            path.replace(bundle / name)
            manifest["files"][name] = {"sha256": sha256_file(bundle / name)}
        manifest["quantization"] = entry
        write_manifest(bundle, manifest)
        if generation:
            held = held_out[:: max(1, len(held_out) // LANGUAGE_CLOUDS)][:LANGUAGE_CLOUDS]
            entry["greedy_same_text"] = greedy_agreement(float_bundle, bundle, held)
            entry["greedy_clouds"] = len(held)
            write_manifest(bundle, manifest)
    load_bundle(bundle)  # what the runtime will load must validate
    return entry
