"""Clouds from meshes: uniform surface samples, a simulated spinning LiDAR, a depth camera.

The two sensors cast real rays against the mesh (open3d ``RaycastingScene``), so partial views,
self-occlusion and the thinning of returns with range all come from geometry, not from rules.
Noise and dropout come from the caller's numpy Generator, so results are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d

from training.data.mesh import Mesh


@dataclass(frozen=True)
class LidarConfig:
    """A spinning multi-beam LiDAR. Angles in degrees, ranges in metres."""

    name: str
    beams: int
    vfov_up_deg: float
    vfov_down_deg: float
    azimuth_resolution_deg: float
    range_noise_m: float = 0.02
    dropout: float = 0.05
    min_range_m: float = 0.4
    max_range_m: float = 100.0

    def elevations(self) -> np.ndarray:
        """Beam elevation angles in radians, lowest first (ring 0 is the lowest beam)."""
        return np.radians(np.linspace(self.vfov_down_deg, self.vfov_up_deg, self.beams))


# Nominal figures from the public datasheets of common robot LiDARs.
LIDAR_PRESETS: dict[str, LidarConfig] = {
    "vlp16": LidarConfig("vlp16", 16, 15.0, -15.0, 0.2, 0.03, 0.05),
    "hdl32": LidarConfig("hdl32", 32, 10.67, -30.67, 0.16, 0.02, 0.05),
    "os1-64": LidarConfig("os1-64", 64, 22.5, -22.5, 0.35, 0.015, 0.03),
    "os1-128": LidarConfig("os1-128", 128, 22.5, -22.5, 0.18, 0.015, 0.03),
}


@dataclass(frozen=True)
class DepthCameraConfig:
    """A pinhole depth camera with depth-dependent noise sigma = a + b * (z - 0.4)^2 (metres).

    The noise model is the axial-noise fit published for structured-light sensors (Kinect-like);
    its values below are in that paper's range.
    """

    width_px: int = 160
    height_px: int = 120
    hfov_deg: float = 70.0
    noise_a_m: float = 0.0012
    noise_b_per_m: float = 0.0019
    dropout: float = 0.02
    min_range_m: float = 0.3
    max_range_m: float = 80.0
    # Beyond a few metres the quadratic fit explodes; cap sigma at this fraction of the depth
    # (stereo-like behaviour) so large objects seen from far still give a usable shape.
    max_relative_noise: float = 0.01


@dataclass
class Scan:
    """Points (N, 3) float32 in the caller's frame, with ring (or pixel row) and hit mesh id."""

    points: np.ndarray
    rings: np.ndarray
    geometry_ids: np.ndarray
    ranges: np.ndarray


