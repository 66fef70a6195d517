"""Loading a model bundle fails early with one clear sentence (ros_pointlang/bundle.py)."""

import json
import shutil

import numpy as np
import pytest

from ros_pointlang.backends import BackendOptions
from ros_pointlang.bundle import BundleError, load_bundle, sha256_file
from ros_pointlang.pipeline import Pipeline
from ros_pointlang.vocabulary import TextEmbedder


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, copy)
    return copy


def edit_manifest(bundle, change):
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_a_good_bundle_loads(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    assert bundle.name == "pointlang-tiny"
    labels, embeddings = bundle.label_embeddings()
    assert labels == ["chair", "table", "mug"] and embeddings.shape == (3, 384)


def test_missing_folder_and_manifest(tmp_path):
    with pytest.raises(BundleError, match="does not exist"):
        load_bundle(tmp_path / "nope")
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        load_bundle(tmp_path)


def test_manifest_that_is_not_json(bundle_copy):
    (bundle_copy / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(bundle_copy)


def test_schema_version_from_the_future(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m.update(schema_version=99))
    with pytest.raises(BundleError, match="schema version 99"):
        load_bundle(bundle_copy)


def test_missing_model_file(bundle_copy):
    (bundle_copy / "point_encoder.onnx").unlink()
    with pytest.raises(BundleError, match=r"missing point_encoder\.onnx"):
        load_bundle(bundle_copy)


def test_changed_model_file_fails_its_hash(bundle_copy):
    with open(bundle_copy / "point_encoder.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(BundleError, match="does not match the hash"):
        load_bundle(bundle_copy)


def test_corrupt_onnx_with_a_matching_hash_is_still_caught(bundle_copy):
    model = bundle_copy / "point_encoder.onnx"
    model.write_bytes(b"this is not an onnx file")
    edit_manifest(
        bundle_copy, lambda m: m["files"]["point_encoder.onnx"].update(sha256=sha256_file(model))
    )
    with pytest.raises(ValueError, match="not a valid ONNX model"):
        Pipeline.from_bundle(bundle_copy)


def test_a_bundle_without_its_text_encoder_is_refused_at_load(bundle_copy):
    (bundle_copy / "text_encoder.onnx").unlink()
    with pytest.raises(BundleError, match=r"missing text_encoder\.onnx"):
        load_bundle(bundle_copy)


def test_a_manifest_that_lists_no_text_encoder_says_how_to_make_one(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m["files"].pop("text_tokenizer.json"))
    with pytest.raises(BundleError, match="pointlang-export text-encoder --bundle"):
        load_bundle(bundle_copy)


def test_an_unreadable_text_tokenizer_is_caught_at_load(bundle_copy):
    tokenizer = bundle_copy / "text_tokenizer.json"
    tokenizer.write_text("{not a tokenizer")
    edit_manifest(
        bundle_copy,
        lambda m: m["files"]["text_tokenizer.json"].update(sha256=sha256_file(tokenizer)),
    )
    with pytest.raises(BundleError, match=r"text_tokenizer\.json cannot be read"):
        load_bundle(bundle_copy)


def test_the_default_bundle_embeds_new_words_with_its_int8_text_encoder():
    """The committed bundle ships MiniLM as int8 ONNX: measured against the float model when
    exported (manifest), and here against the float torch embeddings of label_embeddings.npz."""
    bundle = load_bundle()
    text = bundle.text_encoder
    assert (bundle.path / text["file"]).stat().st_size < 25e6
    assert text["parity"]["int8_cosine_min"] >= 0.97
    zero_shot = text["zero_shot"]
    assert zero_shot["seen.int8_top1"] >= zero_shot["seen.float_top1"] - 0.02
    names, float_embeddings = bundle.label_embeddings()  # float torch MiniLM, at export
    embedder = TextEmbedder(
        bundle.file(text["file"]), bundle.file(text["tokenizer_file"]), BackendOptions()
    )
    int8_embeddings = embedder.embed_labels(names, bundle.labels["prompt_templates"])
    assert np.min(np.sum(int8_embeddings * float_embeddings, axis=1)) > 0.99


def test_tokenizer_that_does_not_fit_the_decoder(bundle_copy):
    edit_manifest(
        bundle_copy,
        lambda m: m.update(generation={"tokenizer_file": "text_tokenizer.json", "vocab_size": 7}),
    )
    with pytest.raises(BundleError, match="different models"):
        load_bundle(bundle_copy)


def test_box_prompt_that_is_not_a_bool(bundle_copy):
    edit_manifest(
        bundle_copy,
        lambda m: m.update(generation={"tokenizer_file": "text_tokenizer.json", "box_prompt": "1"}),
    )
    with pytest.raises(BundleError, match="box_prompt '1'; expected true or false"):
        load_bundle(bundle_copy)


def test_label_prompt_file_that_is_not_listed_or_not_readable(bundle_copy):
    generation = {"tokenizer_file": "text_tokenizer.json", "label_prompt_file": "hints.npz"}
    edit_manifest(bundle_copy, lambda m: m.update(generation=generation))
    with pytest.raises(BundleError, match=r"label_prompt_file 'hints\.npz', which is not among"):
        load_bundle(bundle_copy)
    (bundle_copy / "hints.npz").write_bytes(b"not an npz")
    edit_manifest(bundle_copy, lambda m: m["files"].update({"hints.npz": {}}))
    with pytest.raises(BundleError, match=r"hints\.npz cannot be read"):
        load_bundle(bundle_copy)
    width = json.loads((bundle_copy / "manifest.json").read_text())["point_encoder"]["embed_dim"]
    np.savez(bundle_copy / "hints.npz", labels=np.array([], str), embeddings=np.zeros((0, width)))
    with pytest.raises(BundleError, match=r"hints\.npz holds no labels"):
        load_bundle(bundle_copy)


def test_label_embeddings_of_the_wrong_width(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m["point_encoder"].update(embed_dim=512))
    with pytest.raises(BundleError, match="shape"):
        load_bundle(bundle_copy).label_embeddings()
