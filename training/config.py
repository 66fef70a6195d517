"""Training configuration: dataclasses, filled from a YAML file and then `key=value` overrides.

    pointlang-train --config training/configs/align_small.yaml optim.lr=5e-4 model_size=tiny

Every value is checked against its dataclass field (unknown keys and wrong types raise), and
the whole config is stored in each checkpoint so a run can be rebuilt from it alone.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from training.model import PointEncoderConfig


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
    batch_size: int = 32  # per process
    lr: float = 1e-3
    min_lr: float = 5e-5
    weight_decay: float = 0.05
    warmup_steps: int = 100
    max_steps: int = 3000
    grad_clip: float = 1.0
    # Share this much target mass among same-category pairs in a batch: two chairs' captions
    # are not true negatives of each other.
    same_category_weight: float = 0.3


@dataclass
class TrainConfig:
    out_dir: str = "build/align"
    model_size: str = "small"
    model: PointEncoderConfig = field(default_factory=PointEncoderConfig)
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 1337
    log_every: int = 10
    eval_every: int = 250
    checkpoint_every: int = 250
    num_threads: int = 0  # torch threads per process; 0 leaves torch's default
    text_cache: str = ""  # .npz of caption embeddings; default: <first data root>/text_cache.npz
    bundle_dir: str = ""  # if set, the final encoder and its manifest are written here

    def to_dict(self) -> dict:
        return asdict(self)


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


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """A TrainConfig from an optional YAML file, then `key=value` overrides, then validation."""
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
    # The named size supplies the model defaults; `model:` entries then adjust single fields.
    model_size = values.get("model_size", TrainConfig.model_size)
    model_values = values.pop("model", {}) or {}
    config = _build(TrainConfig, values)
    base = PointEncoderConfig.named(model_size)
    config.model = _build(PointEncoderConfig, asdict(base) | model_values, "model.")
    return config


def config_from_dict(values: dict) -> TrainConfig:
    """Rebuild a TrainConfig stored in a checkpoint (`TrainConfig.to_dict()`)."""
    values = dict(values)
    model = _build(PointEncoderConfig, values.pop("model"), "model.")
    config = _build(TrainConfig, values)
    config.model = model
    return config
