"""The parts of the native TensorRT backend that run without a GPU: cuda-python error tuples
(with the real cuda-python, which imports and answers with errors on a machine without a
driver), the engine cache key, and the cache's file handling (atomic writes, corrupt engines)."""

import json
import threading

import numpy as np
import pytest

from ros_pointlang.bundle import load_bundle
from ros_pointlang.profiles import bundle_profiles
from ros_pointlang.tensorrt_engine import (
    ENGINE_RECIPE,
    BackendUnavailable,
    CudaDevice,
    CudaError,
    bundle_model_files,
    cuda_call,
    cuda_device,
    engine_cache_key,
    engine_path,
    load_cached_engine,
    sidecar_path,
    store_engine,
    write_atomically,
)

cudart = pytest.importorskip(
    "cuda.bindings.runtime", reason="cuda-python is not installed (requirements/dev.txt has it)"
)


def _has_gpu() -> bool:
    error, count = cudart.cudaGetDeviceCount()
    return int(error) == 0 and count > 0


def test_cuda_call_returns_the_values_of_a_successful_call():
    success = cudart.cudaError_t.cudaSuccess
    assert cuda_call((success,), "cudaFree") is None
    assert cuda_call((success, 7), "cudaMalloc") == 7
    assert cuda_call((success, 1, 2), "cudaMemGetInfo") == (1, 2)
    with pytest.raises(TypeError, match="expected cuda-python's"):
        cuda_call(None, "cudaFree")


def test_cuda_call_raises_the_error_by_name_for_real_failing_calls():
    # No driver here: cudaErrorInsufficientDriver. With a GPU: 4 EiB cannot be allocated.
    with pytest.raises(CudaError, match=r"cudaMalloc failed with cudaError\w+ \(\d+\)"):
        cuda_call(cudart.cudaMalloc(1 << 62), "cudaMalloc")
    error = cudart.cudaError_t.cudaErrorMemoryAllocation
    with pytest.raises(CudaError, match="cudaMallocHost failed with cudaErrorMemoryAllocation"):
        cuda_call((error, None), "cudaMallocHost")


@pytest.mark.skipif(_has_gpu(), reason="checks a machine without an NVIDIA GPU")
def test_no_usable_gpu_is_backend_unavailable_with_the_cuda_error():
    with pytest.raises(BackendUnavailable, match="no usable NVIDIA GPU: cudaGetDeviceCount failed"):
        cuda_device(cudart)


@pytest.mark.skipif(not _has_gpu(), reason="needs an NVIDIA GPU")
def test_the_device_is_described_from_cuda_python():
    device = cuda_device(cudart)
    assert device.name and device.compute_capability.replace(".", "").isdigit()


ORIN = CudaDevice(0, "Orin", "8.7")


def _key(small, **change):
    profiles = bundle_profiles(small)
    base = dict(
        model_sha256="a" * 64,
        tensorrt_version="10.13.3",
        device=ORIN,
        fp16=True,
        profiles=profiles["decoder.onnx"],
    )
    return engine_cache_key(**{**base, **change})


@pytest.fixture(scope="module")
def small():
    return load_bundle()


def test_the_cache_key_changes_with_everything_an_engine_depends_on(small, tmp_path):
    profiles = bundle_profiles(small)
    model = small.file("decoder.onnx")
    key = _key(small)
    assert key["recipe"] == ENGINE_RECIPE and key["compute_capability"] == "8.7"
    assert key["device"] == "Orin" and key["precision"] == "fp16"
    # Only this model's own profiles: the text encoder's range is not in the decoder's key.
    assert [p["name"] for p in key["profiles"]] == ["prefill", "decode"]
    paths = {engine_path(tmp_path, model, key)}
    for change in [
        {"model_sha256": "b" * 64},
        {"tensorrt_version": "11.1.0"},
        {"device": CudaDevice(0, "NVIDIA GeForce RTX 4090", "8.9")},
        {"device": CudaDevice(1, "Orin", "8.6")},
        {"fp16": False},
        {"profiles": profiles["decoder.onnx"][:1]},
    ]:
        paths.add(engine_path(tmp_path, model, _key(small, **change)))
    assert len(paths) == 7
    assert engine_path(tmp_path, model, _key(small)) in paths  # stable
    # The device index alone (same GPU model in another slot) builds the same engine.
    same = _key(small, device=CudaDevice(1, "Orin", "8.7"))
    assert engine_path(tmp_path, model, same) == engine_path(tmp_path, model, key)


def test_engines_are_built_for_every_model_including_the_text_encoder(small):
    assert bundle_model_files(small) == [
        "point_encoder.onnx",
        "text_encoder.onnx",
        "bridge.onnx",
        "decoder.onnx",
    ]


