"""Object records end to end (shape -> cloud -> language) and whole datasets with a manifest.

Cloud frame ("view frame", written to the manifest as ``frame``): metres, z up, origin at the
centre of the object's footprint on the floor (z=0 is the floor), +x horizontal and pointing from
the sensor towards the object. The sensor sits on the -x side; the object is rotated about z by
its ``yaw_deg`` so "facing towards the sensor" in a caption is true in the cloud. Surface clouds
use the same frame and yaw (as if seen from -x), so all three modes share one convention.

Every object has its own Generator seeded from (seed, category index, instance index), so a
dataset is byte-identical for a seed whatever the number of workers or their scheduling.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from training.data.categories import (
    CATEGORIES,
    SEEN_CATEGORIES,
    UNSEEN_CATEGORIES,
    category_index,
)
from training.data.families import Shape, build_shape
from training.data.language import captions_for, orientation_from_yaw, questions_for
from training.data.manifest import load_manifest, write_manifest
from training.data.mesh import rot_z
from training.data.sensors import rig, sample_surface
from training.data.views import ViewConfig, take_view

SENSORS = ("surface", "lidar", "depth")
FRAME_DESCRIPTION = (
    "view frame: metres, z up, origin at the object's footprint centre on the floor (z=0), "
    "+x pointing from the sensor (on the -x side) towards the object"
)


@dataclass
class ObjectRecord:
    """One object with language. Generators, readers and the manifest all use this type.

    ``category`` is None when a source has no label (e.g. free-text Objaverse captions).
    """

    id: str
    category: str | None
    cloud: np.ndarray
    captions: list[str]
    qa: list[dict[str, str]]
    split: str = "train"
    params: dict = field(default_factory=dict)
    # How a simulated sensor saw it (``training.data.views.View.fields``); empty otherwise.
    view: dict = field(default_factory=dict)


def object_split(category: str, instance: int) -> str:
    """Fixed split: unseen categories are all "test"; seen ones 80/10/10 by instance index."""
    if category in UNSEEN_CATEGORIES:
        return "test"
    slot = instance % 10
    return "val" if slot == 8 else "test" if slot == 9 else "train"


def object_id(category: str, instance: int) -> str:
    return f"{category}_{instance:04d}"


def _json_value(value):
    """Plain JSON types with floats rounded, so manifests are stable and readable."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return round(float(value), 4)
    return value


def render_cloud(
    shape: Shape,
    yaw: float,
    sensor: str,
    rng: np.random.Generator,
    surface_points: int = 2048,
    view: ViewConfig | None = None,
) -> tuple[np.ndarray, dict]:
    """The object's cloud in the view frame for one sensor mode, and how it was seen."""
    if sensor == "surface":
        return sample_surface(shape.mesh.transformed(rot_z(yaw)), surface_points, rng), {}
    if sensor in ("lidar", "depth"):
        cloud, seen = take_view(shape, yaw, sensor, rng, view or ViewConfig())
        return cloud, seen.fields()
    raise ValueError(f"unknown sensor {sensor!r}; expected one of {', '.join(SENSORS)}")


