"""The compiled per-sweep kernels (src/kernels.cpp), or None where they were not built.

CMake (``make`` and ``colcon build`` alike) builds ``libpointlang_kernels.so`` and installs it
in ``ros_pointlang/native/``; a pip install has no compiler step and runs the numpy code
instead. Callers keep the numpy path as the reference: each kernel gives the same result bit
for bit (tests/test_kernels.py), only in one pass instead of several.

``POINTLANG_KERNELS=numpy`` in the environment turns the library off (benchmarks use it to
measure both paths side by side).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

import ros_pointlang

LIBRARY_NAME = "libpointlang_kernels.so"

_i64 = ctypes.c_int64
_ptr = ctypes.c_void_p


def _load() -> ctypes.CDLL | None:
    if os.environ.get("POINTLANG_KERNELS", "").lower() == "numpy":
        return None
    for folder in ros_pointlang.__path__:  # the checkout and, in the venv, the built interfaces
        candidate = Path(folder) / "native" / LIBRARY_NAME
        if candidate.is_file():
            library = ctypes.CDLL(str(candidate))
            library.pointlang_xyz_from_cloud.restype = _i64
            library.pointlang_xyz_from_cloud.argtypes = [_ptr, _i64, _i64, _i64, _i64, _i64]
            library.pointlang_xyz_from_cloud.argtypes += [ctypes.c_int32, _ptr]
            library.pointlang_drop_nan_records.restype = _i64
            library.pointlang_drop_nan_records.argtypes = [_ptr, _i64, _i64, _i64, _i64]
            library.pointlang_drop_nan_records.argtypes += [_ptr, _i64, _ptr, _i64, _ptr]
            library.pointlang_first_nan_record.restype = _i64
            library.pointlang_first_nan_record.argtypes = [_ptr, _i64, _i64, _i64, _i64]
            library.pointlang_first_nan_record.argtypes += [_ptr, _i64, _ptr, _i64]
            library.pointlang_farthest_point_sample.restype = None
            library.pointlang_farthest_point_sample.argtypes = [_ptr, _ptr, _i64, _i64, _i64]
            library.pointlang_farthest_point_sample.argtypes += [_ptr, _ptr]
            library.pointlang_range_image.restype = _i64
            library.pointlang_range_image.argtypes = [_ptr, _i64, _ptr, _i64, _ptr, _ptr, _ptr]
            library.pointlang_segment_range_image.restype = None
            library.pointlang_segment_range_image.argtypes = [_ptr, _i64, _ptr, _i64, _i64]
            library.pointlang_segment_range_image.argtypes += [_ptr, _ptr] + [ctypes.c_double] * 3
            library.pointlang_segment_range_image.argtypes += [_ptr]
            library.pointlang_voxel_groups.restype = None
            library.pointlang_voxel_groups.argtypes = [_ptr, _ptr, _ptr, _i64, ctypes.c_double]
            library.pointlang_voxel_groups.argtypes += [_ptr, _ptr]
            return library
    return None


LIBRARY = _load()


def _address(array: np.ndarray) -> int:
    return int(array.ctypes.data)


def _library() -> ctypes.CDLL:
    if LIBRARY is None:
        raise RuntimeError(
            f"the compiled kernels ({LIBRARY_NAME}) are not built or are turned off; "
            "callers must check kernels.LIBRARY and use their numpy path"
        )
    return LIBRARY


def xyz_from_cloud(
    buffer: npt.NDArray[np.uint8],
    height: int,
    width: int,
    row_step: int,
    point_step: int,
    offset: int,
    drop_invalid: bool,
) -> npt.NDArray[np.float32]:
    """(N, 3) float32 x, y, z of native float32 fields at `offset` of each point (see C)."""
    out = np.empty((height * width, 3), np.float32)
    count = _library().pointlang_xyz_from_cloud(
        _address(buffer),
        height,
        width,
        row_step,
        point_step,
        offset,
        int(drop_invalid),
        _address(out),
    )
    return out[:count] if count < len(out) else out


def drop_nan_records(
    buffer: npt.NDArray[np.uint8],
    height: int,
    width: int,
    row_step: int,
    point_step: int,
    float32_offsets: list[int],
    float64_offsets: list[int],
) -> npt.NDArray[np.uint8] | None:
    """The records without NaN in the given fields, as (N, point_step) bytes, or None when no
    record has one (the caller keeps its view: nothing is copied then)."""
    library = _library()
    f32 = np.asarray(float32_offsets, np.int64)
    f64 = np.asarray(float64_offsets, np.int64)
    layout = (_address(buffer), height, width, row_step, point_step)
    fields = (_address(f32), len(f32), _address(f64), len(f64))
    if library.pointlang_first_nan_record(*layout, *fields) < 0:
        return None
    out = np.empty((height * width, point_step), np.uint8)
    count = library.pointlang_drop_nan_records(*layout, *fields, _address(out))
    return out[:count]


def farthest_point_sample(
    clouds: list[npt.NDArray[np.float32]], num_points: int, start: int
) -> npt.NDArray[np.intp]:
    """(clouds, num_points) indices; every cloud has more than `num_points` points (see C)."""
    sizes = np.array([len(c) for c in clouds], np.int64)
    packed = np.ascontiguousarray(np.concatenate(clouds), np.float32)
    scratch = np.empty(int(sizes.max()), np.float32)
    out = np.empty((len(clouds), num_points), np.int64)
    _library().pointlang_farthest_point_sample(
        _address(packed),
        _address(sizes),
        len(clouds),
        num_points,
        start,
        _address(scratch),
        _address(out),
    )
    return out.astype(np.intp, copy=False)


def range_image(
    xyz: npt.NDArray[np.float32], rings: npt.NDArray[np.int32] | None, width: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int32]] | int:
    """(returns (N, 3), pixels (rows, columns)) of an organised sweep of (n, 3) contiguous
    `xyz`, or the kernel's error code (-1: a ring id out of 0..1023, -2: uneven rings; see C)."""
    n = len(xyz)
    points = np.empty((n, 3), np.float32)
    pixels = np.empty(n, np.int32)
    shape = np.zeros(2, np.int64)
    count = _library().pointlang_range_image(
        _address(xyz),
        n,
        None if rings is None else _address(rings),
        width,
        _address(points),
        _address(pixels),
        _address(shape),
    )
    if count < 0:
        return int(count)
    rows, columns = int(shape[0]), int(shape[1])
    return points[:count], pixels[: rows * columns].reshape(rows, columns)


