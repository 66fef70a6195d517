"""Which input shapes a TensorRT engine accepts: optimisation profiles per model, derived from
each ONNX graph's own inputs, and the check (and batch chunking) before every run.

TensorRT, native or as ONNX Runtime's execution provider, builds an engine for ranges of input
shapes: per input a (min, opt, max) shape, grouped into profiles. Three rules make a profile
valid by construction here:

- A profile is written per ONNX dimension name ("batch", "past_tokens", ...) and expanded to
  input shapes from the graph, so dims that share a name are equal within a profile, as
  TensorRT requires (NVIDIA/TensorRT#1808, #2472), and every dynamic dim has a range or the
  profile is refused with the dim's name.
- Where the graph ties dims together (the decoder's total_tokens = past + prefix + new),
  min, opt and max each satisfy the relation: TensorRT checks all three at build time.
- The ranges cover what the callers send (ShapeLimits); a batch above a profile's maximum is
  run in chunks, any other shape outside every profile is an error naming the input and the
  profiles, raised before TensorRT sees it.

    signature = read_signature(path)            # input/output names, dims, types
    profiles = bundle_profiles(bundle)          # {"decoder.onnx": (prefill, decode), ...}
    plan = plan_run(profiles["decoder.onnx"], signature, feeds, "decoder.onnx")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from ros_pointlang.bundle import Bundle

BATCH = "batch"  # the ONNX dim name every exported graph gives its batch axis
DimRange = tuple[int, int, int]  # (min, opt, max) of one named dim
Shape = tuple[int, ...]


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output: fixed dims are ints, dynamic ones their ONNX dim name."""

    name: str
    dims: tuple[int | str, ...]
    dtype: str  # ONNX Runtime's type string, e.g. "tensor(float)"

    def axis(self, dim: str) -> int | None:
        """Index of the named dim, or None if the tensor has none of that name."""
        return self.dims.index(dim) if dim in self.dims else None


