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
