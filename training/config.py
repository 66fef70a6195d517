"""Training configuration: dataclasses, filled from a YAML file and then `key=value` overrides.

    pointlang-train align --config training/configs/align_small.yaml optim.lr=5e-4 model_size=tiny
    pointlang-train caption --config training/configs/caption_small.yaml decoder.depth=3

Every value is checked against its dataclass field (unknown keys and wrong types raise), and
the whole config is stored in each checkpoint so a run can be rebuilt from it alone.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from training.models.captioner import DecoderConfig
from training.models.encoder import PointEncoderConfig


@dataclass
class DataConfig:
    # Folders written by `pointlang-data objects` (e.g. a surface and a LiDAR set of the same
    # seed); their objects are mixed, so full and partial views train together.
    roots: list[str] = field(default_factory=list)
    num_workers: int = 0  # DataLoader workers per process


@dataclass
class AugmentConfig:
    rotate_z: bool = True  # robots know where up is: never tilt
    scale_min: float = 0.9  # isotropic metric scale; captions round sizes, so stay near 1
    scale_max: float = 1.1
    stretch: float = 0.1  # independent horizontal / vertical stretch, ± this fraction
    jitter_sigma: float = 0.01  # in unit-sphere coordinates
    jitter_clip: float = 0.03
    dropout_max: float = 0.3  # drop up to this fraction of points
    partial_prob: float = 0.3  # keep only the side facing a random horizontal view
    size_dropout: float = 0.25  # mark the size unknown, so CAD data in arbitrary units works
    label_caption_prob: float = 0.2  # use a "a point cloud of a {name}." prompt as the caption


@dataclass
class OptimConfig:
    """What both stages' optimisers and learning-rate schedules read."""

    batch_size: int = 32  # per process
    lr: float = 1e-3
    min_lr: float = 5e-5
    weight_decay: float = 0.05
    warmup_steps: int = 100
    max_steps: int = 3000
    grad_clip: float = 1.0
    precision: str = (
        "fp32"  # forward pass: "fp32", or "bf16" autocast (CPUs with AVX-512-BF16, GPUs)
    )


@dataclass
class AlignOptimConfig(OptimConfig):
    # Share this much target mass among same-category pairs in a batch: two chairs' captions
    # are not true negatives of each other.
    same_category_weight: float = 0.3
    # Add this much of a cross-entropy over every label name's prompt embedding (the runtime's
    # classifier): the in-batch loss only meets the few categories a batch of 64 holds.
    label_loss_weight: float = 0.0


@dataclass
class CaptionOptimConfig(OptimConfig):
    batch_size: int = 64
    encoder_lr_scale: float = 0.1  # tuned encoder: it is already trained, move it gently


@dataclass
class AlignConfig:
    """Stage 1 (`pointlang-train align`)."""

    out_dir: str = "build/align"
    model_size: str = "small"
    model: PointEncoderConfig = field(default_factory=PointEncoderConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: AlignOptimConfig = field(default_factory=AlignOptimConfig)
    seed: int = 1337
    log_every: int = 10
    eval_every: int = 250
    checkpoint_every: int = 250
    num_threads: int = 0  # torch threads per process; 0 leaves torch's default
    text_cache: str = ""  # .npz of caption embeddings; default: <first data root>/text_cache.npz
    bundle_dir: str = ""  # if set, the final encoder and its manifest are written here
    # A stage-1 last.pt or point_encoder.pt whose encoder weights start this run with a fresh
    # optimiser and schedule (a changed recipe fine-tunes a trained encoder). "" = random init.
    init_from: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CaptionConfig:
    """Stage 2 (`pointlang-train caption`)."""

    out_dir: str = "build/caption"
    encoder_checkpoint: str = ""  # stage-1 last.pt or point_encoder.pt; "" = random (tests)
    encoder_size: str = "small"  # only without encoder_checkpoint
    decoder_size: str = "small"
    decoder: DecoderConfig = field(default_factory=DecoderConfig)  # adjusts single fields
    hf_decoder: str = ""  # a Hugging Face causal LM instead of our decoder (GPU scale)
    freeze_encoder: bool = True
    cache_views: int = 3  # frozen encoder: cached views per object (view 0 clean)
    tokenizer: str = ""  # tokenizer.json; "" trains one into <out_dir>/tokenizer.json
    # A captioner.pt or stage-2 last.pt whose bridge, decoder and tokenizer start this run (a
    # retrained stage 1 then needs fewer steps than from scratch); the encoder stays
    # encoder_checkpoint's. "" = a fresh bridge and decoder.
    init_from: str = ""
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


# Nested configs whose defaults come from a named size, and the key naming that size.
SIZED_FIELDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "model": ("model_size", PointEncoderConfig.named),
    "decoder": ("decoder_size", DecoderConfig.named),
}


