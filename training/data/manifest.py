"""The manifest.json of a `pointlang-data objects` folder: its one writer and its one reader (no
heavy imports: training and the data engine both read it).

A manifest holds the dataset's header (format, seed, sensor, frame, categories, unseen
categories, per-domain counts) and one entry per object:
- ``id``, ``category``, ``split``, ``cloud`` (path of the .npy relative to the folder),
  ``num_points``, ``sensor`` ("surface", "lidar" or "depth"), ``captions``, ``qa``, ``params``
  (the shape's true parameters and dimensions);
- ``view`` for simulated sensors (``training.data.views.View``): ``rig``, ``sensor_model``,
  ``mount_height_m``, ``range_m`` (horizontal, sensor to footprint centre), ``occlusion`` (share
  of the object's returns that objects in front took away), ``ground_points`` and
  ``clutter_points`` (points of the ground and of other objects inside the crop). Evaluation
  groups by these (range band, rig, point count).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MANIFEST_FORMAT = "pointlang-objects/2"
ENTRY_FIELDS = ("id", "category", "split", "cloud", "num_points", "sensor", "captions", "qa")
VIEW_FIELDS = (
    "rig",
    "sensor_model",
    "mount_height_m",
    "range_m",
    "occlusion",
    "ground_points",
    "clutter_points",
)


def write_manifest(folder: str | os.PathLike, header: dict, entries: list[dict]) -> Path:
    """Write ``folder/manifest.json`` (header fields, then ``objects``); returns its path."""
    missing = [f for e in entries[:1] for f in ENTRY_FIELDS if f not in e]
    if missing:
        raise ValueError(f"manifest entries lack {missing}; expected every one of {ENTRY_FIELDS}")
    path = Path(folder) / "manifest.json"
    manifest = {"format": MANIFEST_FORMAT, **header, "objects": entries}
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return path


def load_manifest(root: str | os.PathLike) -> tuple[dict, Path]:
    """The manifest dict of a dataset folder (or manifest path) and the folder it lives in."""
    path = Path(root)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise ValueError(
            f"no dataset manifest at {path}; expected a `pointlang-data objects` folder"
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if "objects" not in manifest:
        raise ValueError(f"{path} has no 'objects' list; expected a `pointlang-data` manifest")
    return manifest, path.parent
