import numpy as np
import pytest

from training.data.families import Shape, build_shape
from training.data.mesh import box
from training.data.sensors import detection_probability, rig
from training.data.views import (
    ENCOUNTERS,
    FURNITURE,
    SMALL_THING,
    Surroundings,
    ViewConfig,
    encounter_for,
    points_band,
    range_band,
    take_view,
    view_at,
)

CAR = (1.8, 4.5, 1.5)  # a car-sized box seen broadside: depth along the view, length across
MOUNT = 1.73  # KITTI's LiDAR height


def predicted_car_points(range_m: float, reflectivity: float) -> float:
    """Returns a car-sized box gives the 64-beam rig, from geometry alone.

    Beams steep enough to meet the near side above the ground and below the roof hit the side;
    shallower ones that still come down to the roof before its far edge hit the roof (at
    grazing incidence, where the link budget loses most of them). Each beam's run of hits spans
    the car's angular length at the hit distance divided by the azimuth step.
    """
    depth, length, height = CAR
    model = rig("car-64").sensor
    step = np.radians(model.azimuth_step_deg)
    near, far = range_m - depth / 2, range_m + depth / 2
    total = 0.0
    for el in model.elevations():
        side_z = MOUNT + near * np.tan(el)
        if 0.0 <= side_z <= height:
            distance, cos = near, np.cos(el)
        elif side_z > height and el < 0 and (height - MOUNT) / np.tan(el) <= far:
            distance, cos = (height - MOUNT) / np.tan(el), np.sin(-el)
        else:
            continue
        shots = 2 * np.arctan(length / 2 / distance) / step
        p = detection_probability(
            np.array([distance / np.cos(el)]),
            np.array([cos]),
            np.array([reflectivity]),
            model.max_range_m,
            model.dropout,
        )[0]
        total += shots * p
    return total


@pytest.mark.parametrize("range_m", [10.0, 20.0, 40.0, 60.0])
def test_car_point_count_on_the_64_beam_rig_matches_geometry(range_m):
    car = Shape("car", box(CAR, (0.0, 0.0, CAR[2] / 2)), {})
    surroundings = Surroundings(False, False, 0.6, 0.1, -0.05, 0.05)
    counts = []
    for seed in range(3):
        cloud, seen = view_at(
            car, 0.0, rig("car-64"), range_m, MOUNT, surroundings, np.random.default_rng(seed)
        )
        counts.append(len(cloud) - seen.ground_points)
    expected = predicted_car_points(range_m, 0.6)
    assert np.mean(counts) == pytest.approx(expected, rel=0.1, abs=3)


def test_a_real_car_thins_from_thousands_to_tens_of_points():
    car = build_shape("car", np.random.default_rng(3))
    counts = {}
    for range_m in (10.0, 60.0):
        cloud, _ = view_at(
            car,
            np.radians(60),
            rig("car-64"),
            range_m,
            MOUNT,
            Surroundings.bare(0.5),
            np.random.default_rng(0),
        )
        counts[range_m] = len(cloud)
    assert counts[10.0] > 1000
    assert 10 <= counts[60.0] <= 300  # a far car is a few scan lines


def test_objects_stand_on_the_ground_seen_from_the_mount_height():
    chair = build_shape("chair", np.random.default_rng(0))
    cloud, seen = view_at(
        chair, 0.3, rig("robot-32"), 3.0, 0.5, Surroundings.bare(), np.random.default_rng(0)
    )
    assert seen.rig == "robot-32" and seen.mount_height_m == 0.5 and seen.range_m == 3.0
    assert cloud[:, 2].min() >= 0.0 and cloud[:, 2].max() <= chair.dimensions()[2] + 0.1
    # Seen from the -x side: the points lie on the near half of the object.
    assert np.median(cloud[:, 0]) < 0.05


def test_an_occluder_hides_part_and_the_manifest_says_how_much():
    person = build_shape("person", np.random.default_rng(1))
    bare = Surroundings.bare(0.7)
    hidden = Surroundings(True, False, 0.7, 0.1, 0.05, 0.05)
    fractions, counts = [], []
    for seed in range(6):
        cloud, seen = view_at(
            person, 0.0, rig("car-128"), 12.0, 1.9, hidden, np.random.default_rng(seed)
        )
        fractions.append(seen.occlusion)
        counts.append(len(cloud) - seen.clutter_points - seen.ground_points)
    free, _ = view_at(person, 0.0, rig("car-128"), 12.0, 1.9, bare, np.random.default_rng(0))
    assert all(0.0 <= f <= 1.0 for f in fractions) and max(fractions) > 0.2
    expected = np.mean([len(free) * (1 - f) for f in fractions])
    assert np.mean(counts) == pytest.approx(expected, rel=0.15)


