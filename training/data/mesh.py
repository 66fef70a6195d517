"""A small numpy triangle mesh and the part primitives the shape builders assemble.

Unit primitives come from open3d's ``TriangleMesh.create_*`` once per resolution and are then
scaled, rotated and moved in numpy: that keeps building hundreds of objects a second cheap and
keeps every step deterministic (no hidden random state).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import open3d as o3d


@dataclass
class Mesh:
    """Triangle mesh: ``vertices`` (V, 3) float64 metres, ``triangles`` (F, 3) int32 indices."""

    vertices: np.ndarray
    triangles: np.ndarray

    def transformed(self, rotation: np.ndarray, translation=(0.0, 0.0, 0.0)) -> Mesh:
        """The mesh rotated by a 3x3 matrix about the origin, then translated."""
        v = self.vertices @ np.asarray(rotation, dtype=np.float64).T + np.asarray(translation)
        return Mesh(v, self.triangles)

    def translated(self, offset) -> Mesh:
        return Mesh(self.vertices + np.asarray(offset, dtype=np.float64), self.triangles)

    def scaled(self, factors) -> Mesh:
        return Mesh(self.vertices * np.asarray(factors, dtype=np.float64), self.triangles)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min corner, max corner)."""
        return self.vertices.min(axis=0), self.vertices.max(axis=0)

    def triangle_areas(self) -> np.ndarray:
        a, b, c = (self.vertices[self.triangles[:, i]] for i in range(3))
        return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def merge(parts: list[Mesh]) -> Mesh:
    """One mesh holding all parts (no welding; parts may overlap like real assembled objects)."""
    if not parts:
        raise ValueError("merge() got an empty list of parts; expected at least one mesh")
    vertices, triangles, offset = [], [], 0
    for part in parts:
        vertices.append(part.vertices)
        triangles.append(part.triangles + offset)
        offset += len(part.vertices)
    return Mesh(np.concatenate(vertices), np.concatenate(triangles).astype(np.int32))


