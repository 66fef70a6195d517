"""The indoor families (indoor, appliances, warehouse): metric, true to their parameters, with
glass where the object has glass, deterministic, and distinct from their ModelNet neighbours."""

import re

import numpy as np
import open3d as o3d
import pytest

from training.data.categories import DOMAIN, HEIGHT_RANGE_M, UNSEEN_CATEGORIES
from training.data.families import build_shape
from training.data.language import captions_for, number_word

INDOOR = tuple(c for c, d in DOMAIN.items() if d == "indoor")


def _shapes(category, n=12):
    return [build_shape(category, np.random.default_rng(seed)) for seed in range(n)]


def test_indoor_counts_and_unseen_share():
    assert len(INDOOR) >= 38
    assert sum(c in UNSEEN_CATEGORIES for c in INDOOR) >= 10


@pytest.mark.parametrize("category", INDOOR)
def test_same_seed_same_mesh_other_seed_other_mesh(category):
    a, b = (build_shape(category, np.random.default_rng(7)) for _ in range(2))
    c = build_shape(category, np.random.default_rng(8))
    assert np.array_equal(a.mesh.vertices, b.mesh.vertices) and a.params == b.params
    assert a.params != c.params


@pytest.mark.parametrize("category", INDOOR)
def test_heights_spread_over_the_plausible_range(category):
    heights = [s.dimensions()[2] for s in _shapes(category, 30)]
    lo, hi = HEIGHT_RANGE_M[category]
    assert lo <= min(heights) and max(heights) <= hi
    # Varied in size, not one fixed model: the heights cover a real part of the range.
    assert max(heights) - min(heights) >= 0.1 * (hi - lo), (min(heights), max(heights))


def test_sizes_follow_the_parameters():
    for shape in _shapes("filing_cabinet"):
        p = shape.params
        assert shape.dimensions()[2] == pytest.approx(p["drawers"] * p["drawer_height"] + 0.04)
        assert shape.counts["drawers"] == p["drawers"]
    for shape in _shapes("locker"):
        p = shape.params
        width = shape.dimensions()[1]
        assert width == pytest.approx(p["columns"] * p["column_width"], abs=0.01)
        assert shape.counts["doors"] == p["columns"] * p["tiers"]
    for shape in _shapes("pallet"):
        depth, width, _ = shape.dimensions()
        assert (depth, width) == pytest.approx((shape.params["length"], shape.params["width"]))
    for shape in _shapes("ladder"):
        p = shape.params
        top = 0.1 + p["rungs"] * p["rung_spacing"]
        assert shape.dimensions()[2] == pytest.approx(top, abs=0.05)
        assert p["rungs"] in shape.counts.values()
    for shape in _shapes("shelf_rack"):
        p = shape.params
        assert shape.dimensions()[1] == pytest.approx(p["bays"] * p["bay_width"], abs=0.1)
        assert shape.counts["levels"] == p["levels"]
    for shape in _shapes("drone"):
        p = shape.params
        # Rotors sit on a circle of the arm length, the first half a step off the x axis.
        angles = np.pi / p["rotors"] + 2 * np.pi * np.arange(p["rotors"]) / p["rotors"]
        span_x = 2 * (p["arm_length"] * np.abs(np.cos(angles)).max() + p["propeller_radius"])
        guards = 0.03 if p["guards"] else 0.001  # a guard ring stands just outside the blades
        assert span_x - 0.001 <= shape.dimensions()[0] <= span_x + guards
        assert shape.counts["rotors"] == p["rotors"]
    for shape in _shapes("refrigerator"):
        depth, width, height = shape.dimensions()
        assert width == pytest.approx(shape.params["width"], abs=0.001)
        assert height == pytest.approx(shape.params["height"], abs=0.001)


