"""Native TensorRT: engines built from the bundle's ONNX files, cached, run with cuda-python.

    session = open_session("decoder.onnx", BackendOptions(name="tensorrt", profiles=...))
    build_bundle_engines(bundle_path, options)   # `pointlang-export engine`: every model, ahead

Written against TensorRT 10.x and 11.x (Python API `tensorrt`) and cuda-python 12.8+/13.x
(`cuda.bindings.runtime`), and checked against both API surfaces:
- TensorRT 11 builds strongly typed networks only: BuilderFlag.FP16 is gone (deprecated since
  10.12). An FP32 engine builds the same on both; `fp16=True` uses the flag where the installed
  TensorRT has it and otherwise refuses with what to do (an FP16 ONNX model, or TensorRT 10).
- Every cuda-python call returns `(error, *values)`; `cuda_call` raises a CudaError naming the
  call and the error for anything but cudaSuccess, so an out-of-memory never yields garbage.
- Shapes go through `set_input_shape`, whose refusal is an error, after ros_pointlang.profiles
  has checked them against the engine's profiles with a sentence naming the input.

The engine cache key is everything an engine depends on: the CUDA device's name and compute
capability (from cuda-python, the device in use, not nvidia-smi), the TensorRT version, the
model's SHA-256, the precision, this model's own profiles and ENGINE_RECIPE. Files are written
to unique temporary names, fsynced and renamed into place; a JSON sidecar holds the key and the
engine's hash, so a truncated, corrupt or foreign engine is rebuilt instead of failing every
start.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ros_pointlang.profiles import (
    Profile,
    ProfiledSession,
    ShapeLimits,
    Signature,
    bundle_profiles,
    read_signature,
)

if TYPE_CHECKING:
    from ros_pointlang.bundle import Bundle

log = logging.getLogger(__name__)

# Bump when build settings change (flags, workspace, profile policy): old engines then miss.
ENGINE_RECIPE = 1
# Decoder outputs fed back as the next step's inputs: kept on the device between steps.
FEEDBACK = {"past_keys": "present_keys", "past_values": "present_values"}
# What dynamic int8 quantisation writes and TensorRT's ONNX parser does not take (onnx-tensorrt's
# operator table); static Q/DQ int8 (`pointlang-export ... --quantize int8`) it does take.
DYNAMIC_INT8_OPS = ("MatMulInteger", "DynamicQuantizeLinear", "ConvInteger")


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (missing package, library or GPU)."""


class CudaError(RuntimeError):
    """A CUDA runtime call returned an error."""


def cuda_call(result: Any, call: str) -> Any:
    """The value of a cuda-python `(error, *values)` result: None, the one value, or a tuple.

    Raises CudaError naming `call` and the error (e.g. cudaErrorMemoryAllocation) otherwise.
    """
    if not isinstance(result, tuple) or not result:
        raise TypeError(f"{call} returned {result!r}; expected cuda-python's (error, ...) tuple")
    error, *values = result
    if int(error) != 0:
        name = getattr(error, "name", None) or f"CUDA error {int(error)}"
        raise CudaError(f"{call} failed with {name} ({int(error)})")
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


def import_tensorrt() -> tuple[Any, Any]:
    """(tensorrt, cuda.bindings.runtime), or BackendUnavailable saying what to install."""
    try:
        import tensorrt as trt
        from cuda.bindings import runtime as cudart
    except (ImportError, OSError) as error:  # OSError: a wheel without its shared libraries
        raise BackendUnavailable(
            "backend 'tensorrt' needs the tensorrt and cuda-python packages "
            f"(pip install 'ros_pointlang[tensorrt]'): {error}"
        ) from error
    return trt, cudart


@dataclass(frozen=True)
class CudaDevice:
    index: int
    name: str
    compute_capability: str  # "8.7" (Orin), "8.9" (RTX 4090), ...


