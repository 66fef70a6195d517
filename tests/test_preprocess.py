"""Crop, voxel, ground, clusters, sampling and normalisation (ros_pointlang/preprocess.py)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ros_pointlang import preprocess as pp
from tests.clouds import box_surface, floor, seeded


def test_crop_box_keeps_points_inside_and_rejects_an_inverted_box():
    xyz = np.array([[0, 0, 0], [1, 1, 1], [5, 0, 0]], np.float32)
    assert len(pp.crop_box(xyz, (-1, -1, -1), (1, 1, 1))) == 2
    with pytest.raises(ValueError, match="lower <= upper"):
        pp.crop_box(xyz, (1, 0, 0), (0, 1, 1))


def test_voxel_downsample_averages_each_occupied_voxel():
    xyz = np.array([[0.01, 0.01, 0.01], [0.03, 0.03, 0.03], [0.51, 0, 0]], np.float32)
    out = pp.voxel_downsample(xyz, 0.1)
    assert len(out) == 2
    assert np.allclose(sorted(out[:, 0]), [0.02, 0.51])
    assert pp.voxel_downsample(xyz, 0.0) is xyz
    with pytest.raises(ValueError, match="voxel_size"):
        pp.voxel_downsample(xyz, -1)


def test_voxel_downsample_matches_the_per_voxel_mean_in_voxel_order():
    xyz = np.random.default_rng(1).uniform(-3, 3, (5000, 3)).astype(np.float32)
    keys = np.floor(xyz / 0.25).astype(np.int64)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    expected = np.stack(
        [xyz[inverse.ravel() == v].astype(np.float64).mean(0) for v in range(len(unique))]
    )
    out = pp.voxel_downsample(xyz, 0.25)
    assert out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)


def test_ground_plane_is_the_floor_not_a_wall_or_a_table_top():
    rng = np.random.default_rng(1)
    ground = floor()
    wall = np.column_stack(
        [np.full(30000, 2.5), rng.uniform(-3, 3, 30000), rng.uniform(0, 3, 30000)]
    ).astype(np.float32)  # more points than the floor, but vertical
    table = box_surface((1.2, 0.8, 0.02), centre=(0, 0, 0.75), n=3000)
    xyz = np.concatenate([ground, wall, table])
    mask = pp.fit_ground_plane(xyz, threshold=0.03)
    assert mask[: len(ground)].mean() > 0.99
    # The wall's foot (within the threshold of the floor) is ground-level; nothing above is.
    above = xyz[len(ground) :, 2] > 0.03 + 0.01
    assert mask[len(ground) :][above].mean() < 0.005


def test_ground_plane_tolerates_a_slight_tilt_and_reports_none_without_a_floor():
    tilted = floor(tilt_deg=8.0)
    assert pp.fit_ground_plane(tilted, threshold=0.03, max_tilt_deg=15).mean() > 0.99
    rng = np.random.default_rng(1)
    wall = np.column_stack([np.zeros(5000), rng.uniform(-3, 3, (5000, 2))]).astype(np.float32)
    assert not pp.fit_ground_plane(wall, threshold=0.03).any()


def test_euclidean_clusters_separates_objects_and_filters_by_size():
    a = box_surface((0.5, 0.5, 0.9), centre=(0, 0, 0.45), n=2000)
    b = box_surface((0.3, 0.3, 0.3), centre=(1.5, 0, 0.15), n=500)
    speck = np.array([[5, 5, 1]], np.float32)
    xyz = np.concatenate([a, b, speck])
    clusters = pp.euclidean_clusters(xyz, tolerance=0.1, min_points=10)
    assert [len(c) for c in clusters] == [2000, 500]
    assert set(clusters[0]) == set(range(2000))
    with pytest.raises(ValueError, match="tolerance"):
        pp.euclidean_clusters(xyz, tolerance=0)


def test_farthest_point_sample_spreads_points_and_pads_small_clouds():
    line = np.column_stack([np.linspace(0, 1, 1001), np.zeros(1001), np.zeros(1001)])
    idx = pp.farthest_point_sample(line.astype(np.float32), 5)
    assert sorted(line[idx, 0].round(3)) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert len(set(idx)) == 5
    assert list(pp.farthest_point_sample(line[:3].astype(np.float32), 7)) == [0, 1, 2, 0, 1, 2, 0]
    with pytest.raises(ValueError, match="empty"):
        pp.farthest_point_sample(np.empty((0, 3), np.float32), 4)


def sequential_farthest_point_sample(xyz, num_points):
    """The textbook loop, one point at a time: what the batched sampler must reproduce."""
    if len(xyz) <= num_points:
        return np.resize(np.arange(len(xyz)), num_points)
    distance = np.full(len(xyz), np.inf, np.float32)
    chosen, index = [], 0
    for _ in range(num_points):
        chosen.append(index)
        d = xyz - xyz[index]
        np.minimum(
            distance, d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2], out=distance
        )
        index = int(np.argmax(distance))
    return np.array(chosen)


def test_farthest_point_sample_batch_gives_the_sequential_indices_for_every_cloud():
    rng = np.random.default_rng(2)
    clouds = [
        box_surface((2.0, 1.0, 0.5), n=3000, rng=rng),
        rng.normal(size=(700, 3)).astype(np.float32),
        rng.normal(size=(40, 3)).astype(np.float32),  # fewer than asked: repeated, not sampled
        box_surface((0.4, 0.4, 1.0), n=513, rng=rng),
    ]
    batched = pp.farthest_point_sample_batch(clouds, 512)
    for cloud, indices in zip(clouds, batched, strict=True):
        assert np.array_equal(indices, sequential_farthest_point_sample(cloud, 512))
    with pytest.raises(ValueError, match="cloud 1"):
        pp.farthest_point_sample_batch([clouds[0], np.empty((0, 3), np.float32)], 8)
    with pytest.raises(ValueError, match="num_points"):
        pp.farthest_point_sample_batch(clouds, 0)


def test_prepare_objects_equals_prepare_object_one_by_one():
    rng = np.random.default_rng(3)
    clouds = [box_surface((0.5, 0.4, 0.9), n=n, rng=rng) for n in (4000, 900, 60)]
    together = pp.prepare_objects(clouds, 256)
    for cloud, prepared in zip(clouds, together, strict=True):
        alone = pp.prepare_object(cloud, 256)
        assert np.array_equal(prepared.points, alone.points)
        assert np.array_equal(prepared.size, alone.size) and prepared.num_points == len(cloud)


@pytest.mark.parametrize("yaw_deg", [0, 30, -60, 89])
def test_upright_box_recovers_size_centre_and_yaw(yaw_deg):
    yaw = np.radians(yaw_deg)
    xyz = box_surface((2.0, 1.0, 0.5), centre=(3, -1, 0.25), yaw=yaw, n=8000)
    box = pp.upright_box(xyz)
    assert np.allclose(box.size, [2.0, 1.0, 0.5], atol=0.02)
    assert np.allclose(box.centre, [3, -1, 0.25], atol=0.02)
    diff = (box.yaw - yaw + np.pi / 2) % np.pi - np.pi / 2  # a box has no front
    assert abs(diff) < np.radians(2)


def test_prepare_object_gives_a_unit_shape_and_the_metric_size():
    xyz = box_surface((0.5, 0.4, 0.9), centre=(2, 1, 0.45), n=4000)
    obj = pp.prepare_object(xyz, 256)
    assert obj.points.shape == (256, 3) and obj.points.dtype == np.float32
    radii = np.linalg.norm(obj.points, axis=1)
    assert radii.max() == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(obj.size, [0.5, 0.4, 0.9], atol=0.02)
    assert obj.num_points == 4000
    # The same shape at another size gives the same normalised points, another size.
    small = pp.prepare_object(xyz * 0.1, 256)
    assert np.allclose(small.points, obj.points, atol=1e-4)
    assert np.allclose(small.size, obj.size * 0.1, atol=1e-3)


def test_prepare_object_rejects_empty_and_non_finite_clouds():
    with pytest.raises(ValueError, match="empty"):
        pp.prepare_object(np.empty((0, 3), np.float32), 64)
    bad = np.array([[0, 0, 0], [np.nan, 0, 0]], np.float32)
    with pytest.raises(ValueError, match="NaN"):
        pp.prepare_object(bad, 64)


def test_segment_scene_finds_each_object_on_the_floor():
    flat_patch = floor(extent=0.5, n=400) + np.array([2.0, 2.0, 0.2], np.float32)  # a mat
    objects = [
        flat_patch,
        box_surface((0.5, 0.5, 0.9), centre=(1, 1, 0.45)),
        box_surface((1.2, 0.6, 0.75), centre=(-1.5, 0.5, 0.375)),
        box_surface((0.3, 0.3, 0.4), centre=(0.5, -2, 0.2)),
    ]
    xyz = np.concatenate([floor(), *objects])
    found = pp.segment_scene(xyz, pp.SceneConfig(voxel_size=0.02))
    assert len(found) == 3
    heights = np.sort([float(np.ptp(o[:, 2])) for o in found])
    # The ground cut (threshold 5 cm) takes the bottom of each object with it.
    assert np.allclose(heights, [0.4 - 0.04, 0.75 - 0.04, 0.9 - 0.04], atol=0.03)


def test_segment_scene_on_the_real_ouster_scan():
    from ros_pointlang.bag import read_bag
    from ros_pointlang.cloud import xyz_from_cloud

    bag = Path(__file__).parent / "data" / "ouster-os1-64"
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import PointCloud2

    raw = next(read_bag(bag, ["/os1_cloud_node/points"]))
    xyz = xyz_from_cloud(deserialize_message(raw.data, PointCloud2))
    found = pp.segment_scene(xyz, pp.SceneConfig())  # flat points: the euclidean path
    assert found, "a real street scan has objects besides the ground"
    for points in found:
        assert len(points) >= 30 and pp.footprint_length(points) <= 4.0
        assert np.ptp(points[:, 2]) <= 4.0


def visible_box(size, centre, yaw, rng=None, spacing=0.03):
    """The faces of an upright box on the floor (z = 0) that a sensor at the origin sees, as a
    LiDAR's returns at about `spacing` apart."""
    rng = seeded(rng)
    c, s = np.cos(yaw), np.sin(yaw)
    axes = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
    middle = np.array([centre[0], centre[1], size[2] / 2])
    half = np.array(size) / 2
    faces = []
    for axis in range(3):
        for sign in (-1.0, 1.0) if axis < 2 else (1.0,):
            normal = sign * axes[axis]
            face = middle + normal * half[axis]
            if normal @ -face <= 0:  # turned away from the sensor
                continue
            u, v = (a for a in range(3) if a != axis)
            n = int(4 * half[u] * half[v] / spacing**2)
            uv = rng.uniform(-1, 1, (n, 2)) * half[[u, v]]
            faces.append(face + uv[:, :1] * axes[u] + uv[:, 1:] * axes[v])
    return np.concatenate(faces).astype(np.float32)