def test_ground_and_neighbour_points_come_into_the_crop_sometimes():
    config = ViewConfig(rigs=("robot-32",), neighbour_probability=1.0, occluder_probability=0.0)
    ground = clutter = 0
    for instance in range(12):
        rng = np.random.default_rng(instance)
        shape = build_shape("night_stand", rng)
        _, seen = take_view(shape, float(rng.uniform(-np.pi, np.pi)), "lidar", rng, config)
        ground += seen.ground_points > 0
        clutter += seen.clutter_points > 0
    assert 0 < ground < 12 and clutter > 0


def test_encounters_fall_back_on_size_and_domain():
    assert encounter_for("car", build_shape("car", np.random.default_rng(0))) is ENCOUNTERS["car"]
    assert encounter_for("cup", build_shape("cup", np.random.default_rng(0))) == SMALL_THING
    assert encounter_for("sofa", build_shape("sofa", np.random.default_rng(0))) == FURNITURE
    assert ENCOUNTERS["car"].far_m >= 60 and ENCOUNTERS["person"].far_m >= 40
    big = Shape("not_registered", box((12.0, 2.5, 3.2), (0, 0, 1.6)), {})
    assert encounter_for("not_registered", big) == FURNITURE  # unknown domain: indoor rules


def test_the_realistic_mix_spans_real_point_counts():
    counts = []
    for instance in range(30):
        for category in ("car", "person", "chair", "cup"):
            rng = np.random.default_rng([instance, len(category)])
            shape = build_shape(category, rng)
            cloud, seen = take_view(shape, float(rng.uniform(-3, 3)), "lidar", rng, ViewConfig())
            counts.append(len(cloud))
            if category == "car":
                assert seen.rig.startswith(("car-", "robot-"))
    assert min(counts) >= 10 and np.percentile(counts, 10) < 60 and max(counts) > 1500


def test_a_range_band_and_a_rig_can_be_chosen():
    config = ViewConfig(rigs=("car-64",), range_m=(20.0, 40.0))
    for instance in range(5):
        rng = np.random.default_rng(instance)
        _, seen = take_view(build_shape("car", rng), 0.0, "lidar", rng, config)
        assert seen.rig == "car-64" and 20.0 <= seen.range_m <= 40.0
    with pytest.raises(ValueError, match="range band"):
        ViewConfig(range_m=(5.0, 1.0))
    with pytest.raises(ValueError, match="unknown rig"):
        ViewConfig(rigs=("hdl-65",))
    with pytest.raises(ValueError, match="depth rig"):
        take_view(build_shape("car", rng), 0.0, "depth", rng, ViewConfig(rigs=("car-64",)))


def test_depth_rigs_see_indoor_things_from_a_robot():
    rng = np.random.default_rng(0)
    shape = build_shape("chair", rng)
    cloud, seen = take_view(shape, 0.0, "depth", rng, ViewConfig())
    assert seen.rig in ("robot-d435", "robot-kinect") and 0.3 <= seen.mount_height_m <= 1.5
    assert len(cloud) >= 10 and seen.range_m <= 10.0


def test_range_and_point_bands_are_the_ones_evaluation_reports():
    # Issue 12's range bands: 0-10, 10-25, 25-50, 50+ m; lower edges belong to their band.
    assert [range_band(r) for r in (0.0, 9.99, 10.0, 24.9, 25.0, 49.9, 50.0, 120.0)] == [
        "0-10 m", "0-10 m", "10-25 m", "10-25 m", "25-50 m", "25-50 m", "50+ m", "50+ m"
    ]  # fmt: skip
    assert [points_band(n) for n in (10, 49, 50, 199, 200, 999, 1000, 20000)] == [
        "0-50", "0-50", "50-200", "50-200", "200-1000", "200-1000", "1000+", "1000+"
    ]  # fmt: skip
