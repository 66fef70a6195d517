import numpy as np
import pytest

from training.data.categories import CATEGORIES, DOMAIN, HEIGHT_RANGE_M, SYNONYMS
from training.data.families import DOMAINS, FAMILIES, build_shape


def test_every_category_has_a_builder_and_a_size_range():
    assert set(FAMILIES) == set(CATEGORIES) == set(HEIGHT_RANGE_M)
    assert set(DOMAIN.values()) <= set(DOMAINS)


def test_names_and_synonyms_name_one_category_each():
    owner: dict[str, str] = {}
    for category, words in SYNONYMS.items():
        for word in {category.replace("_", " "), *words}:
            assert owner.setdefault(word, category) == category, (word, owner[word], category)


def test_unknown_category_is_refused_with_the_name():
    with pytest.raises(ValueError, match="'spaceship'"):
        build_shape("spaceship", np.random.default_rng(0))


@pytest.mark.parametrize("category", CATEGORIES)
def test_instances_are_metric_grounded_and_varied(category):
    shapes = [build_shape(category, np.random.default_rng(seed)) for seed in range(6)]
    lo_h, hi_h = HEIGHT_RANGE_M[category]
    for shape in shapes:
        lo, hi = shape.mesh.bounds()
        assert np.isfinite(shape.mesh.vertices).all()
        assert lo[2] == pytest.approx(0.0, abs=1e-9)  # base on the floor
        assert abs(lo[0] + hi[0]) < 1e-6 and abs(lo[1] + hi[1]) < 1e-6  # footprint centred
        assert lo_h <= shape.dimensions()[2] <= hi_h
        assert len(shape.params) >= 5
    # Two instances differ in parameters and in geometry, not just in scale.
    a, b = shapes[0], shapes[1]
    assert a.params != b.params
    ratio_a = np.array(a.dimensions()) / max(a.dimensions())
    ratio_b = np.array(b.dimensions()) / max(b.dimensions())
    assert not np.allclose(ratio_a, ratio_b, atol=1e-3) or len(a.mesh.triangles) != len(
        b.mesh.triangles
    )


def test_chair_leg_count_matches_geometry_parameter():
    for seed in range(20):
        shape = build_shape("chair", np.random.default_rng(seed))
        expected = {"four legs": 4, "three legs": 3}[shape.params["base"]]
        assert shape.counts["legs"] == expected


def test_unknown_category_raises():
    with pytest.raises(ValueError, match="unknown category"):
        build_shape("spaceship", np.random.default_rng(0))
