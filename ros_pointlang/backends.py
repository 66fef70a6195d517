"""Inference backends behind one small interface: ONNX Runtime (CPU, CUDA, TensorRT EP) and
native TensorRT (ros_pointlang/tensorrt_engine.py).

Every backend opens an ONNX file as a `Session` with ONNX Runtime's calling convention,
`run(output_names, feeds) -> list[np.ndarray]`, so the pipeline never knows which one it has.
Asking for a GPU backend that does not get its GPU is an error, never a silent CPU fallback,
unless the caller asked for `fallback=True` (the node's `backend_fallback`), and then it says
so in a warning. ONNX Runtime needs watching for that: `get_available_providers()` lists the
providers compiled in, not the loadable ones; a provider whose CUDA, cuDNN or TensorRT library
fails to load is dropped with a log line, and a session retries on the CPU after a provider
failure unless fallback is disabled. So each GPU session is created with ORT's fallback off
and checked afterwards: `session.get_providers()[0]` must be the provider asked for.

The TensorRT backends (native and ORT's TensorRT EP) build engines for optimisation profiles:
`BackendOptions.profiles` maps each model file name to its profiles (Pipeline fills it from
`ros_pointlang.profiles.bundle_profiles`), and their sessions check every run's shapes and
chunk batches above the profiles' maxima (ProfiledSession).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ros_pointlang.bundle import MANIFEST, load_bundle
from ros_pointlang.profiles import (
    Profile,
    ProfiledSession,
    Signature,
    bundle_profiles,
    make_profile,
    read_signature,
)
from ros_pointlang.tensorrt_engine import BackendUnavailable, open_tensorrt

log = logging.getLogger(__name__)

BACKENDS = ("onnxruntime", "onnxruntime-cuda", "onnxruntime-tensorrt", "tensorrt")
PROFILED_BACKENDS = ("onnxruntime-tensorrt", "tensorrt")  # need optimisation profiles

CPU, CUDA, TENSORRT = "CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider"
# ONNX Runtime execution providers for each ORT backend, best first.
_ORT_PROVIDERS = {
    "onnxruntime": [CPU],
    "onnxruntime-cuda": [CUDA, CPU],
    "onnxruntime-tensorrt": [TENSORRT, CUDA, CPU],
}


class Session(Protocol):
    """What the pipeline needs of a loaded model."""

    input_names: list[str]
    output_names: list[str]

    def run(
        self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class BackendOptions:
    """How to run models. `threads` 0 lets ONNX Runtime choose; `fallback` permits the CPU
    when the GPU backend cannot run (with a warning)."""

    name: str = "onnxruntime"
    threads: int = 0
    fallback: bool = False
    fp16: bool = False  # TensorRT (native or EP): FP16 engines
    device_id: int = 0  # CUDA device
    engine_cache: Path = field(default_factory=lambda: default_engine_cache())
    # TensorRT optimisation profiles per model file name (e.g. "decoder.onnx").
    profiles: Mapping[str, tuple[Profile, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise ValueError(f"backend {self.name!r} is unknown; expected one of {BACKENDS}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0 = automatic), got {self.threads}")
        if self.device_id < 0:
            raise ValueError(f"device_id must be >= 0, got {self.device_id}")


def default_engine_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ros_pointlang" / "tensorrt"


def open_session(model: str | Path, options: BackendOptions) -> Session:
    """Load the ONNX file `model` on the backend `options.name`."""
    path = Path(model)
    if not path.is_file():
        raise ValueError(f"model file {path} does not exist")
    try:
        if options.name == "tensorrt":
            signature = read_signature(path)
            return open_tensorrt(
                path,
                model_profiles(path, options, signature),
                signature,
                engine_cache=options.engine_cache,
                fp16=options.fp16,
                device_id=options.device_id,
            )
        session = OrtSession(path, options)
    except BackendUnavailable as error:
        if not options.fallback:
            raise
        log.warning("%s; running %s on the CPU as backend_fallback allows", error, path.name)
        return OrtSession(path, BackendOptions(threads=options.threads))
    if session.signature is not None and session.providers[0] == TENSORRT:
        return ProfiledSession(session, session.signature, session.profiles, path.name)
    return session


def model_profiles(
    path: Path, options: BackendOptions, signature: Signature
) -> tuple[Profile, ...]:
    """The profiles `options` gives for `path`; else those of the bundle `path` is in (how
    Pipeline derives them for all its models at once); a graph without dynamic dims needs none."""
    profiles = options.profiles.get(path.name)
    if profiles:
        return tuple(profiles)
    if (path.parent / MANIFEST).is_file():
        derived = bundle_profiles(load_bundle(path.parent)).get(path.name)
        if derived:
            return derived
    if not any(isinstance(d, str) for t in signature.inputs for d in t.dims):
        return (make_profile("static", signature, {}),)
    raise ValueError(
        f"backend {options.name!r} needs TensorRT profiles for {path.name}, whose inputs have "
        "dynamic dims and which is in no bundle; pass BackendOptions(profiles={file name: "
        "profiles}) (ros_pointlang.profiles.make_profile)"
    )


def ort_tensorrt_options(
    signature: Signature, profiles: Sequence[Profile], options: BackendOptions
) -> dict[str, Any]:
    """ONNX Runtime TensorRT EP options: an engine cache (else every start rebuilds), FP16 as
    asked, and explicit min/opt/max shapes of every dynamic input per profile (else a growing
    key/value cache rebuilds engines during the first caption). The EP reads a profile per
    repetition of an input's name in each list."""
    cache = str(options.engine_cache / "onnxruntime")
    provider: dict[str, Any] = {
        "device_id": options.device_id,
        "trt_fp16_enable": options.fp16,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": cache,
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": cache,
    }
    dynamic = [t.name for t in signature.inputs if any(isinstance(d, str) for d in t.dims)]
    if dynamic:
        for k, key in enumerate(
            ("trt_profile_min_shapes", "trt_profile_opt_shapes", "trt_profile_max_shapes")
        ):
            provider[key] = ",".join(
                f"{name}:{'x'.join(str(d) for d in p.shapes[name][k])}"
                for p in profiles
                for name in dynamic
            )
    return provider


