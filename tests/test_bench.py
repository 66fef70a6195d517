"""Smoke test of `pointlang-bench cloud`: it runs, prints a table and writes sane JSON figures."""

import json

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
