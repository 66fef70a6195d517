"""Stage-2 training loop on a tiny manifest: runs, resumes, learns, writes a bundle, exports
(the runtime bundle then answers as torch does, with and without the box and label prompts)."""

import csv
import hashlib
import json

import pytest
import torch

from export.cli import CAPTION_DECODING, DECODING, export_bundle
from export.decoder import main as export_main
from ros_pointlang.decode import DESCRIBE, prompts_as_trained
from ros_pointlang.pipeline import Pipeline
from tests.bundles import add_text_encoder, tiny_caption_args
from tests.tiny_objects import make_manifest
from tests.torchrun import run_two_processes
from training.caption import main
from training.data.categories import labels_an_object
from training.dataset import load_cloud, load_objects, split_training_objects
from training.evaluate_language import evaluate_generation
from training.models.captioner import load_captioner, stored_label_prompt
from training.tokenizer import TextTokenizer

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


def test_init_from_starts_from_an_earlier_runs_bridge_and_decoder(tmp_path):
    data = make_manifest(tmp_path / "data", per_category=8, points=300)
    common = [
        "--config",
        "training/configs/caption_tiny.yaml",
        f"data.roots={data}",
        "eval_every=1000",
        "log_every=5",
        "optim.batch_size=8",
        "optim.warmup_steps=1",
        "vocab_size=200",
    ]
    assert main([*common, f"out_dir={tmp_path / 'first'}", "optim.max_steps=40"]) == 0
    first = torch.load(tmp_path / "first" / "last.pt", weights_only=False)
    start = str(tmp_path / "first" / "last.pt")
    second = tmp_path / "second"
    assert main([*common, f"out_dir={second}", f"init_from={start}", "optim.max_steps=5"]) == 0
    state = torch.load(second / "last.pt", weights_only=False)
    assert state["step"] == 5 and state["tokenizer"] == first["tokenizer"]
    losses = [float(r["loss"]) for r in csv.DictReader((tmp_path / "first" / "metrics.csv").open())]
    again = [float(r["loss"]) for r in csv.DictReader((second / "metrics.csv").open())]
    assert again[0] < losses[0]  # it starts where the first run ended, not from scratch

    with pytest.raises(SystemExit):  # no such file
        main([*common, f"out_dir={tmp_path / 'a'}", f"init_from={tmp_path / 'none.pt'}"])
    with pytest.raises(SystemExit):  # a decoder of another size
        main([*common, f"out_dir={tmp_path / 'b'}", f"init_from={start}", "decoder_size=small"])
    assert not (tmp_path / "b" / "last.pt").exists()


def save_stage1_encoder(bundle):
    """The stage-1 side of a bundle: an untrained tiny encoder saved as point_encoder.pt, as
    stage 1 (training/align.py) writes it."""
    from training.models.encoder import PointEncoder, PointEncoderConfig

    torch.manual_seed(0)
    encoder = PointEncoder(PointEncoderConfig.named("tiny"))
    bundle.mkdir()
    torch.save(
        {"model_config": encoder.config.to_dict(), "model": encoder.state_dict()},
        bundle / "point_encoder.pt",
    )
    return encoder


