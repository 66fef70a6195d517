"""From raw sensor points to what the point encoder sees, with numpy and scipy only.

The one path a cloud takes between `cloud.xyz_from_cloud` and the encoder:

    scene mode:  crop → voxel → remove ground → cluster → for each object: prepare_object
                 (organised sweeps: crop → ground and objects on the range image → voxel each
                 object, see `range_image`; `SceneConfig.segmentation` chooses)
    object mode: crop → voxel → prepare_object

`prepare_object` samples a fixed number of points by farthest point sampling, centres them on
their box and scales them into the unit sphere; the metric size travels beside the shape as its
own input (a cup and a bathtub can have the same normalised shape). Training calls the same
functions, so a model never sees a cloud prepared differently from the robot's.

Conventions: metres, z up (gravity), sensor frame; boxes are upright and turned about z only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from ros_pointlang import kernels, range_image
from ros_pointlang.range_image import RangeImage

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Box:
    """An upright box: centre (3,), yaw about z in radians, size (length ≥ width, height)."""

    centre: npt.NDArray[np.float64]
    yaw: float
    size: npt.NDArray[np.float64]  # (length, width, height), metres, length >= width


@dataclass(frozen=True)
class PreparedObject:
    """One object ready for the encoder, and where it was."""

    points: FloatArray  # (num_points, 3), centred on the box, inside the unit sphere
    size: FloatArray  # (3,) the box's (length, width, height) in metres
    box: Box
    num_points: int  # raw points the object had before sampling


SEGMENTATIONS = ("auto", "range_image", "euclidean")


@dataclass(frozen=True)
class SceneConfig:
    """How a scene is cut into objects. Defaults suit a LiDAR on a mobile robot."""

    crop_min: tuple[float, float, float] = (-20.0, -20.0, -3.0)
    crop_max: tuple[float, float, float] = (20.0, 20.0, 3.0)
    voxel_size: float = 0.03  # metres; 0 keeps every point
    ground_threshold: float = 0.05  # metres from the plane that count as ground
    ground_max_tilt_deg: float = 15.0  # a floor is near horizontal; walls are not floors
    cluster_tolerance: float = 0.12  # metres between points of one object
    min_cluster_points: int = 30
    max_cluster_points: int = 100_000
    # Metres; clusters longer (`footprint_length`) or taller than this are walls or structure.
    # Judged on the object's own footprint, not on its sensor-frame extent, so its heading does
    # not decide whether it is kept.
    max_object_size: float = 4.0
    min_object_height: float = 0.05  # metres; flatter clusters are floor the plane fit missed
    # auto: organised sweeps (height > 1) on their range image, others euclidean; range_image:
    # organised ones on it even where auto judges the layout unlike a spinning LiDAR's.
    segmentation: str = "auto"
    ground_angle: float = 10.0  # degrees; steeper rises between rings are not ground
    segment_angle: float = 10.0  # degrees; beta below which two neighbouring returns part

    def __post_init__(self) -> None:
        if self.segmentation not in SEGMENTATIONS:
            raise ValueError(
                f"segmentation {self.segmentation!r} is unknown; expected one of {SEGMENTATIONS}"
            )


def crop_box(xyz: FloatArray, lower: npt.ArrayLike, upper: npt.ArrayLike) -> FloatArray:
    """Keep the points with lower <= p <= upper on every axis."""
    lo, hi = np.asarray(lower, np.float32), np.asarray(upper, np.float32)
    if lo.shape != (3,) or hi.shape != (3,) or np.any(lo > hi):
        raise ValueError(f"crop box must be two 3-vectors with lower <= upper, got {lo}, {hi}")
    inside = np.all((xyz >= lo) & (xyz <= hi), axis=1)
    return xyz[inside]


def voxel_downsample(xyz: FloatArray, voxel_size: float) -> FloatArray:
    """One point per occupied voxel: the mean of the points in it, in (x, y, z) voxel order.
    0 returns the input."""
    if voxel_size < 0:
        raise ValueError(f"voxel_size must be >= 0 metres, got {voxel_size}")
    if voxel_size == 0 or len(xyz) == 0:
        return xyz
    cells = np.floor(xyz / voxel_size).astype(np.int64)
    cells -= cells.min(axis=0)
    extent = cells.max(axis=0) + 1
    # One int64 key per voxel sorts like the (x, y, z) rows it encodes: a 1-D unique is ~10x
    # faster than np.unique(axis=0), and bincount sums in input order as np.add.at did.
    keys = (cells[:, 0] * extent[1] + cells[:, 1]) * extent[2] + cells[:, 2]
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.stack(
        [np.bincount(inverse, weights=xyz[:, j], minlength=len(counts)) for j in range(3)], axis=1
    )
    return (sums / counts[:, None]).astype(np.float32)


def voxel_downsample_groups(
    xyz: FloatArray, groups: Sequence[npt.NDArray[np.intp]], voxel_size: float
) -> list[FloatArray]:
    """`voxel_downsample` of each group of points (indices into `xyz`) in one pass: the same
    points as one call per group (in the compiled kernel where it is built)."""
    if voxel_size < 0:
        raise ValueError(f"voxel_size must be >= 0 metres, got {voxel_size}")
    if voxel_size == 0 or not groups:
        return [xyz[g] for g in groups]
    if kernels.LIBRARY is not None:
        return kernels.voxel_groups(np.ascontiguousarray(xyz, np.float32), list(groups), voxel_size)
    members = np.concatenate(groups)
    owner = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    points = xyz[members]
    cells = np.floor(points / voxel_size).astype(np.int64)
    cells -= cells.min(axis=0)
    extent = cells.max(axis=0) + 1
    keys = ((owner * extent[0] + cells[:, 0]) * extent[1] + cells[:, 1]) * extent[2] + cells[:, 2]
    unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.stack(
        [np.bincount(inverse, weights=points[:, j], minlength=len(counts)) for j in range(3)],
        axis=1,
    )
    means = (sums / counts[:, None]).astype(np.float32)
    bounds = np.searchsorted(
        unique // (extent[0] * extent[1] * extent[2]), np.arange(len(groups) + 1)
    )
    return [means[bounds[k] : bounds[k + 1]] for k in range(len(groups))]


def fit_ground_plane(
    xyz: FloatArray,
    threshold: float,
    max_tilt_deg: float = 15.0,
    iterations: int = 100,
    rng: np.random.Generator | None = None,
) -> npt.NDArray[np.bool_]:
    """Mask of the points on the dominant near-horizontal plane (RANSAC); all False if none.

    Only planes whose normal is within `max_tilt_deg` of z count, so a large wall is never
    taken for the floor. The lowest such plane wins ties, as a table top is not the ground.
    """
    n = len(xyz)
    if n < 3:
        return np.zeros(n, bool)
    rng = rng or np.random.default_rng(0)
    min_nz = np.cos(np.radians(max_tilt_deg))
    samples = xyz[rng.integers(0, n, size=(iterations, 3))].astype(np.float64)  # (I, 3, 3)
    normals = np.cross(samples[:, 1] - samples[:, 0], samples[:, 2] - samples[:, 0])  # (I, 3)
    norms = np.linalg.norm(normals, axis=1)
    ok = norms > 1e-9
    normals[ok] /= norms[ok, None]
    ok &= np.abs(normals[:, 2]) >= min_nz
    if not ok.any():
        return np.zeros(n, bool)
    normals, anchors = normals[ok], samples[ok, 0]
    offsets = -np.einsum("ij,ij->i", normals, anchors)  # plane: n·p + d = 0
    # Score on a subsample: cheap and plenty to rank candidate planes.
    probe = xyz[rng.choice(n, size=min(n, 2000), replace=False)].astype(np.float64)
    inliers = np.abs(probe @ normals.T + offsets) < threshold  # (P, I)
    scores = inliers.sum(axis=0)
    heights = -offsets / normals[:, 2]  # the plane's z at the origin
    best = np.lexsort((heights, -scores))[0]
    return np.abs(xyz.astype(np.float64) @ normals[best] + offsets[best]) < threshold


def euclidean_clusters(
    xyz: FloatArray, tolerance: float, min_points: int = 1, max_points: int | None = None
) -> list[npt.NDArray[np.intp]]:
    """Indices of each cluster of points, largest first.

    Points fall into cells of `tolerance`; cells that touch (26-connectivity) form one
    cluster. Points up to ~2x `tolerance` apart may join, never points farther than that.
    """
    if tolerance <= 0:
        raise ValueError(f"cluster tolerance must be > 0 metres, got {tolerance}")
    if len(xyz) == 0:
        return []
    cells = np.floor(xyz / tolerance).astype(np.int64)
    cells -= cells.min(axis=0)
    shape = cells.max(axis=0) + 1
    if np.prod(shape) > 200_000_000:
        raise ValueError(
            f"cluster grid of {shape.tolist()} cells at tolerance {tolerance} m is too large; "
            "crop the cloud first"
        )
    grid = np.zeros(shape, bool)
    grid[cells[:, 0], cells[:, 1], cells[:, 2]] = True
    labels, count = ndimage.label(grid, structure=np.ones((3, 3, 3), bool))
    point_labels = labels[cells[:, 0], cells[:, 1], cells[:, 2]]
    order = np.argsort(point_labels, kind="stable")
    bounds = np.searchsorted(point_labels[order], np.arange(1, count + 2))
    clusters = [order[bounds[i] : bounds[i + 1]] for i in range(count)]
    upper = max_points if max_points is not None else len(xyz)
    clusters = [c for c in clusters if min_points <= len(c) <= upper]
    return sorted(clusters, key=len, reverse=True)


def farthest_point_sample(xyz: FloatArray, num_points: int, start: int = 0) -> npt.NDArray[np.intp]:
    """Indices of `num_points` points spread evenly over the cloud, farthest first.

    A cloud with fewer points is repeated cyclically, so the result always has `num_points`.
    """
    return farthest_point_sample_batch([xyz], num_points, start)[0]


def farthest_point_sample_batch(
    clouds: Sequence[FloatArray], num_points: int, start: int = 0
) -> list[npt.NDArray[np.intp]]:
    """`farthest_point_sample` of several clouds at once, with the same indices as one by one.

    Clouds with at most `num_points` points cost only their cyclic repeat; the others run in
    the compiled kernel, or in numpy in one loop of `num_points` steps over all of them at once
    (a scene of 20 objects pays the per-step Python cost once, not 20 times).
    """
    if num_points <= 0:
        raise ValueError(f"num_points must be > 0, got {num_points}")
    result: list[npt.NDArray[np.intp]] = []
    large: list[int] = []
    for k, xyz in enumerate(clouds):
        if len(xyz) == 0:
            raise ValueError(f"cannot sample points from an empty cloud (cloud {k})")
        result.append(np.resize(np.arange(len(xyz)), num_points))
        if len(xyz) > num_points:
            large.append(k)
    if not large:
        return result
    big = [clouds[k] for k in large]
    if kernels.LIBRARY is not None:
        chosen = kernels.farthest_point_sample(big, num_points, start)
    else:
        chosen = _farthest_point_sample_numpy(big, num_points, start)
    for row, k in enumerate(large):
        result[k] = chosen[row]
    return result


def _farthest_point_sample_numpy(
    clouds: list[FloatArray], num_points: int, start: int
) -> npt.NDArray[np.intp]:
    """(clouds, num_points) indices of clouds larger than `num_points`: the reference the
    compiled kernel reproduces, and the path where it is not built."""
    sizes = [len(cloud) for cloud in clouds]
    # Coordinates as (3, clouds, points) planes: three contiguous passes per step are ~4x
    # faster than an einsum over (clouds, points, 3), with the same x² + y² + z² rounding.
    planes = np.zeros((3, len(clouds), max(sizes)), np.float32)
    # Padding starts at -inf distance: np.minimum keeps it there, so argmax never picks it.
    distance = np.full(planes.shape[1:], np.inf, np.float32)
    for row, cloud in enumerate(clouds):
        planes[:, row, : sizes[row]] = cloud.T
        distance[row, sizes[row] :] = -np.inf
    rows = np.arange(len(clouds))
    chosen = np.empty((len(clouds), num_points), np.intp)
    index = np.full(len(clouds), start, np.intp)
    squared, delta = np.empty_like(distance), np.empty_like(distance)
    for i in range(num_points):
        chosen[:, i] = index
        centre = planes[:, rows, index, None]  # (3, clouds, 1)
        np.subtract(planes[0], centre[0], out=delta)
        np.multiply(delta, delta, out=squared)
        for axis in (1, 2):
            np.subtract(planes[axis], centre[axis], out=delta)
            delta *= delta
            squared += delta
        np.minimum(distance, squared, out=distance)
        index = np.argmax(distance, axis=1)
    return chosen


def upright_box(xyz: FloatArray) -> Box:
    """The upright box around the points, turned about z to their main horizontal axis."""
    if len(xyz) == 0:
        raise ValueError("cannot fit a box to an empty cloud")
    xy = xyz[:, :2].astype(np.float64)
    centred = xy - xy.mean(axis=0)
    if len(xyz) >= 2 and np.any(centred):
        _, vectors = np.linalg.eigh(centred.T @ centred)
        major = vectors[:, 1]  # eigh sorts ascending: the last is the main axis
    else:
        major = np.array([1.0, 0.0])
    yaw = float(np.arctan2(major[1], major[0]))
    # A box has no front: keep yaw in (-pi/2, pi/2] so the same object gives the same box.
    if yaw <= -np.pi / 2:
        yaw += np.pi
    elif yaw > np.pi / 2:
        yaw -= np.pi
    c, s = np.cos(yaw), np.sin(yaw)
    local = xy @ np.array([[c, -s], [s, c]])  # rotate by -yaw
    lo = np.concatenate([local.min(axis=0), [xyz[:, 2].min()]])
    hi = np.concatenate([local.max(axis=0), [xyz[:, 2].max()]])
    mid = (lo + hi) / 2
    centre = np.array([c * mid[0] - s * mid[1], s * mid[0] + c * mid[1], mid[2]])
    size = hi - lo
    if size[1] > size[0]:  # length is the longer horizontal side
        size[[0, 1]] = size[[1, 0]]
        yaw = yaw - np.pi / 2 if yaw > 0 else yaw + np.pi / 2
    return Box(centre=centre, yaw=float(yaw), size=size)


def footprint_length(xyz: FloatArray) -> float:
    """An object's length seen from above, in metres, whatever its heading: the longer side of
    the smallest rectangle around the horizontal points (rotating calipers; of rectangles
    within 2 % of the smallest area, the one with the shortest long side). Also right where
    only two sides of an object were seen: around an L the rectangle along its diagonal has the
    same area, and the main axis of `upright_box` tilts toward the short side and overstates
    the length."""
    xy = xyz[:, :2].astype(np.float64)
    if len(xy) == 0:
        return 0.0
    try:
        corners = xy[ConvexHull(xy).vertices]
    except (QhullError, ValueError):  # fewer than 3 distinct points, or all on one line
        return float(np.hypot(*np.ptp(xy, axis=0)))
    edges = np.roll(corners, -1, axis=0) - corners
    angles = np.arctan2(edges[:, 1], edges[:, 0])
    c, s = np.cos(angles), np.sin(angles)
    along = np.ptp(corners @ np.stack([c, s]), axis=0)  # per edge direction
    across = np.ptp(corners @ np.stack([-s, c]), axis=0)
    area = along * across
    near = area <= 1.02 * area.min()
    return float(np.maximum(along, across)[near].min())


def prepare_object(xyz: FloatArray, num_points: int) -> PreparedObject:
    """Sample, centre and scale one object's points for the encoder (see the module doc)."""
    return prepare_objects([xyz], num_points)[0]