def generate_object(
    category: str,
    instance: int,
    seed: int,
    sensor: str,
    surface_points: int = 2048,
    view: ViewConfig | None = None,
) -> ObjectRecord:
    """One object of ``category`` with its cloud, captions, QA, true parameters and view."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, category_index(category), instance]))
    shape = build_shape(category, rng)
    yaw = float(rng.uniform(-np.pi, np.pi))
    cloud, seen = render_cloud(shape, yaw, sensor, rng, surface_points, view)
    orientation = orientation_from_yaw(yaw) if shape.has_front else None
    distractors = CATEGORIES if category in UNSEEN_CATEGORIES else SEEN_CATEGORIES
    depth, width, height = shape.dimensions()
    params = {key: _json_value(v) for key, v in shape.params.items()}
    params.update(
        {
            "height_m": _json_value(height),
            "width_m": _json_value(width),
            "depth_m": _json_value(depth),
            "yaw_deg": _json_value(np.degrees(yaw)),
            "orientation": orientation,
            "counts": dict(shape.counts),
        }
    )
    return ObjectRecord(
        id=object_id(category, instance),
        category=category,
        cloud=np.ascontiguousarray(cloud, dtype=np.float32),
        captions=captions_for(shape, orientation, rng),
        qa=questions_for(shape, orientation, distractors, rng),
        split=object_split(category, instance),
        params=params,
        view=seen,
    )


def _generate_and_save(task: tuple[str, int, int, str, int, ViewConfig, str]) -> dict:
    """Worker: build one object, write its cloud, return its manifest entry."""
    category, instance, seed, sensor, surface_points, view, out_dir = task
    record = generate_object(category, instance, seed, sensor, surface_points, view)
    relative = f"clouds/{record.id}.npy"
    np.save(os.path.join(out_dir, relative), record.cloud)
    return {
        "id": record.id,
        "category": record.category,
        "split": record.split,
        "cloud": relative,
        "num_points": len(record.cloud),
        "sensor": sensor,
        "captions": record.captions,
        "qa": record.qa,
        "params": record.params,
        **({"view": record.view} if record.view else {}),
    }


@dataclass
class DatasetSummary:
    manifest: Path
    objects: int
    seconds: float

    @property
    def objects_per_second(self) -> float:
        return self.objects / self.seconds if self.seconds > 0 else float("inf")


def write_object_dataset(
    out_dir: str | os.PathLike,
    per_category: int,
    seed: int,
    sensor: str,
    categories: Sequence[str] | None = None,
    workers: int = 1,
    surface_points: int = 2048,
    progress: bool = True,
    view: ViewConfig | None = None,
) -> DatasetSummary:
    """Generate ``per_category`` objects for each category into ``out_dir`` with manifest.json.

    Clouds go to ``out_dir/clouds/<id>.npy``; the manifest's ``cloud`` paths are relative to
    ``out_dir``. Output bytes depend only on the arguments (not on ``workers``). ``view``
    chooses rigs or a range band for the simulated sensors (default: the realistic mix).
    """
    if per_category <= 0:
        raise ValueError(f"per_category must be positive, got {per_category}")
    if sensor not in SENSORS:
        raise ValueError(f"unknown sensor {sensor!r}; expected one of {', '.join(SENSORS)}")
    if sensor != "surface" and view is not None and view.rigs:
        kinds = {rig(name).kind for name in view.rigs}
        if sensor not in kinds:
            raise ValueError(f"rigs {', '.join(view.rigs)} are not {sensor} rigs; expected one")
    categories = list(categories) if categories else list(CATEGORIES)
    for c in categories:
        category_index(c)
    out = Path(out_dir)
    (out / "clouds").mkdir(parents=True, exist_ok=True)
    tasks = [
        (c, i, seed, sensor, surface_points, view, str(out))
        for c in categories
        for i in range(per_category)
    ]
    start = time.perf_counter()
    entries = list(_run(tasks, workers, progress))
    seconds = time.perf_counter() - start
    header = {
        "seed": seed,
        "sensor": sensor,
        "frame": FRAME_DESCRIPTION,
        "views": None if sensor == "surface" else asdict(view or ViewConfig()),
        "categories": categories,
        "unseen_categories": list(UNSEEN_CATEGORIES),
    }
    path = write_manifest(out, header, entries)
    return DatasetSummary(path, len(entries), seconds)


def _run(tasks: list, workers: int, progress: bool) -> Iterable[dict]:
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), unit="obj", disable=not progress, desc="objects")
    if workers <= 1:
        for task in tasks:
            yield _generate_and_save(task)
            bar.update()
    else:
        # fork: workers inherit the imported modules, so start-up costs nothing per worker.
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for entry in pool.imap(_generate_and_save, tasks, chunksize=4):
                yield entry
                bar.update()
    bar.close()


def read_manifest(path: str | os.PathLike) -> Iterable[ObjectRecord]:
    """Records of a dataset written by ``write_object_dataset`` (path of the dir or the json)."""
    manifest, folder = load_manifest(path)
    for entry in manifest["objects"]:
        yield ObjectRecord(
            id=entry["id"],
            category=entry["category"],
            cloud=np.load(folder / entry["cloud"]),
            captions=entry["captions"],
            qa=entry["qa"],
            split=entry["split"],
            params=entry["params"],
            view=entry.get("view", {}),
        )
