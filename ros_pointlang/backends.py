"""Inference backends behind one small interface: ONNX Runtime (CPU, CUDA, TensorRT EP) and
native TensorRT.

Every backend opens an ONNX file as a `Session` with ONNX Runtime's calling convention,
`run(output_names, feeds) -> list[np.ndarray]`, so the pipeline never knows which one it has.
Asking for a GPU backend where there is none is an error, never a silent CPU fallback, unless
the caller asked for `fallback=True`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("onnxruntime", "onnxruntime-cuda", "onnxruntime-tensorrt", "tensorrt")

# ONNX Runtime execution providers for each ORT backend, best first.
_ORT_PROVIDERS = {
    "onnxruntime": ["CPUExecutionProvider"],
    "onnxruntime-cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "onnxruntime-tensorrt": [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ],
}


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (missing package or GPU)."""


class Session(Protocol):
    """What the pipeline needs of a loaded model."""

    input_names: list[str]
    output_names: list[str]

    def run(
        self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class BackendOptions:
    """How to run models. `threads` 0 lets ONNX Runtime choose; `fallback` permits CPU."""

    name: str = "onnxruntime"
    threads: int = 0
    fallback: bool = False
    fp16: bool = False  # TensorRT: build FP16 engines
    engine_cache: Path = field(default_factory=lambda: default_engine_cache())
    # TensorRT optimisation profiles: input name → (min, opt, max) shapes for dynamic axes.
    profiles: dict[str, tuple[tuple[int, ...], ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise ValueError(f"backend {self.name!r} is unknown; expected one of {BACKENDS}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0 = automatic), got {self.threads}")


def default_engine_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ros_pointlang" / "tensorrt"


def open_session(model: str | Path, options: BackendOptions) -> Session:
    """Load the ONNX file `model` on the backend `options.name`."""
    path = Path(model)
    if not path.is_file():
        raise ValueError(f"model file {path} does not exist")
    if options.name == "tensorrt":
        try:
            return TensorRTSession(path, options)
        except BackendUnavailable:
            if not options.fallback:
                raise
            log.warning("TensorRT is unavailable; falling back to ONNX Runtime on the CPU")
            return OrtSession(path, _ORT_PROVIDERS["onnxruntime"], options.threads)
    return OrtSession(path, _ort_providers(options), options.threads)


def _ort_providers(options: BackendOptions) -> list[str]:
    import onnxruntime as ort

    wanted = _ORT_PROVIDERS[options.name]
    available = ort.get_available_providers()
    if wanted[0] in available:
        return [p for p in wanted if p in available]
    message = (
        f"backend {options.name!r} needs ONNX Runtime's {wanted[0]}, which this installation "
        f"lacks (it has {available}); install onnxruntime-gpu on a machine with an NVIDIA GPU"
    )
    if not options.fallback:
        raise BackendUnavailable(message)
    log.warning("%s; falling back to the CPU as asked", message)
    return ["CPUExecutionProvider"]


class OrtSession:
    """An ONNX Runtime InferenceSession with clear errors for a corrupt file."""

    def __init__(self, path: Path, providers: list[str], threads: int = 0) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3  # errors only: ORT's warnings are not for robot operators
        # Idle ORT threads spin by default, burning cores the rest of the robot needs.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(path), so, providers=providers)
        except Exception as error:  # ORT raises several pybind types for an unreadable model
            raise ValueError(f"model file {path} is not a valid ONNX model ({error})") from error
        self.path = path
        self.providers = self._session.get_providers()
        self.input_names = [i.name for i in self._session.get_inputs()]
        self.output_names = [o.name for o in self._session.get_outputs()]

    def run(
        self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]:
        return self._session.run(list(output_names) if output_names else None, feeds)


# ------------------------------------------------------------------------------------------
# Native TensorRT


def gpu_name() -> str:
    """The first NVIDIA GPU's name, or raise BackendUnavailable."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise BackendUnavailable(f"no NVIDIA GPU found (nvidia-smi: {error})") from error
    names = [line.strip() for line in out.splitlines() if line.strip()]
    if not names:
        raise BackendUnavailable("no NVIDIA GPU found (nvidia-smi lists none)")
    return names[0]


def engine_cache_key(
    onnx_bytes: bytes,
    tensorrt_version: str,
    gpu: str,
    profiles: dict[str, tuple[tuple[int, ...], ...]],
    fp16: bool,
) -> dict[str, Any]:
    """Everything a serialised engine depends on; a change in any field means a rebuild.

    Stale engines (another TensorRT, another GPU, another model or shape range) are the most
    common failure of TensorRT deployments; keying on all of them makes reuse safe.
    """
    return {
        "model_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "tensorrt": tensorrt_version,
        "gpu": gpu,
        "profiles": {k: [list(s) for s in v] for k, v in sorted(profiles.items())},
        "fp16": fp16,
    }


def engine_path(cache_dir: Path, model: Path, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir / f"{model.stem}-{digest}.engine"


class TensorRTSession:
    """A TensorRT engine built from an ONNX file once, cached, and run with the v3 API.

    The engine cache sits in `options.engine_cache`; beside each engine a JSON file records
    its key, so `pointlang-export engine` can build ahead of time and a mismatch is visible.
    """

    def __init__(self, path: Path, options: BackendOptions) -> None:
        try:
            import tensorrt as trt
            from cuda.bindings import runtime as cudart
        except ImportError as error:
            raise BackendUnavailable(
                "backend 'tensorrt' needs the tensorrt and cuda-python packages "
                f"(pip install 'ros_pointlang[tensorrt]'): {error}"
            ) from error
        self._trt, self._cudart = trt, cudart
        self._logger = trt.Logger(trt.Logger.WARNING)
        key = engine_cache_key(
            path.read_bytes(), trt.__version__, gpu_name(), options.profiles, options.fp16
        )
        cached = engine_path(options.engine_cache, path, key)
        if not cached.exists():
            build_engine(path, cached, key, options, trt, self._logger)
        runtime = trt.Runtime(self._logger)
        self._engine = runtime.deserialize_cuda_engine(cached.read_bytes())
        if self._engine is None:
            raise ValueError(f"TensorRT engine {cached} cannot be loaded; delete it to rebuild")
        self._context = self._engine.create_execution_context()
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        mode = trt.TensorIOMode.INPUT
        self.input_names = [n for n in names if self._engine.get_tensor_mode(n) == mode]
        self.output_names = [n for n in names if self._engine.get_tensor_mode(n) != mode]
        self.path = path
        _, self._stream = cudart.cudaStreamCreate()

    def run(
        self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]:
        trt, cudart, ctx = self._trt, self._cudart, self._context
        buffers = []
        try:
            for name in self.input_names:
                host = np.ascontiguousarray(
                    feeds[name], dtype=trt.nptype(self._engine.get_tensor_dtype(name))
                )
                ctx.set_input_shape(name, host.shape)
                device = self._device_copy(host)
                buffers.append(device)
                ctx.set_tensor_address(name, device)
            outputs = {}
            for name in self.output_names:
                shape = tuple(ctx.get_tensor_shape(name))
                dtype = trt.nptype(self._engine.get_tensor_dtype(name))
                host = np.empty(shape, dtype)
                _, device = cudart.cudaMalloc(max(host.nbytes, 1))
                buffers.append(device)
                ctx.set_tensor_address(name, device)
                outputs[name] = (host, device)
            if not ctx.execute_async_v3(self._stream):
                raise RuntimeError(f"TensorRT failed to run {self.path.name}")
            for host, device in outputs.values():
                cudart.cudaMemcpyAsync(
                    host.ctypes.data,
                    device,
                    host.nbytes,
                    cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost,
                    self._stream,
                )
            cudart.cudaStreamSynchronize(self._stream)
        finally:
            for device in buffers:
                cudart.cudaFree(device)
        return [outputs[n][0] for n in (output_names or self.output_names)]

    def _device_copy(self, host: np.ndarray) -> int:
        cudart = self._cudart
        _, device = cudart.cudaMalloc(max(host.nbytes, 1))
        cudart.cudaMemcpyAsync(
            device,
            host.ctypes.data,
            host.nbytes,
            cudart.cudaMemcpyKind.cudaMemcpyHostToDevice,
            self._stream,
        )
        return device


def build_engine(
    onnx_path: Path, out: Path, key: dict[str, Any], options: BackendOptions, trt: Any, logger: Any
) -> None:
    """Build and serialise a TensorRT engine for `onnx_path` with the options' profiles."""
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ValueError(f"TensorRT cannot parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    if options.fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        if tensor.name in options.profiles:
            low, opt, high = options.profiles[tensor.name]
        elif any(d < 0 for d in tensor.shape):
            raise ValueError(
                f"input {tensor.name!r} of {onnx_path.name} has dynamic shape {tuple(tensor.shape)}"
                "; give its (min, opt, max) shapes in BackendOptions.profiles"
            )
        else:
            low = opt = high = tuple(tensor.shape)
        profile.set_shape(tensor.name, low, opt, high)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine for {onnx_path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(bytes(serialized))
    os.replace(tmp, out)
    out.with_suffix(".json").write_text(json.dumps(key, indent=2) + "\n")
