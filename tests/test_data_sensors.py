import numpy as np
import pytest

from training.data.mesh import box
from training.data.sensors import (
    LIDAR_PRESETS,
    DepthCameraConfig,
    depth_scan,
    lidar_scan,
    raycasting_scene,
    sample_surface,
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


def test_lidar_sees_only_the_near_face_of_a_box():
    scene = raycasting_scene([box((1.0, 1.0, 1.0), (0, 0, 0.5))])
    config = LIDAR_PRESETS["os1-128"]
    scan = lidar_scan(scene, (-4.0, 0.0, 0.5), 0.0, config, np.random.default_rng(0))
    assert len(scan.points) > 100
    # Self-occlusion: every return is on the face towards the sensor (x = -0.5), up to noise.
    assert np.abs(scan.points[:, 0] + 0.5).max() < 6 * config.range_noise_m
    assert scan.rings.max() < config.beams


def test_depth_camera_noise_grows_with_distance():
    scene = raycasting_scene([box((0.1, 2.0, 2.0), (0, 0, 1.0))])
    spread = []
    for distance in (1.0, 4.0):
        scan = depth_scan(
            scene, (-distance, 0, 1.0), (0, 0, 1.0), DepthCameraConfig(), np.random.default_rng(0)
        )
        spread.append(np.std(scan.points[:, 0]))
    assert spread[1] > 3 * spread[0]


def test_sample_count_must_be_positive():
    with pytest.raises(ValueError):
        sample_surface(box((1, 1, 1)), 0, np.random.default_rng(0))