def prepare_objects(clouds: Sequence[FloatArray], num_points: int) -> list[PreparedObject]:
    """`prepare_object` of several objects, sampled together (`farthest_point_sample_batch`)."""
    for k, xyz in enumerate(clouds):
        if len(xyz) == 0:
            raise ValueError(f"cannot prepare an empty cloud (object {k}): it has no points")
        if not np.all(np.isfinite(xyz)):
            raise ValueError(
                f"object {k} has NaN or infinite coordinates; drop them first (xyz_from_cloud)"
            )
    samples = farthest_point_sample_batch(clouds, num_points)
    prepared = []
    for xyz, indices in zip(clouds, samples, strict=True):
        box = upright_box(xyz)
        centred = xyz[indices] - box.centre.astype(np.float32)
        radius = float(np.sqrt(np.max(np.einsum("ij,ij->i", centred, centred))))
        unit = centred / radius if radius > 0 else centred
        prepared.append(
            PreparedObject(
                points=unit.astype(np.float32),
                size=box.size.astype(np.float32),
                box=box,
                num_points=len(xyz),
            )
        )
    return prepared


def segment_scene(
    xyz: FloatArray,
    config: SceneConfig,
    rng: np.random.Generator | None = None,
    image: RangeImage | None = None,
) -> list[FloatArray]:
    """The points of each object in a scene, largest first: crop, voxel, ground removal and
    clustering, or for an organised sweep (`image`, of the same returns as `xyz`; see
    `range_image.read_sweep`) the same cuts on its range image, as `config.segmentation` says."""
    if image is not None and uses_range_image(image, config):
        groups = range_image.segment(
            image,
            config.crop_min,
            config.crop_max,
            # The reach of euclidean clustering, whose cells of the tolerance join points up
            # to about twice it apart.
            2 * config.cluster_tolerance,
            config.segment_angle,
            config.ground_angle,
            min_points=config.min_cluster_points,  # voxels are never more than returns
        )
        clusters = voxel_downsample_groups(image.points, groups, config.voxel_size)
        return _objects(clusters, config)
    cropped = crop_box(xyz, config.crop_min, config.crop_max)
    points = voxel_downsample(cropped, config.voxel_size)
    ground = fit_ground_plane(points, config.ground_threshold, config.ground_max_tilt_deg, rng=rng)
    points = points[~ground]
    clusters = [
        points[indices]
        for indices in euclidean_clusters(
            points, config.cluster_tolerance, config.min_cluster_points, config.max_cluster_points
        )
    ]
    return _objects(clusters, config)


def uses_range_image(image: RangeImage, config: SceneConfig) -> bool:
    """Whether `segment_scene` cuts this organised sweep on its range image."""
    if config.segmentation == "euclidean":
        return False
    return config.segmentation == "range_image" or image.coverage >= range_image.MIN_COVERAGE


def _objects(clusters: list[FloatArray], config: SceneConfig) -> list[FloatArray]:
    """The clusters that are objects (their points, largest first): within the point counts,
    not too large for an object, not too flat."""
    objects = []
    for cluster in clusters:
        if not config.min_cluster_points <= len(cluster) <= config.max_cluster_points:
            continue
        height = float(cluster[:, 2].max() - cluster[:, 2].min())
        if height < config.min_object_height or height > config.max_object_size:
            continue
        # The sensor-frame extent bounds the length: measure it only where it may be too long.
        extent = cluster[:, :2].max(axis=0) - cluster[:, :2].min(axis=0)
        if float(np.hypot(*extent)) > config.max_object_size:
            if footprint_length(cluster) > config.max_object_size:
                continue
        objects.append(cluster)
    return sorted(objects, key=len, reverse=True)