def sample_surface(mesh: Mesh, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points uniformly distributed over the mesh surface (area-weighted), float32."""
    if count <= 0:
        raise ValueError(f"surface sample count must be positive, got {count}")
    areas = mesh.triangle_areas()
    total = areas.sum()
    if not total > 0:
        raise ValueError(
            "cannot sample a mesh with zero surface area; expected a non-degenerate mesh"
        )
    tri = rng.choice(len(areas), size=count, p=areas / total)
    u, v = rng.random(count), rng.random(count)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    a, b, c = (mesh.vertices[mesh.triangles[tri, i]] for i in range(3))
    return (a + (b - a) * u[:, None] + (c - a) * v[:, None]).astype(np.float32)


def raycasting_scene(meshes: list[Mesh]) -> o3d.t.geometry.RaycastingScene:
    """A ray casting scene; geometry id ``i`` is ``meshes[i]``."""
    scene = o3d.t.geometry.RaycastingScene()
    for mesh in meshes:
        scene.add_triangles(
            o3d.core.Tensor(mesh.vertices.astype(np.float32)),
            o3d.core.Tensor(mesh.triangles.astype(np.uint32)),
        )
    return scene


def _cast(scene, origins: np.ndarray, directions: np.ndarray):
    rays = np.concatenate([origins, directions], axis=1).astype(np.float32)
    hits = scene.cast_rays(o3d.core.Tensor(rays))
    return hits["t_hit"].numpy(), hits["geometry_ids"].numpy().astype(np.int64)


def lidar_scan(
    scene: o3d.t.geometry.RaycastingScene,
    position,
    yaw: float,
    config: LidarConfig,
    rng: np.random.Generator,
    azimuth_window: tuple[float, float] | None = None,
    elevation_window: tuple[float, float] | None = None,
) -> Scan:
    """One sweep from a LiDAR at ``position`` heading ``yaw`` (radians about z), world frame.

    ``azimuth_window`` / ``elevation_window`` (radians, relative to the sensor) restrict the rays
    to a sector: an object-only scan then costs a fraction of a full sweep and gives the same
    points a full sweep would have returned on that object.
    """
    az_step = np.radians(config.azimuth_resolution_deg)
    if azimuth_window is None:
        azimuths = np.arange(-np.pi, np.pi, az_step)
    else:
        lo, hi = azimuth_window
        azimuths = np.arange(np.floor(lo / az_step), np.ceil(hi / az_step) + 1) * az_step
    elevations = config.elevations()
    rings = np.arange(config.beams)
    if elevation_window is not None:
        keep = (elevations >= elevation_window[0]) & (elevations <= elevation_window[1])
        elevations, rings = elevations[keep], rings[keep]
    if len(elevations) == 0 or len(azimuths) == 0:
        empty = np.zeros((0, 3), np.float32)
        return Scan(empty, np.zeros(0, np.uint16), np.zeros(0, np.int64), np.zeros(0, np.float32))
    az, el = np.meshgrid(azimuths + yaw, elevations)
    ring_grid = np.broadcast_to(rings[:, None], az.shape)
    directions = np.stack(
        [np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1
    ).reshape(-1, 3)
    origins = np.broadcast_to(np.asarray(position, dtype=np.float64), directions.shape)
    t, ids = _cast(scene, origins, directions)
    noisy = t + rng.normal(0.0, config.range_noise_m, size=t.shape)
    keep = (
        np.isfinite(t)
        & (noisy >= config.min_range_m)
        & (noisy <= config.max_range_m)
        & (rng.random(t.shape) >= config.dropout)
    )
    points = origins[keep] + directions[keep] * noisy[keep, None]
    return Scan(
        points.astype(np.float32),
        ring_grid.reshape(-1)[keep].astype(np.uint16),
        ids[keep],
        noisy[keep].astype(np.float32),
    )


def depth_scan(
    scene: o3d.t.geometry.RaycastingScene,
    eye,
    target,
    config: DepthCameraConfig,
    rng: np.random.Generator,
) -> Scan:
    """A depth image from a pinhole camera at ``eye`` looking at ``target``, as world points."""
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, (0.0, 0.0, 1.0))
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    f = (config.width_px / 2) / np.tan(np.radians(config.hfov_deg) / 2)
    u = np.arange(config.width_px) - (config.width_px - 1) / 2
    v = np.arange(config.height_px) - (config.height_px - 1) / 2
    uu, vv = np.meshgrid(u, v)
    directions = forward[None] * f + right[None] * uu.reshape(-1, 1) - up[None] * vv.reshape(-1, 1)
    cos_axis = f / np.linalg.norm(directions, axis=1)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origins = np.broadcast_to(eye, directions.shape)
    t, ids = _cast(scene, origins, directions)
    depth = t * cos_axis
    hit = np.isfinite(t)
    safe_depth = np.where(hit, depth, 0.4)
    sigma = config.noise_a_m + config.noise_b_per_m * (safe_depth - 0.4) ** 2
    sigma = np.minimum(sigma, config.max_relative_noise * safe_depth)
    noisy_depth = depth + rng.normal(0.0, 1.0, size=t.shape) * sigma
    keep = (
        hit
        & (noisy_depth >= config.min_range_m)
        & (noisy_depth <= config.max_range_m)
        & (rng.random(t.shape) >= config.dropout)
    )
    noisy_t = noisy_depth / cos_axis
    points = origins[keep] + directions[keep] * noisy_t[keep, None]
    rows = np.repeat(np.arange(config.height_px), config.width_px)
    return Scan(
        points.astype(np.float32),
        rows[keep].astype(np.uint16),
        ids[keep],
        noisy_t[keep].astype(np.float32),
    )
