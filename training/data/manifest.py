"""Finding and reading the manifest.json of a `pointlang-data objects` folder (no heavy imports:
training and the data engine both read it)."""

from __future__ import annotations

import json
import os
from pathlib import Path


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
