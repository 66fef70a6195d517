"""The compiled kernels (src/kernels.cpp via ros_pointlang/kernels.py) against their numpy
paths: the same results bit for bit, on the clouds sensors send and on the awkward ones."""

import functools
import os

import numpy as np
import pytest
from sensor_msgs.msg import PointField
from std_msgs.msg import Header

from ros_pointlang import cloud, kernels
from ros_pointlang import preprocess as pp
from ros_pointlang import range_image as ri

if os.environ.get("POINTLANG_KERNELS", "").lower() == "numpy":
    pytest.skip("POINTLANG_KERNELS=numpy turns the compiled kernels off", allow_module_level=True)


def test_the_kernels_are_built_where_the_tests_run():
    # make and colcon build them; a missing library would make every comparison below vacuous.
    assert kernels.LIBRARY is not None, (
        f"{kernels.LIBRARY_NAME} is not in ros_pointlang/native/; run `make setup`"
    )


@pytest.fixture
def numpy_only(monkeypatch):
    """Run the code under test with the library switched off: the numpy reference."""

    def run(fn, *args, **kwargs):
        with monkeypatch.context() as patch:
            patch.setattr(kernels, "LIBRARY", None)
            return fn(*args, **kwargs)

    return run


def awkward_xyz(n, rng):
    """Coordinates with every special value a driver sends: NaN, ±Inf, zeros, -0, denormals,
    huge and tiny values."""
    xyz = rng.uniform(-80, 80, (n, 3)).astype(np.float32)
    special = np.array(
        [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 3.4e38, -3.4e38, 1e-38], np.float32
    )
    picks = rng.random((n, 3)) < 0.15
    xyz[picks] = rng.choice(special, picks.sum())
    xyz[rng.random(n) < 0.2] = 0.0  # "no return" points, as Ouster sends them
    return xyz


def fields_at(offsets, datatypes=None):
    datatypes = datatypes or [PointField.FLOAT32] * len(offsets)
    return [
        PointField(name=name, offset=offset, datatype=datatype, count=1)
        for name, offset, datatype in zip(offsets, offsets.values(), datatypes, strict=True)
    ]


@pytest.mark.parametrize(
    ("point_step", "x_offset"), [(12, 0), (16, 0), (16, 4), (32, 0), (48, 0), (52, 4)]
)
def test_xyz_from_cloud_matches_numpy_bit_for_bit(numpy_only, point_step, x_offset):
    rng = np.random.default_rng(point_step + x_offset)
    height, width = 4, 257
    xyz = awkward_xyz(height * width, rng)
    data = rng.integers(0, 256, (height, width, point_step), dtype=np.uint8)  # noise padding
    data[:, :, x_offset : x_offset + 12] = xyz.view(np.uint8).reshape(height, width, 12)
    offsets = {"x": x_offset, "y": x_offset + 4, "z": x_offset + 8}
    msg = cloud.create_cloud(
        Header(frame_id="f"),
        fields_at(offsets),
        xyz.reshape(height, width, 3),
        point_step=point_step,
    )
    msg.data = data.tobytes()
    for drop_invalid in (True, False):
        compiled = cloud.xyz_from_cloud(msg, drop_invalid=drop_invalid)
        reference = numpy_only(cloud.xyz_from_cloud, msg, drop_invalid=drop_invalid)
        assert compiled.dtype == np.float32 and compiled.shape == reference.shape
        assert compiled.tobytes() == reference.tobytes()
        assert not np.may_share_memory(compiled, np.frombuffer(msg.data, np.uint8))


def test_xyz_from_cloud_with_padded_rows_matches_numpy(numpy_only):
    rng = np.random.default_rng(3)
    height, width, point_step, row_step = 3, 100, 16, 16 * 100 + 24
    raw = rng.integers(0, 256, (height, row_step), dtype=np.uint8)
    xyz = awkward_xyz(height * width, rng).reshape(height, width, 3)
    for row in range(height):
        records = raw[row, : width * point_step].reshape(width, point_step)
        records[:, :12] = xyz[row].view(np.uint8).reshape(width, 12)
    msg = cloud.create_cloud_xyz32(Header(frame_id="f"), np.zeros((1, 3), np.float32))
    msg.height, msg.width, msg.point_step, msg.row_step = height, width, point_step, row_step
    msg.data = raw.tobytes()
    assert cloud.xyz_from_cloud(msg).tobytes() == numpy_only(cloud.xyz_from_cloud, msg).tobytes()


