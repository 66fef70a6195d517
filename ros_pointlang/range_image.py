"""Scene segmentation of an organised LiDAR sweep on its range image (rings x azimuth).

An organised cloud (PointCloud2 ``height > 1``: Ouster, Velodyne and Hesai drivers in organised
mode) keeps every firing of every beam, return or not. Its returns form an image: one row per
ring (beam), lowest beam first, one column per azimuth step, the last column beside the first.
Neighbours in that image are neighbours in the sensor's view, so the scene is cut in a few
passes over the image instead of a voxel grid of the whole scene:

* ground: walking up each column from its lowest return (ground), a return is ground where the
  slope up from the column's last ground return is under ``ground_angle``, with at most
  MAX_RUN metres of run counted (the column-wise angle between rings of Bogoslavskyi &
  Stachniss 2017, "Efficient online segmentation for sparse 3D laser scans"; measured from the
  last ground return rather than the return below, one noisy return does not end a column's
  ground, and the road seen over a low object is ground again);
* objects: connected components of the other returns, where two neighbours in the image join
  when they are within ``tolerance`` of each other (also across up to MAX_GAP missing returns:
  dark paint, glass), or, side by side, when the line between them makes at least
  ``segment_angle`` with the farther one's beam (the angle beta of Bogoslavskyi & Stachniss
  2016, "Fast range image-based segmentation of sparse 3D laser scans for online operation"):
  a surface seen across joins, a jump in depth (beta near 0) separates. Scene mode passes
  twice ``cluster_tolerance``: the reach of euclidean clustering's cells.

Rows come from the cloud's ``ring`` field where it has one (older Ouster drivers lay a sweep out
column by column, so message rows are not rings), else from the message rows; rings are ordered
by elevation, whichever way the driver counts them, and rings without a return are left out.
Columns come from each return's azimuth, so drivers that stagger beams by a few columns
(Ouster without destaggering) still give true neighbours.

Building the image and labelling it run in the compiled kernels where they are built
(``kernels``), else in numpy and scipy: the same arithmetic (float64, in the same order), the
same images and labels (tests/test_kernels.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ros_pointlang import kernels

FloatArray = npt.NDArray[np.float32]
IndexArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

# Returns may share a pixel where a driver's azimuths jitter; below this share of returns with
# a pixel of their own, the cloud is not laid out as a spinning LiDAR's sweep (a depth camera's
# organised image is not: its columns span a narrow field of view).
MIN_COVERAGE = 0.95
# Missing returns bridged between two neighbours in a row or a column (kernels.cpp): across a
# gap only cluster_tolerance joins them (beta assumes the beams of neighbours nearly parallel).
MAX_GAP = 3
MAX_RING_ID = 1023
# Ground: the horizontal run that counts toward the slope allowance at most, in metres, so a
# surface far behind an occluder (a car's side seen over a pedestrian) is not taken for ground.
MAX_RUN = 2.0


@dataclass(frozen=True)
class RangeImage:
    """A sweep's returns and where each sits in the (ring, azimuth) image."""

    points: FloatArray  # (N, 3) the valid returns, in cloud order (as xyz_from_cloud gives)
    pixels: IndexArray  # (rings, columns): index into points, -1: no return; row 0 lowest beam

    @property
    def coverage(self) -> float:
        """Share of the returns that have a pixel of their own (1.0 for a clean sweep)."""
        if len(self.points) == 0:
            return 1.0
        return float(np.count_nonzero(self.pixels >= 0)) / len(self.points)


def valid_mask(xyz: FloatArray) -> BoolArray:
    """(N,) True where a point of (N, 3) float32 `xyz` is a return: finite and not exactly
    (0, 0, 0), the "no return" of Ouster and others (the rule of ``cloud.xyz_from_cloud``)."""
    # 0 < max(|x|, |y|, |z|) < inf on the IEEE bits without the sign: integer passes only.
    bits = np.ascontiguousarray(xyz, np.float32).view(np.uint32) & np.uint32(0x7FFFFFFF)
    largest = np.maximum(np.maximum(bits[:, 0], bits[:, 1]), bits[:, 2])
    largest -= np.uint32(1)  # zero wraps around and fails
    return largest < np.uint32(0x7F7FFFFF)


