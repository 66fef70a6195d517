"""Backend selection with real ONNX Runtime sessions: a GPU backend that did not get its GPU is
an error, the CPU only with fallback (and a warning), TensorRT EP options from the profiles."""

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pytest

from ros_pointlang.backends import (
    CUDA,
    TENSORRT,
    BackendOptions,
    BackendUnavailable,
    OrtSession,
    open_session,
    ort_tensorrt_options,
)
from ros_pointlang.bundle import load_bundle
from ros_pointlang.profiles import bundle_profiles, read_signature


def _ort_has(provider: str) -> bool:
    import onnxruntime as ort

    return provider in ort.get_available_providers()


def _tensorrt_installed() -> bool:
    return importlib.util.find_spec("tensorrt") is not None


def encoder(tiny_bundle) -> Path:
    return tiny_bundle / "point_encoder.onnx"


FEEDS = {
    "points": np.zeros((2, 256, 3), np.float32),
    "size": np.ones((2, 3), np.float32),
    "size_known": np.array([True, False]),
}


def test_unknown_backend_and_bad_numbers_are_refused():
    with pytest.raises(ValueError, match="unknown"):
        BackendOptions(name="openvino")
    with pytest.raises(ValueError, match="threads"):
        BackendOptions(threads=-1)
    with pytest.raises(ValueError, match="device_id"):
        BackendOptions(device_id=-1)


def test_cpu_session_runs_and_names_its_inputs(tiny_bundle):
    session = open_session(encoder(tiny_bundle), BackendOptions(threads=1))
    assert session.input_names == ["points", "size", "size_known"]
    embedding, tokens = session.run(None, FEEDS)
    assert embedding.shape == (2, 384) and tokens.shape[0] == 2


def test_missing_or_corrupt_model_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        open_session(tmp_path / "x.onnx", BackendOptions())
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a model")
    for name in ("onnxruntime", "onnxruntime-cuda"):
        with pytest.raises(ValueError, match="not a valid ONNX model"):
            open_session(corrupt, BackendOptions(name=name))


@pytest.mark.skipif(_ort_has(CUDA), reason="checks an ONNX Runtime that lacks the CUDA provider")
def test_a_session_that_did_not_get_cuda_is_an_error(tiny_bundle):
    """ONNX Runtime drops a provider it cannot load and runs on the CPU; we refuse that."""
    with pytest.raises(BackendUnavailable) as error:
        open_session(encoder(tiny_bundle), BackendOptions(name="onnxruntime-cuda"))
    message = str(error.value)
    assert "asked ONNX Runtime for CUDAExecutionProvider" in message
    assert "runs on CPUExecutionProvider" in message and "point_encoder.onnx" in message


@pytest.mark.skipif(_ort_has(CUDA), reason="checks an ONNX Runtime that lacks the CUDA provider")
def test_fallback_runs_on_the_cpu_with_a_warning(tiny_bundle, caplog):
    with caplog.at_level(logging.WARNING, logger="ros_pointlang.backends"):
        session = open_session(
            encoder(tiny_bundle), BackendOptions(name="onnxruntime-cuda", fallback=True)
        )
    assert isinstance(session, OrtSession) and session.providers[0] == "CPUExecutionProvider"
    assert "backend_fallback" in caplog.text and "CUDAExecutionProvider" in caplog.text
    embedding, _ = session.run(None, FEEDS)
    assert embedding.shape == (2, 384)


@pytest.mark.skipif(_ort_has(TENSORRT), reason="checks an ONNX Runtime without TensorRT")
def test_the_tensorrt_provider_is_checked_too(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    options = BackendOptions(name="onnxruntime-tensorrt", profiles=bundle_profiles(bundle))
    with pytest.raises(BackendUnavailable, match="TensorrtExecutionProvider"):
        open_session(encoder(tiny_bundle), options)
    # Without profiles in the options, those of the bundle the model is in.
    with pytest.raises(BackendUnavailable, match="TensorrtExecutionProvider"):
        open_session(encoder(tiny_bundle), BackendOptions(name="onnxruntime-tensorrt"))


def test_a_model_outside_a_bundle_needs_profiles_for_its_dynamic_dims(tiny_bundle, tmp_path):
    import shutil

    alone = tmp_path / "point_encoder.onnx"
    shutil.copy(encoder(tiny_bundle), alone)
    with pytest.raises(ValueError, match=r"needs TensorRT profiles for point_encoder\.onnx"):
        open_session(alone, BackendOptions(name="onnxruntime-tensorrt"))


@pytest.mark.skipif(_tensorrt_installed(), reason="checks a machine without the tensorrt package")
def test_native_tensorrt_without_the_package_is_an_error_or_the_cpu_when_allowed(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    options = BackendOptions(name="tensorrt", profiles=bundle_profiles(bundle))
    with pytest.raises(BackendUnavailable, match="tensorrt and cuda-python"):
        open_session(encoder(tiny_bundle), options)
    fallback = BackendOptions(name="tensorrt", profiles=options.profiles, fallback=True)
    session = open_session(encoder(tiny_bundle), fallback)
    assert session.run(None, FEEDS)[0].shape == (2, 384)


@pytest.mark.skipif(_tensorrt_installed(), reason="checks a machine without the tensorrt package")
def test_a_pipeline_on_tensorrt_derives_every_models_profiles(tiny_bundle):
    from ros_pointlang.pipeline import Pipeline

    pipeline = Pipeline.from_bundle(tiny_bundle, backend="tensorrt", fallback=True)
    assert set(pipeline.options.profiles) == {"point_encoder.onnx", "text_encoder.onnx"}
    assert pipeline.labels(np.random.default_rng(0).normal(size=(300, 3)))[0].label


def test_tensorrt_ep_options_give_every_dynamic_input_per_profile(tmp_path):
    bundle = load_bundle()  # the committed default bundle, with the two-profile decoder
    profiles = bundle_profiles(bundle)["decoder.onnx"]
    signature = read_signature(bundle.file("decoder.onnx"))
    options = BackendOptions(name="onnxruntime-tensorrt", fp16=True, engine_cache=tmp_path)
    provider = ort_tensorrt_options(signature, profiles, options)
    assert provider["trt_engine_cache_enable"] is True and provider["trt_fp16_enable"] is True
    assert provider["trt_engine_cache_path"] == str(tmp_path / "onnxruntime")
    for k, key in enumerate(
        ("trt_profile_min_shapes", "trt_profile_opt_shapes", "trt_profile_max_shapes")
    ):
        entries = [e.split(":") for e in provider[key].split(",")]
        # The EP reads one profile per repetition of the inputs, in order.
        assert [name for name, _ in entries] == [t.name for t in signature.inputs] * 2
        for (_, shape), expected in zip(
            entries, [p.shapes[t.name][k] for p in profiles for t in signature.inputs], strict=True
        ):
            assert tuple(int(d) for d in shape.split("x")) == expected
    assert "prefix:1x0x192" in provider["trt_profile_min_shapes"]  # decode: no prefix
