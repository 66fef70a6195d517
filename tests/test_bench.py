"""Smoke test of `pointlang-bench cloud`: it runs, prints a table and writes sane JSON figures."""

import json

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
