"""int8 bundles (`pointlang-export bundle --quantize int8`, `pointlang-export quantize`): the
point encoder, bridge and decoder become static QDQ int8, the manifest says so with hashes
and parity, the runtime loads them and labels as the float bundle does, and a cloud's
embedding does not depend on the other clouds of its batch."""

import json
import shutil

import numpy as np
import onnx
import pytest

from export.cli import main as export_main
from export.quantize import QUANTIZED_OPS, keep_float_elsewhere, quantize_bundle
from ros_pointlang.bundle import load_bundle, sha256_file
from ros_pointlang.pipeline import Pipeline
from tests.bundles import make_tiny_generation_bundle
from tests.tiny_objects import make_manifest
from training.dataset import load_cloud, load_objects

QUANTISED = ("point_encoder.onnx", "bridge.onnx", "decoder.onnx")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_manifest(tmp_path_factory.mktemp("data"), per_category=12, points=400)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, data):
    """The tiny float bundle with captions, and its int8 copy by `pointlang-export quantize`."""
    root = tmp_path_factory.mktemp("bundles")
    float_bundle = make_tiny_generation_bundle(root / "float", data)
    int8 = root / "int8"
    args = ["quantize", "--bundle", str(float_bundle), "--out", str(int8)]
    assert export_main([*args, "--calibration", str(data)]) == 0
    return float_bundle, int8


