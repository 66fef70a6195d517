"""Evaluation metrics on hand-made cases, and `pointlang-eval dataset` end to end."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ros_pointlang.evaluation.cli import main
from tests.tiny_objects import shared_dataset
from training.align import write_bundle
from training.data.categories import DESCRIPTIONS
from training.evaluate_dataset import (
    confusion_matrix,
    few_shot_accuracy,
    object_cells,
    retrieval_recall,
    summary_table,
    topk_accuracy,
)
from training.labels import UNKNOWN_ACCEPT
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


def lidar_like_dataset(source: Path, out: Path) -> Path:
    """The tiny dataset again as simulated LiDAR views: each object thinned to 30, 120 or 400
    returns and given a `view` record (rig, range) across every range band."""
    manifest = json.loads((source / "manifest.json").read_text())
    (out / "clouds").mkdir(parents=True)
    rigs, ranges, counts = ("car-64", "robot-16"), (4.0, 15.0, 30.0, 60.0), (30, 120, 400)
    for i, obj in enumerate(manifest["objects"]):
        cloud = np.load(source / obj["cloud"])[: counts[i % 3]]
        np.save(out / obj["cloud"], cloud)
        obj["num_points"] = len(cloud)
        obj["view"] = {"rig": rigs[i // 2 % 2], "range_m": ranges[i // 2 % 4], "occlusion": 0.0}
    (out / "manifest.json").write_text(json.dumps(manifest | {"sensor": "lidar"}))
    return out


def test_eval_cli_writes_every_metric(tmp_path, capsys):
    torch.manual_seed(0)
    bundle = tmp_path / "bundle"
    model = PointEncoder(PointEncoderConfig.named("tiny"))
    write_bundle(bundle, model, _tiny_train_config(), ["bottle"], [], step=0)
    out = tmp_path / "metrics.json"
    lidar = lidar_like_dataset(shared_dataset(), tmp_path / "lidar")
    assert (
        main(
            [
                "dataset",
                str(shared_dataset()),
                str(lidar),
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
        "zero_shot.unseen_described.top1",
        "zero_shot.seen_described.top5",
        "zero_shot.unseen_described_among_unseen.top1",
        "zero_shot.all.top1",
        "zero_shot.by_sensor.surface.all.top5",
        "zero_shot.by_sensor.lidar.unseen_described.top1",
        "zero_shot.by_rig.car-64.seen.top1",
        "zero_shot.by_rig.surface.unseen.top5",
        "zero_shot.by_range_m.lidar.25-50.seen.top1",
        "zero_shot.by_range_m.lidar.50+.unseen_described.top1",
        "zero_shot.by_points.lidar.0-50.all.top1",
        "zero_shot.by_points.surface.200-1000.seen.top5",
        "few_shot.k1.all",
        "few_shot.k4.unseen",
        "retrieval.point_to_text.r1",
        "retrieval.text_to_point.r5",
        "open_set.threshold",
        "open_set.seen_unknown",
        "open_set.calibration.lidar.accepted",
        "open_set.by_range_m.lidar.0-10.seen_unknown",
        "open_set.by_points.lidar.50-200.unseen_unknown",
    ):
        assert key in metrics, key
        assert np.isnan(metrics[key]) or -1.0 <= metrics[key] <= 1.0, key
    # Every seen test object lands in one cell of each breakdown (surface samples: no range).
    seen_test = 4 * 3  # tests/tiny_objects.py: 4 seen categories with 3 test instances each
    expected = {"by_sensor": 2, "by_rig": 2, "by_range_m": 1, "by_points": 2}  # sensors covered
    for breakdown, sensors in expected.items():
        prefix = f"zero_shot.{breakdown}."
        counted = [v for k, v in metrics.items() if k.startswith(prefix) and k.endswith("num_seen")]
        assert sum(counted) == seen_test * sensors, breakdown
    bands = [k.split(".")[3] for k in metrics if k.startswith("zero_shot.by_range_m.lidar.")]
    assert list(dict.fromkeys(bands)) == ["0-10", "10-25", "25-50", "50+"]  # in range order
    assert not any(k.startswith("zero_shot.by_range_m.surface") for k in metrics)
    assert metrics["zero_shot.by_points.surface.200-1000.num_seen"] == seen_test  # 400 points
    # The unknown threshold keeps at least UNKNOWN_ACCEPT of every sensor's held-out objects.
    assert metrics["open_set.accept"] == UNKNOWN_ACCEPT
    assert metrics["open_set.calibration.method"] == "quantile per sensor"
    for sensor in ("surface", "lidar"):
        assert metrics[f"open_set.calibration.{sensor}.num"] == 4 * 3  # val instances
        assert metrics[f"open_set.calibration.{sensor}.accepted"] >= UNKNOWN_ACCEPT
    # The descriptions the described figures used, in the report and the bundle's manifest.
    assert metrics["zero_shot.description.cone"] == DESCRIPTIONS["cone"]
    assert metrics["zero_shot.num_described"] == metrics["zero_shot.num_unseen_categories"] == 1
    printed = capsys.readouterr().out
    assert "range lidar 25-50 m" in printed and "points lidar 0-50 pts" in printed
    assert f"cone: {DESCRIPTIONS['cone']}" in printed
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


def test_object_cells_group_views_by_rig_range_and_points():
    view = {"rig": "car-64", "range_m": 31.0}
    lidar = {"sensor": "lidar", "num_points": 120, "view": view}
    assert object_cells(lidar) == {
        "by_sensor": "lidar",
        "by_rig": "car-64",
        "by_range_m": "lidar.25-50",
        "by_points": "lidar.50-200",
    }
    surface = {"sensor": "surface", "num_points": 2048}
    assert object_cells(surface) == {
        "by_sensor": "surface",
        "by_rig": "surface",
        "by_points": "surface.1000+",
    }


def test_summary_table_reads_the_flat_keys_back():
    metrics = {
        "zero_shot.num_seen": 10,
        "zero_shot.seen.top1": 0.5,
        "zero_shot.num_unseen": 0,
        "zero_shot.by_range_m.lidar.0-10.num_seen": 4,
        "zero_shot.by_range_m.lidar.0-10.seen.top1": 0.25,
        "zero_shot.by_range_m.lidar.0-10.num_unseen": 2,
        "zero_shot.by_range_m.lidar.0-10.unseen_described.top1": 1.0,
        "open_set.by_range_m.lidar.0-10.seen_unknown": 0.75,
        "open_set.seen_unknown": float("nan"),
    }
    rows = {line[:28].strip(): line[28:].split() for line in summary_table(metrics).splitlines()}
    assert rows["all"][:3] == ["10", "0.500", "-"]
    assert rows["range lidar 0-10 m"] == [
        "4", "0.250", "-", "2", "-", "-", "1.000", "-", "0.750", "-"
    ]  # fmt: skip
