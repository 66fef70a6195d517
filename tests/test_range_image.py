"""Scene segmentation on the range image of organised sweeps (ros_pointlang/range_image.py): on
the real Ouster OS1-64 scan, on organised sweeps of the data engine's street scenes with the
truth of every return, and on the clouds that go wrong (NaN, dead rings, height 1, odd layouts)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sensor_msgs.msg import PointField
from std_msgs.msg import Header

from ros_pointlang import cloud
from ros_pointlang import preprocess as pp
from ros_pointlang import range_image as ri
from ros_pointlang.bench_scene import LIDAR_PARAMS, agreement, lidar_parameters
from ros_pointlang.describe import settings_from_parameters
from tests.organised_scans import organised_cloud, street_sweep

OUSTER = Path(__file__).parent / "data" / "ouster-os1-64"
LIDAR = settings_from_parameters(lidar_parameters(LIDAR_PARAMS), default_mode="scene").scene


def label(image, config=LIDAR):
    return ri.label(
        image,
        config.crop_min,
        config.crop_max,
        config.cluster_tolerance,
        config.segment_angle,
        config.ground_angle,
    )


@pytest.fixture(scope="module")
def ouster_scan():
    if not OUSTER.is_dir():
        pytest.skip("tests/data/ouster-os1-64 is missing")
    from ros_pointlang.bench import load_ouster_scan

    return load_ouster_scan(OUSTER)


@pytest.fixture(scope="module")
def street():
    return street_sweep(seed=3, objects=14)


# -- the real Ouster scan ------------------------------------------------------------------------


def test_the_ouster_scan_is_imaged_by_its_ring_field(ouster_scan):
    # This driver lays a sweep out column by column (each message row holds 32 firings of all 64
    # beams), so message rows are not rings: the ring field is.
    xyz, image = ri.read_sweep(ouster_scan)
    assert image is not None and image.pixels.shape == (64, 2048)
    assert np.array_equal(xyz, cloud.xyz_from_cloud(ouster_scan))  # the same returns, in order
    assert image.coverage == 1.0  # one pixel per return: the azimuths are a clean grid
    lit = image.pixels >= 0
    p = image.points[image.pixels[lit]]
    elevation = np.full(image.pixels.shape, np.nan)
    elevation[lit] = np.degrees(np.arcsin(p[:, 2] / np.linalg.norm(p, axis=1)))
    per_row = np.nanmedian(elevation, axis=1)
    assert np.all(np.diff(per_row) > 0), "row 0 is the lowest beam, then upwards"
    assert np.nanmax(np.nanmax(elevation, 1) - np.nanmin(elevation, 1)) < 0.5  # one beam a row
    # Neighbouring columns are neighbouring azimuths (the beams' stagger is undone).
    azimuth = np.arctan2(p[:, 1], p[:, 0])
    column = np.nonzero(lit)[1]
    assert np.allclose(azimuth, -np.pi + (column + 0.5) * 2 * np.pi / 2048, atol=np.pi / 2048)


def test_segment_scene_cuts_the_ouster_scan_like_euclidean_clustering(ouster_scan):
    xyz, image = ri.read_sweep(ouster_scan)
    assert pp.uses_range_image(image, LIDAR)
    found = pp.segment_scene(xyz, LIDAR, image=image)
    euclidean = pp.segment_scene(xyz, replace(LIDAR, segmentation="euclidean"))
    assert len(found) >= 10
    sizes = [len(o) for o in found]
    assert sizes == sorted(sizes, reverse=True)
    for points in found:  # the filters of the euclidean path hold
        height = np.ptp(points[:, 2])
        assert LIDAR.min_cluster_points <= len(points) <= LIDAR.max_cluster_points
        assert pp.footprint_length(points) <= LIDAR.max_object_size
        assert LIDAR.min_object_height <= height <= LIDAR.max_object_size
        lo, hi = np.float32(LIDAR.crop_min), np.float32(LIDAR.crop_max)
        assert np.all((points >= lo - 0.03) & (points <= hi + 0.03))
    # Most of what clustering finds, the range image finds too, voxel for voxel.
    same = agreement(euclidean, found, LIDAR.voxel_size)
    assert same["matched"] >= 0.6 * len(euclidean) and same["iou_mean"] > 0.8


# -- generated street scenes, with the truth of every return ------------------------------------


def truth_objects(sweep, config=LIDAR, min_returns=60):
    """Object index -> mask of its returns inside the crop box."""
    lo, hi = np.float32(config.crop_min), np.float32(config.crop_max)
    inside = np.all((sweep.xyz >= lo) & (sweep.xyz <= hi), axis=-1)
    owners, counts = np.unique(sweep.owner[inside & (sweep.owner >= 0)], return_counts=True)
    return {
        int(o): inside & (sweep.owner == o)
        for o, n in zip(owners, counts, strict=True)
        if n >= min_returns
    }


def owners(sweep):
    """The placed object each return of the sweep's image hit (its points are the sweep's
    returns in cloud order)."""
    flat = sweep.xyz.reshape(-1, 3)
    return sweep.owner.reshape(-1)[ri.valid_mask(flat)]


def test_ground_is_the_road_and_not_the_objects(street):
    image = ri.organise(street.xyz)
    labels = label(image)
    owner = owners(street)
    lo, hi = np.float32(LIDAR.crop_min), np.float32(LIDAR.crop_max)
    inside = np.all((image.points >= lo) & (image.points <= hi), axis=1)
    road = inside & (owner == -1) & (image.points[:, 2] < -1.6)  # the road, facades' feet
    objects = inside & (owner >= 0)
    lifted = image.points[:, 2] > -1.73 + 0.15  # clear of the road by 15 cm
    assert (labels[road] == -1).mean() > 0.9, "nearly all the road is ground"
    assert (labels[objects & lifted] >= 0).mean() > 0.97, "objects above the road are not"
    # Road returns the slope rule leaves out (range noise near the sensor, where rings are a
    # few cm apart) form flat specks that are no objects: hardly any end up in an object.
    kept = np.zeros(len(labels), bool)
    for group in ri.groups(labels, LIDAR.min_cluster_points):
        if np.ptp(image.points[group, 2]) >= LIDAR.min_object_height:
            kept[group] = True
    flat_road = road & (image.points[:, 2] < -1.65)
    assert (kept & flat_road).sum() < 0.01 * flat_road.sum()


def test_each_object_of_a_street_scene_is_one_cluster(street):
    image = ri.organise(street.xyz)
    labels = label(image)
    owner = owners(street)
    truth = truth_objects(street)
    assert len(truth) >= 6
    whole = 0
    for index in truth:
        mine = (owner == index) & (labels >= 0)
        values, counts = np.unique(labels[mine], return_counts=True)
        best = values[np.argmax(counts)]
        completeness = counts.max() / np.count_nonzero(owner == index)
        purity = np.mean(owner[labels == best] == index)
        whole += completeness >= 0.8 and purity >= 0.9
    assert whole >= 0.75 * len(truth), f"{whole} of {len(truth)} objects whole and pure"


def test_street_objects_as_segment_scene_returns_them(street):
    xyz_flat = street.xyz.reshape(-1, 3)
    cloud_msg = organised_cloud(street.xyz)
    xyz, image = ri.read_sweep(cloud_msg)
    assert image is not None and np.array_equal(xyz, xyz_flat[ri.valid_mask(xyz_flat)])
    found = pp.segment_scene(xyz, LIDAR, image=image)
    euclidean = pp.segment_scene(xyz, replace(LIDAR, segmentation="euclidean"))
    assert abs(len(found) - len(euclidean)) <= max(3, len(euclidean) // 3)
    # Voxelised as the euclidean path's points are: at most one point per voxel.
    for points in found:
        cells = np.floor(points / LIDAR.voxel_size).astype(np.int64)
        assert len(np.unique(cells, axis=0)) == len(points)
    assert agreement(euclidean, found, LIDAR.voxel_size)["matched"] >= 0.6 * len(euclidean)


def test_the_layout_of_rings_does_not_change_the_objects(street):
    def objects(image):
        return {
            np.sort(image.points[g].view(np.void)[:, 0]).tobytes() for g in ri.groups(label(image))
        }

    top_first = ri.organise(street.xyz)
    reference = objects(top_first)
    # Bottom ring first, and rings in scrambled rows named by a ring field.
    bottom_first = ri.organise(street.xyz[::-1])
    order = np.random.default_rng(0).permutation(len(street.xyz))
    rings = np.broadcast_to((len(street.xyz) - 1 - order)[:, None], street.xyz.shape[:2])
    scrambled = ri.organise(street.xyz[order], rings.astype(np.uint16))
    for image in (bottom_first, scrambled):
        assert image.pixels.shape == top_first.pixels.shape
        assert objects(image) == reference


def box_sweep(boxes, rings=64, columns=1024, sensor_height=1.0, noise=0.0, seed=0):
    """(rings, columns, 3) organised sweep of a flat floor and upright boxes (centre x, y,
    length, width, height), cast analytically; zeros where a ray hits nothing within 30 m."""
    rng = np.random.default_rng(seed)
    elevation = np.radians(np.linspace(-22.5, 22.5, rings))[::-1]  # top ring first
    azimuth = -np.pi + (np.arange(columns) + 0.5) * 2 * np.pi / columns
    el, az = np.meshgrid(elevation, azimuth, indexing="ij")
    d = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)
    t = np.where(d[..., 2] < 0, -sensor_height / np.minimum(d[..., 2], -1e-9), np.inf)
    for cx, cy, length, width, height in boxes:
        lo = np.array([cx - length / 2, cy - width / 2, -sensor_height])
        hi = np.array([cx + length / 2, cy + width / 2, -sensor_height + height])
        with np.errstate(divide="ignore", invalid="ignore"):
            t1, t2 = lo / d, hi / d
        near = np.nanmax(np.minimum(t1, t2), axis=-1)
        far = np.nanmin(np.maximum(t1, t2), axis=-1)
        hit = (near <= far) & (near > 0)
        t = np.where(hit & (near < t), near, t)
    t = np.where(t < 30, t + rng.normal(0, noise, t.shape), np.nan)
    xyz = (d * t[..., None]).astype(np.float32)
    return np.nan_to_num(xyz, nan=0.0)


def test_an_object_across_the_seam_of_the_sweep_is_one_object():
    # A box straddling azimuth +-180 degrees spans the image's last and first columns.
    xyz = box_sweep([(-4.0, 0.0, 1.0, 2.0, 1.2), (4.0, 0.0, 1.0, 1.0, 1.0)])
    image = ri.organise(xyz)
    groups = ri.groups(label(image), min_points=20)
    assert len(groups) == 2
    behind = max(groups, key=lambda g: -image.points[g, 0].mean())
    columns = np.nonzero(np.isin(image.pixels, behind))[1]
    assert columns.min() == 0 and columns.max() == image.pixels.shape[1] - 1


def test_nearby_objects_at_different_depths_part_and_a_surface_holds_together():
    # A pole 0.6 m in front of a wall parts from it; a box seen at a grazing angle does not split.
    xyz = box_sweep([(5.0, 0.0, 0.2, 0.2, 2.0), (5.8, 0.0, 0.3, 4.0, 2.5), (2, -6, 6.0, 0.4, 1)])
    image = ri.organise(xyz)
    groups = ri.groups(label(image), min_points=20)
    assert len(groups) == 3
    extents = [np.ptp(image.points[g, :2], axis=0) for g in groups]
    grazing, pole, wall = sorted(extents, key=lambda e: float(e[1]))  # by extent in y
    assert grazing[0] >= 5.5, "the box seen at a grazing angle is whole (6 m in x)"
    assert pole[1] <= 0.3 and wall[1] >= 3.5, "the pole (0.2 m) is apart from the wall (4 m)"


# -- what goes wrong -----------------------------------------------------------------------------


def test_nan_and_zero_returns_are_no_returns_and_a_dead_ring_is_left_out():
    xyz = box_sweep([(4.0, 0.0, 1.0, 1.0, 1.5)], noise=0.01)
    reference = ri.groups(label(ri.organise(xyz)), min_points=20)
    spoilt = xyz.copy()
    rng = np.random.default_rng(1)
    spoilt[rng.random(xyz.shape[:2]) < 0.05] = np.nan
    spoilt[rng.random(xyz.shape[:2]) < 0.05, 1] = np.inf
    dead = 32  # a beam that never returns, level with the sensor: across the box
    spoilt[dead] = 0.0
    assert np.any(xyz[dead] != 0)
    image = ri.organise(spoilt)
    assert image.pixels.shape[0] == ri.organise(xyz).pixels.shape[0] - 1
    assert np.all(np.isfinite(image.points)) and np.all(np.any(image.points != 0, axis=1))
    groups = ri.groups(label(image), min_points=20)
    assert len(groups) == len(reference) == 1  # one box, across the dead ring
    assert len(groups[0]) > 0.8 * len(reference[0])


def test_an_empty_sweep_has_no_objects():
    empty = np.full((16, 512, 3), np.nan, np.float32)
    image = ri.organise(empty)
    assert image.points.shape == (0, 3) and image.pixels.shape == (0, 512)
    assert image.coverage == 1.0
    assert ri.groups(label(image)) == []
    assert pp.segment_scene(image.points, LIDAR, image=image) == []
    nothing = ri.organise(np.zeros((0, 0, 3), np.float32))
    assert nothing.points.shape == (0, 3)


def test_an_unorganised_cloud_takes_the_euclidean_path():
    xyz = box_sweep([(4.0, 0.0, 1.0, 1.0, 1.5)]).reshape(1, -1, 3)
    msg = cloud.create_cloud_xyz32(Header(frame_id="lidar"), xyz[0])
    assert msg.height == 1
    assert ri.from_cloud(msg) is None
    points, image = ri.read_sweep(msg)
    assert image is None and np.array_equal(points, cloud.xyz_from_cloud(msg))
    assert len(pp.segment_scene(points, LIDAR, image=image)) == 1


def test_layouts_that_are_not_a_sweep_are_refused_or_fall_back():
    xyz = box_sweep([(4.0, 0.0, 1.0, 1.0, 1.5)], rings=8, columns=64)
    with pytest.raises(ValueError, match=r"\(height, width, 3\)"):
        ri.organise(xyz[..., :2])
    with pytest.raises(ValueError, match="rings must be integers of shape"):
        ri.organise(xyz, np.zeros((8, 63), np.int32))
    with pytest.raises(ValueError, match="rings must be integers"):
        ri.organise(xyz, np.zeros((8, 64), np.float32))
    with pytest.raises(ValueError, match=r"expected 0\.\.1023"):
        ri.organise(xyz, np.full((8, 64), 5000, np.int32))
    uneven = np.zeros((8, 64), np.int32)
    uneven[0, :5] = 1  # ring 1 has 5 firings, ring 0 the rest: not rings of one length
    with pytest.raises(ValueError, match="do not split into 2 rings of equal length"):
        ri.organise(xyz, uneven)
    # From a message such a layout falls back to the euclidean path instead of failing.
    msg = organised_cloud(xyz, uneven.astype(np.uint16))
    points, image = ri.read_sweep(msg)
    assert image is None and np.array_equal(points, cloud.xyz_from_cloud(msg))
    # A malformed message is still an error.
    msg.data = bytes(msg.data)[:-10]
    with pytest.raises(ValueError):
        ri.read_sweep(msg)


def test_a_depth_camera_image_is_not_taken_for_a_lidar_sweep_in_auto():
    # Organised, but 60 degrees wide: its returns crowd a sixth of the azimuth columns.
    rows, cols = 48, 64
    v, u = np.meshgrid(np.linspace(-0.4, 0.4, rows), np.linspace(-0.5, 0.5, cols), indexing="ij")
    xyz = np.stack([np.full_like(u, 3.0), -3.0 * u, -3.0 * v], axis=-1).astype(np.float32)
    image = ri.organise(xyz)
    assert image.coverage < ri.MIN_COVERAGE
    assert not pp.uses_range_image(image, LIDAR)
    assert pp.uses_range_image(image, replace(LIDAR, segmentation="range_image"))
    assert not pp.uses_range_image(
        ri.organise(box_sweep([])), replace(LIDAR, segmentation="euclidean")
    )


def test_bad_settings_say_what_was_expected():
    image = ri.organise(box_sweep([(4.0, 0.0, 1.0, 1.0, 1.5)], rings=8, columns=64))
    crop = (LIDAR.crop_min, LIDAR.crop_max)
    with pytest.raises(ValueError, match="cluster tolerance must be > 0"):
        ri.label(image, *crop, 0.0, 5.0, 10.0)
    with pytest.raises(ValueError, match=r"segment_angle must be in \(0, 90\)"):
        ri.label(image, *crop, 0.1, 95.0, 10.0)
    with pytest.raises(ValueError, match=r"ground_angle must be in \(0, 90\)"):
        ri.label(image, *crop, 0.1, 5.0, 0.0)
    with pytest.raises(ValueError, match="lower <= upper"):
        ri.label(image, (1, 1, 1), (0, 0, 0), 0.1, 5.0, 10.0)
    with pytest.raises(ValueError, match="segmentation 'fast' is unknown"):
        pp.SceneConfig(segmentation="fast")


def test_a_float_ring_field_is_read_as_integers():
    xyz = box_sweep([(4.0, 0.0, 1.0, 1.0, 1.5)], rings=8, columns=64)
    fields = [
        PointField(name=n, offset=4 * i, datatype=PointField.FLOAT32, count=1)
        for i, n in enumerate(("x", "y", "z", "ring"))
    ]
    rings = np.broadcast_to(np.arange(8, dtype=np.float32)[::-1, None], (8, 64))
    msg = cloud.create_cloud(Header(frame_id="lidar"), fields, np.dstack([xyz, rings]))
    image = ri.from_cloud(msg)
    assert image is not None and np.array_equal(image.pixels, ri.organise(xyz).pixels)