def _clouds(data, count=12):
    objects, _ = load_objects([str(data)])
    return [load_cloud(o) for o in objects[:: max(1, len(objects) // count)][:count]]


def test_the_manifest_records_the_int8_models_with_hashes_and_parity(bundles, data):
    float_bundle, int8 = bundles
    manifest = json.loads((int8 / "manifest.json").read_text())
    assert json.loads((float_bundle / "manifest.json").read_text())["quantization"] == {
        "precision": "fp32"
    }
    entry = manifest["quantization"]
    assert entry["precision"] == "int8" and entry["calibration_data"] == [str(data)]
    assert set(entry["models"]) == set(QUANTISED)
    for name in QUANTISED:
        info = entry["models"][name]
        assert info["quantized_ops"] > 0 and info["calibration_runs"] > 0
        assert manifest["files"][name]["sha256"] == sha256_file(int8 / name)
        assert info["float_sha256"] == sha256_file(float_bundle / name)  # the float one stays
    parity = entry["models"]["point_encoder.onnx"]["parity"]
    assert parity["clouds"] > 0 and parity["cosine_min"] >= 0.95
    assert 0.0 <= entry["greedy_same_text"] <= 1.0
    # Untouched files are the float bundle's, byte for byte.
    for name in ("text_encoder.onnx", "label_embeddings.npz", "tokenizer.json"):
        assert sha256_file(int8 / name) == sha256_file(float_bundle / name)


def test_the_graphs_are_symmetric_qdq_that_tensorrt_parses_with_float_elsewhere(bundles):
    _, int8 = bundles
    for name in QUANTISED:
        graph = onnx.load(str(int8 / name)).graph
        ops = {n.op_type for n in graph.node}
        assert {"QuantizeLinear", "DequantizeLinear"} <= ops
        # Dynamic int8's operators, which TensorRT's ONNX parser refuses, are absent.
        assert not ops & {"MatMulInteger", "DynamicQuantizeLinear", "QLinearMatMul"}
        constants = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
        int8_weights = [v for v in constants.values() if v.dtype == np.int8 and v.ndim == 2]
        assert int8_weights, f"{name} holds no int8 weights"
        consumers = {}
        for node in graph.node:
            for tensor in node.input:
                consumers.setdefault(tensor, []).append(node.op_type)
        for node in graph.node:
            if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
                zero = constants[node.input[2]]  # zero points 0: symmetric, as TensorRT needs
                assert zero.dtype == np.int8 and not zero.any()
            if node.op_type == "DequantizeLinear":  # only MatMul/Gemm read quantised values
                assert set(consumers.get(node.output[0], [])) <= set(QUANTIZED_OPS)
    # The encoder's in-graph kNN and attention stay float: only weighted MatMuls are int8.
    encoder = onnx.load(str(int8 / "point_encoder.onnx")).graph
    names = {i.name for i in encoder.initializer}
    produced = {o: n.op_type for n in encoder.node for o in n.output}
    for node in encoder.node:
        if node.op_type == "MatMul" and node.input[1] not in names:
            weight_from = produced.get(node.input[1])
            if weight_from != "DequantizeLinear":
                assert produced.get(node.input[0]) != "DequantizeLinear"


def test_the_int8_bundle_is_smaller_and_labels_as_the_float_bundle(bundles, data):
    float_bundle, int8 = bundles
    for name in QUANTISED:
        assert (int8 / name).stat().st_size < 0.6 * (float_bundle / name).stat().st_size
    reference, candidate = Pipeline.from_bundle(float_bundle), Pipeline.from_bundle(int8)
    clouds = _clouds(data)
    want, got = reference.encode(clouds).embeddings, candidate.encode(clouds).embeddings
    assert (want * got).sum(axis=1).min() > 0.95
    same = [
        reference.labels(c, top_k=1)[0].label == candidate.labels(c, top_k=1)[0].label
        for c in clouds
    ]
    assert np.mean(same) >= 0.75
    # Captions and answers come out (whether each equals the float text is measured, above).
    assert isinstance(candidate.caption(clouds[0]).text, str)
    assert isinstance(candidate.answer(clouds[0], "what is this?").text, str)


def test_an_embedding_does_not_depend_on_its_batch(bundles, data):
    _, int8 = bundles
    pipeline = Pipeline.from_bundle(int8)
    clouds = _clouds(data, 8)
    together = pipeline.encode(clouds).embeddings
    alone = np.stack([pipeline.encode([c]).embeddings[0] for c in clouds])
    np.testing.assert_allclose(alone, together, atol=1e-5)


def test_bundle_export_with_quantize_int8_in_one_command(tmp_path, bundles, data):
    float_bundle, _ = bundles
    checkpoints = float_bundle.parent / f"{float_bundle.name}-checkpoints"
    out = tmp_path / "exported"
    args = ["bundle", "--encoder", str(checkpoints / "point_encoder.pt"), "--out", str(out)]
    args += ["--captioner", str(checkpoints / "captioner.pt"), "--with-text-encoder"]
    assert export_main([*args, "--quantize", "int8", "--calibration", str(data)]) == 0
    bundle = load_bundle(out)
    assert bundle.manifest["quantization"]["precision"] == "int8"
    assert set(bundle.manifest["quantization"]["models"]) == set(QUANTISED)
    Pipeline.from_bundle(out).labels(_clouds(data, 1)[0])


def test_refusals_name_the_problem(tmp_path, bundles, data):
    float_bundle, int8 = bundles
    with pytest.raises(ValueError, match="quantised already"):
        quantize_bundle(int8, [str(data)])
    copy = tmp_path / "copy"
    shutil.copytree(float_bundle, copy)
    with pytest.raises(ValueError, match="calibration"):
        quantize_bundle(copy, [])
    empty = make_manifest(tmp_path / "few", per_category=2, points=100)
    with pytest.raises(ValueError, match="expected at least 12"):
        quantize_bundle(copy, [str(empty)])
    assert sha256_file(copy / "point_encoder.onnx") == sha256_file(
        float_bundle / "point_encoder.onnx"
    )
    with pytest.raises(SystemExit, match="exists"):
        export_main(
            [
                "quantize",
                "--bundle",
                str(float_bundle),
                "--out",
                str(int8),
                "--calibration",
                str(data),
            ]
        )
    with pytest.raises(SystemExit):
        export_main(
            ["bundle", "--encoder", "x.pt", "--out", str(tmp_path / "o"), "--quantize", "int4"]
        )


def test_float_inputs_are_restored_for_nodes_that_are_not_quantised():
    from onnx import TensorProto, helper

    # x feeds a quantised MatMul and a float Relu; after quantisation both read DQ(Q(x)).
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq"),
        helper.make_node("MatMul", ["xd", "w"], ["y"], name="mm"),
        helper.make_node("Relu", ["xd"], ["r"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2]),
            helper.make_tensor_value_info("r", TensorProto.FLOAT, [2, 2]),
        ],
        [
            helper.make_tensor("s", TensorProto.FLOAT, [], [0.1]),
            helper.make_tensor("z", TensorProto.INT8, [], [0]),
            helper.make_tensor("w", TensorProto.FLOAT, [2, 2], [1, 0, 0, 1]),
        ],
    )
    model = helper.make_model(graph)
    assert keep_float_elsewhere(model, {"mm"}) == 1
    assert list(model.graph.node[2].input) == ["xd", "w"]
    assert list(model.graph.node[3].input) == ["x"]