def organise(xyz: npt.ArrayLike, rings: npt.ArrayLike | None = None) -> RangeImage:
    """The range image of an organised sweep: `xyz` (height, width, 3) with every firing in
    place (NaN or zeros where none came back), `rings` (height, width) the ring of each point
    or None where message rows are rings."""
    cloud = np.asarray(xyz)
    if cloud.ndim != 3 or cloud.shape[2] != 3:
        raise ValueError(f"an organised sweep is (height, width, 3); got shape {cloud.shape}")
    height, width = cloud.shape[:2]
    flat = np.ascontiguousarray(cloud.reshape(-1, 3), np.float32)
    ring_of: npt.NDArray[np.int32] | None = None
    if rings is not None:
        given = np.asarray(rings)
        if given.shape != (height, width) or given.dtype.kind not in "iu":
            raise ValueError(
                f"rings must be integers of shape {(height, width)}; got {given.dtype} "
                f"of shape {given.shape}"
            )
        if given.size and (given.min() < 0 or given.max() > MAX_RING_ID):
            raise ValueError(
                f"rings run from {given.min()} to {given.max()}; expected 0..{MAX_RING_ID}"
            )
        ring_of = np.ascontiguousarray(given.reshape(-1), np.int32)
    if flat.size == 0:
        return RangeImage(np.empty((0, 3), np.float32), np.full((0, 0), -1, np.int32))
    if kernels.LIBRARY is not None:
        built = kernels.range_image(flat, ring_of, width)
        if isinstance(built, int):
            raise _uneven(height * width, ring_of)
        return RangeImage(*built)
    return _organise_numpy(flat, ring_of, width)


def _uneven(n: int, ring_of: npt.NDArray[np.int32] | None) -> ValueError:
    rings = "no" if ring_of is None else len(np.unique(ring_of))
    return ValueError(
        f"{n} points do not split into {rings} rings of equal length; expected an organised "
        "sweep with every firing of every ring in place"
    )


def _organise_numpy(
    flat: FloatArray, ring_of: npt.NDArray[np.int32] | None, width: int
) -> RangeImage:
    """`organise` in numpy: the reference of kernels.cpp's pointlang_range_image."""
    n = len(flat)
    valid = valid_mask(flat)
    points = flat[valid]
    if ring_of is None:
        n_rings = n // width
        slot = np.flatnonzero(valid) // width
    else:
        firings = np.bincount(ring_of, minlength=MAX_RING_ID + 1)
        present = firings > 0
        n_rings = int(present.sum())
        if len(np.unique(firings[present])) > 1:
            raise _uneven(n, ring_of)
        slot_of_id = np.cumsum(present) - 1
        slot = slot_of_id[ring_of[valid]]
    if n_rings == 0 or n % n_rings:
        raise _uneven(n, ring_of)
    columns = n // n_rings
    if len(points) == 0:
        return RangeImage(points, np.full((0, columns), -1, np.int32))
    x, y, z = (points[:, j].astype(np.float64) for j in range(3))
    rise = np.bincount(slot, weights=z / np.sqrt((x * x + y * y) + z * z), minlength=n_rings)
    returns = np.bincount(slot, minlength=n_rings)
    lit = np.flatnonzero(returns)
    order = lit[np.argsort(rise[lit] / returns[lit], kind="stable")]  # lowest beam first
    row_of_slot = np.full(n_rings, -1, np.int64)
    row_of_slot[order] = np.arange(len(order))
    column = np.floor((np.arctan2(y, x) + np.pi) * (columns / (2 * np.pi))).astype(np.int64)
    column %= columns
    pixels = np.full(len(order) * columns, -1, np.int32)
    # Of returns in one pixel the last wins (deterministic, unlike a fancy assignment).
    np.maximum.at(
        pixels, row_of_slot[slot] * columns + column, np.arange(len(points), dtype=np.int32)
    )
    return RangeImage(points, pixels.reshape(len(order), columns))


