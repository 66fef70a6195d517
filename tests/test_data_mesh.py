import numpy as np
import pytest

from training.data.mesh import box, lathe, merge, rod


def test_box_has_requested_size_and_centre():
    lo, hi = box((1.0, 2.0, 3.0), (1.0, 0.0, 1.5)).bounds()
    np.testing.assert_allclose(lo, [0.5, -1.0, 0.0])
    np.testing.assert_allclose(hi, [1.5, 1.0, 3.0])


def test_rod_spans_its_end_points():
    lo, hi = rod((0, 0, 0), (0, 0, 2), 0.1).bounds()
    assert lo[2] == pytest.approx(0.0) and hi[2] == pytest.approx(2.0)


def test_merge_offsets_indices_and_lathe_is_closed_at_bottom():
    a = lathe([0.1, 0.2], [0.0, 0.3], segments=12)
    m = merge([a, box((1, 1, 1))])
    assert m.triangles.max() == len(m.vertices) - 1
    assert m.triangle_areas().min() >= 0


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError):
        rod((0, 0, 0), (0, 0, 0), 0.1)
    with pytest.raises(ValueError):
        merge([])
