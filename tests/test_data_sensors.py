import numpy as np
import pytest

from training.data.mesh import box, slab
from training.data.sensors import (
    DEPTH_CAMERAS,
    LIDAR_MODELS,
    RIGS,
    RayScene,
    depth_scan,
    detection_probability,
    lidar_scan,
    pixel_window,
    rig,
    sample_surface,
    scene_of,
)


def test_surface_samples_lie_on_the_box():
    mesh = box((1.0, 1.0, 1.0), (0, 0, 0.5))
    pts = sample_surface(mesh, 500, np.random.default_rng(0))
    assert pts.dtype == np.float32 and pts.shape == (500, 3)
    on_face = (
        np.isclose(np.abs(pts[:, :2]), 0.5, atol=1e-5).any(1)
        | np.isclose(pts[:, 2], 0, atol=1e-5)
        | np.isclose(pts[:, 2], 1, atol=1e-5)
    )
    assert on_face.all()


def test_sample_count_must_be_positive():
    with pytest.raises(ValueError):
        sample_surface(box((1, 1, 1)), 0, np.random.default_rng(0))


def test_beam_elevations_are_the_datasheets():
    hdl64 = np.degrees(LIDAR_MODELS["hdl-64e"].elevations())
    assert len(hdl64) == 64 and hdl64.max() == pytest.approx(2.0)
    assert hdl64.min() == pytest.approx(-24.33, abs=0.01)
    spacing = np.diff(hdl64)  # lowest first: 32 lower beams at 1/2 deg, 32 upper at 1/3 deg
    assert np.allclose(spacing[:31], 0.5, atol=1e-3) and np.allclose(spacing[32:], 1 / 3, atol=2e-3)
    hdl32 = np.degrees(LIDAR_MODELS["hdl-32e"].elevations())
    assert (hdl32.min(), hdl32.max()) == pytest.approx((-30.67, 10.67), abs=0.01)
    assert np.allclose(np.diff(hdl32), 4 / 3, atol=0.01)
    vlp16 = np.degrees(LIDAR_MODELS["vlp-16"].elevations())
    assert np.allclose(vlp16, np.arange(-15, 16, 2))
    vlp32c = np.degrees(LIDAR_MODELS["vlp-32c"].elevations())
    assert len(set(np.round(vlp32c, 3))) == 32
    assert (vlp32c.min(), vlp32c.max()) == pytest.approx((-25, 15))
    gaps = np.diff(vlp32c)
    # Non-uniform: 1/3 deg near the horizon, 10 deg at the bottom.
    assert gaps.min() == pytest.approx(1 / 3, abs=0.01) and gaps.max() == pytest.approx(9.361)
    os128 = np.degrees(LIDAR_MODELS["os1-128"].elevations())
    assert len(os128) == 128 and np.allclose(np.diff(os128), 45 / 127, atol=1e-3)


def test_azimuth_step_follows_the_rotation_rate():
    # HDL-64E S2 at 10 Hz: ~0.17 deg; HDL-32E at nuScenes' 20 Hz: ~0.33 deg; VLP-16: 0.2 deg.
    assert LIDAR_MODELS["hdl-64e"].azimuth_step_deg == pytest.approx(0.173, abs=0.002)
    assert LIDAR_MODELS["hdl-32e"].azimuth_step_deg == pytest.approx(0.33, abs=0.01)
    assert LIDAR_MODELS["vlp-16"].azimuth_step_deg == pytest.approx(0.19, abs=0.01)
    scene = scene_of([slab(-200, 200, -200, 200, -0.1, 0.0)])
    model = LIDAR_MODELS["vlp-16"]
    scan = lidar_scan(scene, (0, 0, 0.5), 0.0, model, np.random.default_rng(0))
    per_ring = np.bincount(scan.rings[scan.rings < 8], minlength=8)
    assert per_ring.max() <= round(360 / model.azimuth_step_deg) + 1


def test_each_ring_meets_the_ground_where_its_elevation_says():
    car64 = rig("car-64")
    mount = 1.73
    scene = scene_of([slab(-150, 150, -150, 150, -0.1, 0.0)], reflectivity=0.9)
    scan = lidar_scan(scene, (0, 0, mount), 0.0, car64.sensor, np.random.default_rng(1))
    distance = np.linalg.norm(scan.points[:, :2], axis=1)
    elevations = car64.sensor.elevations()
    for ring in (0, 10, 31, 40):
        expected = mount / np.tan(-elevations[ring])
        assert np.median(distance[scan.rings == ring]) == pytest.approx(expected, rel=0.02)
    # Beams at or above the horizon never reach the ground.
    assert not np.isin(scan.rings, np.flatnonzero(elevations >= 0)).any()


def test_lidar_sees_only_the_near_face_of_a_box():
    scene = scene_of([box((1.0, 1.0, 1.0), (0, 0, 0.5))])
    model = LIDAR_MODELS["os1-128"]
    scan = lidar_scan(scene, (-4.0, 0.0, 0.5), 0.0, model, np.random.default_rng(0))
    assert len(scan.points) > 100
    # Self-occlusion: every return is on the face towards the sensor (x = -0.5), up to noise.
    assert np.abs(scan.points[:, 0] + 0.5).max() < 6 * model.range_noise_m
    assert scan.rings.max() < model.beams