def label(
    image: RangeImage,
    crop_min: npt.ArrayLike,
    crop_max: npt.ArrayLike,
    tolerance: float,
    segment_angle_deg: float,
    ground_angle_deg: float,
) -> IndexArray:
    """(N,) for each return of an object the smallest point index of its object, -1 for the
    ground, returns outside the crop box and returns without a pixel (see the module doc)."""
    if tolerance <= 0:
        raise ValueError(f"cluster tolerance must be > 0 metres, got {tolerance}")
    for name, angle in (("segment_angle", segment_angle_deg), ("ground_angle", ground_angle_deg)):
        if not 0.0 < angle < 90.0:
            raise ValueError(f"{name} must be in (0, 90) degrees, got {angle}")
    lower, upper = np.asarray(crop_min, np.float32), np.asarray(crop_max, np.float32)
    if lower.shape != (3,) or upper.shape != (3,) or np.any(lower > upper):
        raise ValueError(
            f"crop box must be two 3-vectors with lower <= upper, got {lower}, {upper}"
        )
    tan_ground = float(np.tan(np.radians(ground_angle_deg)))
    cos2_beta = float(np.cos(np.radians(segment_angle_deg)) ** 2)
    tolerance2 = float(tolerance) * float(tolerance)
    points = np.ascontiguousarray(image.points, np.float32)
    pixels = np.ascontiguousarray(image.pixels, np.int32)
    if kernels.LIBRARY is not None:
        return kernels.segment_range_image(
            points, pixels, lower, upper, tan_ground, tolerance2, cos2_beta
        )
    inside = np.all((points >= lower) & (points <= upper), axis=1)
    cropped = np.where(pixels >= 0, pixels, 0)
    cropped = np.where((pixels >= 0) & inside[cropped], pixels, -1).astype(np.int32)
    ground = _ground(points, cropped, tan_ground)
    objects = np.where(cropped >= 0, cropped, 0)
    objects = np.where((cropped >= 0) & ~ground[objects], cropped, -1).astype(np.int32)
    a, b, adjacent = _neighbour_pairs(objects)
    joined = _same_object(points, a, b, adjacent, tolerance2, cos2_beta)
    roots = _components(len(points), a[joined], b[joined])
    labels = np.full(len(points), -1, np.int32)
    members = objects[objects >= 0]
    labels[members] = roots[members]
    return labels


def _ground(points: FloatArray, pixels: IndexArray, tan_ground: float) -> BoolArray:
    """(N,) True for the ground returns of `pixels`: the reference of the kernel's ground."""
    ground = np.zeros(len(points), bool)
    columns = pixels.shape[1]
    started = np.zeros(columns, bool)
    last_z = np.zeros(columns)  # the column's last ground return: height, horizontal range
    last_run = np.zeros(columns)
    for row in pixels:  # lowest ring first
        lit = row >= 0
        if not lit.any():
            continue
        index = np.where(lit, row, 0)
        x, y, z = (points[index, j].astype(np.float64) for j in range(3))
        run = np.sqrt(x * x + y * y)
        flat = np.abs(z - last_z) <= tan_ground * np.minimum(np.abs(run - last_run), MAX_RUN)
        take = lit & (~started | flat)  # a column's lowest return starts its ground
        ground[row[take]] = True
        last_z = np.where(take, z, last_z)
        last_run = np.where(take, run, last_run)
        started |= lit
    return ground


def _neighbour_pairs(pixels: IndexArray) -> tuple[IndexArray, IndexArray, BoolArray]:
    """(a, b, adjacent): point indices of neighbours in the image, along rows (wrapping) and
    columns, across at most MAX_GAP pixels without a return; adjacent where there are none."""
    firsts, seconds, adjacent = [], [], []
    for axis in (1, 0):
        for step in range(1, MAX_GAP + 2):
            if axis == 1:
                a, b = pixels, np.roll(pixels, -step, axis=1)
            else:
                a, b = pixels[:-step], pixels[step:]
            pair = (a >= 0) & (b >= 0)
            for gap in range(1, step):  # the pixels between must be empty
                between = np.roll(pixels, -gap, axis=1) if axis == 1 else pixels[gap : gap - step]
                pair &= between < 0
            firsts.append(a[pair])
            seconds.append(b[pair])
            adjacent.append(np.full(np.count_nonzero(pair), step == 1))
    return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(adjacent)


def _same_object(
    points: FloatArray,
    a: IndexArray,
    b: IndexArray,
    adjacent: BoolArray,
    tolerance2: float,
    cos2_beta: float,
) -> BoolArray:
    """For each pair of neighbouring returns (a[k], b[k]): one object? float64, in the
    kernel's order of operations; beta only for adjacent pixels."""
    pa, pb = points[a].astype(np.float64), points[b].astype(np.float64)
    ra = (pa[:, 0] * pa[:, 0] + pa[:, 1] * pa[:, 1]) + pa[:, 2] * pa[:, 2]
    rb = (pb[:, 0] * pb[:, 0] + pb[:, 1] * pb[:, 1]) + pb[:, 2] * pb[:, 2]
    a_far = ra >= rb
    far = np.where(a_far[:, None], pa, pb)
    step = far - np.where(a_far[:, None], pb, pa)  # from the nearer return to the farther
    gap2 = (step[:, 0] * step[:, 0] + step[:, 1] * step[:, 1]) + step[:, 2] * step[:, 2]
    # cos(beta) = far . step / (|far| |step|), beta the angle at the farther return between
    # its beam back to the sensor and the line to the nearer one; squared, without a root.
    dot = (far[:, 0] * step[:, 0] + far[:, 1] * step[:, 1]) + far[:, 2] * step[:, 2]
    far2 = np.where(a_far, ra, rb)
    steep = (dot <= 0) | (dot * dot <= cos2_beta * (far2 * gap2))
    return (gap2 <= tolerance2) | (adjacent & steep)