@pytest.mark.parametrize("point_step", [32, 40, 44])  # word copies and run copies
def test_read_points_skip_nans_matches_numpy_bit_for_bit(numpy_only, point_step):
    rng = np.random.default_rng(point_step)
    fields = [
        PointField(name="x", offset=0, datatype=PointField.FLOAT32, count=1),
        PointField(name="y", offset=4, datatype=PointField.FLOAT32, count=1),
        PointField(name="z", offset=8, datatype=PointField.FLOAT32, count=1),
        PointField(name="ring", offset=12, datatype=PointField.UINT16, count=1),
        PointField(name="range", offset=16, datatype=PointField.FLOAT64, count=1),
        PointField(name="t", offset=24, datatype=PointField.FLOAT32, count=1),
    ]
    n = 5000
    points = np.zeros(n, cloud.dtype_from_fields(fields, point_step))
    xyz = awkward_xyz(n, rng)
    for j, name in enumerate("xyz"):
        points[name] = xyz[:, j]
    points["ring"] = rng.integers(0, 128, n)
    points["range"] = np.where(rng.random(n) < 0.05, np.nan, rng.uniform(0, 100, n))
    points["t"] = np.where(rng.random(n) < 0.05, np.nan, rng.uniform(0, 0.1, n))
    msg = cloud.create_cloud(Header(frame_id="f"), fields, points.reshape(50, 100), point_step)
    for names in (None, ["x", "y", "z"], ["ring", "range"], ["ring"]):
        compiled = cloud.read_points(msg, names, skip_nans=True)
        reference = numpy_only(cloud.read_points, msg, names, skip_nans=True)
        assert compiled.dtype == reference.dtype and compiled.shape == reference.shape
        assert compiled.tobytes() == reference.tobytes()


@pytest.mark.parametrize("point_step", [16, 32, 48, 64])  # the vector-lane layouts
def test_skip_nans_of_float32_layouts_with_padded_rows_matches_numpy(numpy_only, point_step):
    rng = np.random.default_rng(point_step)
    # 150 records a row: two whole blocks of 64 and a tail; the first rows without NaN (whole
    # blocks copied at once), NaN in the first and last record and in every checked lane.
    height, width, row_step = 6, 150, 150 * point_step + 12
    offsets = {"x": 0, "y": 4, "z": 8, "t": point_step - 4}
    raw = rng.integers(0, 256, (height, row_step), dtype=np.uint8)  # padding of noise
    values = rng.uniform(-50, 50, (height, width, 4)).astype(np.float32)
    holes = rng.random((height, width, 4)) < 0.04
    holes[:2] = False
    holes[2, 0, 0] = holes[5, -1, 3] = True
    values[holes] = np.nan
    for row in range(height):
        records = raw[row, : width * point_step].reshape(width, point_step)
        for lane, offset in enumerate(offsets.values()):
            records[:, offset : offset + 4] = values[row, :, lane : lane + 1].view(np.uint8)
    msg = cloud.create_cloud(
        Header(frame_id="f"), fields_at(offsets), np.zeros((1, 4), np.float32), point_step
    )
    msg.height, msg.width, msg.row_step = height, width, row_step
    msg.data = raw.tobytes()
    for names in (None, ["x", "y", "z"], ["t"]):
        compiled = cloud.read_points(msg, names, skip_nans=True)
        reference = numpy_only(cloud.read_points, msg, names, skip_nans=True)
        assert compiled.shape == reference.shape and compiled.tobytes() == reference.tobytes()
    assert len(cloud.read_points(msg, skip_nans=True)) == height * width - holes.any(-1).sum()


def test_read_points_skip_nans_of_a_clean_cloud_stays_a_view():
    xyz = np.arange(300, dtype=np.float32).reshape(100, 3)
    msg = cloud.create_cloud_xyz32(Header(frame_id="f"), xyz)
    read = cloud.read_points(msg, skip_nans=True)
    assert np.shares_memory(read, np.frombuffer(msg.data, np.uint8))
    assert np.array_equal(cloud.read_points_numpy(msg, skip_nans=True), xyz)


def test_farthest_point_sampling_matches_numpy_for_every_cloud(numpy_only):
    rng = np.random.default_rng(5)
    clouds = [
        rng.normal(size=(n, 3)).astype(np.float32) * s
        for n, s in ((3000, 1), (600, 5), (513, 0.01))
    ]
    clouds.append(np.repeat(clouds[1][:40], 20, axis=0))  # duplicates: ties everywhere
    for start in (0, 7):
        compiled = pp.farthest_point_sample_batch(clouds, 512, start)
        reference = numpy_only(pp.farthest_point_sample_batch, clouds, 512, start)
        for a, b in zip(compiled, reference, strict=True):
            assert np.array_equal(a, b)


