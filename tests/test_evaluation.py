"""`pointlang-eval bag`: rosbag replay evaluation, offline and live (ros_pointlang/evaluation/).

The metric functions are checked on hand-made cases; the end-to-end runs use a tiny scene bag
and the untrained tiny bundle, so they test mechanics and offline/live agreement, not accuracy.
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from ros_pointlang.evaluation.cli import (
    describe_settings,
    effective_parameters,
    main,
    resolve_vocabulary,
)
from ros_pointlang.evaluation.frames import (
    Frame,
    PredictedObject,
    TruthObject,
    caption_similarity,
    choose_question_object,
    match_frames,
    match_objects,
    percentiles,
    score_frames,
    summarise,
    topk_hit,
    track_metrics,
)
from ros_pointlang.evaluation.offline import evaluate_offline
from ros_pointlang.evaluation.truth import GroundTruth, cdr_header_stamp, read_labels_file
from ros_pointlang.parameters import read_params_file
from ros_pointlang.vocabulary import MODELNET40, normalise_label, requested_vocabulary

OUSTER = Path(__file__).parent / "data" / "ouster-os1-64"
REQUIRED_KEYS = (
    "mode",
    "frames",
    "labels.top1",
    "labels.top5",
    "detection.recall",
    "detection.precision",
    "caption.sbert",
    "latency_ms.p50",
    "latency_ms.p95",
    "drop_rate",
)


def truth(category, centre, num_points=100, caption=""):
    return TruthObject(category, np.asarray(centre, float), caption, num_points=num_points)


def predicted(id_, centre, labels, caption=""):
    return PredictedObject(id_, np.asarray(centre, float), tuple(labels), caption)


# -- matching and metrics on hand-made cases --------------------------------------------------


def test_a_prediction_10_cm_off_matches_and_one_2_m_off_does_not():
    assert match_objects([[1.0, 2.0, 0.5]], [[1.1, 2.0, 0.5]]) == [(0, 0)]
    assert match_objects([[1.0, 2.0, 0.5]], [[3.0, 2.0, 0.5]]) == []
    assert match_objects([[0, 0, 0]], [[0.49, 0, 0]], max_distance=0.5) == [(0, 0)]
    assert match_objects([[0, 0, 0]], [[0.51, 0, 0]], max_distance=0.5) == []


def test_matching_is_one_to_one_and_minimises_the_total_distance():
    # Greedy nearest-first would pair truth 0 with prediction 0 (0.1 m) and leave truth 1
    # unmatched (0.6 m from prediction 1); the assignment pairs both within 0.5 m.
    truths = [[0.0, 0, 0], [0.4, 0, 0]]
    predictions = [[0.1, 0, 0], [-0.3, 0, 0]]
    assert match_objects(truths, predictions) == [(0, 1), (1, 0)]
    # Two predictions on one object: only one may take it.
    assert match_objects([[0, 0, 0]], [[0.1, 0, 0], [0.05, 0, 0]]) == [(0, 1)]
    assert match_objects([], [[0, 0, 0]]) == []
    assert match_objects([[0, 0, 0]], []) == []
    with pytest.raises(ValueError, match="max_distance"):
        match_objects([[0, 0, 0]], [[0, 0, 0]], max_distance=0)


def test_labels_are_normalised_to_spoken_names():
    assert normalise_label("flower_pot") == "flower pot"
    assert normalise_label(" Flower Pot ") == "flower pot"
    assert normalise_label("night_stand") == normalise_label("night stand")
    assert normalise_label("Forklift") == "forklift"  # open vocabulary words pass through
    assert topk_hit("flower pot", ["flower_pot"], 1)


def test_top1_and_top5_are_counted_over_matched_objects():
    frame = Frame(
        0,
        10,
        truth=[
            truth("chair", [0, 0, 0]),
            truth("table", [2, 0, 0]),
            truth("sofa", [4, 0, 0]),
            truth("lamp", [9, 9, 0]),  # never detected
        ],
        predicted=[
            predicted(1, [0.1, 0, 0], ["chair", "stool"]),  # top-1 hit
            predicted(2, [2, 0.1, 0], ["desk", "bench", "bed", "sofa", "table"]),  # 5th: top-5
            predicted(3, [4, 0, 0.1], ["bed", "a", "b", "c", "d", "sofa"]),  # 6th: miss
            predicted(4, [-5, 0, 0], ["chair"]),  # false positive
        ],
    )
    match_frames([frame])
    assert frame.matches == [(0, 0), (1, 1), (2, 2)]
    assert frame.correct == 1
    scores = score_frames([frame])
    assert scores["labels.matched"] == 3
    assert scores["labels.top1"] == pytest.approx(1 / 3)
    assert scores["labels.top5"] == pytest.approx(2 / 3)
    assert scores["detection.recall"] == pytest.approx(3 / 4)
    assert scores["detection.precision"] == pytest.approx(3 / 4)
    assert topk_hit("table", frame.predicted[1].labels, 5)
    assert not topk_hit("table", frame.predicted[1].labels, 4)


def test_tracks_flicker_and_their_majority_label_is_scored_per_object():
    def sweep(index, labels_of_track_1, labels_of_track_2=None):
        truth = [TruthObject("car", np.array([0.0, 0, 0]), id=7, num_points=100)]
        predicted_objects = [predicted(1, [0.1, 0, 0], labels_of_track_1)]
        if labels_of_track_2:
            predicted_objects.append(predicted(2, [5.0, 0, 0], labels_of_track_2))
        return Frame(index, index, truth=truth, predicted=predicted_objects)

    frames = [
        sweep(0, ["car"], ["bench"]),
        sweep(1, ["truck"], ["bench"]),  # track 1 flickers
        Frame(2, 2, truth=None, predicted=None),  # dropped: no pair across it
        sweep(3, ["car"]),
        sweep(4, ["car"], ["bench"]),  # track 2 is back: not consecutive with sweep 1
    ]
    match_frames(frames)
    metrics = track_metrics(frames)
    # Pairs: (0,1) for both tracks, (1,3) and (3,4) for track 1: 4 pairs, 2 changes.
    assert metrics["labels.flicker_pairs"] == 4
    assert metrics["labels.flicker_rate"] == pytest.approx(2 / 4)
    assert metrics["labels.tracks"] == 1 and metrics["labels.track_top1"] == 1.0  # car 3 of 4
    assert metrics["objects.per_sweep"] == pytest.approx(7 / 4)
    assert metrics["labels.histogram.car"] == 3 and metrics["labels.histogram.bench"] == 3
    assert metrics["labels.histogram.truck"] == 1


def test_track_metrics_of_a_bag_without_ground_truth():
    frames = [
        Frame(i, i, truth=None, predicted=[predicted(1, [0, 0, 0], ["mug"])]) for i in range(3)
    ]
    metrics = track_metrics(frames)
    assert metrics["labels.flicker_rate"] == 0.0 and metrics["labels.track_top1"] is None
    assert metrics["labels.distinct_per_sweep"] == 1.0


def test_barely_seen_truth_can_be_left_out_and_drops_are_not_scored():
    seen = Frame(
        0,
        1,
        [truth("chair", [0, 0, 0], num_points=500), truth("cup", [3, 0, 0], num_points=4)],
        [predicted(1, [0, 0, 0], ["chair"])],
    )
    dropped = Frame(1, 2, [truth("chair", [0, 0, 0])], None)
    no_truth = Frame(2, 3, None, [predicted(1, [0, 0, 0], ["chair"])])
    frames = [seen, dropped, no_truth]
    match_frames(frames)
    assert score_frames(frames)["detection.recall"] == pytest.approx(1 / 2)
    assert score_frames(frames, min_truth_points=10)["detection.recall"] == 1.0
    metrics = summarise(frames, "live", can_caption=False)
    assert metrics["frames"] == 3
    assert metrics["frames_processed"] == 2
    assert metrics["drop_rate"] == pytest.approx(1 / 3)
    assert metrics["frames_scored"] == 1
    empty = score_frames([no_truth])
    assert empty["labels.top1"] is None and empty["detection.recall"] is None


class WordEncoder:
    """A stand-in sentence encoder: unit bag-of-words vectors over a fixed vocabulary."""

    words = ("a", "chair", "with", "four", "legs", "red", "table")

    def encode(self, texts):
        vectors = np.array([[t.split().count(w) for w in self.words] for t in texts], float)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_caption_similarity_is_the_mean_cosine_of_matched_pairs():
    encoder = WordEncoder()
    assert caption_similarity([("a chair", "a chair")], encoder) == pytest.approx(1.0)
    assert caption_similarity([("red", "table")], encoder) == pytest.approx(0.0)
    # "a chair" vs "chair": cos = 1/sqrt(2); the mean with an identical pair.
    both = [("a chair", "chair"), ("four legs", "four legs")]
    assert caption_similarity(both, encoder) == pytest.approx((1 / math.sqrt(2) + 1) / 2)
    assert caption_similarity([], encoder) is None


def test_captions_of_matched_objects_feed_the_summary():
    frame = Frame(
        0,
        1,
        [truth("chair", [0, 0, 0], caption="a chair with four legs")],
        [predicted(1, [0, 0, 0], ["chair"], caption="a chair with four legs")],
    )
    match_frames([frame])
    metrics = summarise([frame], "offline", caption_encoder=WordEncoder())
    assert metrics["caption.count"] == 1
    assert metrics["caption.sbert"] == pytest.approx(1.0)


def test_percentiles():
    assert percentiles([]) == (None, None)
    p50, p95 = percentiles(list(range(1, 101)))
    assert p50 == pytest.approx(50.5) and p95 == pytest.approx(95.05)


def test_header_stamps_are_read_from_cdr_bytes():
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import PointCloud2

    cloud = PointCloud2()
    cloud.header.stamp.sec, cloud.header.stamp.nanosec = 1_700_000_123, 456_789
    cloud.header.frame_id = "lidar"
    assert cdr_header_stamp(serialize_message(cloud)) == 1_700_000_123_000_456_789
    with pytest.raises(ValueError, match="too short"):
        cdr_header_stamp(b"\x00\x01")


def test_labels_files_key_by_index_or_stamp(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text(
        json.dumps(
            {
                "0": [{"category": "flower_pot", "centre": [1, 2, 3]}],
                "1700000000100000000": [{"category": "chair", "centre": [0, 0, 0]}],
            }
        )
    )
    by_index, by_stamp = read_labels_file(path)
    assert by_index[0][0].category == "flower pot"
    np.testing.assert_allclose(by_index[0][0].centre, [1, 2, 3])
    assert by_stamp[1_700_000_000_100_000_000][0].category == "chair"
    ground = GroundTruth(by_stamp, by_index)
    assert ground.get(0, 123)[0].category == "flower pot"
    assert ground.get(7, 1_700_000_000_100_000_000)[0].category == "chair"
    assert ground.get(5, 5) is None
    path.write_text(json.dumps({"0": [{"category": "chair", "centre": [1, 2]}]}))
    with pytest.raises(ValueError, match="centre"):
        read_labels_file(path)


def test_params_files_are_read_as_rcl_applies_them(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        "/**:\n  ros__parameters:\n    voxel_size: 0.05\n    top_k: 3\n"
        "pointlang:\n  ros__parameters:\n    mode: scene\n    top_k: 7\n"
        "other_node:\n  ros__parameters:\n    mode: object\n"
    )
    params = read_params_file(path)
    assert params == {"voxel_size": 0.05, "top_k": 7, "mode": "scene"}
    settings = describe_settings(params)
    assert (settings.mode, settings.top_k, settings.scene.voxel_size) == ("scene", 7, 0.05)
    with pytest.raises(ValueError, match="mode"):
        describe_settings({"mode": "galaxy"})


def test_the_vocabulary_is_chosen_as_the_node_chooses_it(tmp_path):
    none = GroundTruth()
    assert resolve_vocabulary("modelnet40", none) == list(MODELNET40)  # the node's preset table
    assert resolve_vocabulary("bundle", none) is None and resolve_vocabulary(None, none) is None
    assert resolve_vocabulary("mug, drill", none) == ["mug", "drill"]
    path = tmp_path / "params.yaml"

    def params(body, vocabulary=None):
        path.write_text("/**:\n  ros__parameters:\n" + body)
        args = argparse.Namespace(
            params_file=path, mode=None, top_k=None, caption_period=None, vocabulary=vocabulary
        )
        return effective_parameters(args, none)

    preset = params("    labels_preset: modelnet40\n")
    assert requested_vocabulary(preset.get("labels"), preset["labels_preset"]) == list(MODELNET40)
    described = params('    labels: ["mug: a small cylinder with a handle", drill]\n')
    assert described["labels"] == ["mug: a small cylinder with a handle", "drill"]
    chosen = params("    labels: [mug]\n", vocabulary="modelnet40")  # the command line wins
    assert requested_vocabulary(chosen["labels"], "bundle") == list(MODELNET40)
    with pytest.raises(ValueError, match="preset 'coco' is unknown"):
        params("    labels_preset: coco\n")


def test_the_question_goes_to_a_detected_object_with_ground_truth():
    truths = [truth("chair", [0, 0, 0]), truth("table", [3, 0, 0])]
    assert choose_question_object(truths, [[3.1, 0, 0]], [7]) == (7, "table")
    assert choose_question_object(truths, [[9, 9, 0]], [7]) == (0, None)
    assert choose_question_object(None, [[0, 0, 0]], [7]) == (0, None)


# -- end to end on a real scene bag -----------------------------------------------------------


def test_offline_evaluation_writes_metrics_and_a_report(scene_bag, tiny_bundle, tmp_path):
    out = tmp_path / "metrics.json"
    report = tmp_path / "report"
    args = [str(scene_bag), "--bundle", str(tiny_bundle), "--vocabulary", "modelnet40"]
    code = main(["bag", *args, "--json", str(out), "--report", str(report), "--no-progress"])
    assert code == 0
    metrics = json.loads(out.read_text())
    for key in REQUIRED_KEYS:
        assert key in metrics, key
    assert metrics["mode"] == "offline"
    assert metrics["frames"] == 4 and metrics["frames_processed"] == 4
    assert metrics["drop_rate"] == 0.0
    assert metrics["vocabulary_size"] == 40
    assert metrics["caption.sbert"] is None  # the tiny bundle cannot caption
    for key in ("labels.top1", "labels.top5", "detection.recall", "detection.precision"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["labels.top1"] <= metrics["labels.top5"]
    assert metrics["labels.matched"] > 0  # the segmenter finds the objects of this bag
    assert 0 < metrics["latency_ms.p50"] <= metrics["latency_ms.p95"]
    for stage in ("decode", "segment", "encode"):
        assert metrics[f"latency_ms.{stage}.p50"] > 0
    html = (report / "report.html").read_text()
    markdown = (report / "report.md").read_text()
    for plot in ("confusion", "latency", "timeline", "birds_eye", "labels"):
        assert (report / f"{plot}.png").stat().st_size > 5000
        assert f'alt="{plot}.png"' in html
        assert f"({plot}.png)" in markdown
    assert html.count("data:image/png;base64,") == 5  # self-contained
    assert 0.0 <= metrics["labels.flicker_rate"] <= 1.0 and metrics["labels.track_top1"] is not None
    assert (report / "frames.csv").read_text().count("\n") == 5


def test_offline_results_are_deterministic(scene_bag, tiny_bundle):
    from ros_pointlang.describe import Describer
    from ros_pointlang.evaluation.truth import load_ground_truth
    from ros_pointlang.pipeline import Pipeline

    ground = load_ground_truth(scene_bag, None)
    runs = []
    for _ in range(2):
        describer = Describer(
            Pipeline.from_bundle(tiny_bundle), describe_settings({"mode": "scene"})
        )
        frames = evaluate_offline(scene_bag, describer, "/lidar/points", ground, progress=False)
        runs.append([[(p.id, p.centre.tolist(), p.labels) for p in f.predicted] for f in frames])
    assert runs[0] == runs[1]


def test_a_labels_file_scores_like_the_bag_ground_truth(scene_bag, tiny_bundle, tmp_path):
    from ros_pointlang.evaluation.truth import read_truth

    labels = {
        str(stamp): [{"category": t.category, "centre": t.centre.tolist()} for t in objects]
        for stamp, objects in read_truth(scene_bag).items()
    }
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    common = [str(scene_bag), "--bundle", str(tiny_bundle), "--no-progress"]
    common += ["--vocabulary", "chair,table,stool,cup,xbox,night stand"]
    main(["bag", *common, "--json", str(tmp_path / "bag.json")])
    main(
        [
            "bag",
            *common,
            "--labels",
            str(tmp_path / "labels.json"),
            "--json",
            str(tmp_path / "f.json"),
        ]
    )
    from_bag = json.loads((tmp_path / "bag.json").read_text())
    from_file = json.loads((tmp_path / "f.json").read_text())
    for key in ("labels.top1", "labels.top5", "detection.recall", "detection.precision"):
        assert from_file[key] == from_bag[key], key


def test_a_bag_without_ground_truth_reports_what_was_seen(tiny_bundle, tmp_path):
    out, report = tmp_path / "m.json", tmp_path / "report"
    code = main(
        ["bag", str(OUSTER), "--bundle", str(tiny_bundle), "--json", str(out), "--no-progress",
         "--params-file", str(Path(__file__).parent.parent / "config" / "lidar.yaml"),
         "--report", str(report)]
    )  # fmt: skip
    assert code == 0
    metrics = json.loads(out.read_text())
    assert metrics["frames"] == 2 and metrics["truth"] == "none"
    assert metrics["labels.top1"] is None and metrics["detection.recall"] is None
    assert metrics["latency_ms.p50"] > 0
    # Objects and labels per sweep, a label histogram and the objects from above:
    assert metrics["objects.per_sweep"] >= 1 and metrics["labels.distinct_per_sweep"] >= 1
    histogram = {k: v for k, v in metrics.items() if k.startswith("labels.histogram.")}
    assert sum(histogram.values()) == round(metrics["objects.per_sweep"] * 2)
    assert metrics["labels.flicker_rate"] is not None
    assert (report / "birds_eye.png").is_file() and (report / "labels.png").is_file()


def test_a_recording_cut_short_is_evaluated_up_to_the_cut(tiny_bundle, tmp_path):
    from ros_pointlang.bag import TruncatedBagWarning
    from training.data.scenes import SceneConfig, write_scene_bag

    bag = tmp_path / "cut"
    write_scene_bag(bag, seed=1, config=SceneConfig(min_objects=2, max_objects=2, sweeps=12))
    (mcap,) = bag.glob("*.mcap")
    with open(mcap, "r+b") as f:
        f.truncate(int(mcap.stat().st_size * 0.7))
    (bag / "metadata.yaml").unlink()
    out = tmp_path / "m.json"
    with pytest.warns(TruncatedBagWarning, match="cut short"):
        code = main(
            ["bag", str(bag), "--bundle", str(tiny_bundle), "--json", str(out), "--no-progress"]
        )
    assert code == 0
    metrics = json.loads(out.read_text())
    assert 0 < metrics["frames"] < 12  # the sweeps before the cut, each with its truth
    assert metrics["frames_with_truth"] >= metrics["frames"] - 1


def test_bad_arguments_are_one_line_errors(scene_bag, tiny_bundle, tmp_path, capsys):
    assert main(["bag", str(tmp_path / "missing"), "--bundle", str(tiny_bundle)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["bag", str(scene_bag), "--bundle", str(tiny_bundle), "--topic", "/nope"]) == 2
    assert "no PointCloud2 topic '/nope'" in capsys.readouterr().err
    bad_preset = tmp_path / "params.yaml"
    bad_preset.write_text("/**:\n  ros__parameters:\n    labels_preset: coco\n")
    args = ["bag", str(scene_bag), "--bundle", str(tiny_bundle), "--params-file", str(bad_preset)]
    assert main(args) == 2
    assert "labels preset 'coco' is unknown" in capsys.readouterr().err


# -- live: the node in its own process, real DDS ----------------------------------------------


def test_live_replay_agrees_with_offline_on_the_clouds_both_processed(
    scene_bag, tiny_bundle, tmp_path
):
    """At a tenth of the recorded rate (a cloud a second) the node keeps up with every cloud."""
    from ros_pointlang.evaluation.cli import add_bag_parser, evaluate_bag
    from ros_pointlang.evaluation.report import write_report

    common = [str(scene_bag), "--bundle", str(tiny_bundle), "--vocabulary", "modelnet40"]
    common += ["--caption-period", "-1", "--no-progress"]
    parser = argparse.ArgumentParser()
    add_bag_parser(parser.add_subparsers(dest="command"))
    offline = evaluate_bag(parser.parse_args(["bag", *common]))
    live = evaluate_bag(
        parser.parse_args(["bag", *common, "--live", "--rate", "0.1", "--question", "what is it?"])
    )
    assert live.metrics["mode"] == "live"
    assert live.metrics["frames"] == 4
    assert live.metrics["drop_rate"] == 0.0
    assert 0 < live.metrics["latency_ms.p50"] <= live.metrics["latency_ms.p95"]
    # The same clouds, the same describe() call: the same objects and labels, so equal accuracy.
    for a, b in zip(offline.frames, live.frames, strict=True):
        assert a.stamp_ns == b.stamp_ns
        assert [p.labels for p in a.predicted] == [p.labels for p in b.predicted]
        np.testing.assert_allclose(
            [p.centre for p in a.predicted], [p.centre for p in b.predicted], atol=1e-5
        )
    for key in ("labels.top1", "labels.top5", "detection.recall", "detection.precision"):
        assert live.metrics[key] == offline.metrics[key], key
    # The service answered (the tiny bundle has no QA stage, and says so).
    assert live.metrics["qa.success"] is False
    assert "question answering" in live.metrics["qa.message"]
    paths = write_report(live, tmp_path / "report")
    assert "end to end" in paths["md"].read_text()
