"""Smoke test of `pointlang-bench cloud`: it runs, prints a table and writes sane JSON figures."""

import json

import numpy as np
import pytest

from ros_pointlang import bench


def test_bench_cloud_runs_and_reports(tmp_path, capsys):
    out = tmp_path / "cloud.json"
    assert bench.main(["cloud", "--points", "20000", "--repeat", "2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "xyz_from_cloud" in printed and "create_cloud" in printed
    rows = json.loads(out.read_text())["cloud"]
    paths = [r["path"] for r in rows]
    assert any("ouster" in p for p in paths) and any("read_points_list" in p for p in paths)
    for row in rows:
        assert row["ms"] > 0 and row["memcpy_ms"] > 0 and row["MB_per_s"] > 0
        assert row["ratio_to_memcpy"] == row["memcpy_ms"] / row["ms"]


def test_bench_runtime_reports_every_stage_and_the_torch_ratio(tiny_bundle, tmp_path, capsys):
    out = tmp_path / "runtime.json"
    checkpoint = tiny_bundle.parent / "pointlang-tiny-encoder.pt"
    argv = ["runtime", "--bundle", str(tiny_bundle), "--repeat", "3", "--threads", "1"]
    assert bench.main([*argv, "--checkpoint", str(checkpoint), "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    for key in (
        "preprocess_ms_p50",
        "encode_ms_p50",
        "labels_ms_p50",
        "labels_ms_p95",
        "labels_batch16_ms_per_object",
        "torch_encode_ms_p50",
    ):
        assert figures[key] > 0, key
    assert figures["ort_vs_torch_speedup"] == pytest.approx(
        figures["torch_encode_ms_p50"] / figures["encoder_onnx_only_ms_p50"]
    )
    assert "labels_ms_p50" in capsys.readouterr().out


def test_described_share_follows_the_keep_newest_rule():
    from ros_pointlang.bench_scene import described_share

    assert described_share([0.05] * 50, 10.0) == 1.0
    # 150 ms sweeps at 10 Hz: the worker manages 6.7 sweeps a second, two of every three.
    assert described_share([0.15] * 300, 10.0) == pytest.approx(2 / 3, abs=0.01)
    assert described_share([0.25] * 200, 10.0) == pytest.approx(0.4, abs=0.01)


def test_street_scene_has_the_objects_it_claims_inside_the_crop_box():
    from ros_pointlang.bench_scene import LIDAR_PARAMS, lidar_parameters, street_sweeps
    from ros_pointlang.cloud import xyz_from_cloud
    from ros_pointlang.describe import settings_from_parameters
    from ros_pointlang.preprocess import segment_scene

    settings = settings_from_parameters(lidar_parameters(LIDAR_PARAMS), default_mode="scene")
    first, later = street_sweeps(10, 2, rate_hz=10.0, seed=3)
    found = segment_scene(xyz_from_cloud(first), settings.scene)
    assert len(found) == 10
    # Fresh noise every sweep: the scene is never the same cloud twice.
    assert first.data != later.data


def test_bench_scene_in_process_reports_every_stage(tmp_path, capsys):
    out = tmp_path / "scene.json"
    argv = ["scene", "--source", "street", "--objects", "5", "--rate", "10", "--repeat", "3"]
    assert bench.main([*argv, "--no-dds", "--json", str(out)]) == 0
    (row,) = json.loads(out.read_text())["scene"]
    local = row["in_process"]
    assert row["source"] == "street-5" and local["sweeps"] == 3 and local["objects_p50"] == 5
    for stage in ("decode", "segment", "encode"):
        assert local["stages_ms"][stage]["p50"] > 0
    assert 0 < local["described_share_at_rate"] <= 1
    assert "described at 10 Hz" in capsys.readouterr().out


def test_bench_scene_over_dds_describes_sweeps_from_the_node_process(tmp_path):
    out = tmp_path / "scene.json"
    argv = ["scene", "--source", "street", "--objects", "5", "--rate", "5", "--duration", "2"]
    assert bench.main([*argv, "--no-in-process", "--json", str(out)]) == 0
    (row,) = json.loads(out.read_text())["scene"]
    dds = row["dds"]
    assert dds["published"] == 10 and 0 < dds["described"] <= 10
    assert dds["latency_ms"]["p50"] > 0 and dds["objects_p50"] == 5
    assert dds["node_rss_mb"] > 50 and dds["node_cpu_percent"] > 0


def test_bench_segment_sets_the_two_methods_side_by_side(tmp_path, capsys):
    from ros_pointlang.bench_scene import OUSTER_BAG

    if not OUSTER_BAG.is_dir():
        pytest.skip("tests/data/ouster-os1-64 is missing")
    out = tmp_path / "segment.json"
    assert bench.main(["segment", "--repeat", "2", "--json", str(out)]) == 0
    row = json.loads(out.read_text())["segment"]["ouster-os1-64"]
    assert row["organised"] and row["sweeps"] == 2
    for method in ("euclidean", "range_image"):
        figures = row["methods"][method]
        assert figures["wall_ms"]["p50"] > 0 and figures["objects_p50"] > 0
    assert 0 < row["matched_p50"] <= min(m["objects_p50"] for m in row["methods"].values())
    assert row["speedup_cpu"] > 0 and "faster" in capsys.readouterr().out


def test_agreement_matches_objects_by_their_voxels():
    from ros_pointlang.bench_scene import agreement

    a = np.array([[0.01, 0.01, 0.01], [0.04, 0.01, 0.01]], np.float32)
    b = a + np.float32([1.0, 0, 0])
    same = agreement([a, b], [b, a + np.float32([0, 0, 0.03])], 0.03)
    assert same["matched"] == 1 and same["iou_mean"] == 1.0
    assert agreement([a], [], 0.03)["matched"] == 0