def rot_x(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rotation_from_z(direction) -> np.ndarray:
    """A rotation taking +z onto ``direction`` (used to point cylinders and cones)."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    z = np.array([0.0, 0.0, 1.0])
    v = np.cross(z, d)
    c = float(np.dot(z, d))
    if np.linalg.norm(v) < 1e-9:
        return np.eye(3) if c > 0 else rot_x(np.pi)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx * (1.0 / (1.0 + c))


def _from_open3d(mesh: o3d.geometry.TriangleMesh) -> Mesh:
    return Mesh(
        np.asarray(mesh.vertices, dtype=np.float64).copy(),
        np.asarray(mesh.triangles, dtype=np.int32).copy(),
    )


@cache
def _unit_box() -> Mesh:
    # open3d's box spans [0, 1]^3; centre it so size and centre are independent.
    return _from_open3d(o3d.geometry.TriangleMesh.create_box(1.0, 1.0, 1.0)).translated(
        (-0.5, -0.5, -0.5)
    )


@cache
def _unit_cylinder(segments: int) -> Mesh:
    # Radius 1, height 1, centred on the origin along z.
    return _from_open3d(o3d.geometry.TriangleMesh.create_cylinder(1.0, 1.0, segments, 1))


@cache
def _unit_cone(segments: int) -> Mesh:
    # Radius 1, base at z=0, tip at z=1.
    return _from_open3d(o3d.geometry.TriangleMesh.create_cone(1.0, 1.0, segments, 1))


@cache
def _unit_sphere(resolution: int) -> Mesh:
    return _from_open3d(o3d.geometry.TriangleMesh.create_sphere(1.0, resolution))


@lru_cache(maxsize=64)
def _torus(tube_ratio: float, segments: int) -> Mesh:
    return _from_open3d(
        o3d.geometry.TriangleMesh.create_torus(1.0, tube_ratio, segments, max(6, segments // 2))
    )


def box(size, center=(0.0, 0.0, 0.0), rotation: np.ndarray | None = None) -> Mesh:
    """A box of ``size`` (x, y, z) centred at ``center``, optionally rotated about its centre."""
    m = _unit_box().scaled(size)
    return m.transformed(np.eye(3) if rotation is None else rotation, center)


def slab(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> Mesh:
    """An axis-aligned box given by its extents (handy for furniture panels)."""
    return box((x1 - x0, y1 - y0, z1 - z0), ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2))


def cylinder(
    radius: float, height: float, center=(0.0, 0.0, 0.0), axis=(0, 0, 1), segments: int = 16
) -> Mesh:
    """A closed cylinder centred at ``center`` along ``axis``.

    Pass ``radius`` as (rx, ry) for an elliptic cross-section.
    """
    rx, ry = (radius, radius) if np.isscalar(radius) else radius
    m = _unit_cylinder(segments).scaled((rx, ry, height))
    return m.transformed(rotation_from_z(axis), center)


def rod(p0, p1, radius: float, segments: int = 8) -> Mesh:
    """A cylinder between two points: legs, arms, poles, handles."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    length = float(np.linalg.norm(p1 - p0))
    if length <= 0:
        raise ValueError(f"rod from {p0} to {p1} has zero length; expected two distinct points")
    return cylinder(radius, length, (p0 + p1) / 2, p1 - p0, segments)


def cone(radius: float, height: float, base_center=(0.0, 0.0, 0.0), axis=(0, 0, 1), segments=16):
    """A cone with its base disc at ``base_center`` pointing along ``axis``."""
    m = _unit_cone(segments).scaled((radius, radius, height))
    return m.transformed(rotation_from_z(axis), base_center)


def ellipsoid(radii, center=(0.0, 0.0, 0.0), resolution: int = 8, rotation=None) -> Mesh:
    """A sphere scaled to ``radii`` (rx, ry, rz); a scalar gives a sphere."""
    r = (radii, radii, radii) if np.isscalar(radii) else radii
    m = _unit_sphere(resolution).scaled(r)
    return m.transformed(np.eye(3) if rotation is None else rotation, center)


def torus(
    ring_radius: float, tube_radius: float, center=(0.0, 0.0, 0.0), axis=(0, 0, 1), segments=16
) -> Mesh:
    """A ring of ``ring_radius`` (centre line) and ``tube_radius`` around ``axis``."""
    ratio = round(tube_radius / ring_radius, 3)
    m = _torus(ratio, segments).scaled((ring_radius, ring_radius, ring_radius))
    return m.transformed(rotation_from_z(axis), center)


def lathe(radii, heights, segments: int = 24, cap_bottom=True, cap_top=False) -> Mesh:
    """A surface of revolution about z through profile points (radius, height), bottom to top.

    Used for bottles, vases, bowls, pots and shades. Open at the top unless ``cap_top``, so
    bowls and pots are hollow and a sensor looking down into them sees the inside.
    """
    r = np.asarray(radii, dtype=np.float64)
    z = np.asarray(heights, dtype=np.float64)
    if r.shape != z.shape or r.ndim != 1 or len(r) < 2:
        raise ValueError(
            f"lathe profile needs matching 1-D radii and heights, got {r.shape}, {z.shape}"
        )
    angles = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    vertices = np.concatenate(
        [np.column_stack([ri * ring, np.full(segments, zi)]) for ri, zi in zip(r, z, strict=True)]
    )
    tris = []
    j = np.arange(segments)
    jn = (j + 1) % segments
    for i in range(len(r) - 1):
        a, b = i * segments + j, i * segments + jn
        c, d = (i + 1) * segments + j, (i + 1) * segments + jn
        tris.append(np.stack([a, b, d], axis=1))
        tris.append(np.stack([a, d, c], axis=1))
    extra = []
    for cap, ring_index in ((cap_bottom, 0), (cap_top, len(r) - 1)):
        if cap and r[ring_index] > 0:
            centre = len(vertices) + len(extra)
            extra.append([0.0, 0.0, z[ring_index]])
            base = ring_index * segments
            tris.append(np.stack([np.full(segments, centre), base + jn, base + j], axis=1))
    if extra:
        vertices = np.concatenate([vertices, np.array(extra)])
    return Mesh(vertices, np.concatenate(tris).astype(np.int32))


def grid_surface(points: np.ndarray) -> Mesh:
    """A sheet through an (R, C, 3) grid of points (curtains, tent fabric, curved screens)."""
    rows, cols, _ = points.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    a, b = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    c, d = idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    tris = np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])
    return Mesh(points.reshape(-1, 3).astype(np.float64), tris.astype(np.int32))


def prism(polygon_xz, depth: float, center_y: float = 0.0) -> Mesh:
    """A convex polygon in the x-z plane extruded along y (gables, tent ends, ramps)."""
    p = np.asarray(polygon_xz, dtype=np.float64)
    n = len(p)
    y0, y1 = center_y - depth / 2, center_y + depth / 2
    front = np.column_stack([p[:, 0], np.full(n, y0), p[:, 1]])
    back = np.column_stack([p[:, 0], np.full(n, y1), p[:, 1]])
    vertices = np.concatenate([front, back])
    tris = [[0, i, i + 1] for i in range(1, n - 1)]
    tris += [[n, n + i + 1, n + i] for i in range(1, n - 1)]
    for i in range(n):
        k = (i + 1) % n
        tris += [[i, k, n + k], [i, n + k, n + i]]
    return Mesh(vertices, np.asarray(tris, dtype=np.int32))
