"""Stage 2 training (PointBLIP): captions and answers from point clouds, teacher forcing.

    python -m training.caption_train --config training/configs/caption_small.yaml
    torchrun --nproc_per_node 2 -m training.caption_train --config ... (gloo on CPU, nccl on GPU)

The encoder comes from a stage-1 checkpoint. Frozen (the default), its tokens for `cache_views`
views of every object (view 0 clean, the rest augmented) are computed once and cached on disk,
so a step costs only the bridge and the decoder. Tuned (`freeze_encoder=false`), every batch is
augmented and encoded afresh. Each batch is all captions ("describe:") with probability
`caption_prob`, else all QA pairs: short answers then pad only to short lengths (a step
costs ~40 % less than mixed batches padded to the longest caption), and the few answer tokens
are not outweighed by the many caption tokens of a shared token-mean loss. With
`decoder.box_prompt` every prompt starts with the measured box as text ("box 0.5 m 0.4 m 0.9 m.
how tall is it?"), made from the very size row the bridge reads (after size dropout: "box
unknown."), so a size answer can copy its digits. `<out_dir>/last.pt` holds the captioner
config, weights, optimiser, step, the training config and the tokenizer; `--resume` continues
with the same data order. Metrics go to `<out_dir>/metrics.csv`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from training.align import load_cloud, load_objects, prepare_sample, split_training_objects
from training.caption_metrics import score_samples
from training.config import AugmentConfig, DataConfig, _build, parse_override
from training.data.categories import category_names
from training.generate import (
    CaptionerConfig,
    DecoderConfig,
    PointCaptioner,
    decoder_prompts,
    encoder_weights_sha256,
    next_token_loss,
)
from training.model import PointEncoder, PointEncoderConfig
from training.tokenizer import DESCRIBE, TextTokenizer, corpus, train_tokenizer
from training.train import (
    ENCODER_NAME,
    data_fingerprint,
    finish_distributed,
    init_distributed,
    learning_rate,
    load_encoder,
    resume_from,
    save_atomically,
)

CHECKPOINT_NAME = "last.pt"
CAPTIONER_NAME = "captioner.pt"


@dataclass
class CaptionOptimConfig:
    batch_size: int = 64  # per process
    lr: float = 1e-3
    min_lr: float = 5e-5
    weight_decay: float = 0.05
    warmup_steps: int = 100
    max_steps: int = 3000
    grad_clip: float = 1.0
    encoder_lr_scale: float = 0.1  # tuned encoder: it is already trained, move it gently


@dataclass
class CaptionTrainConfig:
    out_dir: str = "build/caption"
    encoder_checkpoint: str = ""  # stage-1 last.pt or point_encoder.pt; "" = random (tests)
    encoder_size: str = "small"  # only without encoder_checkpoint
    decoder_size: str = "small"
    decoder: DecoderConfig = field(default_factory=DecoderConfig)  # adjusts single fields
    hf_decoder: str = ""  # a Hugging Face causal LM instead of our decoder (GPU scale)
    freeze_encoder: bool = True
    cache_views: int = 3  # frozen encoder: cached views per object (view 0 clean)
    tokenizer: str = ""  # tokenizer.json; "" trains one into <out_dir>/tokenizer.json
    vocab_size: int = 2048
    caption_prob: float = 0.3  # share of caption batches; the rest are QA batches
    data: DataConfig = field(default_factory=DataConfig)
    # Captions state true sizes and facing: no rotation, scaling or stretching, which would
    # make them false; partial cuts, jitter and point dropout stay (a LiDAR view does the same).
    augment: AugmentConfig = field(
        default_factory=lambda: AugmentConfig(
            rotate_z=False, scale_min=1.0, scale_max=1.0, stretch=0.0, size_dropout=0.1
        )
    )
    optim: CaptionOptimConfig = field(default_factory=CaptionOptimConfig)
    seed: int = 1337
    log_every: int = 10
    eval_every: int = 250
    eval_objects: int = 64  # val objects generated for the periodic QA / caption scores
    checkpoint_every: int = 250
    num_threads: int = 0
    bundle_dir: str = ""  # if set, captioner.pt, tokenizer.json and the manifest entry go here

    def to_dict(self) -> dict:
        return asdict(self)


def load_caption_config(
    path: str | None = None, overrides: list[str] | None = None
) -> CaptionTrainConfig:
    """A CaptionTrainConfig from an optional YAML file and `key=value` overrides (as stage 1)."""
    import yaml

    values: dict = {}
    if path:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(values, dict):
            raise ValueError(f"config file {path} must hold a mapping at the top level")
    for text in overrides or []:
        keys, value = parse_override(text)
        node = values
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    size = values.get("decoder_size", CaptionTrainConfig.decoder_size)
    decoder_values = values.pop("decoder", {}) or {}
    augment_values = values.pop("augment", {}) or {}
    config = _build(CaptionTrainConfig, values)
    # Entries under `augment:` adjust stage 2's defaults rather than AugmentConfig's.
    config.augment = _build(AugmentConfig, asdict(config.augment) | augment_values, "augment.")
    config.decoder = _build(
        DecoderConfig, asdict(DecoderConfig.named(size)) | decoder_values, "decoder."
    )
    return config


def caption_config_from_dict(values: dict) -> CaptionTrainConfig:
    values = dict(values)
    decoder = _build(DecoderConfig, values.pop("decoder"), "decoder.")
    config = _build(CaptionTrainConfig, values)
    config.decoder = decoder
    return config


def make_sequences(
    prompts: list[str], targets: list[str], tokenizer: TextTokenizer, max_tokens: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded input ids (B, T) and shifted labels (B, T), -100 outside the targets.

    Sequence: <bos> prompt <sep> target <eos>; input position t predicts token t + 1.
    """
    rows = []
    for prompt, target in zip(prompts, targets, strict=True):
        head = tokenizer.prompt(prompt)
        seq = (head + tokenizer.encode(target) + [tokenizer.eos_id])[: max_tokens + 1]
        rows.append((seq, len(head)))
    length = max(len(seq) for seq, _ in rows) - 1
    ids = torch.full((len(rows), length), tokenizer.pad_id, dtype=torch.long)
    labels = torch.full((len(rows), length), -100, dtype=torch.long)
    for i, (seq, head) in enumerate(rows):
        ids[i, : len(seq) - 1] = torch.tensor(seq[:-1])
        labels[i, head - 1 : len(seq) - 1] = torch.tensor(seq[head:])
    return ids, labels