@pytest.mark.parametrize("heading_deg", range(0, 180, 15))
def test_a_car_is_kept_at_every_heading(heading_deg):
    # A 4.8 x 1.8 m car: its sensor-frame extent reaches 5.1 m at 30 degrees, which a 5 m limit
    # on that extent dropped; the limit is on the car's own box, whatever its heading.
    car = visible_box((4.8, 1.8, 1.5), (7.0, 3.0), np.radians(heading_deg))
    xyz = np.concatenate([floor(extent=24.0, n=40000), car])
    config = pp.SceneConfig(crop_min=(-12, -12, -1), crop_max=(12, 12, 3), max_object_size=5.0)
    found = pp.segment_scene(xyz, replace(config, segmentation="euclidean"))
    assert len(found) == 1
    assert pp.footprint_length(found[0]) == pytest.approx(4.8, abs=0.05)
    assert np.ptp(found[0][:, 2]) > 1.3


def test_the_shipped_lidar_settings_keep_cars_and_drop_walls():
    from ros_pointlang.bench_scene import LIDAR_PARAMS, lidar_parameters
    from ros_pointlang.describe import settings_from_parameters

    lidar = settings_from_parameters(lidar_parameters(LIDAR_PARAMS), default_mode="scene").scene
    pickup = visible_box((5.8, 1.95, 1.9), (6.0, -4.0), np.radians(35), spacing=0.05)
    wall = visible_box((9.0, 0.3, 2.5), (-4.0, 8.0), np.radians(10), spacing=0.05)
    xyz = np.concatenate([floor(extent=24.0, n=40000), pickup, wall])
    found = pp.segment_scene(xyz, lidar)
    assert len(found) == 1 and pp.footprint_length(found[0]) == pytest.approx(5.8, abs=0.05)