def test_returns_thin_out_with_range_darkness_and_grazing_incidence():
    p = detection_probability(
        np.array([10.0, 60.0, 60.0, 30.0, 30.0]),
        np.array([1.0, 1.0, 1.0, 0.02, 1.0]),
        np.array([0.8, 0.8, 0.1, 0.8, 0.8]),
        max_range_m=120.0,
        dropout=0.0,
    )
    near, far_bright, far_dark, grazing, facing = p
    assert near > 0.99 and far_bright > 0.95
    assert far_dark < 0.1  # a 10 % target reaches ~42 m: 120 m * sqrt(0.1 / 0.8)
    assert grazing < 0.01 < 0.99 < facing  # at 88 deg incidence the same target reaches ~17 m
    # The same in a scan: a dark wall at 70 m returns little, a bright one nearly everything.
    model = LIDAR_MODELS["hdl-64e"]
    counts = []
    for reflectivity in (0.9, 0.08):
        scene = scene_of([box((0.2, 30.0, 10.0), (70.0, 0, 5.0))], reflectivity)
        counts.append(
            len(lidar_scan(scene, (0, 0, 1.7), 0.0, model, np.random.default_rng(0)).points)
        )
    assert counts[1] < 0.1 * counts[0]


def test_glass_lets_most_rays_through():
    model = LIDAR_MODELS["os1-128"]
    wall = box((0.1, 20.0, 6.0), (6.0, 0.0, 1.5))  # behind every ray through the pane
    pane = box((0.01, 6.0, 3.0), (3.0, 0.0, 1.5))
    scene = RayScene()
    wall_id = scene.add(wall, 0.6)
    pane_id = scene.add(pane, 0.5, glass=True)
    scan = lidar_scan(scene, (0, 0, 1.5), 0.0, model, np.random.default_rng(0))

    def behind_pane(s):  # wall returns in the pane's shadow (twice its size at twice its range)
        p = s.points
        return (s.geometry_ids == wall_id) & (np.abs(p[:, 1]) < 5.5) & (np.abs(p[:, 2] - 1.5) < 2.8)

    on_wall, on_glass = behind_pane(scan).sum(), (scan.geometry_ids == pane_id).sum()
    assert on_wall > 10 * on_glass > 0  # glints near normal incidence, the rest goes through
    opaque = scene_of([wall, pane])
    blocked = lidar_scan(opaque, (0, 0, 1.5), 0.0, model, np.random.default_rng(0))
    assert behind_pane(blocked).sum() == 0  # an opaque pane hides that part of the wall


def test_a_scan_reports_what_its_occluders_hid():
    model = LIDAR_MODELS["hdl-64e"]
    scene = RayScene()
    target = scene.add(box((1.0, 2.0, 1.5), (10.0, 0.0, 0.75)))
    blocker = scene.add(box((0.3, 1.0, 0.8), (7.0, 0.0, 0.4)))
    args = ((0, 0, 1.7), 0.0, model)
    window = ((-0.2, 0.2), (-0.3, 0.05))
    seen = lidar_scan(scene, *args, np.random.default_rng(5), *window, occluders={blocker})
    alone = lidar_scan(scene_of([box((1.0, 2.0, 1.5), (10.0, 0.0, 0.75))]), *args,
                       np.random.default_rng(5), *window)  # fmt: skip
    on_target = (seen.geometry_ids == target).sum()
    hidden = (seen.occluded_ids == target).sum()
    assert (seen.geometry_ids == blocker).sum() >= hidden > 0 and on_target > 0
    # Ray by ray (same draws): what the blocker hid plus what got past it is the target alone.
    assert on_target + hidden == len(alone.points)


def test_depth_camera_noise_grows_with_distance():
    scene = scene_of([box((0.1, 4.0, 4.0), (0, 0, 1.0))])
    camera = DEPTH_CAMERAS["d435"]
    spread = []
    for distance in (1.0, 3.0):
        scan = depth_scan(scene, (-distance, 0, 1.0), (0, 0, 1.0), camera, np.random.default_rng(0))
        spread.append(np.std(scan.points[:, 0]))
    # Active stereo: sigma grows with depth squared (x9 from 1 m to 3 m).
    assert spread[1] > 5 * spread[0]
    assert camera.depth_sigma(np.array([2.0]))[0] == pytest.approx(0.0287, abs=0.002)


def test_depth_window_gives_the_same_points_as_the_full_image():
    scene = scene_of([box((0.4, 0.4, 0.6), (0, 0, 0.3))])
    camera = DEPTH_CAMERAS["azure-kinect"]
    eye, target = (-2.0, 0.0, 1.0), (0.0, 0.0, 0.3)
    corners = np.array([[x, y, z] for x in (-0.2, 0.2) for y in (-0.2, 0.2) for z in (0.0, 0.6)])
    window = pixel_window(camera, eye, target, corners)
    full = depth_scan(scene, eye, target, camera, np.random.default_rng(0))
    part = depth_scan(scene, eye, target, camera, np.random.default_rng(0), window)
    assert window[1] - window[0] < camera.width_px / 2
    assert abs(len(part.points) - len(full.points)) <= 0.05 * len(full.points)


def test_rigs_name_their_sensor_and_mount():
    assert {"car-64", "car-32", "car-128", "robot-16", "robot-32"} <= set(RIGS)
    assert rig("car-64").mount_height_m[0] <= 1.73 <= rig("car-64").mount_height_m[1]
    assert rig("robot-16").mount_height_m == (0.3, 1.0)
    assert {r.kind for r in RIGS.values()} == {"lidar", "depth"}
    with pytest.raises(ValueError, match="unknown rig"):
        rig("hdl-64e")