def _provider_missing(backend: str, wanted: str, path: Path, running_on: str) -> str:
    import onnxruntime as ort

    return (
        f"backend {backend!r} asked ONNX Runtime for {wanted} but the session of {path.name} "
        f"runs on {running_on} (onnxruntime {ort.__version__} offers "
        f"{ort.get_available_providers()}; a provider whose CUDA, cuDNN or TensorRT libraries "
        "fail to load is dropped): install onnxruntime-gpu and the NVIDIA libraries it names"
    )


class OrtSession:
    """An ONNX Runtime InferenceSession: clear errors for a corrupt file, and the GPU provider
    it was asked for or an error (a warning with `fallback`)."""

    def __init__(self, path: Path, options: BackendOptions) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = options.threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3  # errors only: ORT's warnings are not for robot operators
        # Idle ORT threads spin by default, burning cores the rest of the robot needs.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        wanted = _ORT_PROVIDERS[options.name]
        providers: list[Any] = list(wanted)
        self.profiles: tuple[Profile, ...] = ()
        self.signature: Signature | None = None
        if wanted[0] != CPU:
            # Read on the CPU first: a corrupt file is then told apart from a provider failure.
            self.signature = read_signature(path)
        if options.name == "onnxruntime-tensorrt" and self.signature is not None:
            self.profiles = model_profiles(path, options, self.signature)
            providers[0] = (TENSORRT, ort_tensorrt_options(self.signature, self.profiles, options))
        if CUDA in wanted:
            providers[wanted.index(CUDA)] = (CUDA, {"device_id": options.device_id})
        if wanted[0] not in ort.get_available_providers():
            # Not in this build at all: say so before ORT prints warnings of its own about it.
            raise BackendUnavailable(_provider_missing(options.name, wanted[0], path, CPU))
        try:
            # enable_fallback=0: no silent retry on the CPU when a provider fails to start.
            self._session = ort.InferenceSession(
                str(path), so, providers=providers, enable_fallback=0
            )
        except Exception as error:  # ORT raises several pybind types for an unreadable model
            if wanted[0] != CPU:
                raise BackendUnavailable(
                    f"ONNX Runtime cannot start {wanted[0]} for {path.name} ({error})"
                ) from error
            raise ValueError(f"model file {path} is not a valid ONNX model ({error})") from error
        self._session.disable_fallback()  # and none at run time either
        self.path = path
        self.providers = self._session.get_providers()
        if self.providers[0] != wanted[0]:
            message = _provider_missing(options.name, wanted[0], path, self.providers[0])
            if not options.fallback:
                raise BackendUnavailable(message)
            log.warning("%s; running on %s as backend_fallback allows", message, self.providers[0])
        self.input_names = [i.name for i in self._session.get_inputs()]
        self.output_names = [o.name for o in self._session.get_outputs()]

    def run(
        self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]:
        return self._session.run(list(output_names) if output_names else None, feeds)

    def run_profile(
        self, profile: int, output_names: Sequence[str], feeds: dict[str, np.ndarray]
    ) -> list[np.ndarray]:
        """`run`; the TensorRT EP picks the profile itself."""
        return self.run(output_names, feeds)