def test_footprint_length_is_the_length_of_an_l_shaped_view_at_any_heading():
    lengths = [
        pp.footprint_length(visible_box((4.8, 1.8, 1.5), (7.0, 3.0), heading))
        for heading in np.radians(np.arange(0, 180, 10))
    ]
    # Where the sensor sees one face only, its length is all there is to measure.
    assert all(min(abs(n - 4.8), abs(n - 1.8)) < 0.03 for n in lengths)
    assert sum(abs(n - 4.8) < 0.03 for n in lengths) >= 15
    assert pp.footprint_length(np.zeros((0, 3), np.float32)) == 0.0
    line = np.column_stack([np.linspace(0, 3, 50), np.linspace(0, 4, 50), np.zeros(50)])
    assert pp.footprint_length(line.astype(np.float32)) == pytest.approx(5.0)
    assert pp.footprint_length(np.ones((4, 3), np.float32)) == 0.0


def test_voxel_downsample_groups_is_voxel_downsample_of_each_group(monkeypatch):
    from ros_pointlang import kernels

    monkeypatch.setattr(kernels, "LIBRARY", None)  # the numpy path (the kernel: test_kernels)
    xyz = np.random.default_rng(4).uniform(-3, 3, (4000, 3)).astype(np.float32)
    groups = [np.arange(0, 4000, 3), np.arange(1, 500), np.array([7]), np.arange(3000, 4000)]
    for size in (0.05, 0.5):
        together = pp.voxel_downsample_groups(xyz, groups, size)
        for points, group in zip(together, groups, strict=True):
            assert points.tobytes() == pp.voxel_downsample(xyz[group], size).tobytes()
    assert [len(g) for g in pp.voxel_downsample_groups(xyz, groups, 0.0)] == [
        len(g) for g in groups
    ]
    assert pp.voxel_downsample_groups(xyz, [], 0.1) == []
    with pytest.raises(ValueError, match="voxel_size"):
        pp.voxel_downsample_groups(xyz, groups, -1.0)