def test_bundle_roundtrip_evaluate_and_export(tmp_path):
    data = make_manifest(tmp_path / "data", per_category=6, points=300)
    out, bundle = tmp_path / "run", tmp_path / "bundle"
    encoder = save_stage1_encoder(bundle)
    assert main(tiny_caption_args(data, out, bundle, steps=10)) == 0
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["captioner"]["file"] == "captioner.pt"
    encoder_bytes = (bundle / "point_encoder.pt").read_bytes()
    assert manifest["captioner"]["encoder_sha256"] == hashlib.sha256(encoder_bytes).hexdigest()
    assert (bundle / "tokenizer.json").is_file()
    model, _ = load_captioner(str(bundle / "captioner.pt"))
    torch.testing.assert_close(model.encoder.state_dict(), encoder.state_dict())
    tokenizer = TextTokenizer.from_file(bundle / "tokenizer.json")
    test_objects = [o for o in load_objects([str(data)])[0] if o["split"] == "test"]
    metrics, samples = evaluate_generation(model, tokenizer, test_objects)
    assert "qa.exact_match" in metrics and "qa.exact_match.category" in metrics
    assert {"caption.bleu4", "caption.rouge_l", "caption.category_named"} <= set(metrics)
    assert samples[0]["qa"][0]["predicted"] is not None
    assert export_main(["--checkpoint", str(bundle / "captioner.pt"), "--out", str(bundle)]) == 0
    assert (bundle / "decoder.onnx").is_file() and (bundle / "bridge.onnx").is_file()

    # The runtime bundle: ONNX Runtime answers as torch greedy does, box prompt included.
    assert model.config.decoder.box_prompt  # caption_tiny.yaml turns it on
    runtime = tmp_path / "runtime"
    export_bundle(
        bundle / "point_encoder.pt", runtime, bundle / "captioner.pt", vocabulary=["bowl", "door"]
    )
    add_text_encoder(runtime)
    manifest_path = runtime / "manifest.json"
    generation = json.loads(manifest_path.read_text())["generation"]
    assert generation["box_prompt"] is True
    assert generation["decoding"] == DECODING
    assert generation["caption_decoding"] == CAPTION_DECODING
    assert generation["training"]["steps"] == 10 and "recipe" in generation["training"]
    # Torch greedy has no repetition control: compare captions decoded as answers are.
    manifest = json.loads(manifest_path.read_text())
    manifest["generation"]["caption_decoding"] = {}
    manifest_path.write_text(json.dumps(manifest))
    objects, _ = load_objects([str(data)])
    clouds = [load_cloud(o) for o in objects[::7][:3]]  # different sizes: prompt lengths differ
    assert_runtime_equals_torch(model, Pipeline.from_bundle(runtime), clouds, box=True)
    # A bundle from before the key: bare prompts, as its decoder was trained.
    manifest = json.loads(manifest_path.read_text())
    del manifest["generation"]["box_prompt"]
    manifest_path.write_text(json.dumps(manifest))
    assert_runtime_equals_torch(model, Pipeline.from_bundle(runtime), clouds, box=False)


def assert_runtime_equals_torch(model, pipeline, clouds, box, label_prompt=None):
    """Pipeline captions and answers (batched, one prompt per cloud) equal torch greedy text and
    confidence, with the torch prompts built from the box when `box` and after the label that
    `label_prompt` (a LabelPrompt) chooses for the cloud's embedding when given."""
    tok = TextTokenizer.from_file(pipeline.bundle.file("tokenizer.json"))
    max_new = pipeline.bundle.generation["decoding"]["max_new_tokens"]
    encoded = pipeline.encode(clouds)
    tokens = torch.from_numpy(encoded.tokens)
    size, known = torch.from_numpy(encoded.size), torch.from_numpy(encoded.size_known)
    for question in (DESCRIBE, "what is this?"):
        got = pipeline.answer_encoded(encoded, question)
        for i, generated in enumerate(got):
            label = None
            if label_prompt is not None:
                label = label_prompt.choose(encoded.embeddings[i : i + 1])
            text = prompts_as_trained(
                [question], encoded.size[i : i + 1], encoded.size_known[i : i + 1], box, label
            )[0]
            ids = torch.tensor([tok.prompt(text)])
            row = (tokens[i : i + 1], size[i : i + 1], known[i : i + 1])
            out = model.generate(*row, ids, tok.eos_id, max_new)[0]
            # Confidence: the mean probability of the tokens (and the end token, if reached).
            targets = [*out, tok.eos_id] if len(out) < max_new else out
            with torch.no_grad():
                logits = model(*row, torch.cat([ids, torch.tensor([out], dtype=torch.long)], 1))
            probs = logits[0, ids.shape[1] - 1 :].softmax(-1)[: len(targets)]
            confidence = probs[torch.arange(len(targets)), targets].mean().item()
            assert generated.text == tok.decode(out)
            assert generated.confidence == pytest.approx(confidence, abs=1e-4)


