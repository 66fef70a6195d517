"""Native TensorRT on a real GPU: engines against ONNX Runtime on the CPU, the cache, the
decoder's two profiles. Skipped with the reason where tensorrt, cuda-python or a GPU is absent
(`tools/gpu_check.sh` runs the same paths and more as one command)."""

import importlib.util

import numpy as np
import pytest

from ros_pointlang.backends import BackendOptions, open_session
from ros_pointlang.bundle import load_bundle
from ros_pointlang.profiles import bundle_profiles


def _why_no_tensorrt() -> str | None:
    if importlib.util.find_spec("tensorrt") is None:
        return "the tensorrt package is not installed (pip install 'ros_pointlang[tensorrt]')"
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        return "cuda-python is not installed"
    error, count = cudart.cudaGetDeviceCount()
    if int(error) != 0 or count == 0:
        return f"no usable NVIDIA GPU ({getattr(error, 'name', error)})"
    return None


REASON = _why_no_tensorrt()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(REASON is not None, reason=REASON or "")]


@pytest.fixture(scope="module")
def small():
    return load_bundle()


def _feeds(bundle, batch, seed=0):
    rng = np.random.default_rng(seed)
    n = bundle.encoder["num_points"]
    return {
        "points": rng.normal(size=(batch, n, 3)).astype(np.float32) / 3,
        "size": rng.uniform(0.2, 2.0, size=(batch, 3)).astype(np.float32),
        "size_known": rng.random(batch) > 0.3,
    }


def test_encoder_engine_matches_onnx_runtime_and_is_cached(small, tmp_path):
    options = BackendOptions(
        name="tensorrt", engine_cache=tmp_path, profiles=bundle_profiles(small)
    )
    path = small.file("point_encoder.onnx")
    cold = open_session(path, options)
    assert not cold.engine.cache_hit
    warm = open_session(path, options)
    assert warm.engine.cache_hit
    cpu = open_session(path, BackendOptions())
    for batch in (1, 5, 40):  # 40: above the profile's 32, chunked
        feeds = _feeds(small, batch)
        for a, b in zip(warm.run(None, feeds), cpu.run(None, feeds), strict=True):
            assert a.shape == b.shape and np.abs(a - b).max() < 1e-2


def test_a_corrupt_cached_engine_is_rebuilt(small, tmp_path):
    options = BackendOptions(
        name="tensorrt", engine_cache=tmp_path, profiles=bundle_profiles(small)
    )
    path = small.file("bridge.onnx")
    first = open_session(path, options).engine
    first.cache_file.write_bytes(first.cache_file.read_bytes()[:1000])
    again = open_session(path, options)
    assert not again.engine.cache_hit
    assert again.engine.cache_file.stat().st_size > 1000


def test_captions_on_tensorrt_equal_the_cpu_greedy_output(small, tmp_path):
    from ros_pointlang.pipeline import Pipeline

    trt = Pipeline.from_bundle(backend=BackendOptions(name="tensorrt", engine_cache=tmp_path))
    cpu = Pipeline.from_bundle()
    rng = np.random.default_rng(1)
    for _ in range(3):
        cloud = rng.normal(size=(800, 3)) * [0.4, 0.3, 0.5] + [2.0, 0.0, 0.5]
        assert trt.caption(cloud).text == cpu.caption(cloud).text