def segment_range_image(
    points: npt.NDArray[np.float32],
    pixels: npt.NDArray[np.int32],
    lower: npt.NDArray[np.float32],
    upper: npt.NDArray[np.float32],
    tan_ground: float,
    tolerance2: float,
    cos2_beta: float,
) -> npt.NDArray[np.int32]:
    """(N,) object label of each return: its object's smallest point index, -1 for none."""
    labels = np.empty(len(points), np.int32)
    _library().pointlang_segment_range_image(
        _address(points),
        len(points),
        _address(pixels),
        pixels.shape[0],
        pixels.shape[1],
        _address(lower),
        _address(upper),
        tan_ground,
        tolerance2,
        cos2_beta,
        _address(labels),
    )
    return labels


def voxel_groups(
    xyz: npt.NDArray[np.float32], groups: list[npt.NDArray[np.intp]], voxel_size: float
) -> list[npt.NDArray[np.float32]]:
    """The voxel means of each group of points (indices into contiguous `xyz`; see C)."""
    members = np.ascontiguousarray(np.concatenate(groups), np.int64)
    offsets = np.zeros(len(groups) + 1, np.int64)
    np.cumsum([len(g) for g in groups], out=offsets[1:])
    out = np.empty((len(members), 3), np.float32)
    counts = np.empty(len(groups), np.int64)
    _library().pointlang_voxel_groups(
        _address(xyz),
        _address(members),
        _address(offsets),
        len(groups),
        voxel_size,
        _address(out),
        _address(counts),
    )
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [out[bounds[k] : bounds[k + 1]] for k in range(len(groups))]
