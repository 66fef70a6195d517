"""Readers for the 3D-language formats users bring. Each yields ``ObjectRecord``s.

Clouds are returned as float32 (N, 3) xyz in the source's own units (ModelNet and Objaverse are
CAD data in arbitrary units: use the pipeline's ``metric=False``); extra columns such as RGB are
dropped. Layouts:

ModelNet40 HDF5 (``modelnet40_ply_hdf5_2048``): ``shape_names.txt`` (40 names, one a line),
``train_files.txt`` / ``test_files.txt`` (one .h5 path a line, usually prefixed with
``data/modelnet40_ply_hdf5_2048/``; resolved by file name inside the folder), and
``ply_data_{train,test}{k}.h5`` with ``data`` (N, 2048, 3) float32 and ``label`` (N, 1) uint8.

ULIP-2 Objaverse triplets (as released by Salesforce in ``ULIP-Objaverse_triplets``):
``objaverse_pc_parallel/<uid>/<uid>_8192.npz`` with the cloud under ``arr_0`` (8192, 3 or 6).
The captions file name in the release could not be confirmed offline; we read a json mapping
uid -> caption or list of captions (ULIP-2's generated multi-view captions), given explicitly or
found as the only ``*.json`` in the root. A ``<uid>_8192.npy`` next to the npz also works.

PointBLIP: ``merged_data_new.json`` plus per-object clouds. PointBLIP's loader uses the json as
a mapping object id -> caption; PointLLM-style lists of ``{"object_id", "conversations":
[{"from": "human"|"gpt", "value"}]}`` are accepted too (first answer = caption, later
human/gpt turns = QA). Clouds are looked up as ``<id>_8192.npy``, ``<id>.npy`` or
``<id>/<id>_8192.npz`` under the cloud folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from training.data.objects import ObjectRecord


def _xyz(array: np.ndarray, source: Path) -> np.ndarray:
    if array.ndim != 2 or array.shape[1] < 3:
        raise ValueError(f"cloud in {source} has shape {array.shape}; expected (N, 3) or (N, 6)")
    return np.ascontiguousarray(array[:, :3], dtype=np.float32)


def _load_cloud(path: Path) -> np.ndarray:
    if path.suffix == ".npz":
        with np.load(path) as npz:
            key = "arr_0" if "arr_0" in npz.files else npz.files[0]
            return _xyz(npz[key], path)
    return _xyz(np.load(path), path)


def read_modelnet40_h5(root: str | os.PathLike, split: str = "test") -> Iterator[ObjectRecord]:
    """Objects of a ``modelnet40_ply_hdf5_2048`` folder; category = ModelNet name; no text."""
    import h5py

    root = Path(root)
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    names_file, list_file = root / "shape_names.txt", root / f"{split}_files.txt"
    for required in (names_file, list_file):
        if not required.is_file():
            raise ValueError(f"{required} is missing; expected a modelnet40_ply_hdf5_2048 folder")
    names = [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
    files = [line.strip() for line in list_file.read_text().splitlines() if line.strip()]
    for file_index, listed in enumerate(files):
        path = root / Path(listed).name
        with h5py.File(path, "r") as h5:
            data, labels = h5["data"][:], h5["label"][:].reshape(-1)
        for i, (cloud, label) in enumerate(zip(data, labels, strict=True)):
            if not 0 <= int(label) < len(names):
                raise ValueError(f"label {int(label)} in {path} is outside shape_names.txt")
            yield ObjectRecord(
                id=f"modelnet40_{split}_{file_index}_{i}",
                category=names[int(label)],
                cloud=_xyz(cloud, path),
                captions=[],
                qa=[],
                split=split,
            )


def _caption_list(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict):  # e.g. {"captions": [...]} or per-view {"view0": "..."}
        out = []
        for v in value.values():
            out += _caption_list(v)
        return out
    raise ValueError(f"caption entry {value!r:.80} is not a string, list of strings or dict")


def read_ulip2_objaverse(
    root: str | os.PathLike, captions_json: str | os.PathLike | None = None
) -> Iterator[ObjectRecord]:
    """ULIP-2 Objaverse triplets: point clouds + generated captions (images are not used)."""
    root = Path(root)
    if captions_json is None:
        candidates = sorted(root.glob("*.json"))
        if len(candidates) != 1:
            raise ValueError(
                f"found {len(candidates)} json files in {root}; pass captions_json explicitly"
            )
        captions_json = candidates[0]
    captions = json.loads(Path(captions_json).read_text())
    if not isinstance(captions, dict):
        raise ValueError(
            f"{captions_json} holds a {type(captions).__name__}; expected uid -> captions"
        )
    pc_root = root / "objaverse_pc_parallel"
    for uid in sorted(captions):
        folder = pc_root / uid
        for name in (f"{uid}_8192.npz", f"{uid}_8192.npy", f"{uid}.npy"):
            if (folder / name).is_file():
                cloud = _load_cloud(folder / name)
                break
        else:
            continue  # captions exist for more objects than the downloaded clouds: skip them
        yield ObjectRecord(
            id=uid,
            category=None,
            cloud=cloud,
            captions=_caption_list(captions[uid]),
            qa=[],
            split="train",
        )


def _pointblip_cloud(cloud_root: Path, object_id: str) -> Path | None:
    for path in (
        cloud_root / f"{object_id}_8192.npy",
        cloud_root / f"{object_id}.npy",
        cloud_root / object_id / f"{object_id}_8192.npz",
        cloud_root / object_id / f"{object_id}_8192.npy",
    ):
        if path.is_file():
            return path
    return None


def _strip_point_token(text: str) -> str:
    return text.replace("<point>", "").strip()


def read_pointblip(
    json_path: str | os.PathLike, cloud_root: str | os.PathLike
) -> Iterator[ObjectRecord]:
    """PointBLIP ``merged_data_new.json`` (id -> caption) or PointLLM-style conversation lists."""
    json_path, cloud_root = Path(json_path), Path(cloud_root)
    data = json.loads(json_path.read_text())
    if isinstance(data, dict):
        items = [(object_id, _caption_list(value), []) for object_id, value in data.items()]
    elif isinstance(data, list):
        items = []
        for entry in data:
            if not isinstance(entry, dict) or "object_id" not in entry:
                raise ValueError(f"entry {entry!r:.80} in {json_path} has no object_id")
            turns = entry.get("conversations", [])
            pairs = []
            for q, a in zip(turns[::2], turns[1::2], strict=False):
                if q.get("from") == "human" and a.get("from") == "gpt":
                    pairs.append((_strip_point_token(q["value"]), a["value"].strip()))
            captions = [pairs[0][1]] if pairs else []
            qa = [{"question": q, "answer": a, "type": "free"} for q, a in pairs[1:]]
            items.append((entry["object_id"], captions, qa))
    else:
        raise ValueError(f"{json_path} holds a {type(data).__name__}; expected a dict or a list")
    for object_id, captions, qa in items:
        path = _pointblip_cloud(cloud_root, object_id)
        if path is None:
            continue
        yield ObjectRecord(
            id=object_id,
            category=None,
            cloud=_load_cloud(path),
            captions=captions,
            qa=qa,
            split="train",
        )