@dataclass(frozen=True)
class Signature:
    """A graph's inputs and outputs, in graph order."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def input(self, name: str) -> TensorSpec:
        return next(t for t in self.inputs if t.name == name)

    def output(self, name: str) -> TensorSpec:
        return next(t for t in self.outputs if t.name == name)


def read_signature(path: Path) -> Signature:
    """The inputs and outputs of the ONNX file `path`, read with ONNX Runtime on the CPU (the
    runtime's one ONNX reader; the `onnx` package is a training dependency)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises several pybind types for an unreadable model
        raise ValueError(f"model file {path} is not a valid ONNX model ({error})") from error

    def spec(arg: Any) -> TensorSpec:
        # A dynamic dim without a name gets one of its own: it equals no other dim.
        dims = tuple(
            d if isinstance(d, int) else str(d) if d else f"{arg.name}[{i}]"
            for i, d in enumerate(arg.shape)
        )
        return TensorSpec(arg.name, dims, arg.type)

    return Signature(
        tuple(spec(i) for i in session.get_inputs()), tuple(spec(o) for o in session.get_outputs())
    )


@dataclass(frozen=True)
class Profile:
    """One TensorRT optimisation profile: a range per dim name, expanded to input shapes."""

    name: str
    dims: Mapping[str, DimRange]
    shapes: Mapping[str, tuple[Shape, Shape, Shape]]  # input name → (min, opt, max) shape

    def max_batch(self) -> int | None:
        return self.dims[BATCH][2] if BATCH in self.dims else None

    def as_json(self) -> dict[str, Any]:
        """Plain lists for cache keys and manifests."""
        return {
            "name": self.name,
            "shapes": {k: [list(s) for s in v] for k, v in self.shapes.items()},
        }


def make_profile(name: str, signature: Signature, dims: Mapping[str, DimRange]) -> Profile:
    """Expand per-dim ranges to every input's (min, opt, max) shape; raise on a dynamic dim
    without a range, a range the graph does not have, or a range that is not 0 <= min <= opt
    <= max (TensorRT's own condition for IOptimizationProfile.set_shape)."""
    for dim, (low, opt, high) in dims.items():
        if not 0 <= low <= opt <= high:
            raise ValueError(
                f"profile {name!r}: dim {dim!r} has range ({low}, {opt}, {high}); expected "
                "0 <= min <= opt <= max"
            )
    used = {d for t in signature.inputs for d in t.dims if isinstance(d, str)}
    if set(dims) - used:
        raise ValueError(
            f"profile {name!r} gives ranges for {sorted(set(dims) - used)}, which no input of "
            f"the graph has (its dims: {sorted(used)})"
        )
    shapes: dict[str, tuple[Shape, Shape, Shape]] = {}
    for tensor in signature.inputs:
        missing = [d for d in tensor.dims if isinstance(d, str) and d not in dims]
        if missing:
            raise ValueError(
                f"profile {name!r} has no range for dim {missing[0]!r} of input {tensor.name!r} "
                f"{tensor.dims}"
            )
        smallest, optimal, largest = (
            tuple(d if isinstance(d, int) else dims[d][k] for d in tensor.dims) for k in range(3)
        )
        shapes[tensor.name] = (smallest, optimal, largest)
    return Profile(name, dict(dims), shapes)


@dataclass(frozen=True)
class ShapeLimits:
    """What the runtime's callers send, which the profiles must cover (or chunk)."""

    max_objects: int = 32  # scene mode: DescribeSettings.max_objects; more objects are chunked
    opt_objects: int = 1  # object mode: one cloud per message, the common case
    max_prompts: int = 128  # text encoder: labels × templates per call; more are chunked
    opt_prompts: int = 32
    opt_prompt_tokens: int = 16  # "a point cloud of a chair." plus specials; a box prompt

    def __post_init__(self) -> None:
        for low, high, what in (
            (self.opt_objects, self.max_objects, "objects"),
            (self.opt_prompts, self.max_prompts, "prompts"),
        ):
            if not 1 <= low <= high:
                raise ValueError(f"opt {what} {low} must be in 1..max {what} {high}")
        if self.opt_prompt_tokens < 1:
            raise ValueError(f"opt_prompt_tokens must be >= 1, got {self.opt_prompt_tokens}")


def bundle_profiles(
    bundle: Bundle, limits: ShapeLimits | None = None
) -> dict[str, tuple[Profile, ...]]:
    """Profiles for each model file of `bundle` (keyed by file name), from the graphs' inputs
    and the manifest's sizes. The text encoder is included when its file is present."""
    limits = limits or ShapeLimits()
    objects = (1, limits.opt_objects, limits.max_objects)
    encoder_file = bundle.encoder["file"]
    encoder = read_signature(bundle.file(encoder_file))
    profiles: dict[str, tuple[Profile, ...]] = {
        encoder_file: (make_profile("objects", encoder, {BATCH: objects}),)
    }

    text = bundle.text_encoder
    if bundle.file(text["file"]).is_file():
        max_tokens = int(text.get("max_tokens", 128))
        prompts = (1, limits.opt_prompts, limits.max_prompts)
        tokens = (1, min(limits.opt_prompt_tokens, max_tokens), max_tokens)
        signature = read_signature(bundle.file(text["file"]))
        token_dims = {d for t in signature.inputs for d in t.dims if isinstance(d, str)} - {BATCH}
        dims = {BATCH: prompts, **dict.fromkeys(token_dims, tokens)}
        profiles[text["file"]] = (make_profile("prompts", signature, dims),)

    generation = bundle.generation
    if generation:
        # The bridge reads the encoder's tokens output: its count is a fact of the encoder graph.
        token_count = encoder.output("tokens").dims[1]
        bridge = read_signature(bundle.file(generation["bridge_file"]))
        dims = {BATCH: objects}
        if isinstance(token_count, int) and isinstance(bridge.input("point_tokens").dims[1], str):
            dims[str(bridge.input("point_tokens").dims[1])] = (token_count,) * 3
        profiles[generation["bridge_file"]] = (make_profile("objects", bridge, dims),)
        prefix_tokens = bridge.output("prefix").dims[1]
        if not isinstance(prefix_tokens, int):
            raise ValueError(
                f"{generation['bridge_file']} has a dynamic prefix length {prefix_tokens!r}; "
                "expected the fixed number of learned queries + 2"
            )
        decoder = read_signature(bundle.file(generation["decoder_file"]))
        profiles[generation["decoder_file"]] = decoder_profiles(
            decoder,
            prefix_tokens,
            int(generation["max_positions"]),
            objects,
            limits.opt_prompt_tokens,
        )
    return profiles


def decoder_profiles(
    signature: Signature,
    prefix_tokens: int,
    max_positions: int,
    batch: DimRange,
    opt_prompt_tokens: int = 16,
) -> tuple[Profile, Profile]:
    """The decoder's two phases as two profiles (ros_pointlang/decode.py's calls exactly):

    prefill: the bridge prefix P and the prompt, no cache (past_tokens 0);
    decode:  one new token per row, no prefix (prefix_tokens 0), a cache of 1..M-1 tokens.

    total_tokens = past + prefix + new holds at min, opt and max of each, as TensorRT checks.
    One profile for both would need prefix 0..P and past 0..M-1 at once, whose maxima break
    that relation (P + M - 1 + new > M) and make the build fail.
    """
    p, m = prefix_tokens, max_positions
    if m < p + 2:
        raise ValueError(
            f"max_positions {m} leaves no room for a prompt after the {p}-token prefix"
        )
    prompt = (1, min(opt_prompt_tokens, m - p), m - p)
    prefill = {
        BATCH: batch,
        "new_tokens": prompt,
        "prefix_tokens": (p, p, p),
        "past_tokens": (0, 0, 0),
        "total_tokens": (p + prompt[0], p + prompt[1], p + prompt[2]),
    }
    opt_past = min(p + prompt[1] + 8, m - 1)  # a caption half way through
    decode = {
        BATCH: batch,
        "new_tokens": (1, 1, 1),
        "prefix_tokens": (0, 0, 0),
        "past_tokens": (1, opt_past, m - 1),
        "total_tokens": (2, opt_past + 1, m),
    }
    return make_profile("prefill", signature, prefill), make_profile("decode", signature, decode)


# -- before every run ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    """Which profile a run uses, and the batch size to split it into (None: one run)."""

    profile: int
    chunk: int | None


Misfit = tuple[str, Shape, tuple[Shape, Shape]]  # input, its shape, the profile's (min, max)


def _misfit(
    profile: Profile, shapes: Mapping[str, Shape], signature: Signature, batch_free: bool
) -> Misfit | None:
    """The first input that `profile` does not cover, or None. With batch_free, the batch
    axis may exceed the profile's maximum (the run will be chunked)."""
    for tensor in signature.inputs:
        low, _, high = profile.shapes[tensor.name]
        shape = shapes[tensor.name]
        batch_axis = tensor.axis(BATCH) if batch_free else None
        fits = len(shape) == len(low) and all(
            low[i] <= shape[i] <= high[i] or (i == batch_axis and shape[i] >= low[i])
            for i in range(len(low))
        )
        if not fits:
            return tensor.name, shape, (low, high)
    return None


def plan_run(
    profiles: Sequence[Profile],
    signature: Signature,
    feeds: Mapping[str, np.ndarray],
    model: str,
) -> RunPlan:
    """The first profile that covers the feeds' shapes; else the first that does once the batch
    is chunked to its maximum; else a ValueError naming the input, its shape and the ranges."""
    missing = [t.name for t in signature.inputs if t.name not in feeds]
    if missing:
        raise ValueError(f"{model} needs the inputs {missing}; got {sorted(feeds)}")
    shapes = {t.name: tuple(int(d) for d in np.shape(feeds[t.name])) for t in signature.inputs}
    for index, profile in enumerate(profiles):
        if _misfit(profile, shapes, signature, batch_free=False) is None:
            return RunPlan(index, None)
    misfits = []
    for index, profile in enumerate(profiles):
        misfit = _misfit(profile, shapes, signature, batch_free=True)
        if misfit is None and profile.max_batch() is not None:
            return RunPlan(index, profile.max_batch())
        misfits.append((profile.name, misfit))
    ranges = "; ".join(
        f"profile {name!r} allows {m[0]!r} from {m[2][0]} to {m[2][1]}" for name, m in misfits if m
    )
    # Name the input of the profile that fits furthest: the one the caller most likely meant.
    order = [t.name for t in signature.inputs]
    worst = max((m for _, m in misfits if m), key=lambda m: order.index(m[0]))
    raise ValueError(
        f"{model}: input {worst[0]!r} has shape {worst[1]}, outside every TensorRT profile of "
        f"its engine ({ranges}); build the engines with ShapeLimits that cover it"
    )


def split_batch(
    feeds: Mapping[str, np.ndarray], signature: Signature, chunk: int
) -> list[dict[str, np.ndarray]]:
    """The feeds cut into consecutive batches of at most `chunk` along each input's batch axis
    (inputs without one go whole to every chunk)."""
    if chunk < 1:
        raise ValueError(f"chunk size must be >= 1, got {chunk}")
    batch = _batch_size(feeds, signature)
    parts = []
    for start in range(0, batch, chunk):
        part = {}
        for tensor in signature.inputs:
            value = feeds[tensor.name]
            axis = tensor.axis(BATCH)
            if axis is not None:
                index: list[slice] = [slice(None)] * value.ndim
                index[axis] = slice(start, start + chunk)
                value = value[tuple(index)]
            part[tensor.name] = value
        parts.append(part)
    return parts


def join_batch(
    parts: Sequence[Sequence[np.ndarray]], signature: Signature, output_names: Sequence[str]
) -> list[np.ndarray]:
    """Outputs of the chunks of `split_batch`, concatenated back along each batch axis."""
    joined = []
    for k, name in enumerate(output_names):
        axis = signature.output(name).axis(BATCH)
        if axis is None:
            joined.append(parts[0][k])  # not batched: every chunk computed the same
        else:
            joined.append(np.concatenate([p[k] for p in parts], axis=axis))
    return joined


def _batch_size(feeds: Mapping[str, np.ndarray], signature: Signature) -> int:
    sizes = {
        np.shape(feeds[t.name])[axis]
        for t in signature.inputs
        if (axis := t.axis(BATCH)) is not None
    }
    if len(sizes) != 1:
        raise ValueError(
            f"the inputs' batch axes disagree ({sorted(sizes)}); expected one batch size"
        )
    return int(sizes.pop())


class ProfileRunner(Protocol):
    """An engine that runs feeds with a given optimisation profile."""

    input_names: list[str]
    output_names: list[str]

    def run_profile(
        self, profile: int, output_names: Sequence[str], feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]: ...


class ProfiledSession:
    """A session over an engine built for optimisation profiles: every run's shapes are checked
    against the profiles first (a ValueError naming the input and the profiles' ranges, not a
    TensorRT error or garbage), and a batch above the profiles' maximum runs in chunks."""

    def __init__(
        self, engine: ProfileRunner, signature: Signature, profiles: Sequence[Profile], model: str
    ) -> None:
        self.engine, self.signature, self.profiles = engine, signature, tuple(profiles)
        self.model = model
        self.input_names = list(engine.input_names)
        self.output_names = list(engine.output_names)

    def run(
        self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]:
        names = list(output_names) if output_names else self.output_names
        plan = plan_run(self.profiles, self.signature, feeds, self.model)
        if plan.chunk is None:
            return self.engine.run_profile(plan.profile, names, feeds)
        parts = [
            self.engine.run_profile(plan.profile, names, part)
            for part in split_batch(feeds, self.signature, plan.chunk)
        ]
        return join_batch(parts, self.signature, names)
