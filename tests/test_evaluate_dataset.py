"""Evaluation metrics on hand-made cases, and `pointlang-eval dataset` end to end."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ros_pointlang.evaluation.cli import main
from tests.tiny_objects import shared_dataset
from training.align import write_bundle
from training.evaluate_dataset import (
    confusion_matrix,
    few_shot_accuracy,
    retrieval_recall,
    topk_accuracy,
)
from training.models.encoder import PointEncoder, PointEncoderConfig

torch.set_num_threads(1)

SIMILARITY = torch.tensor(
    [
        [0.9, 0.1, 0.0, 0.2],  # true 0: rank 1
        [0.5, 0.4, 0.3, 0.1],  # true 1: rank 2
        [0.1, 0.2, 0.3, 0.4],  # true 2: rank 2
        [0.4, 0.3, 0.2, 0.1],  # true 3: rank 4
    ]
)


def test_topk_accuracy_on_a_known_matrix():
    targets = torch.arange(4)
    assert topk_accuracy(SIMILARITY, targets, 1) == pytest.approx(0.25)
    assert topk_accuracy(SIMILARITY, targets, 2) == pytest.approx(0.75)
    assert topk_accuracy(SIMILARITY, targets, 5) == pytest.approx(1.0)  # k > C: everything


def test_retrieval_recall_both_ways():
    assert retrieval_recall(SIMILARITY, 1) == pytest.approx(0.25)
    # Columns: caption 0 finds object 0 first; caption 3 finds object 2 first; ...
    assert retrieval_recall(SIMILARITY.t(), 1) == pytest.approx(0.5)
    assert retrieval_recall(SIMILARITY.t(), 2) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="square"):
        retrieval_recall(SIMILARITY[:3], 1)


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]), 3)
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_few_shot_accuracy_on_separable_features():
    torch.manual_seed(0)
    centres = F.normalize(torch.randn(3, 16), dim=-1)
    targets = torch.arange(3).repeat_interleave(10)
    features = F.normalize(centres[targets] + 0.05 * torch.randn(30, 16), dim=-1)
    accuracy, mask = few_shot_accuracy(
        features, targets, F.normalize(torch.randn(3, 16), dim=-1), 4, 0
    )
    assert accuracy == 1.0
    assert int(torch.isnan(mask).sum()) == 12  # 4 support examples per class


def test_eval_cli_writes_every_metric(tmp_path):
    torch.manual_seed(0)
    bundle = tmp_path / "bundle"
    model = PointEncoder(PointEncoderConfig.named("tiny"))
    write_bundle(bundle, model, _tiny_train_config(), ["bottle"], [], step=0)
    out = tmp_path / "metrics.json"
    assert (
        main(
            [
                "dataset",
                str(shared_dataset()),
                "--bundle",
                str(bundle),
                "--json",
                str(out),
                "--few-shot-seeds",
                "1",
                "--update-bundle",
            ]
        )
        == 0
    )
    metrics = json.loads(out.read_text())
    for key in (
        "zero_shot.seen.top1",
        "zero_shot.unseen.top1",
        "zero_shot.all.top1",
        "zero_shot.by_sensor.surface.all.top5",
        "few_shot.k1.all",
        "few_shot.k4.unseen",
        "retrieval.point_to_text.r1",
        "retrieval.text_to_point.r5",
        "open_set.threshold",
    ):
        assert key in metrics, key
        assert np.isnan(metrics[key]) or -1.0 <= metrics[key] <= 1.0, key
    assert out.with_suffix(".confusion.png").stat().st_size > 1000
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["metrics"] == metrics
    assert manifest["labels"]["unknown_threshold"] == metrics["open_set.threshold"]


def _tiny_train_config():
    from training.config import load_config

    return load_config(None, ["model_size=tiny"])


def test_few_shot_keeps_both_views_of_an_object_on_one_side():
    torch.manual_seed(1)
    targets = torch.arange(2).repeat_interleave(6)  # 2 classes x 3 objects x 2 views
    instances = [f"obj{i // 2}" for i in range(12)]
    features = F.normalize(torch.randn(12, 8), dim=-1)
    _, mask = few_shot_accuracy(
        features, targets, F.normalize(torch.randn(2, 8), dim=-1), 1, 0, instances
    )
    support = torch.isnan(mask).view(6, 2)  # rows: objects, columns: their two views
    assert torch.equal(support[:, 0], support[:, 1])
    assert int(support[:, 0].sum()) == 2  # one object per class