def pick_text(obj: dict, rng: np.random.Generator, caption: bool) -> tuple[str, str]:
    """(prompt, target): a caption after "describe:", or one QA pair (whichever it has)."""
    qa = obj.get("qa") or []
    if obj.get("captions") and (caption or not qa):
        return DESCRIBE, obj["captions"][int(rng.integers(len(obj["captions"])))]
    if not qa:
        raise ValueError(f"object {obj.get('id')!r} has neither captions nor qa pairs")
    pair = qa[int(rng.integers(len(qa)))]
    return pair["question"], pair["answer"]


def cloud_inputs(
    objects: list[dict], num_points: int, views: list[int], aug: AugmentConfig, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Encoder inputs of objects[i] seen as view views[i]: 0 clean, others augmented."""
    samples = []
    for obj, view in zip(objects, views, strict=True):
        rng = np.random.default_rng([seed, view, zlib.crc32(obj["id"].encode())])
        augment = aug if view > 0 else None
        samples.append(prepare_sample(load_cloud(obj), num_points, augment, rng))
    points = torch.from_numpy(np.stack([s.points for s in samples]))  # (B, N, 3)
    size = torch.from_numpy(np.stack([s.size for s in samples]))  # (B, 3)
    known = torch.tensor([s.size_known for s in samples])  # (B,)
    return points, size, known


def views_name(cfg: CaptionTrainConfig, objects: list[dict], num_points: int) -> str:
    """File name of the prepared views: data, view count, points, augmentation and seed."""
    recipe = json.dumps([asdict(cfg.augment), cfg.seed, cfg.cache_views, num_points])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:8]
    return f"views_{data_fingerprint(objects)}_{digest}.pt"


def prepared_views(
    objects: list[dict], num_points: int, cfg: CaptionTrainConfig, path: Path
) -> dict[str, torch.Tensor]:
    """Encoder inputs of every object's cached views, stored at path (encoder-independent).

    Row v * len(objects) + i is view v of object i: "points" (rows, N, 3), "size" (rows, 3)
    metres, "size_known" (rows,) bool. Preparing clouds costs more than encoding them, and a
    new encoder reuses this file.
    """
    if path.exists():
        return torch.load(path, weights_only=True)
    from tqdm import tqdm

    rows = len(objects) * cfg.cache_views
    out = {
        "points": torch.empty(rows, num_points, 3),
        "size": torch.empty(rows, 3),
        "size_known": torch.empty(rows, dtype=torch.bool),
    }
    pairs = [(v, i) for v in range(cfg.cache_views) for i in range(len(objects))]
    for start in tqdm(range(0, rows, 256), desc="prepare", mininterval=10):
        chunk = pairs[start : start + 256]
        points, size, known = cloud_inputs(
            [objects[i] for _, i in chunk], num_points, [v for v, _ in chunk], cfg.augment, cfg.seed
        )
        out["points"][start : start + len(chunk)] = points
        out["size"][start : start + len(chunk)] = size
        out["size_known"][start : start + len(chunk)] = known
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomically(out, path)
    return out


@torch.no_grad()
def token_cache(
    encoder: PointEncoder, views: dict[str, torch.Tensor], path: Path
) -> dict[str, torch.Tensor]:
    """Frozen-encoder "tokens" (rows, G + 1, D) float16 of `prepared_views`, with their sizes."""
    if path.exists():
        return torch.load(path, weights_only=True)
    from tqdm import tqdm

    rows, cfg_enc = len(views["points"]), encoder.config
    tokens = torch.empty(rows, cfg_enc.num_groups + 1, cfg_enc.width, dtype=torch.float16)
    encoder.eval()
    for start in tqdm(range(0, rows, 64), desc="encode", mininterval=10):
        part = slice(start, start + 64)
        tokens[part] = encoder(
            views["points"][part], views["size"][part], views["size_known"][part]
        )[1].half()  # (b, G + 1, D)
    out = {"tokens": tokens, "size": views["size"], "size_known": views["size_known"]}
    save_atomically(out, path)
    return out


def build_encoder(cfg: CaptionTrainConfig) -> tuple[PointEncoder, str]:
    """The stage-1 encoder (or a fresh one for tests) and a hash naming its weights."""
    if cfg.encoder_checkpoint:
        encoder, _ = load_encoder(cfg.encoder_checkpoint)
        digest = hashlib.sha256(Path(cfg.encoder_checkpoint).read_bytes()).hexdigest()[:16]
        return encoder, digest
    torch.manual_seed(cfg.seed)
    return PointEncoder(PointEncoderConfig.named(cfg.encoder_size)), f"random-{cfg.seed}"


@torch.no_grad()
def evaluate_generation(
    model: PointCaptioner,
    tokenizer: TextTokenizer,
    objects: list[dict],
    features: dict[str, torch.Tensor] | None = None,
    text_encoder: object | None = None,
    max_qa_per_object: int = 0,
    batch_size: int = 32,
) -> tuple[dict[str, float], list[dict]]:
    """Greedy captions and answers for objects, scored against their references.

    features: precomputed clean-view "tokens", "size", "size_known" (as `token_cache` rows,
    one per object), else the encoder runs on the clouds.
    Returns the metrics (`qa.exact_match`, `qa.exact_match.<type>`, `caption.bleu4`,
    `caption.rouge_l`, `caption.sbert` when text_encoder is given, `caption.category_named`)
    and one sample record per object.
    """
    model.eval()
    device = next(model.parameters()).device
    if features is None:
        chunks = []
        for start in range(0, len(objects), batch_size):
            chunk = objects[start : start + batch_size]
            inputs = cloud_inputs(
                chunk, model.config.encoder.num_points, [0] * len(chunk), AugmentConfig(), 0
            )
            tokens = model.encode(*(x.to(device) for x in inputs)).cpu()
            chunks.append({"tokens": tokens, "size": inputs[1], "size_known": inputs[2]})
        features = {k: torch.cat([c[k] for c in chunks]) for k in chunks[0]}

    def run(indices: list[int], prompts: list[str]) -> list[str]:
        # The box text comes from the same size rows the bridge reads below.
        which = torch.tensor(indices, dtype=torch.long)
        prompts = decoder_prompts(
            model.config.decoder, prompts, features["size"][which], features["size_known"][which]
        )
        # One prompt length per call: group equal-length prompts so no padding is needed.
        out = [""] * len(prompts)
        groups: dict[int, list[int]] = {}
        for j, p in enumerate(prompts):
            groups.setdefault(len(tokenizer.prompt(p)), []).append(j)
        for members in groups.values():
            for start in range(0, len(members), batch_size):
                part = members[start : start + batch_size]
                ids = torch.tensor([tokenizer.prompt(prompts[j]) for j in part], device=device)
                rows = [indices[j] for j in part]
                feats = [features[k][rows].to(device) for k in ("tokens", "size", "size_known")]
                feats[0] = feats[0].float()
                max_new = (
                    model.config.decoder.max_positions
                    - model.config.decoder.prefix_length
                    - ids.shape[1]
                )
                for j, gen in zip(
                    part, model.generate(*feats, ids, tokenizer.eos_id, max_new), strict=True
                ):
                    out[j] = tokenizer.decode(gen)
        return out

    captions = run(list(range(len(objects))), [DESCRIBE] * len(objects))
    qa_index, questions, answers, types = [], [], [], []
    for i, obj in enumerate(objects):
        pairs = obj.get("qa", [])
        if max_qa_per_object:
            pairs = pairs[:max_qa_per_object]
        for pair in pairs:
            qa_index.append(i)
            questions.append(pair["question"])
            answers.append(pair["answer"])
            types.append(pair["type"])
    predictions = run(qa_index, questions)
    samples = [
        {
            "id": o.get("id"),
            "category": o["category"],
            "caption": c,
            "references": o.get("captions", []),
            "qa": [],
        }
        for o, c in zip(objects, captions, strict=True)
    ]
    for j, i in enumerate(qa_index):
        samples[i]["qa"].append(
            {
                "question": questions[j],
                "answer": answers[j],
                "predicted": predictions[j],
                "type": types[j],
            }
        )
    names = [category_names(o["category"]) for o in objects]
    metrics = score_samples(samples, names, text_encoder)
    return metrics, samples


def evaluate_checkpoint(
    checkpoint: str | Path,
    roots: list[str],
    split: str = "test",
    sensor: str | None = None,
    limit: int = 0,
    sbert: bool = True,
    seed: int = 0,
    unseen: bool = False,
) -> tuple[dict[str, float], list[dict]]:
    """Scores of a stage-2 checkpoint (last.pt or captioner.pt) on one split of datasets.

    The hook for `pointlang-eval dataset`: objects of the split (and sensor, if given; at most
    `limit` of them, a seeded sample) from every root; seen categories only unless `unseen`
    (their names never entered training, so captions cannot name them).
    """
    from tokenizers import Tokenizer

    from training.generate import load_captioner

    model, state = load_captioner(str(checkpoint))
    tokenizer = TextTokenizer(Tokenizer.from_str(state["tokenizer"]))
    objects, unseen_categories = load_objects(roots)
    objects = [
        o
        for o in objects
        if o["split"] == split
        and (sensor is None or o["sensor"] == sensor)
        and (unseen or o["category"] not in unseen_categories)
    ]
    if not objects:
        raise ValueError(f"{roots} hold no objects of split {split!r} and sensor {sensor!r}")
    if limit and len(objects) > limit:
        pick = np.random.default_rng(seed).choice(len(objects), limit, replace=False)
        objects = [objects[i] for i in sorted(pick)]
    text_encoder = None
    if sbert:
        from training.text import TextEncoder

        text_encoder = TextEncoder(Path(roots[0]) / "text_cache.npz")
    return evaluate_generation(model, tokenizer, objects, text_encoder=text_encoder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pointlang-train caption", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--config", help="YAML file (training/configs/caption_small.yaml)")
    parser.add_argument("--resume", action="store_true", help="continue from <out_dir>/last.pt")
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="only prepare the cached views' clouds (encoder_size's points), e.g. during stage 1",
    )
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. optim.lr=5e-4")
    args = parser.parse_args(argv)
    cfg = load_caption_config(args.config, args.overrides)
    if not cfg.data.roots:
        parser.error("no dataset: set data.roots=DIR[,DIR] (`pointlang-data objects` folders)")

    distributed, rank, world, device = init_distributed(cfg.num_threads)

    out_dir = Path(cfg.out_dir)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    try:
        cfg, checkpoint = resume_from(checkpoint_path, args.resume, cfg, caption_config_from_dict)
    except ValueError as error:
        parser.error(str(error))

    _, train_objects, val_objects = split_training_objects(cfg.data.roots)

    # The tokenizer: from the checkpoint on resume, else the Hugging Face decoder's own (plus
    # our special tokens), else the given file, else trained here.
    tokenizer_path = Path(cfg.tokenizer or out_dir / "tokenizer.json")
    if checkpoint is not None:
        from tokenizers import Tokenizer

        tokenizer = TextTokenizer(Tokenizer.from_str(checkpoint["tokenizer"]))
    elif cfg.hf_decoder:
        tokenizer = TextTokenizer.from_hf(cfg.hf_decoder)
    else:
        # Only rank 0 looks for the file: a rank that saw rank 0's fresh file would skip this
        # barrier and pair its next one with it (measured: it then read a missing token cache).
        if rank == 0 and not tokenizer_path.exists():
            TextTokenizer(train_tokenizer(corpus(train_objects), cfg.vocab_size)).save(
                tokenizer_path
            )
        if distributed:
            dist.barrier()
        tokenizer = TextTokenizer.from_file(tokenizer_path)

    if args.prepare_only:
        # Before stage 1 ends: clouds are prepared the same for any encoder of this size.
        num_points = PointEncoderConfig.named(cfg.encoder_size).num_points
        prepared_views(
            train_objects, num_points, cfg, out_dir / views_name(cfg, train_objects, num_points)
        )
        return 0
    encoder, encoder_hash = build_encoder(cfg)
    cfg.decoder.vocab_size = tokenizer.vocab_size
    cfg.decoder.encoder_width = encoder.config.width
    captioner_config = CaptionerConfig(encoder.config, cfg.decoder, cfg.hf_decoder)
    torch.manual_seed(cfg.seed)  # same init on every rank; DDP also broadcasts rank 0's weights
    model = PointCaptioner(captioner_config, encoder).to(device)
    if cfg.freeze_encoder:
        model.encoder.requires_grad_(False)

    table = None
    if cfg.freeze_encoder:
        views_path = out_dir / views_name(cfg, train_objects, encoder.config.num_points)
        cache = views_path.with_name(f"tokens_{encoder_hash}_" + views_path.name[len("views_") :])
        if rank == 0 and not cache.exists():
            views = prepared_views(train_objects, encoder.config.num_points, cfg, views_path)
            token_cache(model.encoder, views, cache)
        if distributed:
            dist.barrier()
        table = token_cache(model.encoder, {}, cache)

    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = []
    for is_encoder in (False, True):
        scale = cfg.optim.encoder_lr_scale if is_encoder else 1.0
        chosen = [(n, p) for n, p in params if n.startswith("encoder.") == is_encoder]
        groups.append(
            {
                "params": [p for n, p in chosen if p.dim() >= 2],
                "weight_decay": cfg.optim.weight_decay,
                "scale": scale,
            }
        )
        groups.append(
            {"params": [p for n, p in chosen if p.dim() < 2], "weight_decay": 0.0, "scale": scale}
        )
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg.optim.lr)
    step = 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        step = checkpoint["step"]
    ddp_model = DistributedDataParallel(model) if distributed else model

    metrics_path = out_dir / "metrics.csv"
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        new_file = not metrics_path.exists()
        metrics_file = metrics_path.open("a", newline="")
        writer = csv.writer(metrics_file)
        if new_file:
            writer.writerow(
                ["step", "loss", "lr", "samples_per_s", "val_qa_em", "val_category_named"]
            )
        (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    # Evenly spaced over the (category-sorted) list, so every category and sensor shows up.
    eval_subset = val_objects[:: max(1, len(val_objects) // max(1, cfg.eval_objects))]
    eval_subset = eval_subset[: cfg.eval_objects]

    from tqdm import tqdm

    progress = tqdm(total=cfg.optim.max_steps, initial=step, disable=rank != 0, desc="caption")
    max_tokens = cfg.decoder.max_positions - cfg.decoder.prefix_length
    batch_size = cfg.optim.batch_size
    losses: list[float] = []
    tick, seen = time.time(), 0
    model.train()
    while step < cfg.optim.max_steps:
        # Every draw depends only on (seed, step, rank): a resumed run continues identically.
        rng = np.random.default_rng([cfg.seed, step, rank])
        index = rng.integers(len(train_objects), size=batch_size)
        # Frozen: one of the cached views; tuned: a fresh augmented view every time.
        if cfg.freeze_encoder:
            views = rng.integers(cfg.cache_views, size=batch_size)
        else:
            views = rng.integers(1, 1 << 30, size=batch_size)
        caption = bool(rng.random() < cfg.caption_prob)
        texts = [pick_text(train_objects[i], rng, caption) for i in index]
        if table is not None:
            rows = torch.from_numpy(views * len(train_objects) + index)
            tokens = table["tokens"][rows].float()  # (B, G + 1, D)
            size, known = table["size"][rows], table["size_known"][rows]  # (B, 3), (B,)
        else:
            inputs = cloud_inputs(
                [train_objects[i] for i in index],
                encoder.config.num_points,
                views.tolist(),
                cfg.augment,
                cfg.seed,
            )
            tokens = model.encode(*(x.to(device) for x in inputs))
            size, known = inputs[1], inputs[2]
        prompts = decoder_prompts(cfg.decoder, [p for p, _ in texts], size, known)
        ids, labels = make_sequences(prompts, [t for _, t in texts], tokenizer, max_tokens)
        lr = learning_rate(step, cfg.optim)
        for group in optimizer.param_groups:
            group["lr"] = lr * group["scale"]
        # Through the DDP wrapper's forward, so its gradient hooks all-reduce across ranks.
        logits = ddp_model(tokens.to(device), size.to(device), known.to(device), ids.to(device))
        loss = next_token_loss(logits, labels.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.optim.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        optimizer.step()
        step += 1
        seen += batch_size * world
        losses.append(loss.item())
        progress.update(1)
        val = {}
        if (
            rank == 0
            and eval_subset
            and (step % cfg.eval_every == 0 or step == cfg.optim.max_steps)
        ):
            val, _ = evaluate_generation(model, tokenizer, eval_subset, max_qa_per_object=6)
            model.train()
        if rank == 0 and (step % cfg.log_every == 0 or val):
            mean_loss = float(np.mean(losses))
            rate = seen / max(1e-9, time.time() - tick)
            qa_em, named = (
                val.get("qa.exact_match", float("nan")),
                val.get("caption.category_named", float("nan")),
            )
            writer.writerow(
                [
                    step,
                    f"{mean_loss:.5f}",
                    f"{lr:.3g}",
                    f"{rate:.1f}",
                    f"{qa_em:.4f}",
                    f"{named:.4f}",
                ]
            )
            metrics_file.flush()
            progress.set_postfix(loss=f"{mean_loss:.3f}", qa=f"{qa_em:.3f}")
            losses, tick, seen = [], time.time(), 0
        if rank == 0 and (step % cfg.checkpoint_every == 0 or step == cfg.optim.max_steps):
            save_checkpoint(checkpoint_path, model, optimizer, step, cfg, tokenizer)
    progress.close()
    if rank == 0:
        metrics_file.close()
        if cfg.bundle_dir:
            write_bundle(Path(cfg.bundle_dir), model, cfg, tokenizer, train_objects, step)
    if distributed:
        del ddp_model  # its reducer must go before the process group it holds (abort at exit)
        finish_distributed(model, out_dir, rank, world)
    return 0


def save_checkpoint(
    path: Path,
    model: PointCaptioner,
    optimizer: torch.optim.Optimizer,
    step: int,
    cfg: CaptionTrainConfig,
    tokenizer: TextTokenizer,
) -> None:
    state = {
        "captioner_config": model.config.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "train_config": cfg.to_dict(),
        "tokenizer": tokenizer.tokenizer.to_str(),
    }
    save_atomically(state, path)


def write_bundle(
    bundle: Path,
    model: PointCaptioner,
    cfg: CaptionTrainConfig,
    tokenizer: TextTokenizer,
    objects: list[dict],
    step: int,
) -> None:
    """captioner.pt (config + weights + tokenizer), tokenizer.json and the manifest's recipe."""
    bundle.mkdir(parents=True, exist_ok=True)
    path = bundle / CAPTIONER_NAME
    # The encoder's weights already live in the bundle's point_encoder.pt: keep one copy, and
    # the hash of the copy this decoder learnt from (`load_captioner` refuses any other).
    weights = {k: v for k, v in model.state_dict().items() if not k.startswith("encoder.")}
    encoder_state = {
        k[len("encoder.") :]: v for k, v in model.state_dict().items() if k.startswith("encoder.")
    }
    torch.save(
        {
            "captioner_config": model.config.to_dict(),
            "model": weights,
            "encoder_file": ENCODER_NAME,
            "encoder_sha256": encoder_weights_sha256(encoder_state),
            "tokenizer": tokenizer.tokenizer.to_str(),
        },
        path,
    )
    tokenizer.save(bundle / "tokenizer.json")
    manifest_path = bundle / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["captioner"] = {
        "file": CAPTIONER_NAME,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "config": model.config.decoder.to_dict(),
        "tokenizer": "tokenizer.json",
        # The encoder this decoder was trained on: a retrained point_encoder.pt invalidates it.
        "encoder_sha256": hashlib.sha256((bundle / ENCODER_NAME).read_bytes()).hexdigest()
        if (bundle / ENCODER_NAME).exists()
        else None,
        "training": {
            "recipe": cfg.to_dict(),
            "steps": step,
            "data_fingerprint": data_fingerprint(objects),
            "data_roots": cfg.data.roots,
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def record_metrics(bundle: str | Path, metrics: dict) -> None:
    """Store evaluation figures under the manifest's "captioner" entry (after `write_bundle`)."""
    manifest_path = Path(bundle) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    if "captioner" not in manifest:
        raise ValueError(f"{manifest_path} has no 'captioner' entry; expected a stage-2 bundle")
    manifest["captioner"]["metrics"] = metrics
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
