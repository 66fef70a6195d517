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

import json
import multiprocessing
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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
from training.data.manifest import load_manifest
from training.data.mesh import rot_z
from training.data.sensors import (
    LIDAR_PRESETS,
    DepthCameraConfig,
    depth_scan,
    lidar_scan,
    raycasting_scene,
    sample_surface,
)

SENSORS = ("surface", "lidar", "depth")
MANIFEST_FORMAT = "pointlang-objects/1"
FRAME_DESCRIPTION = (
    "view frame: metres, z up, origin at the object's footprint centre on the floor (z=0), "
    "+x pointing from the sensor (on the -x side) towards the object"
)
# A LiDAR view with fewer returns than this is retried from closer with a denser sensor.
MIN_POINTS = 48


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


def _lidar_cloud(shape_mesh, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    hi = shape_mesh.bounds()[1]
    radius = float(np.max(np.linalg.norm(shape_mesh.vertices[:, :2], axis=1)))
    height = float(hi[2])
    preset_names = list(LIDAR_PRESETS)
    config = LIDAR_PRESETS[preset_names[int(rng.integers(len(preset_names)))]]
    distance = radius * rng.uniform(1.5, 4.0) + rng.uniform(0.5, 2.0)
    scene = raycasting_scene([shape_mesh])
    points = np.zeros((0, 3), np.float32)
    for _attempt in range(5):
        # Mount height chosen so the object lies inside the vertical field of view; small objects
        # in the real world stand on furniture, which is the same geometry relative to the sensor.
        low = max(config.vfov_down_deg + 3.0, -25.0)
        high = min(config.vfov_up_deg - 3.0, 5.0)
        elevation = np.radians(rng.uniform(low, high))
        mount = max(0.1, height / 2 - distance * np.tan(elevation))
        near = max(distance - radius, 0.1)
        margin = np.radians(2.0)
        el_window = (np.arctan2(-mount, near) - margin, np.arctan2(height - mount, near) + margin)
        half = np.arcsin(min(1.0, radius / distance)) + np.radians(
            config.azimuth_resolution_deg * 2
        )
        scan = lidar_scan(
            scene, (-distance, 0.0, mount), 0.0, config, rng, (-half, half), el_window
        )
        points = scan.points
        if len(points) >= MIN_POINTS:
            break
        distance = max(radius + 0.3, distance * 0.6)
        config = LIDAR_PRESETS["os1-128"]
    info = {
        "sensor": config.name,
        "sensor_distance_m": distance,
        "sensor_height_m": mount,
        "beams": config.beams,
    }
    return points, info


def _depth_cloud(shape_mesh, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    hi = shape_mesh.bounds()[1]
    radius = float(np.max(np.linalg.norm(shape_mesh.vertices, axis=1)))
    config = DepthCameraConfig(hfov_deg=float(rng.uniform(58.0, 87.0)))
    vfov = 2 * np.arctan(np.tan(np.radians(config.hfov_deg) / 2) * 0.75)
    distance = radius / np.tan(vfov / 2 * 0.8) * rng.uniform(1.0, 1.5) + 0.2
    elevation = np.radians(rng.uniform(10.0, 45.0))
    target = np.array([0.0, 0.0, hi[2] / 2])
    scene = raycasting_scene([shape_mesh])
    for _attempt in range(4):
        eye = target + distance * np.array([-np.cos(elevation), 0.0, np.sin(elevation)])
        scan = depth_scan(scene, eye, target, config, rng)
        if len(scan.points) >= MIN_POINTS:
            break
        # Thin objects seen edge-on fill few pixels: step closer with a finer image.
        distance *= 0.7
        config = DepthCameraConfig(320, 240, config.hfov_deg)
    info = {
        "sensor": "depth_camera",
        "sensor_distance_m": float(distance),
        "sensor_height_m": float(eye[2]),
        "hfov_deg": config.hfov_deg,
    }
    return scan.points, info


def render_cloud(
    shape: Shape, yaw: float, sensor: str, rng: np.random.Generator, surface_points: int = 2048
) -> tuple[np.ndarray, dict]:
    """The object's cloud in the view frame for one sensor mode, plus what the sensor was."""
    mesh = shape.mesh.transformed(rot_z(yaw))
    if sensor == "surface":
        return sample_surface(mesh, surface_points, rng), {"sensor": "surface"}
    if sensor == "lidar":
        return _lidar_cloud(mesh, rng)
    if sensor == "depth":
        return _depth_cloud(mesh, rng)
    raise ValueError(f"unknown sensor {sensor!r}; expected one of {', '.join(SENSORS)}")


def generate_object(
    category: str, instance: int, seed: int, sensor: str, surface_points: int = 2048
) -> ObjectRecord:
    """One object of ``category`` with its cloud, captions, QA and true parameters."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, category_index(category), instance]))
    shape = build_shape(category, rng)
    yaw = float(rng.uniform(-np.pi, np.pi))
    cloud, sensor_info = render_cloud(shape, yaw, sensor, rng, surface_points)
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
    params.update({key: _json_value(v) for key, v in sensor_info.items()})
    return ObjectRecord(
        id=object_id(category, instance),
        category=category,
        cloud=np.ascontiguousarray(cloud, dtype=np.float32),
        captions=captions_for(shape, orientation, rng),
        qa=questions_for(shape, orientation, distractors, rng),
        split=object_split(category, instance),
        params=params,
    )


def _generate_and_save(task: tuple[str, int, int, str, int, str]) -> dict:
    """Worker: build one object, write its cloud, return its manifest entry."""
    category, instance, seed, sensor, surface_points, out_dir = task
    record = generate_object(category, instance, seed, sensor, surface_points)
    relative = f"clouds/{record.id}.npy"
    np.save(os.path.join(out_dir, relative), record.cloud)
    return {
        "id": record.id,
        "category": record.category,
        "split": record.split,
        "cloud": relative,
        "num_points": len(record.cloud),
        "captions": record.captions,
        "qa": record.qa,
        "params": record.params,
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
) -> DatasetSummary:
    """Generate ``per_category`` objects for each category into ``out_dir`` with manifest.json.

    Clouds go to ``out_dir/clouds/<id>.npy``; the manifest's ``cloud`` paths are relative to
    ``out_dir``. Output bytes depend only on the arguments (not on ``workers``).
    """
    if per_category <= 0:
        raise ValueError(f"per_category must be positive, got {per_category}")
    if sensor not in SENSORS:
        raise ValueError(f"unknown sensor {sensor!r}; expected one of {', '.join(SENSORS)}")
    categories = list(categories) if categories else list(CATEGORIES)
    for c in categories:
        category_index(c)
    out = Path(out_dir)
    (out / "clouds").mkdir(parents=True, exist_ok=True)
    tasks = [
        (c, i, seed, sensor, surface_points, str(out))
        for c in categories
        for i in range(per_category)
    ]
    start = time.perf_counter()
    entries = list(_run(tasks, workers, progress))
    seconds = time.perf_counter() - start
    manifest = {
        "format": MANIFEST_FORMAT,
        "seed": seed,
        "sensor": sensor,
        "frame": FRAME_DESCRIPTION,
        "categories": categories,
        "unseen_categories": list(UNSEEN_CATEGORIES),
        "objects": entries,
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
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
        )