def test_label_prompt_trains_exports_and_runs_as_torch(tmp_path):
    """decoder.label_prompt: the captioner keeps the labels it read its label from, the bundle
    ships them as label_prompt.npz, and the runtime builds "label <name>. box …" prompts from
    the cloud's own embedding exactly as training did."""
    data = make_manifest(tmp_path / "data", per_category=6, points=300)
    out, bundle = tmp_path / "run", tmp_path / "bundle"
    save_stage1_encoder(bundle)
    args = [*tiny_caption_args(data, out, bundle, steps=6), "decoder.label_prompt=true"]
    assert main(args) == 0
    model, stored = load_captioner(str(bundle / "captioner.pt"))
    assert model.config.decoder.label_prompt
    choice = stored_label_prompt(stored)
    # The labelled categories stage 2 trained on (not the unseen ones), as stage 1's.
    categories = {o["category"] for o in split_training_objects([str(data)])[1]}
    categories = {c for c in categories if labels_an_object(c)}
    assert len(choice.labels) == len(categories)
    assert choice.embeddings.shape == (len(categories), 384)
    tokenizer = TextTokenizer.from_file(bundle / "tokenizer.json")
    test_objects = [o for o in load_objects([str(data)])[0] if o["split"] == "test"]
    with pytest.raises(ValueError, match="pass label_prompt"):
        evaluate_generation(model, tokenizer, test_objects)
    metrics, _ = evaluate_generation(model, tokenizer, test_objects, label_prompt=choice)
    assert "caption.category_named" in metrics

    runtime = tmp_path / "runtime"
    export_bundle(bundle / "point_encoder.pt", runtime, bundle / "captioner.pt")
    add_text_encoder(runtime)
    manifest_path = runtime / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["generation"]["label_prompt_file"] == "label_prompt.npz"
    assert "label_prompt.npz" in manifest["files"]
    manifest["generation"]["caption_decoding"] = {}  # torch greedy has no repetition control
    manifest_path.write_text(json.dumps(manifest))
    pipeline = Pipeline.from_bundle(runtime)
    objects, _ = load_objects([str(data)])
    clouds = [load_cloud(o) for o in objects[::7][:3]]
    assert_runtime_equals_torch(model, pipeline, clouds, box=True, label_prompt=choice)
    # The operator's vocabulary changes the published labels, never what the decoder reads.
    pipeline.set_vocabulary(["mug", "drill"])
    assert_runtime_equals_torch(model, pipeline, clouds, box=True, label_prompt=choice)


def test_label_prompt_with_a_tuned_encoder_reads_each_fresh_views_label(tmp_path):
    """Tuned (`freeze_encoder=false`), no cache holds the embeddings: every batch's labels come
    from the encoder's embeddings of that very batch."""
    data = make_manifest(tmp_path / "data", per_category=4, points=300)
    out = tmp_path / "run"
    args = [
        "--config",
        "training/configs/caption_tiny.yaml",
        f"data.roots={data}",
        f"out_dir={out}",
        "freeze_encoder=false",
        "decoder.label_prompt=true",
        "optim.max_steps=3",
        "optim.batch_size=4",
        "eval_every=3",
        "eval_objects=2",
        "vocab_size=200",
    ]
    assert main(args) == 0
    state = torch.load(out / "last.pt", weights_only=False)
    assert state["captioner_config"]["decoder"]["label_prompt"] is True
    choice = stored_label_prompt(state)
    assert choice.labels
    norms = torch.linalg.vector_norm(torch.from_numpy(choice.embeddings), dim=1)
    torch.testing.assert_close(norms, torch.ones(len(choice.labels)))


def test_captioner_refuses_an_encoder_it_was_not_trained_on(tmp_path):
    data = make_manifest(tmp_path / "data", per_category=4, points=300)
    from training.models.encoder import PointEncoder, PointEncoderConfig

    bundle = tmp_path / "bundle"
    bundle.mkdir()

    def save_encoder(seed):
        torch.manual_seed(seed)
        encoder = PointEncoder(PointEncoderConfig.named("tiny"))
        state = {"model_config": encoder.config.to_dict(), "model": encoder.state_dict()}
        torch.save(state, bundle / "point_encoder.pt")

    save_encoder(0)
    assert main(tiny_caption_args(data, tmp_path / "run", bundle, steps=2, batch_size=4)) == 0
    load_captioner(str(bundle / "captioner.pt"))  # its own encoder: fine
    save_encoder(1)  # stage 1 retrained, stage 2 not
    with pytest.raises(ValueError, match="not the encoder"):
        load_captioner(str(bundle / "captioner.pt"))


def test_two_process_ddp_on_gloo_keeps_replicas_equal(tmp_path):
    data = make_manifest(tmp_path / "data", per_category=4, points=300)
    out = tmp_path / "ddp"
    args = ["--config", "training/configs/caption_tiny.yaml", f"data.roots={data}"]
    args += [f"out_dir={out}", "optim.max_steps=4", "optim.batch_size=4", "vocab_size=200"]
    checksums = run_two_processes("training.caption", args, out)
    assert len(checksums) == 2 and checksums[0] == checksums[1]
    assert torch.load(out / "last.pt", weights_only=False)["step"] == 4
