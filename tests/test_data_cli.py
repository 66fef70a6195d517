import json

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
                "--lidar",
                "vlp16",
            ]
        )
        == 0
    )
    assert (bag / "metadata.yaml").is_file()
    assert main(["scene", "--out", str(bag), "--sweeps", "2"]) == 2
    assert "already exists" in capsys.readouterr().err