def test_atomic_writes_leave_one_whole_file_and_no_temporary_files(tmp_path):
    target = tmp_path / "cache" / "model.engine"
    payloads = [bytes([i]) * 200_000 for i in range(8)]
    threads = [threading.Thread(target=write_atomically, args=(target, p)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_bytes() in payloads  # one writer's whole file, never a mix
    assert [p.name for p in target.parent.iterdir()] == ["model.engine"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    target = tmp_path / "model.engine"
    write_atomically(target, b"old engine")
    with pytest.raises(TypeError):
        write_atomically(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old engine"
    assert [p.name for p in tmp_path.iterdir()] == ["model.engine"]


def test_a_stored_engine_loads_back_only_while_it_is_whole_and_its_key_matches(
    small, tmp_path, caplog
):
    key = _key(small)
    path = engine_path(tmp_path, small.file("decoder.onnx"), key)
    engine = np.random.default_rng(0).bytes(4096)
    assert load_cached_engine(path, key) is None  # a plain miss: build
    store_engine(path, engine, key)
    assert load_cached_engine(path, key) == engine
    record = json.loads(sidecar_path(path).read_text())
    assert record["key"] == key

    assert load_cached_engine(path, _key(small, fp16=False)) is None
    assert "another key" in caplog.text

    corrupt = bytearray(engine)
    corrupt[100] ^= 0xFF
    path.write_bytes(bytes(corrupt))
    assert load_cached_engine(path, key) is None  # → the caller rebuilds
    assert "corrupt" in caplog.text

    path.write_bytes(engine[:1000])  # truncated by a crash of an older writer
    assert load_cached_engine(path, key) is None

    store_engine(path, engine, key)  # the rebuild replaces both files
    sidecar_path(path).write_text("{ half a record")
    assert load_cached_engine(path, key) is None
    assert "unreadable" in caplog.text
    store_engine(path, engine, key)
    assert load_cached_engine(path, key) == engine


def test_building_the_engines_imports_no_torch(tmp_path):
    """`pointlang-export engine` runs this on the robot, where torch is not installed."""
    import subprocess
    import sys

    probe = (
        "import sys; sys.modules['torch'] = None\n"
        "from pathlib import Path\n"
        "from ros_pointlang.tensorrt_engine import BackendUnavailable, build_bundle_engines\n"
        "try:\n"
        "    build_bundle_engines(None, Path(sys.argv[1]))\n"
        "except BackendUnavailable as error:\n"
        "    print('unavailable:', error)\n"
        "print('torch' in sys.modules and sys.modules['torch'] is not None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    if not _has_gpu():
        assert out[0].startswith("unavailable:")
    assert out[-1] == "False"


class _FakeTensorRT:
    """Just enough of the `tensorrt` module for build_engine: a parser that reports `errors`
    (or parses a network of `layers`), and a config that records its flags."""

    class BuilderFlag:
        FP16, TF32, INT8 = "FP16", "TF32", "INT8"

    class LayerType:
        QUANTIZE, DEQUANTIZE, MATRIX_MULTIPLY = "QUANTIZE", "DEQUANTIZE", "MATRIX_MULTIPLY"

    def __init__(self, errors=(), layers=()):
        self.errors, self.layers, self.flags = list(errors), list(layers), set()
        self.__version__ = "10.9.0"
        fake = self

        class Layer:
            def __init__(self, kind):
                self.type = kind

        class Network:
            num_inputs = num_layers = 0

            def __init__(self):
                self.num_layers = len(fake.layers)

            def get_layer(self, i):
                return Layer(fake.layers[i])

        class Config:
            def set_flag(self, flag):
                fake.flags.add(flag)

            def clear_flag(self, flag):
                fake.flags.discard(flag)

        class Builder:
            def __init__(self, logger):
                pass

            def create_network(self):
                return Network()

            def create_builder_config(self):
                return Config()

            def build_serialized_network(self, network, config):
                return b"engine"

        class OnnxParser:
            def __init__(self, network, logger):
                self.num_errors = len(fake.errors)

            def parse(self, data):
                return not fake.errors

            def get_error(self, i):
                return fake.errors[i]

        self.Builder, self.OnnxParser = Builder, OnnxParser


def test_a_dynamic_int8_model_is_backend_unavailable_naming_its_operators(tmp_path):
    from ros_pointlang.tensorrt_engine import build_engine

    model = tmp_path / "text_encoder.onnx"
    model.write_bytes(b"onnx")
    trt = _FakeTensorRT(errors=["In node 7: UNSUPPORTED_NODE: No importer for op: MatMulInteger"])
    with pytest.raises(BackendUnavailable, match=r"dynamic int8 \(MatMulInteger\)"):
        build_engine(model, [], False, trt, None)
    other = _FakeTensorRT(errors=["In node 3: INVALID_GRAPH: bad shape"])
    with pytest.raises(ValueError, match="bad shape"):
        build_engine(model, [], False, other, None)


def test_a_static_int8_model_builds_with_the_int8_flag_where_tensorrt_has_it(tmp_path):
    from ros_pointlang.tensorrt_engine import build_engine

    model = tmp_path / "point_encoder.onnx"
    model.write_bytes(b"onnx")
    qdq = _FakeTensorRT(layers=["QUANTIZE", "DEQUANTIZE", "MATRIX_MULTIPLY"])
    assert build_engine(model, [], False, qdq, None) == b"engine"
    assert qdq.flags == {"INT8"}
    plain = _FakeTensorRT(layers=["MATRIX_MULTIPLY"])
    build_engine(model, [], False, plain, None)
    assert plain.flags == set()  # FP32 means FP32 (TF32 cleared)
    strongly_typed = _FakeTensorRT(layers=["QUANTIZE", "DEQUANTIZE"])
    del _FakeTensorRT.BuilderFlag.INT8  # TensorRT 11: no precision flags at all
    try:
        build_engine(model, [], False, strongly_typed, None)
    finally:
        _FakeTensorRT.BuilderFlag.INT8 = "INT8"
    assert strongly_typed.flags == set()