@functools.lru_cache(maxsize=1)
def range_image_cases():
    """Organised sweeps the range-image kernels must image and label as numpy does: the real
    Ouster scan (by its ring field), a street sweep, and awkward ones."""
    from pathlib import Path

    from tests.organised_scans import street_sweep
    from tests.test_range_image import box_sweep

    rng = np.random.default_rng(11)
    cases = []
    ouster = Path(__file__).parent / "data" / "ouster-os1-64"
    if ouster.is_dir():
        from ros_pointlang.bench import load_ouster_scan

        scan = load_ouster_scan(ouster)
        xyz = cloud.xyz_from_cloud(scan, drop_invalid=False).reshape(scan.height, scan.width, 3)
        rings = cloud.read_points_numpy(scan, ["ring"], reshape_organized_cloud=True)[..., 0]
        cases.append(("ouster", xyz, rings))
    cases.append(("street", street_sweep(seed=1, objects=10).xyz, None))
    boxes = box_sweep([(4, 0, 1, 1, 1.5), (-4, 0.2, 2, 1, 1), (0, 6, 4, 2, 1.8)], noise=0.02)
    spoilt = awkward_xyz(boxes.size // 3, rng).reshape(boxes.shape)
    awkward = np.where(rng.random((*boxes.shape[:2], 1)) < 0.3, spoilt, boxes)
    cases.append(("awkward values", awkward, None))
    # Rings named out of order and with gaps in their ids; jittered azimuths share pixels.
    ids = rng.permutation(np.arange(0, 256, 4))[: boxes.shape[0]]
    jitter = boxes * rng.uniform(0.995, 1.005, (*boxes.shape[:2], 1)).astype(np.float32)
    jitter[..., 1] += rng.normal(0, 0.02, boxes.shape[:2]).astype(np.float32)
    cases.append(
        ("ring ids, shared pixels", jitter, np.broadcast_to(ids[:, None], boxes.shape[:2]))
    )
    cases.append(("one column", boxes[:, :1], None))
    cases.append(("nothing", np.full((4, 16, 3), np.nan, np.float32), None))
    return cases


@pytest.mark.parametrize("case", range(6))
def test_range_image_segmentation_matches_numpy_bit_for_bit(numpy_only, case):
    cases = range_image_cases()
    if case >= len(cases):
        pytest.skip("tests/data/ouster-os1-64 is missing")
    name, xyz, rings = cases[case]
    compiled = ri.organise(xyz, rings)
    reference = numpy_only(ri.organise, xyz, rings)
    assert compiled.points.tobytes() == reference.points.tobytes(), name
    assert np.array_equal(compiled.pixels, reference.pixels), name
    for tolerance, beta, ground in ((0.15, 10.0, 10.0), (0.05, 3.0, 25.0), (0.5, 45.0, 2.0)):
        args = ((-12, -12, -2.5), (12, 12, 2.5), tolerance, beta, ground)
        labels = ri.label(compiled, *args)
        assert np.array_equal(labels, numpy_only(ri.label, reference, *args)), name
        groups = ri.groups(labels, 5)
        for size in (0.03, 0.2):
            voxels = pp.voxel_downsample_groups(compiled.points, groups, size)
            expected = numpy_only(pp.voxel_downsample_groups, compiled.points, groups, size)
            assert [v.tobytes() for v in voxels] == [v.tobytes() for v in expected], name
            one_by_one = [pp.voxel_downsample(compiled.points[g], size) for g in groups]
            assert [v.tobytes() for v in voxels] == [v.tobytes() for v in one_by_one], name


def test_range_image_kernels_refuse_layouts_as_numpy_does(numpy_only):
    xyz = np.ones((4, 8, 3), np.float32)
    uneven = np.zeros((4, 8), np.int32)
    uneven[0, :3] = 1
    for fn in (ri.organise, lambda *a: numpy_only(ri.organise, *a)):
        with pytest.raises(ValueError, match="rings of equal length"):
            fn(xyz, uneven)


def test_a_kernel_called_without_the_library_says_so(monkeypatch):
    monkeypatch.setattr(kernels, "LIBRARY", None)
    with pytest.raises(RuntimeError, match="numpy path"):
        kernels.farthest_point_sample([np.zeros((10, 3), np.float32)], 4, 0)