def test_glass_goes_to_the_glass_mesh_where_the_object_has_glass():
    def inside(shape):
        lo, hi = shape.mesh.bounds()
        glo, ghi = shape.glass.bounds()
        return bool(np.all(glo >= lo - 1e-6) and np.all(ghi <= hi + 1e-6))

    for shape in _shapes("refrigerator", 30):
        glass_front = shape.params["layout"] == "glass front"
        assert (shape.glass is not None) == glass_front == shape.features["a glass door"]
        if glass_front:
            assert inside(shape)
    for category in ("microwave", "oven"):
        assert all(s.glass is not None and inside(s) for s in _shapes(category))
    for shape in _shapes("washing_machine", 20):
        assert (shape.glass is not None) == (shape.params["loading"] == "front")
    for shape in _shapes("storage_cabinet", 20):
        assert (shape.glass is not None) == shape.params["glass_doors"]
    assert all(s.glass is None for s in _shapes("cardboard_box"))


def _depths_behind_front_glass(shape) -> np.ndarray:
    """Distances from the front (+x) glass to the first opaque surface behind it, along a 3 x 3
    grid of rays through the middle of the glass."""
    glo, ghi = shape.glass.bounds()
    ys = np.linspace(glo[1], ghi[1], 5)[1:-1]
    zs = np.linspace(glo[2], ghi[2], 5)[1:-1]
    origins = np.array([(ghi[0] + 1.0, y, z) for y in ys for z in zs])
    directions = np.tile((-1.0, 0.0, 0.0), (len(origins), 1))
    rays = np.concatenate([origins, directions], axis=1).astype(np.float32)
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(
        o3d.core.Tensor(shape.mesh.vertices.astype(np.float32)),
        o3d.core.Tensor(shape.mesh.triangles.astype(np.uint32)),
    )
    hits = scene.cast_rays(o3d.core.Tensor(rays))
    return hits["t_hit"].numpy() - 1.0


@pytest.mark.parametrize(
    ("category", "wanted"),
    [
        ("microwave", lambda p: True),
        ("oven", lambda p: True),
        ("refrigerator", lambda p: p["layout"] == "glass front"),
        ("washing_machine", lambda p: p["loading"] == "front"),
        ("storage_cabinet", lambda p: p["glass_doors"]),
        ("vending_machine", lambda p: p["kind"] == "snack"),
    ],
)
def test_a_sensor_sees_into_the_object_through_its_front_glass(category, wanted):
    shapes = [s for s in _shapes(category, 40) if wanted(s.params)][:3]
    assert shapes
    for shape in shapes:
        # Through the glass rays travel on into the cavity, shelves or drum behind it (some meet
        # a door frame or a shelf edge, as they would on the real object).
        depths = _depths_behind_front_glass(shape)
        assert np.mean(depths >= 0.05) >= 1 / 3, (depths, shape.params)


def test_office_chair_rolls_and_the_modelnet_chair_does_not():
    for shape in _shapes("office_chair"):
        assert shape.counts["wheels"] == shape.params["base_spokes"] >= 4
        assert shape.features["a gas-lift column"]
    for shape in _shapes("chair", 30):
        assert shape.params["base"] != "swivel" and not shape.features["wheels"]


@pytest.mark.parametrize("category", INDOOR)
def test_captions_state_the_counts_the_geometry_has(category):
    words = {number_word(n): n for n in range(20)}
    for seed in range(4):
        rng = np.random.default_rng(seed)
        shape = build_shape(category, rng)
        text = " ".join(captions_for(shape, None, rng, count=20))
        for noun, n in shape.counts.items():
            for match in re.finditer(r"\b(\w+) " + re.escape(noun) + r"\b", text):
                if match.group(1) in words:
                    assert words[match.group(1)] == n, (match.group(0), n)


def test_counted_parts_follow_the_parameters():
    pairs = {
        "filing_cabinet": ("drawers", "drawers"),
        "oven": ("burners", "burners"),
        "heater": ("fins", "fins"),
        "printer": ("paper trays", "paper_trays"),
        "toaster": ("slots", "slots"),
        "coat_rack": ("hooks", "hooks"),
        "recycling_bin": ("compartments", "compartments"),
        "shelf_rack": ("bays", "bays"),
    }
    for category, (noun, param) in pairs.items():
        for shape in _shapes(category):
            assert shape.counts.get(noun, 0) == shape.params[param], (category, shape.params)
