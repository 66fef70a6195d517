import json

import pytest

from training.data.cli import main


def test_objects_command_writes_manifest_and_contact_sheet(tmp_path, capsys):
    out = tmp_path / "ds"
    code = main(
        [
            "objects",
            "--out",
            str(out),
            "--per-category",
            "1",
            "--seed",
            "3",
            "--sensor",
            "depth",
            "--categories",
            "chair,sofa",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [o["id"] for o in manifest["objects"]] == ["chair_0000", "sofa_0000"]
    assert (out / "contact_sheet.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "objects/s" in printed and "contact sheet:" in printed


def test_scene_command_and_bad_input(tmp_path, capsys):
    bag = tmp_path / "bag"
    assert (
        main(
            [
                "scene",
                "--out",
                str(bag),
                "--sweeps",
                "2",
                "--storage",
                "sqlite3",
                "--rig",
                "robot-16",
            ]
        )
        == 0
    )
    assert (bag / "metadata.yaml").is_file()
    assert main(["scene", "--out", str(bag), "--sweeps", "2"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_objects_command_takes_a_rig_and_a_range_band(tmp_path, capsys):
    out = tmp_path / "far"
    args = ["objects", "--out", str(out), "--per-category", "2", "--categories", "car"]
    args += ["--sensor", "lidar", "--rig", "car-64", "--range-m", "30:45", "--quiet"]
    assert main([*args, "--workers", "1", "--no-contact-sheet"]) == 0
    views = [o["view"] for o in json.loads((out / "manifest.json").read_text())["objects"]]
    assert all(v["rig"] == "car-64" and 30 <= v["range_m"] <= 45 for v in views)
    capsys.readouterr()
    assert main(["stats", "--dataset", str(out)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [r[:2] for r in rows] == [["car-64", "25-50"], ["car-64", "all"]]
    assert rows[1][2] == "2"  # objects; then p10, p50, p90 of their points
    with pytest.raises(SystemExit):
        main(["objects", "--out", str(out), "--rig", "hdl-64e"])
    assert "unknown rigs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["objects", "--out", str(out), "--range-m", "far"])
    assert "NEAR:FAR" in capsys.readouterr().err


def test_rigs_command_lists_the_datasheets(capsys):
    assert main(["rigs"]) == 0
    printed = capsys.readouterr().out
    assert "car-64" in printed and "HDL-64E" in printed and "64 beams" in printed


def test_rig_contact_sheet(tmp_path, capsys):
    out = tmp_path / "rigs.png"
    assert main(["contact-sheet", "--rigs", "--out", str(out)]) == 0
    assert out.stat().st_size > 50_000 and "contact sheet:" in capsys.readouterr().out
