"""Organised LiDAR sweeps with the truth of every pixel, for the range-image segmentation tests.

`street_sweep` casts one sweep of the data engine's street scene (``training.data.scenes``: cars,
people, street furniture between building fronts, a car-roof 64-beam LiDAR; no torch needed) and
lays it out as an organised driver does: one row per ring (top ring first, as Ouster numbers
them), one column per firing, (0, 0, 0) where no return came back. `owner` tells which placed
object each return hit (-1: road or facade, -2: no return).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from sensor_msgs.msg import PointField
from std_msgs.msg import Header

from ros_pointlang import cloud


@dataclass
class OrganisedSweep:
    xyz: np.ndarray  # (rings, columns, 3) float32, sensor frame, zeros where no return
    owner: np.ndarray  # (rings, columns) placed-object index, -1 static, -2 no return
    categories: list[str]  # of the placed objects
    sizes: list[tuple[float, float, float]]  # their (length, width, height)


@functools.lru_cache(maxsize=4)
def street_sweep(seed: int = 0, objects: int = 12, sweep: int = 0) -> OrganisedSweep:
    """One organised sweep (cached: tests only read it)."""
    from training.data.scenes import SceneConfig, build_scene
    from training.data.sensors import RayScene, lidar_scan

    config = SceneConfig(
        kind="street", min_objects=objects, max_objects=objects, sweeps=10, street_length_m=24.0
    )
    placed, static, path = build_scene(seed, config)
    lidar = config.resolved_rig().sensor
    rng = np.random.default_rng([seed, sweep])
    scene = RayScene()
    owners = []
    for index, obj in enumerate(placed):
        scene.add(obj.mesh, float(rng.uniform(0.2, 0.9)))
        owners.append(index)
        if obj.glass is not None:
            scene.add(obj.glass, 0.5, glass=True)
            owners.append(index)
    for mesh in static:
        scene.add(mesh, 0.3)
        owners.append(-1)
    step = np.radians(lidar.azimuth_step_deg)
    phase = float(rng.uniform(0.1, 0.9)) * step
    sensor = path["start"] + path["velocity"] * (sweep / path["rate_hz"])
    scan = lidar_scan(scene, sensor, 0.0, lidar, rng, azimuth_phase=phase)
    local = scan.points - sensor.astype(np.float32)
    columns = len(np.arange(-np.pi, np.pi, step))
    azimuth = np.arctan2(local[:, 1].astype(np.float64), local[:, 0].astype(np.float64))
    column = np.round((azimuth + np.pi - phase) / step).astype(np.int64) % columns
    rings = lidar.beams
    row = rings - 1 - scan.rings.astype(np.int64)  # ring 0 is the lowest beam: top row first
    xyz = np.zeros((rings, columns, 3), np.float32)
    owner = np.full((rings, columns), -2, np.int64)
    xyz[row, column] = local
    owner[row, column] = np.array(owners)[scan.geometry_ids]
    return OrganisedSweep(
        xyz, owner, [p.category for p in placed], [tuple(map(float, p.size)) for p in placed]
    )


def organised_cloud(xyz: np.ndarray, rings: np.ndarray | None = None):
    """An organised PointCloud2 of (H, W, 3) `xyz` (x, y, z float32 and, given `rings`, a uint16
    ring field), as a LiDAR driver publishes it."""
    fields = [
        PointField(name=n, offset=4 * i, datatype=PointField.FLOAT32, count=1)
        for i, n in enumerate("xyz")
    ]
    if rings is None:
        return cloud.create_cloud(Header(frame_id="lidar"), fields, xyz.astype(np.float32))
    fields.append(PointField(name="ring", offset=12, datatype=PointField.UINT16, count=1))
    dtype = cloud.dtype_from_fields(fields, point_step=16)
    points = np.zeros(xyz.shape[:2], dtype)
    for j, name in enumerate("xyz"):
        points[name] = xyz[..., j]
    points["ring"] = rings
    return cloud.create_cloud(Header(frame_id="lidar"), fields, points, point_step=16)