def _components(count: int, a: IndexArray, b: IndexArray) -> IndexArray:
    """Component of each of `count` nodes joined by edges (a, b), labelled by its smallest
    node index (so any correct labelling gives the same labels)."""
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(count, count))
    _, components = connected_components(graph, directed=False)
    smallest = np.full(int(components.max()) + 1 if count else 0, count, np.int64)
    np.minimum.at(smallest, components, np.arange(count))
    return smallest[components].astype(np.int32)


def groups(
    labels: IndexArray, min_points: int = 1, max_points: int | None = None
) -> list[npt.NDArray[np.intp]]:
    """Indices of the points of each label (-1: none), the largest group first (ties: the
    smaller label first); groups outside [min_points, max_points] are left out."""
    indices = np.flatnonzero(labels >= 0)
    if len(indices) == 0:
        return []
    # Members by label, each group in point order: one sort of label * N + index.
    keys = np.sort(labels[indices].astype(np.int64) * len(labels) + indices)
    indices = keys % len(labels)
    sorted_labels = keys // len(labels)
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, len(indices)])
    upper = max_points if max_points is not None else len(indices)
    chosen = [k for k in np.argsort(-sizes, kind="stable") if min_points <= sizes[k] <= upper]
    return [indices[starts[k] : starts[k] + sizes[k]] for k in chosen]


def segment(
    image: RangeImage,
    crop_min: npt.ArrayLike,
    crop_max: npt.ArrayLike,
    tolerance: float,
    segment_angle_deg: float,
    ground_angle_deg: float,
    min_points: int = 1,
    max_points: int | None = None,
) -> list[npt.NDArray[np.intp]]:
    """Indices into `image.points` of each object (see `label`), the largest first."""
    labels = label(image, crop_min, crop_max, tolerance, segment_angle_deg, ground_angle_deg)
    return groups(labels, min_points, max_points)


def from_cloud(msg: Any) -> RangeImage | None:
    """The range image of an organised PointCloud2 (with its ``ring`` field where it has one),
    or None for an unorganised one (height 1). Raises ValueError for a layout that is not a
    sweep's (see `organise`)."""
    from ros_pointlang import cloud

    height, width = int(msg.height), int(msg.width)
    if height <= 1:
        return None
    xyz = cloud.xyz_from_cloud(msg, drop_invalid=False)
    return organise(xyz.reshape(height, width, 3), _rings(msg))


def _rings(msg: Any) -> npt.NDArray[np.int64] | None:
    """The (height, width) ``ring`` field of an organised cloud, or None without one."""
    from ros_pointlang import cloud

    if not any(f.name == "ring" for f in msg.fields):
        return None
    rings = cloud.read_points_numpy(msg, ["ring"], reshape_organized_cloud=True)[..., 0]
    if rings.dtype.kind == "f":  # a few drivers send the ring as a float
        rings = np.nan_to_num(rings, nan=-1)
    return np.asarray(rings, np.int64)


def read_sweep(msg: Any, organised: bool = True) -> tuple[FloatArray, RangeImage | None]:
    """The valid x, y, z of a PointCloud2 (as ``cloud.xyz_from_cloud`` gives them) and, with
    `organised`, its range image: None for an unorganised cloud (height 1) or one whose layout
    is not a sweep's (rings of unequal length), which then takes the euclidean path. Raises
    ValueError for a malformed message, as ``xyz_from_cloud`` does."""
    from ros_pointlang import cloud

    height, width = int(msg.height), int(msg.width)
    if not organised or height <= 1:
        return cloud.xyz_from_cloud(msg), None
    xyz = cloud.xyz_from_cloud(msg, drop_invalid=False)  # a malformed message raises here
    try:
        image = organise(xyz.reshape(height, width, 3), _rings(msg))
    except ValueError:
        return xyz[valid_mask(xyz)], None
    return image.points, image