def _coerce(value: object, kind: object, key: str) -> object:
    """Check (and where harmless, convert) one value against a dataclass field type."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        kind = next(k for k in options if k is not type(None))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, str):  # YAML 1.1 reads "5e-4" as a string
        try:
            return float(value)
        except ValueError:
            pass
    if typing.get_origin(kind) is list:
        if isinstance(value, str):  # `data.roots=a,b` on the command line
            value = [v for v in value.split(",") if v]
        if not isinstance(value, list):
            raise ValueError(f"{key}={value!r} has the wrong type; expected a list")
        return value
    if kind in (int, float, str, bool) and not isinstance(value, kind):
        raise ValueError(f"{key}={value!r} has the wrong type; expected {kind.__name__}")
    if kind is int and isinstance(value, bool):
        raise ValueError(f"{key}={value!r} has the wrong type; expected int")
    return value


def _build(cls: type, values: dict, prefix: str = "") -> object:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        name = prefix + key
        if key not in fields:
            raise ValueError(f"unknown config key {name!r}; expected one of {sorted(fields)}")
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise ValueError(f"config key {name!r} must be a mapping, got {value!r}")
            kwargs[key] = _build(kind, value, name + ".")
        else:
            kwargs[key] = _coerce(value, kind, name)
    return cls(**kwargs)


def parse_override(text: str) -> tuple[list[str], object]:
    """`optim.lr=1e-3` → (["optim", "lr"], 0.001); values are parsed as YAML scalars."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ValueError(f"override {text!r} is not of the form key=value")
    return key.strip().split("."), yaml.safe_load(raw) if raw.strip() else ""


def read_values(path: str | Path | None = None, overrides: list[str] | None = None) -> dict:
    """The mapping of an optional YAML file with `key=value` overrides applied on top."""
    values: dict = {}
    if path:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"config file {path} must hold a mapping at the top level")
        values = loaded
    for text in overrides or []:
        keys, value = parse_override(text)
        node = values
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {text!r} descends into a non-mapping key {key!r}")
        node[keys[-1]] = value
    return values


def config_from_dict(values: dict, kind: type = AlignConfig) -> Any:
    """A stage config from a mapping: a YAML file's, or `to_dict()` stored in a checkpoint.

    Entries under a nested key (`model:`, `decoder:`, `augment:`, ...) adjust single fields of
    that key's default: the named size's (`model_size`, `decoder_size`) or the stage's own
    default (stage 2's `augment` keeps rotation off unless told otherwise).
    """
    values = dict(values)
    defaults = kind()
    hints = typing.get_type_hints(kind)
    nested = {}
    for f in dataclasses.fields(kind):
        if not dataclasses.is_dataclass(hints[f.name]) or f.name not in values:
            continue
        given = values.pop(f.name) or {}
        if not isinstance(given, dict):
            raise ValueError(f"config key {f.name!r} must be a mapping, got {given!r}")
        if f.name in SIZED_FIELDS:
            size_key, named = SIZED_FIELDS[f.name]
            base = named(values.get(size_key, getattr(defaults, size_key)))
        else:
            base = getattr(defaults, f.name)
        nested[f.name] = _build(hints[f.name], asdict(base) | given, f.name + ".")
    config = _build(kind, values)
    for name, value in nested.items():
        setattr(config, name, value)
    # A named size applies even when no entry adjusts it.
    for name, (size_key, named) in SIZED_FIELDS.items():
        if hasattr(config, name) and name not in nested:
            setattr(config, name, named(getattr(config, size_key)))
    return config


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    kind: type = AlignConfig,
) -> Any:
    """A stage config from an optional YAML file, then `key=value` overrides; every value is
    checked against its dataclass field."""
    return config_from_dict(read_values(path, overrides), kind)
