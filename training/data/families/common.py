"""What every parametric family shares: the ``Shape`` it returns, the ``Family`` record that
registers it, and small part helpers (legs, corners, rings, drawer fronts).

A builder draws its own parameters from a numpy Generator and assembles parts at metric scale
(metres, z up, front of the object towards +x, base on the floor z=0, footprint centred on the
origin). The ``Shape`` carries the true facts (part counts, attributes, present/absent features)
that captions and questions are written from, so language can never disagree with geometry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from training.data.mesh import Mesh, box, cylinder, ellipsoid, grid_surface, merge, rod, slab

ParamValue = float | int | str | bool


@dataclass
class Attribute:
    """A describable property of a part: the seat is "round" (other option: "square")."""

    part: str
    value: str
    options: tuple[str, ...]


@dataclass
class Shape:
    """A built object: its mesh and the facts its language is derived from."""

    category: str
    mesh: Mesh
    params: dict[str, ParamValue]
    # Plural part noun -> how many ("legs": 4). Only parts a person could count on the object.
    counts: dict[str, int] = field(default_factory=dict)
    attributes: list[Attribute] = field(default_factory=list)
    # Noun phrase -> present ("armrests": True, "a handle": False).
    features: dict[str, bool] = field(default_factory=dict)
    # False for objects that look the same from every side (bowls, vases): no "facing" words.
    has_front: bool = True
    # Words for this particular instance when the category's synonyms would not all fit it
    # (a floor lamp is not a "desk lamp"); empty means use the category's synonyms.
    names: tuple[str, ...] = ()
    # Transparent parts (a car's windows, a glass panel), in the same frame as ``mesh`` but not
    # part of it: a simulated LiDAR or depth camera lets most rays through them, so real scans
    # show holes where the glass is. Builders put glass here instead of into ``mesh``.
    glass: Mesh | None = None

    def dimensions(self) -> tuple[float, float, float]:
        """(depth along x, width along y, height along z) in metres, in the object's own frame."""
        lo, hi = self.mesh.bounds()
        size = hi - lo
        return float(size[0]), float(size[1]), float(size[2])


@dataclass(frozen=True)
class Family:
    """One category's parametric family: its words, its plausible heights and its builder.

    ``name`` is the category id (snake_case, unique across every domain); ``synonyms[0]`` is the
    spoken name. Names and synonyms must be unique across the registry. ``unseen`` families are
    never named in training text (the zero-shot split).

    ``description`` is one line of geometry as an operator would write it to tell the model about
    a word it never trained on ("a small open cylinder with a handle on one side"); every unseen
    family has one, and it names neither the category itself nor any unseen category. Evaluation
    labels unseen objects with "name: description" (``ros_pointlang.vocabulary.label_prompts``);
    no generator reads it, so it changes no data.
    """

    name: str
    domain: str  # "modelnet", "outdoor", "indoor" or "generic"
    synonyms: tuple[str, ...]
    height_range_m: tuple[float, float]
    build: Callable[[np.random.Generator], Shape]
    unseen: bool = False
    description: str = ""


def pick(rng: np.random.Generator, options: Sequence):
    return options[int(rng.integers(len(options)))]


def finish_shape(
    category: str,
    parts: list[Mesh],
    params: dict,
    glass_parts: Sequence[Mesh] = (),
    **facts,
) -> Shape:
    """Merge the parts and put the footprint centre at the origin and the base on z=0.

    The opaque parts alone set the frame; ``glass_parts`` move with them into ``Shape.glass``.
    """
    mesh = merge(parts)
    lo, hi = mesh.bounds()
    offset = (-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2])
    glass = merge(list(glass_parts)).translated(offset) if glass_parts else None
    return Shape(category, mesh.translated(offset), params, glass=glass, **facts)


def leg_rods(corners, top_z: float, radius: float, square: bool, splay: float = 0.0) -> list[Mesh]:
    """Legs from (x, y) attachment points at ``top_z`` down to the floor, splayed outwards."""
    segments = 4 if square else 10
    out = []
    for x, y in corners:
        out.append(rod((x, y, top_z), (x * (1 + splay), y * (1 + splay), 0.0), radius, segments))
    return out


