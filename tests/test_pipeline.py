"""Points → labels through ONNX Runtime, as the robot runs it (ros_pointlang/pipeline.py)."""

import subprocess
import sys

import numpy as np
import pytest

from ros_pointlang.bundle import BundleError
from ros_pointlang.pipeline import Pipeline
from ros_pointlang.preprocess import prepare_object
from ros_pointlang.vocabulary import UNKNOWN

RNG = np.random.default_rng(3)


def cloud(n=800, size=(0.5, 0.4, 0.9)):
    return (RNG.uniform(-0.5, 0.5, (n, 3)) * size).astype(np.float32)


@pytest.fixture(scope="module")
def pipeline(tiny_bundle):
    return Pipeline.from_bundle(tiny_bundle)


def test_labels_are_ranked_probabilities_over_the_vocabulary(pipeline):
    labels = pipeline.labels(cloud(), top_k=2)
    assert len(labels) == 2 and labels[0].similarity >= labels[1].similarity
    assert {label.label for label in labels} <= set(pipeline.vocabulary)
    everything = pipeline.labels(cloud(), top_k=10)
    assert len(everything) == 3  # the whole vocabulary, not more
    assert sum(label.score for label in everything) == pytest.approx(1.0, abs=1e-5)
    assert all(0.0 <= label.score <= 1.0 for label in everything)


def test_onnx_runtime_matches_torch_on_the_same_cloud(pipeline, tiny_bundle):
    torch = pytest.importorskip("torch")  # a parity check against training's torch model

    from training.models.encoder import load_encoder

    model, _ = load_encoder(tiny_bundle.parent / "pointlang-tiny-encoder.pt")
    xyz = cloud()
    prepared = prepare_object(xyz, pipeline.num_points)
    with torch.no_grad():
        expected, _ = model(
            torch.from_numpy(prepared.points[None]),
            torch.from_numpy(prepared.size[None]),
            torch.tensor([True]),
        )
    assert np.abs(pipeline.embed(xyz) - expected.numpy()[0]).max() < 1e-4


def test_a_batch_gives_what_single_calls_give(pipeline):
    clouds = [cloud(), cloud(300, (2.0, 0.9, 0.8)), cloud(50, (0.1, 0.1, 0.12))]
    batch = pipeline.encode(clouds).embeddings
    singles = np.stack([pipeline.embed(c) for c in clouds])
    assert np.abs(batch - singles).max() < 1e-5
    assert pipeline.encode(clouds).tokens.shape[0] == 3


def test_the_size_input_matters_and_can_be_unknown(pipeline):
    shape = cloud()
    assert not np.allclose(pipeline.embed(shape), pipeline.embed(shape * 3))
    # Without metric size the encoder sees only the normalised shape.
    unknown = pipeline.embed(shape, metric=False) - pipeline.embed(shape * 3, metric=False)
    assert np.abs(unknown).max() < 1e-5


def test_new_words_are_embedded_like_the_exported_vocabulary(pipeline):
    torch = pytest.importorskip("torch")  # a parity check against training's torch MiniLM

    from ros_pointlang.vocabulary import PROMPT_TEMPLATES
    from training.labels import label_embeddings
    from training.text import TextEncoder

    with torch.no_grad():
        expected = label_embeddings(TextEncoder(), ["drill", "fire extinguisher"]).numpy()
    got = pipeline.label_embeddings(["drill", "fire extinguisher"])
    # The bundle's text encoder is int8 (export/text_encoder.py): close in direction, not to 1e-4.
    assert np.sum(got * expected, axis=1).min() > 0.99
    assert list(pipeline.bundle.labels["prompt_templates"]) == list(PROMPT_TEMPLATES)
    labels = pipeline.labels(cloud(), vocabulary=["drill", "mug"], top_k=5)
    assert {label.label for label in labels} == {"drill", "mug"}


def test_set_vocabulary_changes_the_default_labels(tiny_bundle):
    pipeline = Pipeline.from_bundle(tiny_bundle)
    pipeline.set_vocabulary(["sofa", "bed"])
    assert {label.label for label in pipeline.labels(cloud())} == {"sofa", "bed"}


