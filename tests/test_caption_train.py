"""Stage-2 training loop on a tiny manifest: runs, resumes, learns, writes a bundle, exports."""

import csv
import hashlib
import json

import pytest
import torch

from export.decoder import main as export_main
from tests.tiny_objects import make_manifest
from training.caption_train import evaluate_checkpoint, main, record_metrics
from training.generate import load_captioner

torch.set_num_threads(1)


def test_training_loop_runs_resumes_and_learns(tmp_path):
    data = make_manifest(tmp_path / "data", per_category=8, points=300)
    out = tmp_path / "run"
    common = [
        "--config",
        "training/configs/caption_tiny.yaml",
        f"data.roots={data}",
        f"out_dir={out}",
        "eval_every=30",
        "checkpoint_every=15",
        "optim.batch_size=8",
        "vocab_size=200",
    ]
    assert main([*common, "optim.max_steps=15"]) == 0
    with pytest.raises(SystemExit):  # an existing run needs --resume
        main([*common, "optim.max_steps=30"])
    assert main(["--resume", *common, "optim.max_steps=30"]) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert int(rows[-1]["step"]) == 30
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert rows[-1]["val_qa_em"] != "nan"
    state = torch.load(out / "last.pt", weights_only=False)
    assert state["step"] == 30 and "tokenizer" in state and "captioner_config" in state


def test_bundle_roundtrip_evaluate_and_export(tmp_path):
    data = make_manifest(tmp_path / "data", per_category=6, points=300)
    out, bundle = tmp_path / "run", tmp_path / "bundle"
    # The stage-1 side of the bundle: point_encoder.pt as training/train.py writes it.
    from training.model import PointEncoder, PointEncoderConfig

    torch.manual_seed(0)
    encoder = PointEncoder(PointEncoderConfig.named("tiny"))
    bundle.mkdir()
    torch.save(
        {"model_config": encoder.config.to_dict(), "model": encoder.state_dict()},
        bundle / "point_encoder.pt",
    )
    args = [
        "--config",
        "training/configs/caption_tiny.yaml",
        f"data.roots={data}",
        f"out_dir={out}",
        f"encoder_checkpoint={bundle / 'point_encoder.pt'}",
        f"bundle_dir={bundle}",
        "optim.max_steps=10",
        "optim.batch_size=8",
        "vocab_size=200",
    ]
    assert main(args) == 0
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["captioner"]["file"] == "captioner.pt"
    encoder_bytes = (bundle / "point_encoder.pt").read_bytes()
    assert manifest["captioner"]["encoder_sha256"] == hashlib.sha256(encoder_bytes).hexdigest()
    assert (bundle / "tokenizer.json").is_file()
    model, _ = load_captioner(str(bundle / "captioner.pt"))
    torch.testing.assert_close(model.encoder.state_dict(), encoder.state_dict())
    metrics, samples = evaluate_checkpoint(
        bundle / "captioner.pt", [str(data)], "test", sbert=False
    )
    assert "qa.exact_match" in metrics and "qa.exact_match.category" in metrics
    assert {"caption.bleu4", "caption.rouge_l", "caption.category_named"} <= set(metrics)
    assert samples[0]["qa"][0]["predicted"] is not None
    record_metrics(bundle, metrics)
    assert json.loads((bundle / "manifest.json").read_text())["captioner"]["metrics"] == metrics
    assert export_main(["--checkpoint", str(bundle / "captioner.pt"), "--out", str(bundle)]) == 0
    assert (bundle / "decoder.onnx").is_file() and (bundle / "bridge.onnx").is_file()