def rect_corners(half_x: float, half_y: float) -> list[tuple[float, float]]:
    return [(half_x, half_y), (half_x, -half_y), (-half_x, half_y), (-half_x, -half_y)]


def ring_points(n: int, radius: float, phase: float = 0.0) -> list[tuple[float, float]]:
    a = phase + np.arange(n) * 2 * np.pi / n
    return [(radius * np.cos(t), radius * np.sin(t)) for t in a]


def drawer_fronts(x_front, y0, y1, z0, z1, rows, cols, knob: bool) -> list[Mesh]:
    """Drawer panels proud of a cabinet face at ``x_front`` plus a knob or bar handle each."""
    parts = []
    h, w = (z1 - z0) / rows, (y1 - y0) / cols
    for r in range(rows):
        for c in range(cols):
            zc, yc = z0 + (r + 0.5) * h, y0 + (c + 0.5) * w
            parts.append(box((0.015, w * 0.94, h * 0.9), (x_front + 0.0075, yc, zc)))
            if knob:
                parts.append(ellipsoid(0.015, (x_front + 0.025, yc, zc), 5))
            else:
                parts.append(box((0.02, w * 0.4, 0.015), (x_front + 0.025, yc, zc)))
    return parts


def glazed_cabin(
    x_rear: float,
    x_front: float,
    z_belt: float,
    z_roof: float,
    width: float,
    rear_slope: float = 0.0,
    front_slope: float = 0.0,
    side_windows: int = 1,
    rear_glass: bool = True,
    pillar: float = 0.06,
) -> tuple[list[Mesh], list[Mesh]]:
    """A vehicle's greenhouse above the beltline: (opaque roof and pillars, glass panes).

    Seen from the side it is a trapezoid, ``x_rear``..``x_front`` at the beltline ``z_belt`` and
    narrowed by ``rear_slope`` / ``front_slope`` at the roof. Each side has ``side_windows`` panes
    between pillars; the windscreen is glass, the rear face glass or (a panel van's) opaque.
    The cabin is hollow: a ray through a window meets the far side or the interior floor.
    """
    if side_windows < 1:
        raise ValueError(f"a cabin needs at least one side window per side, got {side_windows}")
    top_rear, top_front = x_rear + rear_slope, x_front - front_slope
    half = width / 2
    opaque = [slab(top_rear, top_front, -half, half, z_roof - 0.05, z_roof)]
    glass: list[Mesh] = []
    # Pillars: slanted ones at both ends, vertical ones between the side panes.
    inner = np.linspace(top_rear, top_front, side_windows + 1)[1:-1]
    for y in (-half + pillar / 2, half - pillar / 2):
        opaque.append(rod((x_rear, y, z_belt), (top_rear, y, z_roof), pillar / 2, 4))
        opaque.append(rod((x_front, y, z_belt), (top_front, y, z_roof), pillar / 2, 4))
        for x in inner:
            opaque.append(box((pillar, pillar, z_roof - z_belt), (x, y, (z_belt + z_roof) / 2)))
    edges = [x_rear, *inner, x_front]
    for a, b in pairwise(edges):
        # Panes are single sheets: a ray through the cabin crosses two glass surfaces, not four.
        bottom = ((a, z_belt), (b, z_belt))
        top = ((max(a, top_rear), z_roof), (min(b, top_front), z_roof))
        for y in (-half + 0.01, half - 0.01):
            corners = [[(x, y, z) for x, z in bottom], [(x, y, z) for x, z in top]]
            glass.append(grid_surface(np.array(corners, dtype=np.float64)))

    def sheet(x0: float, x1: float) -> Mesh:
        corners = [
            [(x0, -half, z_belt), (x0, half, z_belt)],
            [(x1, -half, z_roof), (x1, half, z_roof)],
        ]
        return grid_surface(np.array(corners, dtype=np.float64))

    glass.append(sheet(x_front, top_front))
    (glass if rear_glass else opaque).append(sheet(x_rear, top_rear))
    return opaque, glass


def wheel(x: float, y: float, radius: float, width: float, segments: int = 16) -> Mesh:
    """A solid wheel (tyre and rim as one cylinder) standing on the floor, its axle along y."""
    return cylinder(radius, width, (x, y, radius), axis=(0, 1, 0), segments=segments)
