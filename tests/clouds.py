"""Synthetic clouds for tests: box surfaces and floors.

Each call without `rng` draws from a fresh generator of one seed, so a test's clouds are the same
whichever tests ran before it (a shared module generator made results depend on test order).
"""

import numpy as np


def seeded(rng: np.random.Generator | None) -> np.random.Generator:
    """`rng`, or a fresh generator of the one seed these helpers share."""
    return rng if rng is not None else np.random.default_rng(7)


def box_surface(size, centre=(0, 0, 0), yaw=0.0, n=3000, rng=None):
    """Points on the surface of an upright box of `size`, turned by `yaw` about z."""
    rng = seeded(rng)
    size = np.asarray(size, float)
    p = rng.uniform(-0.5, 0.5, (n, 3)) * size
    face = rng.integers(0, 3, n)
    p[np.arange(n), face] = np.sign(rng.uniform(-1, 1, n)) * size[face] / 2
    c, s = np.cos(yaw), np.sin(yaw)
    p[:, :2] = p[:, :2] @ np.array([[c, s], [-s, c]])
    return (p + centre).astype(np.float32)


def floor(extent=6.0, n=20000, tilt_deg=0.0, rng=None):
    """A flat (or tilted about y) floor patch `extent` metres square with 5 mm height noise."""
    rng = seeded(rng)
    xy = rng.uniform(-extent / 2, extent / 2, (n, 2))
    z = xy[:, 0] * np.tan(np.radians(tilt_deg)) + rng.normal(0, 0.005, n)
    return np.column_stack([xy, z]).astype(np.float32)