def cuda_device(cudart: Any, index: int = 0) -> CudaDevice:
    """Select CUDA device `index` and describe it; BackendUnavailable without a usable GPU
    (no driver, no device, a driver older than the runtime)."""
    try:
        count = cuda_call(cudart.cudaGetDeviceCount(), "cudaGetDeviceCount")
    except CudaError as error:
        raise BackendUnavailable(f"no usable NVIDIA GPU: {error}") from error
    if not 0 <= index < count:
        raise BackendUnavailable(f"CUDA device {index} does not exist; this machine has {count}")
    cuda_call(cudart.cudaSetDevice(index), f"cudaSetDevice({index})")
    props = cuda_call(cudart.cudaGetDeviceProperties(index), "cudaGetDeviceProperties")
    raw = props.name
    name = bytes(raw).split(b"\0")[0].decode() if isinstance(raw, bytes | bytearray) else raw
    return CudaDevice(index, str(name).strip(), f"{props.major}.{props.minor}")


# -- the engine cache ------------------------------------------------------------------------


def engine_cache_key(
    model_sha256: str,
    tensorrt_version: str,
    device: CudaDevice,
    fp16: bool,
    profiles: Sequence[Profile],
) -> dict[str, Any]:
    """Everything a serialised engine depends on; a change in any field means a rebuild.

    Stale engines (another TensorRT, another GPU, another model or shape range) are the most
    common failure of TensorRT deployments; keying on all of them makes reuse safe. Only this
    model's profiles are in its key, so a new text-encoder range leaves the decoder's alone.
    """
    return {
        "recipe": ENGINE_RECIPE,
        "model_sha256": model_sha256,
        "tensorrt": tensorrt_version,
        "device": device.name,
        "compute_capability": device.compute_capability,
        "precision": "fp16" if fp16 else "fp32",
        "profiles": [p.as_json() for p in profiles],
    }


