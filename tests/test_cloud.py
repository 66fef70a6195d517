"""ros_pointlang.cloud: PointCloud2 <-> numpy against hand-built byte layouts and a real scan."""

import array
import struct
from pathlib import Path

import numpy as np
import pytest
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from ros_pointlang import cloud

OUSTER = Path(__file__).parent / "data" / "ouster-os1-64"

# PointField datatype -> struct format character
STRUCT = {1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 7: "f", 8: "d"}
SAMPLES = {1: [-128, 5, 127], 2: [0, 200, 255], 3: [-32768, 7, 32767], 4: [0, 9, 65535],
           5: [-(2**31), 11, 2**31 - 1], 6: [0, 13, 2**32 - 1], 7: [-1.5, 0.25, 3e38],
           8: [-1e300, 0.125, 2.5]}  # fmt: skip


def make_msg(fields, rows, point_step, *, big=False, height=1, row_pad=0, dense=True):
    """Pack ``rows`` (one tuple per point, one value per field) with struct, byte by byte."""
    order = ">" if big else "<"
    width = len(rows) // height
    row_step = width * point_step + row_pad
    data = bytearray(height * row_step)
    for i, values in enumerate(rows):
        base = (i // width) * row_step + (i % width) * point_step
        for (_name, offset, datatype, _count), value in zip(fields, values, strict=True):
            struct.pack_into(order + STRUCT[datatype], data, base + offset, value)
    msg = PointCloud2(
        header=Header(frame_id="f"),
        height=height,
        width=width,
        fields=[PointField(name=n, offset=o, datatype=d, count=c) for n, o, d, c in fields],
        is_bigendian=big,
        point_step=point_step,
        row_step=row_step,
        is_dense=dense,
    )
    msg.data = array.array("B", bytes(data))
    return msg


def data_view(msg):
    return np.frombuffer(msg.data, np.uint8)


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("datatype", range(1, 9))
def test_each_datatype_and_byte_order(datatype, big):
    # One field of the type under test after a uint8, at an odd offset, with trailing padding.
    fields = [("tag", 0, 2, 1), ("v", 3, datatype, 1)]
    rows = [(i, v) for i, v in enumerate(SAMPLES[datatype])]
    msg = make_msg(fields, rows, point_step=20, big=big)
    pts = cloud.read_points(msg)
    assert pts.dtype.itemsize == 20
    assert pts["v"].dtype == np.dtype(cloud._DATATYPES[datatype]).newbyteorder("=")
    np.testing.assert_array_equal(pts["v"], np.array(SAMPLES[datatype], dtype=pts["v"].dtype))
    np.testing.assert_array_equal(pts["tag"], [0, 1, 2])
    values = cloud.read_points_numpy(msg, ["v"])
    assert values.shape == (3, 1) and values.dtype.isnative
    np.testing.assert_array_equal(values[:, 0], pts["v"])
    before = bytes(msg.data)
    cloud.read_points(msg)
    assert bytes(msg.data) == before  # byte swapping must never touch the message


def test_big_endian_xyz_matches_little_endian():
    fields = [("x", 0, 7, 1), ("y", 4, 7, 1), ("z", 8, 7, 1), ("i", 12, 4, 1)]
    rows = [(1.0, -2.0, 3.5, 7), (0.0, 0.0, 0.0, 8), (float("nan"), 1.0, 1.0, 9)]
    little = make_msg(fields, rows, 16)
    big = make_msg(fields, rows, 16, big=True)
    for fn in (cloud.xyz_from_cloud, lambda m: cloud.read_points_numpy(m, ["x", "y", "z"])):
        np.testing.assert_array_equal(fn(big), fn(little))
    np.testing.assert_array_equal(cloud.xyz_from_cloud(big), [[1.0, -2.0, 3.5]])


def test_count_greater_than_one_and_base_name_selection():
    fields = [("x", 0, 7, 1), ("normal", 4, 7, 3), ("label", 16, 4, 1)]
    flat = [("x", 0, 7, 1), ("n0", 4, 7, 1), ("n1", 8, 7, 1), ("n2", 12, 7, 1), ("label", 16, 4, 1)]
    msg = make_msg(flat, [(1.0, 0.1, 0.2, 0.3, 4), (2.0, 0.4, 0.5, 0.6, 5)], 20)
    msg.fields = [PointField(name=n, offset=o, datatype=d, count=c) for n, o, d, c in fields]
    pts = cloud.read_points(msg)
    assert pts.dtype.names == ("x", "normal_0", "normal_1", "normal_2", "label")
    normals = cloud.read_points_numpy(msg, ["normal"])
    np.testing.assert_allclose(normals, [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], rtol=1e-6)
    assert np.shares_memory(normals, data_view(msg))
    assert cloud.dtype_from_fields(msg.fields, 24).itemsize == 24


def test_zero_copy_views_and_copies():
    fields = [("x", 0, 7, 1), ("y", 4, 7, 1), ("z", 8, 7, 1), ("ring", 16, 4, 1)]
    rows = [(float(i), 2.0 * i, 3.0 * i, i) for i in range(12)]
    msg = make_msg(fields, rows, 24)
    buf = data_view(msg)
    assert np.shares_memory(cloud.read_points(msg), buf)
    assert np.shares_memory(cloud.read_points(msg, ["ring", "x"]), buf)
    xyz = cloud.read_points_numpy(msg, ["x", "y", "z"])
    assert np.shares_memory(xyz, buf) and xyz.shape == (12, 3)
    assert not np.shares_memory(cloud.xyz_from_cloud(msg, drop_invalid=False), buf)
    assert not np.shares_memory(cloud.read_points(make_msg(fields, rows, 24, big=True)), buf)
    # Same types but not evenly spaced: a gathered copy with the right values.
    xz = cloud.read_points_numpy(msg, ["x", "z"])
    np.testing.assert_array_equal(xz, [[i, 3.0 * i] for i in range(12)])


def test_organised_cloud_with_padded_rows():
    fields = [("x", 0, 7, 1), ("y", 4, 7, 1), ("z", 8, 7, 1)]
    height, width = 3, 4
    rows = [(float(r), float(c), float(r * 10 + c)) for r in range(height) for c in range(width)]
    msg = make_msg(fields, rows, 12, height=height, row_pad=8)
    assert msg.row_step == 56
    flat = cloud.read_points(msg)
    np.testing.assert_array_equal(flat["z"], [r * 10 + c for r in range(3) for c in range(4)])
    grid = cloud.read_points(msg, reshape_organized_cloud=True)
    assert grid.shape == (3, 4) and grid["x"][2, 1] == 2 and grid["y"][2, 1] == 1
    assert np.shares_memory(grid, data_view(msg))  # padded rows stay a view when 2-D
    xyz = cloud.read_points_numpy(msg, reshape_organized_cloud=True)
    assert xyz.shape == (3, 4, 3) and xyz[1, 3, 2] == 13
    np.testing.assert_array_equal(cloud.xyz_from_cloud(msg), np.array(rows[1:], np.float32))
    np.testing.assert_array_equal(
        cloud.xyz_from_cloud(msg, drop_invalid=False), np.array(rows, np.float32)
    )


def test_skip_nans_and_uvs():
    fields = [("x", 0, 7, 1), ("y", 4, 7, 1), ("z", 8, 7, 1), ("id", 12, 6, 1)]
    nan = float("nan")
    rows = [(0.0, 1.0, 2.0, 0), (nan, 1.0, 2.0, 1), (1.0, 1.0, nan, 2), (3.0, 4.0, 5.0, 3),
            (6.0, 7.0, 8.0, 4), (9.0, 9.0, 9.0, 5)]  # fmt: skip
    # is_dense=True is a lie here, as drivers often tell it; NaNs are still dropped.
    msg = make_msg(fields, rows, 16, height=2, dense=True)
    assert list(cloud.read_points(msg, skip_nans=True)["id"]) == [0, 3, 4, 5]
    assert cloud.read_points_numpy(msg, ["x", "y", "z"], skip_nans=True).shape == (4, 3)
    assert list(cloud.read_points(msg, uvs=[5, 1, 3])["id"]) == [5, 1, 3]
    # (u, v) = (column, row) pairs: row 1 of width 3 starts at id 3.
    assert list(cloud.read_points(msg, uvs=np.array([[2, 1], [0, 0]]))["id"]) == [5, 0]
    assert list(cloud.read_points(msg, uvs=[1, 2, 4], skip_nans=True)["id"]) == [4]
    with pytest.raises(ValueError, match="reshape_organized_cloud"):
        cloud.read_points(msg, skip_nans=True, reshape_organized_cloud=True)
    with pytest.raises(ValueError, match="outside"):
        cloud.read_points(msg, uvs=[6])


def test_read_points_list_types_and_values():
    fields = [("x", 0, 7, 1), ("ring", 4, 4, 1), ("t", 8, 8, 1)]
    msg = make_msg(fields, [(1.5, 3, 0.25), (-2.0, 7, 1e-9)], 16)
    points = cloud.read_points_list(msg)
    assert [p._fields for p in points] == [("x", "ring", "t")] * 2
    assert points[0] == (1.5, 3, 0.25) and points[1].ring == 7 and points[1].t == 1e-9
    assert type(points[0].ring) is int and type(points[0].x) is float
    assert cloud.read_points_list(msg, ["ring"])[1] == (7,)


def test_create_cloud_round_trip_structured_unstructured_lists():
    fields = [PointField(name="x", offset=0, datatype=7, count=1),
              PointField(name="y", offset=4, datatype=7, count=1),
              PointField(name="z", offset=8, datatype=7, count=1),
              PointField(name="ring", offset=16, datatype=4, count=1)]  # fmt: skip
    dtype = cloud.dtype_from_fields(fields, 24)
    pts = np.zeros(50, dtype)
    rng = np.random.default_rng(0)
    for n in ("x", "y", "z"):
        pts[n] = rng.normal(size=50)
    pts["ring"] = np.arange(50)
    msg = cloud.create_cloud(Header(frame_id="a"), fields, pts, point_step=24)
    assert (msg.point_step, msg.row_step, msg.width, msg.height) == (24, 1200, 50, 1)
    assert isinstance(msg.data, array.array) and len(msg.data) == 1200
    back = cloud.read_points(msg)
    assert back.dtype == dtype
    for n in dtype.names:
        np.testing.assert_array_equal(back[n], pts[n])
    # Unstructured float64 columns in field order are cast per field.
    cols = np.column_stack([pts["x"], pts["y"], pts["z"], pts["ring"]]).astype(np.float64)
    again = cloud.read_points(cloud.create_cloud(Header(), fields, cols, point_step=24))
    np.testing.assert_array_equal(again["ring"], pts["ring"])
    np.testing.assert_array_equal(again["z"], pts["z"])
    listed = cloud.create_cloud(Header(), fields, [(1.0, 2.0, 3.0, 4), (5.0, 6.0, 7.0, 8)])
    assert listed.point_step == 18 and cloud.read_points_list(listed)[1] == (5.0, 6.0, 7.0, 8)
    # An organised (H, W, k) input keeps H rows of W points.
    grid = cloud.create_cloud_xyz32(Header(), np.arange(24, dtype=np.float32).reshape(2, 4, 3))
    assert (grid.height, grid.width, grid.row_step) == (2, 4, 48)
    assert cloud.read_points(grid, reshape_organized_cloud=True)["z"][1, 0] == 14
    empty = cloud.create_cloud_xyz32(Header(), [])
    assert empty.width == 0 and cloud.read_points(empty).shape == (0,)
    assert cloud.xyz_from_cloud(empty).shape == (0, 3)


@pytest.mark.parametrize("datatype", [PointField.FLOAT32, PointField.UINT32])
def test_packed_rgb(datatype):
    rgb = np.array([[255, 0, 0], [1, 2, 3], [0, 128, 255]], dtype=np.uint8)
    as_type = np.float32 if datatype == PointField.FLOAT32 else np.uint32
    fields = [PointField(name="x", offset=0, datatype=7, count=1),
              PointField(name="rgb", offset=4, datatype=datatype, count=1)]  # fmt: skip
    pts = np.zeros(3, cloud.dtype_from_fields(fields))
    pts["x"] = [1, 2, 3]
    pts["rgb"] = cloud.pack_rgb(rgb, as_type)
    assert cloud.pack_rgb(rgb, np.uint32)[1] == 0x010203
    msg = cloud.create_cloud(Header(), fields, pts)
    np.testing.assert_array_equal(cloud.unpack_rgb(cloud.read_points(msg)["rgb"]), rgb)
    with pytest.raises(ValueError, match="float32 or"):
        cloud.unpack_rgb(np.zeros(2, np.float64))


def test_xyz_from_cloud_drops_nan_inf_and_zero_returns():
    fields = [("x", 0, 7, 1), ("y", 4, 7, 1), ("z", 8, 7, 1), ("range", 12, 6, 1)]
    inf, nan = float("inf"), float("nan")
    rows = [(1.0, 2.0, 3.0, 1), (0.0, 0.0, 0.0, 2), (-0.0, 0.0, -0.0, 3), (inf, 1.0, 1.0, 4),
            (1.0, -inf, 1.0, 5), (1.0, 1.0, nan, 6), (0.0, 0.0, 1e-38, 7), (-3e38, 0.0, 0.0, 8),
            (0.0, 1e-45, 0.0, 9)]  # fmt: skip
    msg = make_msg(fields, rows, 16)
    xyz = cloud.xyz_from_cloud(msg)
    expected = np.array([rows[0][:3], rows[6][:3], rows[7][:3], rows[8][:3]], np.float32)
    assert xyz.dtype == np.float32 and xyz.flags.c_contiguous
    np.testing.assert_array_equal(xyz, expected)
    assert cloud.xyz_from_cloud(msg, drop_invalid=False).shape == (9, 3)
    # float64 coordinates are converted to float32
    as64 = make_msg([("x", 0, 8, 1), ("y", 8, 8, 1), ("z", 16, 8, 1)], [(1, 2, 3), (0, 0, 0)], 24)
    np.testing.assert_array_equal(cloud.xyz_from_cloud(as64), [[1, 2, 3]])


def _valid_msg():
    return make_msg([("x", 0, 7, 1), ("y", 4, 7, 1)], [(1.0, 2.0), (3.0, 4.0)], 8)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda m: setattr(m, "data", array.array("B", bytes(15))), "data has 15 bytes"),
        (lambda m: setattr(m, "row_step", 12), "row_step 12 is smaller"),
        (lambda m: setattr(m, "point_step", 0), "point_step 0"),
        (lambda m: setattr(m.fields[1], "offset", 2), "overlap"),
        (lambda m: setattr(m.fields[1], "offset", 6), "past point_step 8"),
        (lambda m: setattr(m.fields[1], "datatype", 9), "unknown datatype 9"),
        (lambda m: setattr(m.fields[1], "name", "x"), "'x' appears twice"),
        (lambda m: setattr(m.fields[1], "count", 0), "count 0"),
    ],
)
def test_bad_messages_raise_one_sentence(mutate, match):
    msg = _valid_msg()
    mutate(msg)
    for fn in (cloud.read_points, cloud.read_points_numpy, cloud.xyz_from_cloud):
        with pytest.raises(ValueError, match=match) as err:
            fn(msg)
        assert str(err.value).count(". ") == 0 and str(err.value).endswith(".")


