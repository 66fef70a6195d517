"""Stage 2 training (PointBLIP): captions and answers from point clouds, teacher forcing.

    pointlang-train caption --config training/configs/caption_small.yaml
    torchrun --nproc_per_node 2 -m training.cli caption --config ... (gloo on CPU, nccl on GPU)

The encoder comes from a stage-1 checkpoint. Frozen (the default), its tokens for `cache_views`
views of every object (view 0 clean, the rest augmented) are computed once and cached on disk,
so a step costs only the bridge and the decoder. Tuned (`freeze_encoder=false`), every batch is
augmented and encoded afresh. Each batch is all captions ("describe:") with probability
`caption_prob`, else all QA pairs: short answers then pad only to short lengths (a step
costs ~40 % less than mixed batches padded to the longest caption), and the few answer tokens
are not outweighed by the many caption tokens of a shared token-mean loss. With
`decoder.box_prompt` every prompt starts with the measured box as text ("box 0.5 m 0.4 m 0.9 m.
how tall is it?"), made from the very size row the bridge reads (after size dropout: "box
unknown."), so a size answer can copy its digits. With `decoder.label_prompt` the frozen
encoder's own best label among the training categories comes first ("label chair. box …"),
right or wrong as it will be on the robot, so the decoder learns to name what the labels say
and how far to trust them. `<out_dir>/last.pt` holds the captioner
config, weights, optimiser, step, the training config and the tokenizer; `--resume` continues
with the same data order. `init_from` starts a new run from an earlier run's bridge, decoder
and tokenizer (a retrained stage 1 then needs a shorter stage 2). Metrics go to
`<out_dir>/metrics.csv`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ros_pointlang.bundle import read_manifest, sha256_file, write_manifest
from ros_pointlang.decode import LabelPrompt
from training.common import (
    CAPTIONER_NAME,
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
from training.config import CaptionConfig, load_config
from training.dataset import (
    cloud_inputs,
    pick_text,
    prepared_views,
    split_training_objects,
    views_name,
)
from training.evaluate_language import evaluate_generation
from training.labels import label_embeddings, label_words, labelled_categories
from training.losses import next_token_loss
from training.models.captioner import (
    CaptionerConfig,
    PointCaptioner,
    decoder_prompts,
    encoder_weights_sha256,
)
from training.models.encoder import PointEncoder, PointEncoderConfig, load_encoder
from training.text import TextEncoder
from training.tokenizer import TextTokenizer, corpus, make_sequences, train_tokenizer


@torch.no_grad()
def token_cache(
    encoder: PointEncoder, views: dict[str, torch.Tensor], path: Path
) -> dict[str, torch.Tensor]:
    """Frozen-encoder "tokens" (rows, G + 1, D) float16 and unit "embeddings" (rows, E) of
    `prepared_views`, with their sizes."""
    if path.exists():
        cached = torch.load(path, weights_only=True)
        if "embeddings" not in cached:
            raise ValueError(
                f"token cache {path} predates the cached embeddings; delete it to rebuild it"
            )
        return cached
    from tqdm import tqdm

    rows, cfg_enc = len(views["points"]), encoder.config
    tokens = torch.empty(rows, cfg_enc.num_groups + 1, cfg_enc.width, dtype=torch.float16)
    embeddings = torch.empty(rows, cfg_enc.embed_dim)
    encoder.eval()
    for start in tqdm(range(0, rows, 64), desc="encode", mininterval=10):
        part = slice(start, start + 64)
        emb, tok = encoder(views["points"][part], views["size"][part], views["size_known"][part])
        tokens[part], embeddings[part] = tok.half(), emb  # (b, G + 1, D), (b, E)
    out = {
        "tokens": tokens,
        "embeddings": embeddings,
        "size": views["size"],
        "size_known": views["size_known"],
    }
    save_atomically(out, path)
    return out


def training_label_prompt(objects: list[dict]) -> LabelPrompt:
    """The labels a label prompt chooses among: the training categories in the words stage 1
    aligned (`category_names(c)[0]`, as the bundle's default vocabulary), with the same
    prompt-ensembled text embeddings the runtime ranks labels by."""
    categories = labelled_categories(objects)
    if not categories:
        raise ValueError("decoder.label_prompt needs labelled training objects; none found")
    names = label_words(categories)
    return LabelPrompt(names, label_embeddings(TextEncoder(), names).numpy())


def build_encoder(cfg: CaptionConfig) -> tuple[PointEncoder, str]:
    """The stage-1 encoder (or a fresh one for tests) and a hash naming its weights."""
    if cfg.encoder_checkpoint:
        encoder, _ = load_encoder(cfg.encoder_checkpoint)
        digest = sha256_file(Path(cfg.encoder_checkpoint))[:16]
        return encoder, digest
    torch.manual_seed(cfg.seed)
    return PointEncoder(PointEncoderConfig.named(cfg.encoder_size)), f"random-{cfg.seed}"


def main(argv: list[str] | None = None) -> int:
    """`pointlang-train caption [--config YAML] [--resume] [--prepare-only] [key=value ...]`."""
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
    cfg = load_config(args.config, args.overrides, CaptionConfig)
    if not cfg.data.roots:
        parser.error("no dataset: set data.roots=DIR[,DIR] (`pointlang-data objects` folders)")

    distributed, rank, world, device = init_distributed(cfg.num_threads)

    out_dir = Path(cfg.out_dir)
    checkpoint_path = out_dir / CHECKPOINT_NAME
    try:
        cfg, checkpoint = resume_from(checkpoint_path, args.resume, cfg)
    except ValueError as error:
        parser.error(str(error))

    _, train_objects, val_objects = split_training_objects(cfg.data.roots)
    label_choice = training_label_prompt(train_objects) if cfg.decoder.label_prompt else None

    # The tokenizer: from the checkpoint on resume or the one the run starts from, else the
    # Hugging Face decoder's own (plus our special tokens), else the given file, else trained here.
    tokenizer_path = Path(cfg.tokenizer or out_dir / "tokenizer.json")
    start = None
    if checkpoint is None and cfg.init_from:
        try:
            start = starting_weights(Path(cfg.init_from))
        except ValueError as error:
            parser.error(str(error))
    if checkpoint is not None or start is not None:
        from tokenizers import Tokenizer

        stored = checkpoint if checkpoint is not None else start
        tokenizer = TextTokenizer(Tokenizer.from_str(stored["tokenizer"]))
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
    if start is not None:
        try:
            load_bridge_and_decoder(model, start["model"], cfg.init_from)
        except ValueError as error:
            parser.error(str(error))
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
    # The frozen encoder's best label of every cached view, chosen once.
    cached_labels = (
        label_choice.choose(table["embeddings"].numpy())
        if label_choice is not None and table is not None
        else None
    )

    groups = parameter_groups(model, cfg.optim.weight_decay, cfg.optim.encoder_lr_scale)
    optimizer = torch.optim.AdamW(groups, lr=cfg.optim.lr)
    step = 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        step = checkpoint["step"]
    ddp_model = DistributedDataParallel(model) if distributed else model

    log = None
    if rank == 0:
        columns = ["step", "loss", "lr", "samples_per_s", "val_qa_em", "val_category_named"]
        log = MetricLog(out_dir, columns, cfg.to_dict())
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
        prompt_labels = None  # the encoder's best label of each sample, for the label prompt
        if table is not None:
            rows = torch.from_numpy(views * len(train_objects) + index)
            tokens = table["tokens"][rows].float()  # (B, G + 1, D)
            size, known = table["size"][rows], table["size_known"][rows]  # (B, 3), (B,)
            if cached_labels is not None:
                prompt_labels = [cached_labels[r] for r in rows.tolist()]
        else:
            inputs = cloud_inputs(
                [train_objects[i] for i in index],
                encoder.config.num_points,
                views.tolist(),
                cfg.augment,
                cfg.seed,
            )
            with autocast(cfg.optim.precision, device):
                embeddings, tokens = model.encoder(*(x.to(device) for x in inputs))
            size, known = inputs[1], inputs[2]
            if label_choice is not None:
                prompt_labels = label_choice.choose(embeddings.detach().float().cpu().numpy())
        prompts = decoder_prompts(cfg.decoder, [p for p, _ in texts], size, known, prompt_labels)
        ids, labels = make_sequences(prompts, [t for _, t in texts], tokenizer, max_tokens)
        lr = learning_rate(step, cfg.optim)
        set_learning_rate(optimizer, lr)
        # Through the DDP wrapper's forward, so its gradient hooks all-reduce across ranks.
        with autocast(cfg.optim.precision, device):
            logits = ddp_model(tokens.to(device), size.to(device), known.to(device), ids.to(device))
        loss = next_token_loss(logits, labels.to(device))
        optimizer_step(optimizer, loss, model, cfg.optim.grad_clip)
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
            val, _ = evaluate_generation(
                model, tokenizer, eval_subset, max_qa_per_object=6, label_prompt=label_choice
            )
            model.train()
        if rank == 0 and (step % cfg.log_every == 0 or val):
            mean_loss = float(np.mean(losses))
            rate = seen / max(1e-9, time.time() - tick)
            qa_em, named = (
                val.get("qa.exact_match", float("nan")),
                val.get("caption.category_named", float("nan")),
            )
            log.write(
                [
                    step,
                    f"{mean_loss:.5f}",
                    f"{lr:.3g}",
                    f"{rate:.1f}",
                    f"{qa_em:.4f}",
                    f"{named:.4f}",
                ]
            )
            progress.set_postfix(loss=f"{mean_loss:.3f}", qa=f"{qa_em:.3f}")
            losses, tick, seen = [], time.time(), 0
        if rank == 0 and (step % cfg.checkpoint_every == 0 or step == cfg.optim.max_steps):
            save_checkpoint(checkpoint_path, model, optimizer, step, cfg, tokenizer, label_choice)
    progress.close()
    if log is not None:
        log.close()
        if cfg.bundle_dir:
            write_bundle(
                Path(cfg.bundle_dir), model, cfg, tokenizer, train_objects, step, label_choice
            )
    if distributed:
        del ddp_model  # its reducer must go before the process group it holds (abort at exit)
        finish_distributed(model, out_dir, rank, world)
    return 0


def starting_weights(path: Path) -> dict:
    """The checkpoint `init_from` names: a bundle's captioner.pt or a stage-2 last.pt."""
    if not path.is_file():
        raise ValueError(f"init_from={path}: no such file; expected a captioner.pt or last.pt")
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "model" not in state or "tokenizer" not in state:
        raise ValueError(
            f"init_from={path} is not a stage-2 checkpoint (expected a captioner.pt or last.pt)"
        )
    return state


def bridge_and_decoder_state(state: dict) -> dict:
    """A captioner's state dict without the point encoder's entries."""
    return {k: v for k, v in state.items() if not k.startswith("encoder.")}


def load_bridge_and_decoder(model: PointCaptioner, weights: dict, source: str) -> None:
    """Everything but the encoder from `weights`; sizes must match the configured model's."""
    own = bridge_and_decoder_state(model.state_dict())
    given = bridge_and_decoder_state(weights)
    if own.keys() != given.keys():
        missing = sorted(own.keys() - given.keys()) or sorted(given.keys() - own.keys())
        raise ValueError(
            f"init_from={source} is a different captioner ({missing[0]} differs): "
            "expected the bridge and decoder sizes this config sets"
        )
    for name, tensor in own.items():
        if given[name].shape != tensor.shape:
            raise ValueError(
                f"init_from={source}: {name} is {tuple(given[name].shape)}, this config's is "
                f"{tuple(tensor.shape)}; expected the same decoder size and vocabulary"
            )
    model.load_state_dict(given, strict=False)


def save_checkpoint(
    path: Path,
    model: PointCaptioner,
    optimizer: torch.optim.Optimizer,
    step: int,
    cfg: CaptionConfig,
    tokenizer: TextTokenizer,
    label_choice: LabelPrompt | None = None,
) -> None:
    state = {
        "captioner_config": model.config.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": step,
        "train_config": cfg.to_dict(),
        "tokenizer": tokenizer.tokenizer.to_str(),
        **label_prompt_entry(label_choice),
    }
    save_atomically(state, path)


def label_prompt_entry(label_choice: LabelPrompt | None) -> dict:
    """A checkpoint's "label_prompt" entry (`stored_label_prompt` reads it), or nothing."""
    if label_choice is None:
        return {}
    return {
        "label_prompt": {
            "labels": list(label_choice.labels),
            "embeddings": torch.from_numpy(label_choice.embeddings),
        }
    }


def write_bundle(
    bundle: Path,
    model: PointCaptioner,
    cfg: CaptionConfig,
    tokenizer: TextTokenizer,
    objects: list[dict],
    step: int,
    label_choice: LabelPrompt | None = None,
) -> None:
    """captioner.pt (config + weights + tokenizer + the label prompt's labels), tokenizer.json
    and the manifest's recipe."""
    bundle.mkdir(parents=True, exist_ok=True)
    path = bundle / CAPTIONER_NAME
    # The encoder's weights already live in the bundle's point_encoder.pt: keep one copy, and
    # the hash of the copy this decoder learnt from (`load_captioner` refuses any other).
    weights = bridge_and_decoder_state(model.state_dict())
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
            **label_prompt_entry(label_choice),
        },
        path,
    )
    tokenizer.save(bundle / "tokenizer.json")
    manifest = read_manifest(bundle)
    manifest["captioner"] = {
        "file": CAPTIONER_NAME,
        "sha256": sha256_file(path),
        "config": model.config.decoder.to_dict(),
        "tokenizer": "tokenizer.json",
        # The encoder this decoder was trained on: a retrained point_encoder.pt invalidates it.
        "encoder_sha256": sha256_file(bundle / ENCODER_NAME)
        if (bundle / ENCODER_NAME).exists()
        else None,
        "training": {
            "recipe": cfg.to_dict(),
            "steps": step,
            "data_fingerprint": data_fingerprint(objects),
            "data_roots": cfg.data.roots,
        },
    }
    write_manifest(bundle, manifest)


if __name__ == "__main__":
    raise SystemExit(main())
