"""What both training stages share: distributed set-up, the learning-rate schedule,
checkpoints, AdamW parameter groups and the metrics log.

    distributed, rank, world, device = init_distributed(cfg.num_threads)
    cfg, checkpoint = resume_from(out_dir / CHECKPOINT_NAME, args.resume, cfg)
    optimizer = torch.optim.AdamW(parameter_groups(model, cfg.optim.weight_decay), lr=...)
    set_learning_rate(optimizer, learning_rate(step, cfg.optim))
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from training.config import OptimConfig, config_from_dict

CHECKPOINT_NAME = "last.pt"  # <out_dir>/last.pt: the state a run resumes from
ENCODER_NAME = "point_encoder.pt"  # stage 1's weights in a training bundle
CAPTIONER_NAME = "captioner.pt"  # stage 2's weights (without the encoder's) beside it


def learning_rate(step: int, optim: OptimConfig) -> float:
    """Linear warm-up, then cosine decay to min_lr at max_steps (nanoGPT's schedule)."""
    if step < optim.warmup_steps:
        return optim.lr * (step + 1) / optim.warmup_steps
    progress = min(1.0, (step - optim.warmup_steps) / max(1, optim.max_steps - optim.warmup_steps))
    return optim.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (optim.lr - optim.min_lr)


def parameter_groups(
    model: torch.nn.Module, weight_decay: float, encoder_lr_scale: float = 1.0
) -> list[dict[str, Any]]:
    """AdamW groups of the trainable parameters: weights (2-D and up) decay, biases, norms and
    embeddings of one dimension do not; parameters under `encoder.` (stage 2's tuned encoder)
    learn at `encoder_lr_scale` times the rate (`set_learning_rate` reads "scale")."""
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = []
    for is_encoder in (False, True):
        scale = encoder_lr_scale if is_encoder else 1.0
        chosen = [p for n, p in params if n.startswith("encoder.") == is_encoder]
        groups.append(
            {
                "params": [p for p in chosen if p.dim() >= 2],
                "weight_decay": weight_decay,
                "scale": scale,
            }
        )
        groups.append(
            {"params": [p for p in chosen if p.dim() < 2], "weight_decay": 0.0, "scale": scale}
        )
    return [g for g in groups if g["params"]]


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("scale", 1.0)


def optimizer_step(
    optimizer: torch.optim.Optimizer, loss: torch.Tensor, model: torch.nn.Module, grad_clip: float
) -> None:
    """Backpropagate `loss`, clip the gradient norm to `grad_clip` (0: no clipping), step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()


def autocast(precision: str, device: torch.device) -> torch.autocast:
    """The forward pass's number format: "bf16" autocast or plain "fp32".

    bf16 pays only where the hardware multiplies bf16 (GPUs, CPUs with AMX); on an AVX2-only
    CPU torch emulates it (a 1024x256 @ 256x1024 product: 1.67 s in bf16, 18 ms in fp32), and
    even with AVX-512-BF16 the small encoder's stage-1 step ran at 21-22 clouds/s in bf16 against
    37-43 in fp32 on 2 cores (2026-12-03). Weights, optimiser state and losses stay float32.
    """
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision {precision!r} is not supported; expected 'fp32' or 'bf16'")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


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


def resume_from(path: Path, resume: bool, cfg: Any) -> tuple[Any, dict | None]:
    """The config to train with and the checkpoint to continue from (None for a fresh run).

    A checkpoint at path needs `resume` (no run is overwritten by accident); its stored
    config wins, except for how long to train and where the bundle goes.
    """
    if not path.exists():
        return cfg, None
    if not resume:
        raise ValueError(f"{path} exists: pass --resume or choose another out_dir")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    stored = config_from_dict(checkpoint["train_config"], type(cfg))
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


class MetricLog:
    """<out_dir>/metrics.csv, appended to (a resumed run continues it), its header written once;
    and <out_dir>/config.json, the run's whole config."""

    def __init__(self, out_dir: Path, columns: list[str], config: dict) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "metrics.csv"
        new_file = not path.exists()
        self._file = path.open("a", newline="")
        self._writer = csv.writer(self._file)
        if new_file:
            self._writer.writerow(columns)
        (out_dir / "config.json").write_text(json.dumps(config, indent=2))

    def write(self, row: list[object]) -> None:
        self._writer.writerow(row)
        self._file.flush()

    def close(self) -> None:
        self._file.close()