def engine_path(cache_dir: Path, model: Path, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir / f"{model.stem}-{digest}.engine"


def sidecar_path(engine: Path) -> Path:
    return engine.with_suffix(".json")


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one: a unique
    temporary file in the same folder (concurrent builders never share one), fsync, rename,
    fsync of the folder. A failed write leaves no temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def store_engine(path: Path, engine: bytes, key: dict[str, Any]) -> None:
    """The engine, then its sidecar (key + engine hash), each written atomically."""
    write_atomically(path, engine)
    record = {"key": key, "engine_sha256": hashlib.sha256(engine).hexdigest()}
    write_atomically(sidecar_path(path), (json.dumps(record, indent=2) + "\n").encode())


def load_cached_engine(path: Path, key: dict[str, Any]) -> bytes | None:
    """The cached engine's bytes if the engine and its sidecar agree with `key`; None (and a
    warning for anything but a plain miss) means build it again."""
    if not path.is_file():
        return None
    try:
        record = json.loads(sidecar_path(path).read_text())
        data = path.read_bytes()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        log.warning("engine cache %s is unreadable (%s); rebuilding it", path, error)
        return None
    if not isinstance(record, dict) or record.get("key") != key:
        log.warning("engine cache %s was built for another key; rebuilding it", path)
        return None
    if record.get("engine_sha256") != hashlib.sha256(data).hexdigest():
        log.warning("engine cache %s is corrupt (hash mismatch); rebuilding it", path)
        return None
    return data


# -- building --------------------------------------------------------------------------------


def build_engine(
    onnx_path: Path, profiles: Sequence[Profile], fp16: bool, trt: Any, logger: Any
) -> bytes:
    """Parse `onnx_path`, add one optimisation profile per entry of `profiles`, and return
    the serialised engine."""
    builder = trt.Builder(logger)
    network = builder.create_network()  # explicit batch: the only mode since TensorRT 10
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        dynamic = [op for op in DYNAMIC_INT8_OPS if op in errors]
        if dynamic:
            raise BackendUnavailable(
                f"TensorRT cannot parse {onnx_path.name}: it is dynamic int8 ({', '.join(dynamic)}"
                "), which TensorRT's ONNX parser does not take; run it on ONNX Runtime "
                "(backend_fallback, or the onnxruntime-tensorrt backend) or export it float"
            )
        raise ValueError(f"TensorRT cannot parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    if _has_qdq(network, trt):
        # Static int8 (Q/DQ) is explicit quantization; TensorRT 10's weakly typed networks
        # need the INT8 flag for it, TensorRT 11 (strongly typed only) has none.
        int8 = getattr(trt.BuilderFlag, "INT8", None)
        if int8 is not None:
            config.set_flag(int8)
    if fp16:
        flag = getattr(trt.BuilderFlag, "FP16", None)
        if flag is None:
            raise ValueError(
                f"TensorRT {trt.__version__} builds strongly typed networks only (no "
                "BuilderFlag.FP16): an FP16 engine needs an FP16 ONNX model (NVIDIA ModelOpt "
                "AutoCast); build FP32 (no --fp16) or use TensorRT 10"
            )
        config.set_flag(flag)
    else:
        # FP32 means FP32: TF32 (on by default from Ampere) rounds matmul inputs to 10-bit
        # mantissas, enough to flip a greedy token against the CPU's caption.
        config.clear_flag(trt.BuilderFlag.TF32)
    inputs = {network.get_input(i).name for i in range(network.num_inputs)}
    for profile in profiles:
        if set(profile.shapes) != inputs:
            raise ValueError(
                f"profile {profile.name!r} covers {sorted(profile.shapes)} but {onnx_path.name} "
                f"has the inputs {sorted(inputs)}"
            )
        optimisation = builder.create_optimization_profile()
        for name, (low, opt, high) in profile.shapes.items():
            optimisation.set_shape(name, low, opt, high)
        if config.add_optimization_profile(optimisation) < 0:
            raise ValueError(f"TensorRT refused profile {profile.name!r} of {onnx_path.name}")
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(
            f"TensorRT failed to build an engine for {onnx_path} (its log above says why)"
        )
    return bytes(serialized)


def _has_qdq(network: Any, trt: Any) -> bool:
    """True if the parsed network holds Quantize/Dequantize layers (a static int8 model)."""
    kinds = {getattr(trt.LayerType, name, None) for name in ("QUANTIZE", "DEQUANTIZE")} - {None}
    return any(network.get_layer(i).type in kinds for i in range(network.num_layers))


# -- running ---------------------------------------------------------------------------------


class _Buffer:
    """A grow-only device allocation plus a pinned host staging area of the same size."""

    def __init__(self, cudart: Any) -> None:
        self._cudart = cudart
        self.capacity = 0
        self.device = 0
        self.host = 0

    def reserve(self, nbytes: int) -> None:
        """At least `nbytes` (and never a null address: TensorRT wants one for an empty tensor
        too, such as the decoder's prefix on a decode step)."""
        if self.capacity and nbytes <= self.capacity:
            return
        self.free()
        size = max(nbytes, 256)
        self.device = int(cuda_call(self._cudart.cudaMalloc(size), f"cudaMalloc({size})"))
        self.host = int(cuda_call(self._cudart.cudaMallocHost(size), f"cudaMallocHost({size})"))
        self.capacity = size

    def host_array(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        raw = (ctypes.c_ubyte * max(nbytes, 1)).from_address(self.host)
        flat: np.ndarray = np.frombuffer(memoryview(raw), np.uint8, count=nbytes)
        return flat.view(dtype).reshape(shape)

    def free(self) -> None:
        if self.device:
            cuda_call(self._cudart.cudaFree(self.device), "cudaFree")
        if self.host:
            cuda_call(self._cudart.cudaFreeHost(self.host), "cudaFreeHost")
        self.device = self.host = self.capacity = 0


class TensorRTEngine:
    """One deserialised engine, its execution context and stream, run per profile.

    Device buffers and their pinned host staging areas are allocated once per tensor and
    grown, never freed per call. The decoder's cache stays on the device between steps: when
    a run is fed back the very array the previous run returned for `present_keys` (returned
    read-only, so it cannot have changed), its device buffer becomes `past_keys` without a copy.
    """

    def __init__(
        self,
        path: Path,
        profiles: Sequence[Profile],
        signature: Signature,
        engine_cache: Path,
        fp16: bool = False,
        device_id: int = 0,
    ) -> None:
        trt, cudart = import_tensorrt()
        self._trt, self._cudart = trt, cudart
        self.path, self.profiles = path, tuple(profiles)
        self.device = cuda_device(cudart, device_id)
        self._logger = trt.Logger(trt.Logger.WARNING)
        key = engine_cache_key(
            hashlib.sha256(path.read_bytes()).hexdigest(),
            trt.__version__,
            self.device,
            fp16,
            self.profiles,
        )
        self.cache_file = engine_path(engine_cache, path, key)
        runtime = trt.Runtime(self._logger)
        started = time.perf_counter()
        engine = None
        data = load_cached_engine(self.cache_file, key)
        if data is not None:
            engine = runtime.deserialize_cuda_engine(data)
            if engine is None:
                log.warning("TensorRT cannot load %s; rebuilding it", self.cache_file)
        self.cache_hit = engine is not None
        if engine is None:
            data = build_engine(path, self.profiles, fp16, trt, self._logger)
            store_engine(self.cache_file, data, key)
            engine = runtime.deserialize_cuda_engine(data)
            if engine is None:
                raise RuntimeError(f"TensorRT cannot load the engine it just built for {path}")
        self.load_seconds = time.perf_counter() - started
        if engine.num_optimization_profiles != len(self.profiles):
            raise RuntimeError(
                f"engine {self.cache_file} has {engine.num_optimization_profiles} profiles; "
                f"expected {len(self.profiles)}"
            )
        self._runtime, self._engine = runtime, engine
        self._context = engine.create_execution_context()
        if self._context is None:
            raise RuntimeError(f"TensorRT cannot create an execution context for {path}")
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        is_input = {n: engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        self.input_names = [n for n in names if is_input[n]]
        self.output_names = [n for n in names if not is_input[n]]
        expected = [t.name for t in signature.inputs]
        if sorted(self.input_names) != sorted(expected):
            raise RuntimeError(f"engine {self.cache_file} has inputs {self.input_names}")
        self._dtypes = {n: np.dtype(trt.nptype(engine.get_tensor_dtype(n))) for n in names}
        self._buffers = {n: _Buffer(cudart) for n in names}
        self._returned: dict[str, np.ndarray] = {}  # feedback outputs of the last run
        self._active = 0
        self._stream = cuda_call(cudart.cudaStreamCreate(), "cudaStreamCreate")
        self._stream_handle = int(self._stream)  # TensorRT's bindings take the handle as an int

    def run_profile(
        self, profile: int, output_names: Sequence[str], feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]:
        cudart, ctx, stream = self._cudart, self._context, self._stream
        copy = cudart.cudaMemcpyKind
        # The current device is per thread, and the node runs models on its own worker thread.
        cuda_call(cudart.cudaSetDevice(self.device.index), f"cudaSetDevice({self.device.index})")
        if profile != self._active:
            if not ctx.set_optimization_profile_async(profile, self._stream_handle):
                raise RuntimeError(f"TensorRT cannot switch {self.path.name} to profile {profile}")
            self._active = profile
        returned, self._returned = self._returned, {}
        for name in self.input_names:
            value = feeds[name]
            source = FEEDBACK.get(name)
            resident = (
                source is not None
                and returned.get(source) is value
                and value.dtype == self._dtypes[name]
            )
            host = value if resident else np.ascontiguousarray(value, self._dtypes[name])
            if not ctx.set_input_shape(name, host.shape):
                low, _, high = self.profiles[profile].shapes[name]
                raise ValueError(
                    f"TensorRT refused shape {host.shape} for input {name!r} of "
                    f"{self.path.name} (profile {self.profiles[profile].name!r}: {low} to {high})"
                )
            if resident and source is not None:  # the last run's output buffer holds it
                self._buffers[name], self._buffers[source] = (
                    self._buffers[source],
                    self._buffers[name],
                )
            else:
                buffer = self._buffers[name]
                buffer.reserve(host.nbytes)
                if host.nbytes:
                    buffer.host_array(host.shape, host.dtype)[...] = host
                    cuda_call(
                        cudart.cudaMemcpyAsync(
                            buffer.device,
                            buffer.host,
                            host.nbytes,
                            copy.cudaMemcpyHostToDevice,
                            stream,
                        ),
                        f"cudaMemcpyAsync({name} to the device)",
                    )
            self._bind(name)
        unresolved = ctx.infer_shapes()
        if unresolved:
            raise RuntimeError(f"TensorRT cannot infer shapes of {self.path.name}: {unresolved}")
        shapes = {}
        for name in self.output_names:
            shape = tuple(int(d) for d in ctx.get_tensor_shape(name))
            if any(d < 0 for d in shape):
                raise RuntimeError(f"TensorRT gave output {name!r} the shape {shape}")
            shapes[name] = shape
            self._buffers[name].reserve(
                int(np.prod(shape, dtype=np.int64)) * self._dtypes[name].itemsize
            )
            self._bind(name)
        if not ctx.execute_async_v3(self._stream_handle):
            raise RuntimeError(f"TensorRT failed to run {self.path.name} (its log says why)")
        for name in output_names:
            buffer, nbytes = self._buffers[name], self._nbytes(name, shapes[name])
            if nbytes:
                cuda_call(
                    cudart.cudaMemcpyAsync(
                        buffer.host, buffer.device, nbytes, copy.cudaMemcpyDeviceToHost, stream
                    ),
                    f"cudaMemcpyAsync({name} to the host)",
                )
        cuda_call(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize")
        results = []
        for name in output_names:
            result = self._buffers[name].host_array(shapes[name], self._dtypes[name]).copy()
            if name in FEEDBACK.values():
                result.flags.writeable = False  # its device copy stands in for it next step
                self._returned[name] = result
            results.append(result)
        return results

    def _bind(self, name: str) -> None:
        if self._context.set_tensor_address(name, self._buffers[name].device) is False:
            raise RuntimeError(
                f"TensorRT refused the device address of {name!r} ({self.path.name})"
            )

    def _nbytes(self, name: str, shape: tuple[int, ...]) -> int:
        return int(np.prod(shape, dtype=np.int64)) * self._dtypes[name].itemsize

    def close(self) -> None:
        """Free the buffers and destroy the stream (also on garbage collection)."""
        if getattr(self, "_stream", None) is None:
            return
        stream, self._stream = self._stream, None
        cuda_call(self._cudart.cudaSetDevice(self.device.index), "cudaSetDevice")
        cuda_call(self._cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize")
        for buffer in self._buffers.values():
            buffer.free()
        self._context = None
        self._engine = None
        cuda_call(self._cudart.cudaStreamDestroy(stream), "cudaStreamDestroy")

    def __del__(self) -> None:
        try:
            self.close()
        except Exception as error:  # never raise from a finaliser; say what leaked
            log.warning("closing the TensorRT engine of %s failed: %s", self.path, error)


def open_tensorrt(
    path: Path,
    profiles: Sequence[Profile],
    signature: Signature,
    engine_cache: Path,
    fp16: bool = False,
    device_id: int = 0,
) -> ProfiledSession:
    """A TensorRT session for `path`: shapes checked, batches chunked, engine cached."""
    engine = TensorRTEngine(path, profiles, signature, engine_cache, fp16, device_id)
    return ProfiledSession(engine, signature, profiles, path.name)


# -- ahead of time: `pointlang-export engine` --------------------------------------------------


@dataclass(frozen=True)
class BuiltEngine:
    model: str
    engine: Path
    cache_hit: bool
    seconds: float


def bundle_model_files(bundle: Bundle) -> list[str]:
    """Every model file of the bundle that the runtime opens: encoder, text encoder, and the
    bridge and decoder when it has the generation stage."""
    files = [bundle.encoder["file"], bundle.text_encoder["file"]]
    if bundle.generation:
        files += [bundle.generation["bridge_file"], bundle.generation["decoder_file"]]
    return files


def build_bundle_engines(
    bundle_path: Path | None,
    engine_cache: Path,
    fp16: bool = False,
    device_id: int = 0,
    limits: ShapeLimits | None = None,
) -> list[BuiltEngine]:
    """Build (or find cached) the engines of every model of the bundle, text encoder included,
    so the node starts and learns new labels without minutes of building."""
    from ros_pointlang.bundle import BundleError, load_bundle

    bundle = load_bundle(bundle_path)
    text = bundle.file(bundle.text_encoder["file"])
    if not text.is_file():
        raise BundleError(
            f"{text} is missing, and every model needs an engine (the text encoder embeds new "
            f"labels); run `pointlang-export text-encoder --bundle {bundle.path}` first"
        )
    profiles = bundle_profiles(bundle, limits)
    built = []
    for name in bundle_model_files(bundle):
        path = bundle.file(name)
        engine = TensorRTEngine(
            path, profiles[name], read_signature(path), engine_cache, fp16, device_id
        )
        built.append(BuiltEngine(name, engine.cache_file, engine.cache_hit, engine.load_seconds))
        engine.close()
    return built
