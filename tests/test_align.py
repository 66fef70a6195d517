"""`pointlang-train`: the loss falls, resume continues, configs parse, DDP on gloo agrees."""

import csv
import json
from pathlib import Path

import pytest
import torch

from tests.tiny_objects import shared_dataset
from tests.torchrun import run_two_processes
from training.align import main
from training.config import config_from_dict, load_config

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
TINY = str(REPO / "training/configs/align_tiny.yaml")


def args(out_dir: Path, *extra: str) -> list[str]:
    return [
        "--config",
        TINY,
        f"data.roots={shared_dataset()}",
        f"out_dir={out_dir}",
        "optim.batch_size=8",
        "num_threads=1",
        "log_every=5",
        "eval_every=1000",
        *extra,
    ]


def losses(out_dir: Path) -> list[tuple[int, float]]:
    with (out_dir / "metrics.csv").open() as f:
        return [(int(row["step"]), float(row["loss"])) for row in csv.DictReader(f)]


def test_loss_falls_and_the_bundle_is_written(tmp_path):
    bundle = tmp_path / "bundle"
    assert main(args(tmp_path / "run", "optim.max_steps=40", f"bundle_dir={bundle}")) == 0
    history = [loss for _, loss in losses(tmp_path / "run")]
    assert len(history) == 8
    assert sum(history[-2:]) / 2 < 0.8 * sum(history[:2]) / 2
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["point_encoder"]["config"]["width"] == 64
    assert manifest["training"]["steps"] == 40


def test_resume_continues_the_step_count(tmp_path):
    out = tmp_path / "run"
    assert main(args(out, "optim.max_steps=10")) == 0
    with pytest.raises(SystemExit):  # an existing checkpoint needs an explicit --resume
        main(args(out, "optim.max_steps=20"))
    assert main([*args(out, "optim.max_steps=20"), "--resume"]) == 0
    checkpoint = torch.load(out / "last.pt", weights_only=False)
    assert checkpoint["step"] == 20
    assert [step for step, _ in losses(out)] == [5, 10, 15, 20]
    # The stored configs rebuild the run and the model on their own.
    assert config_from_dict(checkpoint["train_config"]).model.width == 64
    assert checkpoint["model_config"]["num_groups"] == 16


def test_a_finished_state_writes_its_bundle_without_the_text_model(tmp_path, monkeypatch):
    out, bundle = tmp_path / "run", tmp_path / "bundle"
    assert main(args(out, "optim.max_steps=10")) == 0

    def no_text_model(*_):
        raise AssertionError("the text model loaded for a state with no steps left")

    monkeypatch.setattr("training.align.TextEncoder", no_text_model)
    assert main([*args(out, "optim.max_steps=10", f"bundle_dir={bundle}"), "--resume"]) == 0
    assert json.loads((bundle / "manifest.json").read_text())["training"]["steps"] == 10


def test_init_from_starts_a_new_recipe_from_trained_weights(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(args(first, "optim.max_steps=10", f"bundle_dir={tmp_path / 'bundle'}")) == 0
    trained = torch.load(tmp_path / "bundle" / "point_encoder.pt", weights_only=False)["model"]
    # A fresh optimiser and schedule (step 0) on the trained weights, with the label loss on.
    extra = ("optim.max_steps=0", "optim.label_loss_weight=1.0", f"bundle_dir={tmp_path / 'b2'}")
    assert main(args(second, f"init_from={first / 'last.pt'}", *extra)) == 0
    started = torch.load(tmp_path / "b2" / "point_encoder.pt", weights_only=False)["model"]
    assert all(torch.equal(trained[k], started[k]) for k in trained)
    assert (
        main(
            args(
                second,
                f"init_from={first / 'last.pt'}",
                "optim.max_steps=10",
                "optim.label_loss_weight=1.0",
                "--resume",
            )
        )
        == 0
    )
    assert torch.load(second / "last.pt", weights_only=False)["step"] == 10
    with pytest.raises(SystemExit):  # a missing file and another model size are refused
        main(args(tmp_path / "x", f"init_from={tmp_path / 'none.pt'}", "optim.max_steps=1"))
    with pytest.raises(SystemExit):
        main(args(tmp_path / "y", f"init_from={first / 'last.pt'}", "model.depth=3"))


def test_config_yaml_overrides_and_errors(tmp_path):
    cfg = load_config(TINY, ["optim.lr=5e-4", "model.depth=3", "data.roots=a,b"])
    assert cfg.optim.lr == 5e-4 and cfg.model.depth == 3 and cfg.model.width == 64
    assert cfg.data.roots == ["a", "b"] and cfg.optim.batch_size == 16
    assert load_config(None, ["model_size=base"]).model.width == 384
    shipped = load_config(REPO / "training/configs/align_small.yaml")
    assert shipped.model == load_config(None, ["model_size=small"]).model
    assert shipped.data.roots and shipped.bundle_dir == "models/checkpoints/pointlang-small"
    with pytest.raises(ValueError, match=r"unknown config key 'optim\.lrr'"):
        load_config(TINY, ["optim.lrr=1"])
    with pytest.raises(ValueError, match="wrong type"):
        load_config(TINY, ["optim.max_steps=lots"])
    with pytest.raises(ValueError, match="key=value"):
        load_config(TINY, ["optim.lr"])


def test_two_process_ddp_on_gloo_completes_with_equal_weights(tmp_path):
    dataset = shared_dataset()
    main(args(tmp_path / "warm", "optim.max_steps=1"))  # fills the shared caption cache
    out = tmp_path / "ddp"
    train_args = args(out, "optim.max_steps=6", "optim.batch_size=4")
    checksums = run_two_processes("training.align", train_args, out)
    assert len(checksums) == 2 and checksums[0] == checksums[1]
    assert torch.load(out / "last.pt", weights_only=False)["step"] == 6
    assert dataset.exists()