def test_a_described_label_is_embedded_with_its_description_and_published_by_name(tiny_bundle):
    pipeline = Pipeline.from_bundle(tiny_bundle)
    described = "mug: a small cylinder with a handle"
    pipeline.set_vocabulary([described, "drill"])
    assert pipeline.vocabulary == [described, "drill"]
    assert pipeline.label_names == ["mug", "drill"]
    assert {label.label for label in pipeline.labels(cloud(), top_k=5)} == {"mug", "drill"}
    (with_text,), (bare,) = (
        pipeline.label_embeddings([described]),
        pipeline.label_embeddings(["mug"]),
    )
    expected = pipeline.text_embedder.embed_labels([described])[0]
    assert float(with_text @ expected) == pytest.approx(1.0, abs=1e-6)
    assert float(with_text @ bare) < 0.995  # the description changes the embedding
    respaced = pipeline.label_embeddings(["mug :  a small cylinder  with a handle"])[0]
    assert np.array_equal(respaced, with_text)  # the same label, one cache entry
    per_call = pipeline.labels(cloud(), vocabulary=["chair: a seat with a back", "table"])
    assert {label.label for label in per_call} == {"chair", "table"}
    with pytest.raises(ValueError, match="duplicate"):
        pipeline.set_vocabulary(["drill", "Drill: a power tool"])
    assert pipeline.vocabulary == [described, "drill"]  # a refused vocabulary changes nothing


def test_a_bundle_whose_labels_carry_descriptions_publishes_their_names(tiny_bundle, tmp_path):
    import json
    import shutil

    from ros_pointlang.bundle import sha256_file, write_manifest

    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)

    def store(labels):
        path = bundle / "label_embeddings.npz"
        with np.load(path) as stored:
            embeddings = stored["embeddings"]
        np.savez(path, labels=np.array(labels), embeddings=embeddings)
        manifest = json.loads((bundle / "manifest.json").read_text())
        manifest["files"]["label_embeddings.npz"]["sha256"] = sha256_file(path)
        write_manifest(bundle, manifest)
        return embeddings

    embeddings = store(["chair: a seat with a back", "table", "mug"])
    pipeline = Pipeline.from_bundle(bundle)
    assert pipeline.label_names == ["chair", "table", "mug"]
    assert {label.label for label in pipeline.labels(cloud())} == {"chair", "table", "mug"}
    assert np.array_equal(pipeline.label_embeddings(pipeline.vocabulary), embeddings)  # as stored
    store(["chair", "Chair: a seat with a back", "mug"])
    with pytest.raises(BundleError, match=r"label_embeddings\.npz .*duplicate"):
        Pipeline.from_bundle(bundle)


def test_below_the_threshold_the_first_label_is_unknown(tiny_bundle):
    pipeline = Pipeline.from_bundle(tiny_bundle)
    pipeline.unknown_threshold = 1.01  # no cosine reaches it
    labels = pipeline.labels(cloud(), top_k=2)
    assert labels[0].label == UNKNOWN and len(labels) == 2


@pytest.mark.parametrize(
    "points, message",
    [
        (np.zeros((10, 2), np.float32), "shape"),
        (np.empty((0, 3), np.float32), "empty"),
        (np.array([[0, 0, np.nan]], np.float32), "NaN"),
    ],
)
def test_bad_clouds_raise_one_clear_error(pipeline, points, message):
    with pytest.raises(ValueError, match=message):
        pipeline.labels(points)


@pytest.mark.parametrize(
    "vocabulary, message",
    [
        ([], "non-empty"),
        (["a", "a"], "duplicate"),
        ("chair", "list"),
        ([": a small cylinder", "drill"], "no name"),
        (["mug", "mug: a cup with a handle"], "duplicate label names"),
    ],
)
def test_bad_vocabularies_raise_one_clear_error(pipeline, vocabulary, message):
    with pytest.raises(ValueError, match=message):
        pipeline.labels(cloud(), vocabulary=vocabulary)


def test_top_k_must_be_positive(pipeline):
    with pytest.raises(ValueError, match="top_k"):
        pipeline.labels(cloud(), top_k=0)


def test_captions_need_a_generation_stage(pipeline):
    with pytest.raises(BundleError, match="no caption"):
        pipeline.caption(cloud())


def test_the_runtime_never_imports_torch(tiny_bundle):
    probe = (
        "import sys, numpy as np\n"
        "from ros_pointlang.pipeline import Pipeline\n"
        f"p = Pipeline.from_bundle({str(tiny_bundle)!r})\n"
        "xyz = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32)\n"
        "print(p.labels(xyz, vocabulary=['drill', 'mug'])[0].label)\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] in {"drill", "mug"}
    assert out[1:] == ["False", "False"]
