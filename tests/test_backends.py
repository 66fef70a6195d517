"""Backend selection: clear errors for missing GPUs, fallback only when asked, engine keys."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from ros_pointlang.backends import (
    BackendOptions,
    BackendUnavailable,
    engine_cache_key,
    engine_path,
    open_session,
)

HAS_GPU = shutil.which("nvidia-smi") is not None


def encoder(tiny_bundle) -> Path:
    return tiny_bundle / "point_encoder.onnx"


def test_unknown_backend_and_bad_threads_are_refused():
    with pytest.raises(ValueError, match="unknown"):
        BackendOptions(name="openvino")
    with pytest.raises(ValueError, match="threads"):
        BackendOptions(threads=-1)


def test_cpu_session_runs_and_names_its_inputs(tiny_bundle):
    session = open_session(encoder(tiny_bundle), BackendOptions(threads=1))
    assert session.input_names == ["points", "size", "size_known"]
    feeds = {
        "points": np.zeros((2, 256, 3), np.float32),
        "size": np.ones((2, 3), np.float32),
        "size_known": np.array([True, False]),
    }
    embedding, tokens = session.run(None, feeds)
    assert embedding.shape == (2, 384) and tokens.shape[0] == 2


def test_missing_model_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        open_session(tmp_path / "x.onnx", BackendOptions())


@pytest.mark.skipif(HAS_GPU, reason="checks the behaviour on machines without a GPU")
@pytest.mark.parametrize("name", ["onnxruntime-cuda", "onnxruntime-tensorrt", "tensorrt"])
def test_gpu_backends_fail_clearly_without_a_gpu_and_fall_back_only_when_asked(tiny_bundle, name):
    with pytest.raises(BackendUnavailable, match=name.split("-")[-1].replace("onnxruntime", "")):
        open_session(encoder(tiny_bundle), BackendOptions(name=name))
    session = open_session(encoder(tiny_bundle), BackendOptions(name=name, fallback=True))
    assert session.input_names == ["points", "size", "size_known"]


def test_engine_cache_key_changes_with_everything_an_engine_depends_on(tmp_path):
    base = dict(
        onnx_bytes=b"model",
        tensorrt_version="10.9.0",
        gpu="Orin",
        profiles={"points": ((1, 512, 3), (4, 512, 3), (16, 512, 3))},
        fp16=True,
    )
    key = engine_cache_key(**base)
    model = tmp_path / "point_encoder.onnx"
    paths = {engine_path(tmp_path, model, key)}
    for change in [
        {"onnx_bytes": b"model2"},
        {"tensorrt_version": "10.10.0"},
        {"gpu": "RTX 4090"},
        {"profiles": {"points": ((1, 512, 3), (8, 512, 3), (32, 512, 3))}},
        {"fp16": False},
    ]:
        paths.add(engine_path(tmp_path, model, engine_cache_key(**{**base, **change})))
    assert len(paths) == 6
    assert engine_path(tmp_path, model, engine_cache_key(**base)) in paths  # stable


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_GPU, reason="needs an NVIDIA GPU with TensorRT")
def test_tensorrt_engine_matches_onnx_runtime(tiny_bundle, tmp_path):
    feeds = {
        "points": np.random.default_rng(0).normal(size=(2, 256, 3)).astype(np.float32),
        "size": np.ones((2, 3), np.float32),
        "size_known": np.array([True, False]),
    }
    profiles = {
        "points": ((1, 256, 3), (2, 256, 3), (8, 256, 3)),
        "size": ((1, 3), (2, 3), (8, 3)),
        "size_known": ((1,), (2,), (8,)),
    }
    trt = open_session(
        encoder(tiny_bundle),
        BackendOptions(name="tensorrt", engine_cache=tmp_path, profiles=profiles),
    )
    cpu = open_session(encoder(tiny_bundle), BackendOptions())
    for a, b in zip(trt.run(None, feeds), cpu.run(None, feeds), strict=True):
        assert np.abs(a - b).max() < 1e-3
