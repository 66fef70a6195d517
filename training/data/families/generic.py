"""Generic objects assembled from random primitives (domain "generic"), whose captions describe
only their geometry, so language about shape carries over to words the model never saw.

One family, ``primitive_shape``: a main body (cylinder, open tube, box, sphere, dome, tapered
column or slab), optionally on a base (square or round plinth, or legs), with parts stacked on top
(a ball, a pointed top, a disc, a smaller block) and things attached to its sides (arms, knobs, a
ring handle). Its captions name the body by its primitive ("a tall narrow cylinder with an open
top on a square base"), never by a category, so what a caption teaches is the link between words
for parts, counts, proportions and sizes and the points they describe. Its category name labels
nothing a robot would look for (``training.data.categories.labels_an_object``): training keeps
it out of the label vocabulary and learns from its captions alone, evaluation leaves it out of
label scores, and its answers to "what is this?" name the main primitive.
"""

from __future__ import annotations

import numpy as np

from training.data.families.common import Attribute, Family, Shape, finish_shape, pick, ring_points
from training.data.mesh import Mesh, box, cone, cylinder, ellipsoid, lathe, rod, slab, torus

BODIES = ("cylinder", "tube", "box", "sphere", "dome", "tapered column", "slab")
BASES = ("none", "square base", "round base", "legs")
TOPS = ("none", "ball", "pointed top", "disc", "block")

# Words a caption may use for each body; the proportion words ("tall", "flat") come from the
# language module, which measures the built mesh.
BODY_NAMES: dict[str, tuple[str, ...]] = {
    "cylinder": ("cylinder", "cylindrical shape", "round column"),
    "tube": ("open tube", "hollow cylinder", "open-topped cylinder"),
    "box": ("box", "block", "rectangular block"),
    "sphere": ("sphere", "ball", "round ball"),
    "dome": ("dome", "half sphere"),
    "tapered column": ("tapered column", "narrowing column", "frustum"),
    "slab": ("slab", "flat plate", "panel"),
}


def _body(kind: str, rng: np.random.Generator, z0: float) -> tuple[list[Mesh], float, float]:
    """The main body resting at height ``z0``: its parts, its top height and its half width."""
    if kind in ("cylinder", "tube", "tapered column"):
        r, h = rng.uniform(0.05, 0.4), rng.uniform(0.1, 1.5)
        if kind == "cylinder":
            return [cylinder(r, h, (0, 0, z0 + h / 2), segments=24)], z0 + h, r
        if kind == "tube":
            return [lathe([r, r], [z0, z0 + h], 24, cap_bottom=True)], z0 + h, r
        top_r = r * rng.uniform(0.3, 0.7)
        return [lathe([r, top_r], [z0, z0 + h], 24, cap_top=True)], z0 + h, r
    if kind == "box":
        d, w, h = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.1, 1.4)
        return [box((d, w, h), (0, 0, z0 + h / 2))], z0 + h, max(d, w) / 2
    if kind == "sphere":
        r = rng.uniform(0.05, 0.45)
        return [ellipsoid(r, (0, 0, z0 + r), 12)], z0 + 2 * r, r
    if kind == "dome":
        r = rng.uniform(0.1, 0.5)
        angles = np.linspace(0, np.pi / 2, 7)
        return [lathe(r * np.cos(angles), z0 + r * np.sin(angles), 24)], z0 + r, r
    d, w = rng.uniform(0.3, 1.2), rng.uniform(0.3, 1.2)
    t = rng.uniform(0.02, 0.08)
    if rng.random() < 0.5:  # standing on edge
        return [box((t, w, d), (0, 0, z0 + d / 2))], z0 + d, w / 2
    return [box((d, w, t), (0, 0, z0 + t / 2))], z0 + t, max(d, w) / 2


def build_primitive_shape(rng: np.random.Generator) -> Shape:
    body = pick(rng, BODIES)
    base = pick(rng, BASES)
    top = pick(rng, TOPS) if body not in ("tube", "sphere", "dome") else "none"
    arms = int(pick(rng, [0, 0, 0, 2, 3, 4]))
    ring_handle = bool(rng.random() < 0.15)
    parts: list[Mesh] = []
    base_h = 0.0
    base_size = rng.uniform(0.15, 0.5)
    legs = 0
    if base == "square base":
        base_h = rng.uniform(0.02, 0.15)
        parts.append(slab(-base_size, base_size, -base_size, base_size, 0.0, base_h))
    elif base == "round base":
        base_h = rng.uniform(0.02, 0.15)
        parts.append(cylinder(base_size, base_h, (0, 0, base_h / 2), segments=24))
    elif base == "legs":
        legs = int(pick(rng, [3, 4, 4]))
        base_h = rng.uniform(0.1, 0.6)
        for x, y in ring_points(legs, base_size * 0.8, np.pi / 4):
            parts.append(rod((x, y, base_h), (x * 1.1, y * 1.1, 0.0), 0.015, 6))
        parts.append(
            slab(
                -base_size * 0.8,
                base_size * 0.8,
                -base_size * 0.8,
                base_size * 0.8,
                base_h - 0.02,
                base_h,
            )
        )
    body_parts, body_top, half = _body(body, rng, base_h)
    parts += body_parts
    mid = (base_h + body_top) / 2
    if top == "ball":
        r = max(half * rng.uniform(0.3, 0.7), 0.03)
        parts.append(ellipsoid(r, (0, 0, body_top + r), 10))
    elif top == "pointed top":
        parts.append(cone(half, half * rng.uniform(0.8, 2.0), (0, 0, body_top), segments=24))
    elif top == "disc":
        parts.append(
            cylinder(half * rng.uniform(1.1, 1.6), 0.02, (0, 0, body_top + 0.01), segments=24)
        )
    elif top == "block":
        s = half * rng.uniform(0.5, 1.0)
        parts.append(box((s, s, s), (0, 0, body_top + s / 2)))
    for x, y in ring_points(arms, 1.0, rng.uniform(0, np.pi)) if arms else []:
        length = rng.uniform(0.1, 0.4)
        parts.append(
            rod(
                (x * half * 0.9, y * half * 0.9, mid),
                (x * (half + length), y * (half + length), mid),
                0.015,
                6,
            )
        )
    if ring_handle:
        parts.append(torus(0.06, 0.012, (half + 0.05, 0, mid), axis=(0, 1, 0), segments=12))
    counts = {}
    if legs:
        counts["legs"] = legs
    if arms:
        counts["side arms"] = arms
    attributes = []
    if base in ("square base", "round base"):
        attributes.append(Attribute("base", base.split()[0], ("square", "round")))
    if body == "tube":
        attributes.append(Attribute("top", "open", ("open", "closed")))
    features = {
        "a ball on top": top == "ball",
        "a pointed top": top == "pointed top",
        "a disc on top": top == "disc",
        "a block on top": top == "block",
        "a ring handle": ring_handle,
    }
    return finish_shape(
        "primitive_shape",
        parts,
        dict(body=body, base=base, top=top, side_arms=arms, ring_handle=ring_handle, legs=legs),
        counts=counts,
        attributes=attributes,
        features=features,
        has_front=False,
        names=BODY_NAMES[body],
    )


FAMILIES: dict[str, Family] = {
    "primitive_shape": Family(
        "primitive_shape",
        "generic",
        ("primitive shape", "assembled shape", "abstract shape"),
        (0.02, 3.0),
        build_primitive_shape,
    )
}