def test_bad_requests_raise():
    msg = _valid_msg()
    with pytest.raises(ValueError, match="Requested field 'z' is not in the cloud"):
        cloud.read_points(msg, ["x", "z"])
    mixed = make_msg([("x", 0, 7, 1), ("i", 4, 4, 1)], [(1.0, 2)], 8)
    with pytest.raises(ValueError, match="one datatype"):
        cloud.read_points_numpy(mixed)
    with pytest.raises(ValueError, match="shape"):
        cloud.create_cloud_xyz32(Header(), np.zeros((4, 2), np.float32))


@pytest.fixture(scope="module")
def ouster_scan():
    if not (OUSTER / "metadata.yaml").exists():
        pytest.skip("tests/data/ouster-os1-64 is missing")
    from ros_pointlang.bench import load_ouster_scan

    return load_ouster_scan(OUSTER)


def test_real_ouster_scan(ouster_scan):
    msg = ouster_scan
    assert (msg.height, msg.width, msg.point_step, msg.is_dense) == (64, 2048, 48, True)
    pts = cloud.read_points(msg)
    assert pts.shape == (131072,) and np.shares_memory(pts, data_view(msg))
    assert pts.dtype["ring"] == np.uint8 and pts.dtype["reflectivity"] == np.uint16
    # Independent reference: struct-unpack x, y, z of every 7th point straight from the bytes.
    raw = bytes(msg.data)
    idx = range(0, 131072, 7)
    ref = np.array([struct.unpack_from("<3f", raw, i * 48) for i in idx], np.float32)
    np.testing.assert_array_equal(cloud.read_points_numpy(msg, ["x", "y", "z"])[::7], ref)
    # Exact counts, fixed once from the bytes with a plain numpy reference.
    xyz_all = np.frombuffer(raw, np.float32).reshape(-1, 12)[:, :3]
    zero = (xyz_all == 0).all(axis=1)
    assert int(zero.sum()) == 85356 and np.isfinite(xyz_all).all()
    xyz = cloud.xyz_from_cloud(msg)
    assert xyz.shape == (131072 - 85356, 3) == (45716, 3)
    np.testing.assert_array_equal(xyz, xyz_all[~zero])
    grid = cloud.read_points(msg, reshape_organized_cloud=True)
    assert grid.shape == (64, 2048) and set(np.unique(grid["ring"])) <= set(range(64))
    points = cloud.read_points_list(msg, ["x", "ring"], uvs=[0, 7 * 700])
    assert points[1].x == float(ref[700][0]) and points[1].ring == grid["ring"].flat[4900]
