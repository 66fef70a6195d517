"""`pointlang-export bundle`'s default vocabulary: the categories the encoder trained on, in the
words training's prompts used, ModelNet40 only when the checkpoint records none (export/cli.py)."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # export is torch's side

from export.cli import default_vocabulary, export_bundle, trained_categories  # noqa: E402
from ros_pointlang.bundle import write_manifest  # noqa: E402
from ros_pointlang.vocabulary import MODELNET40  # noqa: E402
from training.data.categories import category_names  # noqa: E402
from training.models.encoder import PointEncoder, PointEncoderConfig  # noqa: E402

torch.set_num_threads(1)


def tiny_checkpoint(folder, **extra):
    torch.manual_seed(0)
    model = PointEncoder(PointEncoderConfig.named("tiny"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "point_encoder.pt"
    torch.save({"model_config": model.config.to_dict(), "model": model.state_dict(), **extra}, path)
    return path


def test_the_default_labels_are_the_trained_categories_named_as_training_prompts_name_them():
    categories = ["flower_pot", "car", "traffic_sign"]
    assert default_vocabulary(categories) == [category_names(c)[0] for c in categories]
    assert default_vocabulary(categories) == ["flower pot", "car", "traffic sign"]
    assert default_vocabulary(["forklift_pallet"]) == ["forklift pallet"]  # an imported name
    assert default_vocabulary([]) == default_vocabulary(None) == list(MODELNET40)


def test_the_trained_categories_come_from_the_manifest_or_else_the_checkpoint(tmp_path):
    path = tmp_path / "run" / "point_encoder.pt"
    path.parent.mkdir()
    assert trained_categories(path, {}) == []
    assert trained_categories(path, {"train_categories": ["car", "bus"]}) == ["car", "bus"]
    write_manifest(path.parent, {"training": {"train_categories": ["chair", "sofa"]}})
    assert trained_categories(path, {"train_categories": ["car", "bus"]}) == ["chair", "sofa"]


def test_an_exported_bundle_labels_what_its_encoder_trained_on(tmp_path):
    checkpoint = tiny_checkpoint(tmp_path / "stage1")
    write_manifest(checkpoint.parent, {"training": {"train_categories": ["flower_pot", "bus"]}})
    manifest = export_bundle(checkpoint, tmp_path / "bundle", unknown_threshold=-1.0)
    with np.load(tmp_path / "bundle" / "label_embeddings.npz") as stored:
        assert list(stored["labels"]) == ["flower pot", "bus"]
        assert stored["embeddings"].shape == (2, manifest["point_encoder"]["embed_dim"])
    assert "2 categories the encoder trained on" in manifest["labels"]["vocabulary"]
    written = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert written["labels"]["vocabulary"] == manifest["labels"]["vocabulary"]


def test_a_given_vocabulary_is_cleaned_and_one_the_runtime_would_refuse_stops_the_export(
    tmp_path,
):
    checkpoint = tiny_checkpoint(tmp_path / "stage1", train_categories=["car"])
    with pytest.raises(ValueError, match="duplicate label names"):
        export_bundle(checkpoint, tmp_path / "bad", vocabulary=["mug", "mug: a cup"])
    assert not (tmp_path / "bad" / "point_encoder.onnx").exists()
    export_bundle(checkpoint, tmp_path / "ok", vocabulary=["mug :  a small cup", "drill"])
    with np.load(tmp_path / "ok" / "label_embeddings.npz") as stored:
        assert list(stored["labels"]) == ["mug: a small cup", "drill"]
