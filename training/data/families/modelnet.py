"""Parametric mesh families for the 40 ModelNet40 categories (domain "modelnet").

ModelNet's own names stay the benchmark vocabulary; ``NAMES`` keeps ModelNet's label order.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np

from training.data.families.common import (
    Attribute,
    Family,
    Shape,
    drawer_fronts,
    finish_shape,
    glazed_cabin,
    leg_rods,
    pick,
    rect_corners,
    ring_points,
    wheel,
)
from training.data.mesh import (
    Mesh,
    box,
    cone,
    cylinder,
    ellipsoid,
    grid_surface,
    lathe,
    prism,
    rod,
    rot_y,
    rot_z,
    slab,
    torus,
)

# ModelNet40's own names, in its own (alphabetical) order; the index is the ModelNet label.
NAMES: tuple[str, ...] = (
    "airplane",
    "bathtub",
    "bed",
    "bench",
    "bookshelf",
    "bottle",
    "bowl",
    "car",
    "chair",
    "cone",
    "cup",
    "curtain",
    "desk",
    "door",
    "dresser",
    "flower_pot",
    "glass_box",
    "guitar",
    "keyboard",
    "lamp",
    "laptop",
    "mantel",
    "monitor",
    "night_stand",
    "person",
    "piano",
    "plant",
    "radio",
    "range_hood",
    "sink",
    "sofa",
    "stairs",
    "stool",
    "table",
    "tent",
    "toilet",
    "tv_stand",
    "vase",
    "wardrobe",
    "xbox",
)

# Chosen to test zero-shot transfer to near neighbours of seen classes (stool ~ chair/table,
# bookshelf ~ tv stand/dresser, cup ~ bowl/vase, wardrobe ~ dresser) and to unrelated shapes
# (tent, guitar, cone). None of these words is needed to describe a seen object's parts.
UNSEEN: tuple[str, ...] = (
    "bathtub",
    "bookshelf",
    "cone",
    "cup",
    "guitar",
    "lamp",
    "stool",
    "tent",
    "toilet",
    "wardrobe",
)

# One line of geometry per unseen category, as an operator would tell the model about a new word
# (``Family.description``): never the category's own words, never an unseen word.
DESCRIPTIONS: dict[str, str] = {
    "bathtub": "a long open basin on the floor, about knee high, with thick rounded walls",
    "bookshelf": "a tall open frame with several evenly spaced horizontal boards",
    "cone": "a small pointed tapering post on a flat square base, with raised rings",
    "cup": "a small open cylinder with a handle on one side",
    "guitar": "a flat body shaped like a figure eight with a long thin neck",
    "lamp": "a thin upright pole on a round foot with a shade at the top",
    "stool": "a backless seat on three or four legs, sometimes with a footrest ring",
    "tent": "a dome or ridge of fabric stretched over poles on the ground, with a door flap",
    "toilet": "a low oval bowl with a hinged seat and a box-shaped tank behind it",
    "wardrobe": "a tall box-shaped cupboard with long doors across its front",
}

# Words a caption may use for the object itself. The first entry is the canonical answer to
# "what is this?" (the ModelNet name with spaces). Seen synonyms must not contain an unseen word.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "airplane": ("airplane", "aeroplane", "plane", "aircraft", "jet"),
    "bathtub": ("bathtub", "bath tub", "tub", "bath"),
    "bed": ("bed", "bedframe with mattress"),
    "bench": ("bench", "park bench", "seating bench"),
    "bookshelf": ("bookshelf", "bookcase", "book shelf"),
    "bottle": ("bottle", "flask"),
    "bowl": ("bowl", "serving bowl", "dish"),
    "car": ("car", "automobile", "passenger car", "vehicle"),
    "chair": ("chair", "dining chair", "side chair"),
    "cone": ("cone", "traffic cone", "safety cone", "pylon"),
    "cup": ("cup", "mug", "teacup", "coffee cup"),
    "curtain": ("curtain", "drape", "window curtain"),
    "desk": ("desk", "writing desk", "office desk", "work desk"),
    "door": ("door", "interior door", "doorway with a door"),
    "dresser": ("dresser", "chest of drawers", "bureau"),
    "flower_pot": ("flower pot", "planter", "flowerpot"),
    "glass_box": ("glass box", "glass case", "display case", "vitrine"),
    "guitar": ("guitar", "acoustic guitar", "electric guitar"),
    "keyboard": ("keyboard", "computer keyboard", "typing keyboard"),
    "lamp": ("lamp", "floor lamp", "desk lamp", "table lamp"),
    "laptop": ("laptop", "notebook computer", "laptop computer"),
    "mantel": ("mantel", "mantelpiece", "fireplace mantel", "fireplace surround"),
    "monitor": ("monitor", "computer monitor", "computer screen", "flat screen"),
    "night_stand": ("night stand", "nightstand", "bedside table", "bedside cabinet"),
    "person": ("person", "human", "pedestrian", "standing figure"),
    "piano": ("piano", "pianoforte"),
    "plant": ("plant", "potted plant", "houseplant"),
    "radio": ("radio", "radio receiver", "tabletop radio"),
    "range_hood": ("range hood", "cooker hood", "extractor hood", "kitchen hood"),
    "sink": ("sink", "washbasin", "wash basin"),
    "sofa": ("sofa", "couch", "settee"),
    "stairs": ("stairs", "staircase", "flight of steps", "stairway"),
    "stool": ("stool", "bar stool", "footstool"),
    "table": ("table", "dining table", "side table"),
    "tent": ("tent", "camping tent", "shelter tent"),
    "toilet": ("toilet", "lavatory", "wc"),
    "tv_stand": ("tv stand", "tv cabinet", "media console", "entertainment unit"),
    "vase": ("vase", "urn", "decorative vase"),
    "wardrobe": ("wardrobe", "armoire", "closet"),
    "xbox": ("xbox", "game console", "games console", "video game console"),
}


# Realistic (min, max) height in metres per category; builders stay inside, tests check it.
HEIGHT_RANGE_M: dict[str, tuple[float, float]] = {
    "airplane": (1.5, 14.0),
    "bathtub": (0.45, 0.8),
    "bed": (0.5, 1.5),
    "bench": (0.35, 1.0),
    "bookshelf": (0.7, 2.3),
    "bottle": (0.12, 0.45),
    "bowl": (0.04, 0.2),
    "car": (1.2, 2.0),
    "chair": (0.7, 1.2),
    "cone": (0.25, 1.1),
    "cup": (0.05, 0.16),
    "curtain": (1.3, 2.8),
    "desk": (0.68, 0.85),
    "door": (1.9, 2.3),
    "dresser": (0.6, 1.4),
    "flower_pot": (0.1, 0.6),
    "glass_box": (0.2, 1.8),
    "guitar": (0.8, 1.4),
    "keyboard": (0.015, 0.06),
    "lamp": (0.3, 1.9),
    "laptop": (0.01, 0.3),
    "mantel": (0.9, 1.6),
    "monitor": (0.25, 0.9),
    "night_stand": (0.4, 0.8),
    "person": (0.55, 2.4),
    "piano": (0.9, 2.0),
    "plant": (0.3, 2.0),
    "radio": (0.1, 0.6),
    "range_hood": (0.12, 1.4),
    "sink": (0.12, 1.2),
    "sofa": (0.65, 1.1),
    "stairs": (0.4, 3.8),
    "stool": (0.35, 0.85),
    "table": (0.4, 0.8),
    "tent": (0.9, 2.2),
    "toilet": (0.35, 0.9),
    "tv_stand": (0.3, 0.8),
    "vase": (0.15, 0.7),
    "wardrobe": (1.7, 2.4),
    "xbox": (0.05, 0.35),
}


# ---------------------------------------------------------------- seating and tables


def build_chair(rng: np.random.Generator) -> Shape:
    seat_h, seat_w, seat_d = rng.uniform(0.42, 0.5), rng.uniform(0.4, 0.56), rng.uniform(0.38, 0.52)
    seat_t = rng.uniform(0.03, 0.07)
    # No swivel base: a chair on a five-star base with wheels is the indoor "office_chair".
    base = pick(rng, ["four legs", "four legs", "three legs"])
    seat_shape = "round" if base == "three legs" else pick(rng, ["square", "square", "round"])
    back_h, tilt = rng.uniform(0.25, 0.6), rng.uniform(0.0, 0.25)
    slatted = bool(rng.random() < 0.4)
    slats = int(rng.integers(3, 7)) if slatted else 0
    arms = bool(rng.random() < 0.35)
    parts = []
    top = seat_h - seat_t
    if seat_shape == "round":
        parts.append(
            cylinder((seat_d / 2, seat_w / 2), seat_t, (0, 0, seat_h - seat_t / 2), segments=20)
        )
    else:
        parts.append(box((seat_d, seat_w, seat_t), (0, 0, seat_h - seat_t / 2)))
    legs = 4 if base == "four legs" else 3
    square_legs = bool(rng.random() < 0.5)
    r = rng.uniform(0.015, 0.03)
    if legs == 4:
        corners = rect_corners(seat_d / 2 - r - 0.01, seat_w / 2 - r - 0.01)
    else:
        corners = ring_points(3, min(seat_d, seat_w) / 2 - 0.04, np.pi)
    parts += leg_rods(corners, top, r, square_legs, splay=rng.uniform(0.0, 0.15))
    # Back at the rear (-x), leaning back by ``tilt``.
    back_x = -seat_d / 2 + 0.02
    lean = rot_y(-tilt)
    centre = np.array([back_x, 0, seat_h]) + lean @ np.array([0, 0, back_h / 2])
    if slatted:
        for y in np.linspace(-seat_w / 2 + 0.02, seat_w / 2 - 0.02, slats):
            parts.append(box((0.02, 0.025, back_h), centre + np.array([0.0, y, 0.0]), lean))
        rail_c = np.array([back_x, 0, seat_h]) + lean @ np.array([0, 0, back_h])
        parts.append(box((0.03, seat_w, 0.05), rail_c, lean))
    else:
        parts.append(box((0.03, seat_w * 0.95, back_h), centre, lean))
    if arms:
        arm_z = seat_h + rng.uniform(0.18, 0.25)
        for y in (-seat_w / 2, seat_w / 2):
            parts.append(box((seat_d * 0.9, 0.05, 0.03), (0, y, arm_z)))
            parts.append(rod((seat_d * 0.35, y, seat_h), (seat_d * 0.35, y, arm_z), 0.015, 6))
    counts = {"legs": legs}
    if slatted:
        counts["slats"] = slats
    return finish_shape(
        "chair",
        parts,
        dict(
            seat_height=seat_h,
            seat_width=seat_w,
            base=base,
            back_height=back_h,
            back_tilt=tilt,
            slats=slats,
            arms=arms,
            seat_shape=seat_shape,
        ),
        counts=counts,
        attributes=[
            Attribute("seat", seat_shape, ("round", "square")),
            Attribute("back", "tall" if back_h > 0.42 else "low", ("tall", "low")),
            Attribute("back", "slatted" if slatted else "solid", ("slatted", "solid")),
        ],
        features={"armrests": arms, "wheels": False},
    )


def build_stool(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.4, 0.8)
    seat_shape = pick(rng, ["round", "round", "square"])
    seat_r, seat_t = rng.uniform(0.15, 0.22), rng.uniform(0.03, 0.06)
    legs = int(pick(rng, [1, 3, 4, 4]))
    footrest = bool(height > 0.55 and rng.random() < 0.7)
    splay = rng.uniform(0.0, 0.3)
    parts = []
    if seat_shape == "round":
        parts.append(cylinder(seat_r, seat_t, (0, 0, height - seat_t / 2), segments=20))
    else:
        parts.append(box((2 * seat_r, 2 * seat_r, seat_t), (0, 0, height - seat_t / 2)))
    top = height - seat_t
    if legs == 1:
        parts.append(cylinder(0.03, top, (0, 0, top / 2)))
        parts.append(cylinder(seat_r * 1.1, 0.03, (0, 0, 0.015), segments=20))
    else:
        corners = ring_points(legs, seat_r * 0.75, np.pi / 4)
        parts += leg_rods(corners, top, 0.018, bool(rng.random() < 0.4), splay)
    if footrest:
        zr = height * 0.35
        ring_r = seat_r * 0.75 * (1 + splay * (1 - zr / top)) if legs > 1 else seat_r * 0.8
        parts.append(torus(ring_r, 0.01, (0, 0, zr)))
    return finish_shape(
        "stool",
        parts,
        dict(
            height=height,
            seat_shape=seat_shape,
            seat_radius=seat_r,
            legs=legs,
            footrest=footrest,
            splay=splay,
        ),
        counts={"legs": legs},
        attributes=[
            Attribute("seat", seat_shape, ("round", "square")),
            Attribute("stool", "tall" if height > 0.6 else "low", ("tall", "low")),
        ],
        features={"a footrest": footrest, "a backrest": False},
        has_front=False,
    )


def build_table(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["dining", "dining", "coffee", "side"])
    height = {
        "dining": rng.uniform(0.72, 0.78),
        "coffee": rng.uniform(0.4, 0.5),
        "side": rng.uniform(0.5, 0.65),
    }[kind]
    top_shape = pick(rng, ["rectangular", "rectangular", "round"])
    if kind == "dining":
        length, width = rng.uniform(0.9, 2.2), rng.uniform(0.75, 1.0)
    elif kind == "coffee":
        length, width = rng.uniform(0.8, 1.3), rng.uniform(0.45, 0.7)
    else:
        length = width = rng.uniform(0.4, 0.6)
    if top_shape == "round":
        width = length = min(length, 1.3)
    top_t = rng.uniform(0.025, 0.05)
    if top_shape == "round":
        legs = int(pick(rng, [1, 3, 4]))
    else:
        legs = 6 if length > 1.8 else 4
    apron = bool(legs >= 4 and rng.random() < 0.6)
    shelf = bool(kind != "dining" and rng.random() < 0.5)
    parts = []
    top_z = height - top_t
    if top_shape == "round":
        parts.append(cylinder(length / 2, top_t, (0, 0, height - top_t / 2), segments=28))
    else:
        parts.append(box((length, width, top_t), (0, 0, height - top_t / 2)))
    if legs == 1:
        parts.append(cylinder(0.05, top_z, (0, 0, top_z / 2)))
        parts.append(cylinder(length * 0.3, 0.03, (0, 0, 0.015), segments=20))
    else:
        r = rng.uniform(0.02, 0.04)
        if top_shape == "round":
            corners = ring_points(legs, length / 2 * 0.7, np.pi / 4)
        elif legs == 6:
            hx, hy = length / 2 - 0.08, width / 2 - 0.06
            corners = [*rect_corners(hx, hy), (0.0, hy), (0.0, -hy)]
        else:
            corners = rect_corners(length / 2 - 0.08, width / 2 - 0.06)
        parts += leg_rods(corners, top_z, r, bool(rng.random() < 0.5))
        if apron:
            hx, hy = length / 2 - 0.08, width / 2 - 0.06
            parts.append(slab(-hx, hx, -hy, hy, top_z - 0.08, top_z).scaled((1, 1, 1)))
        if shelf:
            hx, hy = length / 2 - 0.06, width / 2 - 0.05
            parts.append(slab(-hx, hx, -hy, hy, 0.12, 0.14))
    return finish_shape(
        "table",
        parts,
        dict(
            kind=kind,
            height=height,
            length=length,
            width=width,
            top_shape=top_shape,
            legs=legs,
            apron=apron,
            shelf=shelf,
        ),
        counts={"legs": legs},
        attributes=[
            Attribute(
                "top", "round" if top_shape == "round" else "rectangular", ("round", "rectangular")
            ),
            Attribute("table", "low" if height < 0.6 else "high", ("low", "high")),
        ],
        features={"a lower shelf": shelf},
        has_front=top_shape != "round",
        names={
            "dining": ("table", "dining table"),
            "coffee": ("table", "coffee table"),
            "side": ("table", "side table"),
        }[kind],
    )


def build_desk(rng: np.random.Generator) -> Shape:
    width, depth = rng.uniform(1.0, 1.8), rng.uniform(0.5, 0.8)
    height, top_t = rng.uniform(0.72, 0.77), rng.uniform(0.025, 0.04)
    pedestals = int(pick(rng, [0, 1, 1, 2]))
    drawers = int(rng.integers(2, 5)) if pedestals else 0
    modesty = bool(rng.random() < 0.6)
    hutch = bool(rng.random() < 0.0)  # kept at 0: a hutch would push heights past a desk's
    parts = [box((depth, width, top_t), (0, 0, height - top_t / 2))]
    top_z = height - top_t
    hy, hx = width / 2, depth / 2
    ped_w = 0.42
    sides_done = []
    for side in range(pedestals):
        s = -1 if side == 0 else 1
        y0, y1 = (s * hy - ped_w, s * hy) if s > 0 else (-hy, -hy + ped_w)
        parts.append(slab(-hx + 0.02, hx - 0.03, y0, y1, 0.0, top_z))
        parts += drawer_fronts(
            hx - 0.03,
            y0,
            y1,
            0.05,
            top_z - 0.01,
            drawers // pedestals if pedestals == 2 else drawers,
            1,
            knob=False,
        )
        sides_done.append(s)
    # Legs (or panels) at ends without a pedestal.
    for s in (-1, 1):
        if s in sides_done:
            continue
        if rng.random() < 0.5:
            y = s * (hy - 0.03)
            parts.append(slab(-hx + 0.02, hx - 0.02, y - 0.02, y + 0.02, 0.0, top_z))
        else:
            parts += leg_rods(
                [(hx - 0.05, s * (hy - 0.05)), (-hx + 0.05, s * (hy - 0.05))], top_z, 0.025, True
            )
    if modesty:
        parts.append(slab(-hx + 0.02, -hx + 0.04, -hy + 0.05, hy - 0.05, top_z * 0.45, top_z))
    if pedestals == 2:
        drawers = 2 * (drawers // 2)
    return finish_shape(
        "desk",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            pedestals=pedestals,
            drawers=drawers,
            modesty_panel=modesty,
            hutch=hutch,
        ),
        counts={"drawers": drawers},
        attributes=[Attribute("desk", "wide" if width > 1.4 else "compact", ("wide", "compact"))],
        features={"drawers": drawers > 0, "a back panel": modesty},
    )


def build_bench(rng: np.random.Generator) -> Shape:
    length, depth = rng.uniform(1.0, 2.2), rng.uniform(0.35, 0.55)
    seat_h = rng.uniform(0.4, 0.48)
    slats = int(rng.integers(3, 7))
    back = bool(rng.random() < 0.5)
    arms = bool(back and rng.random() < 0.5)
    ends = pick(rng, ["legs", "slab ends"])
    legs = 6 if (ends == "legs" and length > 1.7) else 4
    parts = []
    gap = 0.01
    slat_d = (depth - gap * (slats - 1)) / slats
    for i in range(slats):
        x = -depth / 2 + slat_d / 2 + i * (slat_d + gap)
        parts.append(box((slat_d, length, 0.03), (x, 0, seat_h - 0.015)))
    top = seat_h - 0.03
    hx, hy = depth / 2 - 0.04, length / 2 - 0.08
    if ends == "legs":
        corners = rect_corners(hx, hy) + ([(hx, 0.0), (-hx, 0.0)] if legs == 6 else [])
        parts += leg_rods(corners, top, 0.025, True)
    else:
        legs = 2
        for y in (-hy, hy):
            parts.append(box((depth * 0.9, 0.05, top), (0, y, top / 2)))
    if back:
        back_h = rng.uniform(0.3, 0.45)
        for k in range(3):
            z = seat_h + 0.1 + k * back_h / 3
            parts.append(box((0.03, length, 0.06), (-depth / 2, 0, z), rot_y(-0.15)))
        for y in (-hy, hy):
            parts.append(
                rod((-depth / 2, y, seat_h), (-depth / 2 - 0.05, y, seat_h + back_h), 0.02)
            )
    if arms:
        for y in (-length / 2 + 0.03, length / 2 - 0.03):
            parts.append(box((depth, 0.05, 0.03), (0, y, seat_h + 0.22)))
            parts.append(
                rod((depth / 2 - 0.05, y, seat_h), (depth / 2 - 0.05, y, seat_h + 0.22), 0.015)
            )
    return finish_shape(
        "bench",
        parts,
        dict(
            length=length,
            depth=depth,
            seat_height=seat_h,
            slats=slats,
            backrest=back,
            armrests=arms,
            ends=ends,
        ),
        counts={"slats": slats, "legs": legs},
        attributes=[Attribute("bench", "long" if length > 1.6 else "short", ("long", "short"))],
        features={"a backrest": back, "armrests": arms},
    )


def build_sofa(rng: np.random.Generator) -> Shape:
    cushions = int(rng.integers(1, 5))
    seat_w = cushions * rng.uniform(0.5, 0.7)
    depth, seat_h = rng.uniform(0.8, 1.0), rng.uniform(0.38, 0.46)
    back_h = rng.uniform(0.3, 0.5)
    arms = int(pick(rng, [2, 2, 2, 1, 0]))
    arm_w = rng.uniform(0.1, 0.25)
    chaise = bool(rng.random() < 0.25)
    feet = bool(rng.random() < 0.6)
    base_z = 0.1 if feet else 0.0
    width = seat_w + arms * arm_w
    y_left = -width / 2 + (arm_w if arms >= 1 else 0)
    parts = [slab(-depth / 2, depth / 2, -width / 2, width / 2, base_z, seat_h - 0.15)]
    cw = seat_w / cushions
    for i in range(cushions):
        yc = y_left + (i + 0.5) * cw
        parts.append(box((depth - 0.25, cw * 0.97, 0.15), (0.1, yc, seat_h - 0.075)))
        parts.append(
            box(
                (0.2, cw * 0.95, back_h), (-depth / 2 + 0.17, yc, seat_h + back_h / 2), rot_y(-0.15)
            )
        )
    parts.append(
        slab(-depth / 2, -depth / 2 + 0.15, -width / 2, width / 2, base_z, seat_h + back_h)
    )
    arm_sides = [-1, 1][:arms] if arms < 2 else [-1, 1]
    for s in arm_sides:
        y0 = s * width / 2 - (arm_w if s > 0 else 0)
        parts.append(slab(-depth / 2, depth / 2, y0, y0 + arm_w, base_z, seat_h + 0.2))
    if chaise:
        yc = y_left + cw / 2 if arms < 2 else width / 2 - arm_w - cw / 2
        parts.append(slab(depth / 2, depth / 2 + 0.7, yc - cw / 2, yc + cw / 2, base_z, seat_h))
    if feet:
        hx, hy = depth / 2 - 0.05, width / 2 - 0.05
        parts += leg_rods(rect_corners(hx, hy), base_z, 0.02, False)
    return finish_shape(
        "sofa",
        parts,
        dict(
            cushions=cushions,
            seat_width=seat_w,
            depth=depth,
            back_height=back_h,
            arms=arms,
            chaise=chaise,
            feet=feet,
        ),
        counts={"seat cushions": cushions, "armrests": arms},
        attributes=[
            Attribute("sofa", "L-shaped" if chaise else "straight", ("L-shaped", "straight"))
        ],
        features={"armrests": arms > 0, "visible legs": feet},
    )


def build_bed(rng: np.random.Generator) -> Shape:
    size = pick(rng, ["single", "double", "king"])
    width = {
        "single": rng.uniform(0.9, 1.0),
        "double": rng.uniform(1.35, 1.6),
        "king": rng.uniform(1.8, 2.0),
    }[size]
    length = rng.uniform(1.95, 2.15)
    frame_h, mattress_t = rng.uniform(0.2, 0.4), rng.uniform(0.15, 0.3)
    head_h = rng.uniform(0.8, 1.4)
    footboard = bool(rng.random() < 0.4)
    pillows = int(rng.integers(1, 3)) if size == "single" else int(rng.integers(0, 5))
    legs = bool(rng.random() < 0.5)
    base_z = 0.12 if legs else 0.0
    top = frame_h + mattress_t
    parts = [slab(-length / 2, length / 2, -width / 2, width / 2, base_z, frame_h)]
    parts.append(
        slab(
            -length / 2 + 0.05, length / 2 - 0.02, -width / 2 + 0.02, width / 2 - 0.02, frame_h, top
        )
    )
    parts.append(slab(-length / 2 - 0.06, -length / 2, -width / 2, width / 2, 0.0, head_h))
    if footboard:
        parts.append(
            slab(length / 2, length / 2 + 0.05, -width / 2, width / 2, 0.0, frame_h + 0.25)
        )
    if legs:
        parts += leg_rods(rect_corners(length / 2 - 0.05, width / 2 - 0.05), base_z, 0.03, True)
    for i in range(pillows):
        pw = min(0.6, width / max(pillows, 1) * 0.9)
        yc = -width / 2 + (i + 0.5) * width / pillows
        parts.append(ellipsoid((0.2, pw / 2, 0.07), (-length / 2 + 0.3, yc, top + 0.05), 8))
    return finish_shape(
        "bed",
        parts,
        dict(
            size=size,
            width=width,
            length=length,
            headboard_height=head_h,
            footboard=footboard,
            pillows=pillows,
            legs=legs,
        ),
        counts={"pillows": pillows},
        attributes=[
            Attribute("bed", size, ("single", "double", "king")),
            Attribute("headboard", "tall" if head_h > 1.1 else "low", ("tall", "low")),
        ],
        features={"a footboard": footboard, "a headboard": True},
    )


# ---------------------------------------------------------------- cabinets and shelving


def _cabinet_carcass(width, depth, height, plinth: float) -> list[Mesh]:
    return [slab(-depth / 2, depth / 2, -width / 2, width / 2, plinth, height)]


def build_dresser(rng: np.random.Generator) -> Shape:
    width, depth, height = rng.uniform(0.8, 1.6), rng.uniform(0.4, 0.55), rng.uniform(0.7, 1.3)
    rows = int(rng.integers(2, 7))
    cols = int(pick(rng, [1, 2, 2, 3])) if width > 1.0 else 1
    feet = bool(rng.random() < 0.5)
    knob = bool(rng.random() < 0.5)
    base = 0.1 if feet else 0.06
    parts = _cabinet_carcass(width, depth - 0.02, height - 0.03, base)
    parts.append(
        slab(
            -depth / 2, depth / 2 + 0.02, -width / 2 - 0.02, width / 2 + 0.02, height - 0.03, height
        )
    )
    parts += drawer_fronts(
        depth / 2 - 0.01,
        -width / 2 + 0.02,
        width / 2 - 0.02,
        base + 0.02,
        height - 0.05,
        rows,
        cols,
        knob,
    )
    if feet:
        parts += leg_rods(rect_corners(depth / 2 - 0.05, width / 2 - 0.05), base, 0.025, False)
    return finish_shape(
        "dresser",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            drawer_rows=rows,
            drawer_columns=cols,
            feet=feet,
            knobs=knob,
        ),
        counts={"drawers": rows * cols, "rows of drawers": rows},
        attributes=[Attribute("handles", "knob" if knob else "bar", ("knob", "bar"))],
        features={"legs": feet},
    )


def build_night_stand(rng: np.random.Generator) -> Shape:
    width, depth, height = rng.uniform(0.4, 0.6), rng.uniform(0.35, 0.45), rng.uniform(0.45, 0.7)
    drawers = int(rng.integers(0, 4))
    open_shelf = bool(drawers < 3 and rng.random() < 0.6)
    tall_legs = bool(rng.random() < 0.5)
    knob = bool(rng.random() < 0.6)
    base = rng.uniform(0.1, 0.2) if tall_legs else 0.03
    parts = _cabinet_carcass(width, depth, height, base)
    body_h = height - base
    shelf_h = body_h * 0.4 if open_shelf else 0.0
    if open_shelf:
        # A real open cubby: cut it as three panels instead of the solid front.
        parts = [
            slab(-depth / 2, depth / 2, -width / 2, width / 2, base, base + 0.02),
            slab(-depth / 2, depth / 2, -width / 2, -width / 2 + 0.02, base, height),
            slab(-depth / 2, depth / 2, width / 2 - 0.02, width / 2, base, height),
            slab(-depth / 2, -depth / 2 + 0.02, -width / 2, width / 2, base, height),
            slab(-depth / 2, depth / 2, -width / 2, width / 2, base + shelf_h, height),
        ]
    if drawers:
        parts += drawer_fronts(
            depth / 2,
            -width / 2 + 0.02,
            width / 2 - 0.02,
            base + shelf_h + 0.02,
            height - 0.02,
            drawers,
            1,
            knob,
        )
    elif not open_shelf:
        parts.append(
            box((0.015, width - 0.04, body_h - 0.04), (depth / 2 + 0.008, 0, base + body_h / 2))
        )
    parts += leg_rods(rect_corners(depth / 2 - 0.03, width / 2 - 0.03), base, 0.015, True)
    return finish_shape(
        "night_stand",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            drawers=drawers,
            open_shelf=open_shelf,
            tall_legs=tall_legs,
            knobs=knob,
        ),
        counts={"drawers": drawers},
        attributes=[Attribute("legs", "tall" if tall_legs else "short", ("tall", "short"))],
        features={"an open shelf": open_shelf, "drawers": drawers > 0},
    )


def build_bookshelf(rng: np.random.Generator) -> Shape:
    width, depth, height = rng.uniform(0.6, 1.2), rng.uniform(0.25, 0.4), rng.uniform(0.8, 2.2)
    shelves = int(np.clip(round(height / rng.uniform(0.3, 0.4)), 2, 7))
    back = bool(rng.random() < 0.7)
    fill = rng.uniform(0.0, 0.9)
    t = 0.02
    parts = [
        slab(-depth / 2, depth / 2, -width / 2, -width / 2 + t, 0, height),
        slab(-depth / 2, depth / 2, width / 2 - t, width / 2, 0, height),
    ]
    if back:
        parts.append(slab(-depth / 2, -depth / 2 + 0.008, -width / 2, width / 2, 0, height))
    levels = np.linspace(0.05, height - t, shelves + 1)
    for z in levels:
        parts.append(slab(-depth / 2, depth / 2, -width / 2, width / 2, z - t, z))
    books = 0
    for z0, z1 in pairwise(levels):
        y = -width / 2 + t
        while y < width / 2 - 0.06 and rng.random() < fill + 0.1:
            bw, bh = rng.uniform(0.02, 0.05), (z1 - z0) * rng.uniform(0.6, 0.9)
            parts.append(box((depth * 0.8, bw, bh), (0, y + bw / 2, z0 + bh / 2)))
            y += bw + 0.002
            books += 1
    return finish_shape(
        "bookshelf",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            shelves=shelves,
            back_panel=back,
            fill=fill,
            books=books,
        ),
        counts={"shelves": shelves},
        attributes=[Attribute("bookshelf", "tall" if height > 1.4 else "low", ("tall", "low"))],
        features={"books": books > 0, "a back panel": back},
    )


def build_tv_stand(rng: np.random.Generator) -> Shape:
    width, depth, height = rng.uniform(1.0, 2.0), rng.uniform(0.35, 0.5), rng.uniform(0.35, 0.7)
    compartments = int(rng.integers(2, 5))
    doors = int(rng.integers(0, compartments + 1))
    legs = bool(rng.random() < 0.5)
    base = 0.1 if legs else 0.02
    t = 0.02
    parts = [
        slab(-depth / 2, depth / 2, -width / 2, width / 2, height - t, height),
        slab(-depth / 2, depth / 2, -width / 2, width / 2, base, base + t),
        slab(-depth / 2, -depth / 2 + t, -width / 2, width / 2, base, height),
    ]
    ys = np.linspace(-width / 2, width / 2, compartments + 1)
    for y in ys:
        parts.append(slab(-depth / 2, depth / 2, y - t / 2, y + t / 2, base, height))
    door_slots = rng.permutation(compartments)[:doors]
    for k in door_slots:
        parts.append(
            slab(depth / 2 - t, depth / 2, ys[k] + 0.01, ys[k + 1] - 0.01, base + t, height - t)
        )
    if legs:
        parts += leg_rods(rect_corners(depth / 2 - 0.04, width / 2 - 0.04), base, 0.02, True)
    return finish_shape(
        "tv_stand",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            compartments=compartments,
            doors=doors,
            legs=legs,
        ),
        counts={"compartments": compartments, "doors": doors},
        attributes=[Attribute("stand", "long" if width > 1.5 else "short", ("long", "short"))],
        features={"legs": legs, "open compartments": doors < compartments},
    )


def build_wardrobe(rng: np.random.Generator) -> Shape:
    width, depth, height = rng.uniform(0.8, 2.0), rng.uniform(0.55, 0.65), rng.uniform(1.8, 2.2)
    doors = int(np.clip(round(width / rng.uniform(0.45, 0.6)), 1, 4))
    drawers = int(rng.integers(0, 3))
    cornice = bool(rng.random() < 0.5)
    feet = bool(rng.random() < 0.4)
    base = 0.1 if feet else 0.05
    body_top = height - (0.06 if cornice else 0.0)
    parts = _cabinet_carcass(width, depth, body_top, base)
    drawer_top = base + drawers * 0.2
    if drawers:
        parts += drawer_fronts(
            depth / 2,
            -width / 2 + 0.02,
            width / 2 - 0.02,
            base + 0.01,
            drawer_top,
            drawers,
            1,
            knob=False,
        )
    dw = (width - 0.04) / doors
    for i in range(doors):
        y0 = -width / 2 + 0.02 + i * dw
        parts.append(
            slab(
                depth / 2,
                depth / 2 + 0.02,
                y0 + 0.003,
                y0 + dw - 0.003,
                drawer_top + 0.01,
                body_top - 0.02,
            )
        )
        handle_y = y0 + (dw - 0.05 if i % 2 == 0 else 0.05)
        zc = (drawer_top + body_top) / 2
        parts.append(
            rod(
                (depth / 2 + 0.04, handle_y, zc - 0.12),
                (depth / 2 + 0.04, handle_y, zc + 0.12),
                0.008,
            )
        )
    if cornice:
        parts.append(
            slab(
                -depth / 2 - 0.03,
                depth / 2 + 0.05,
                -width / 2 - 0.04,
                width / 2 + 0.04,
                body_top,
                height,
            )
        )
    if feet:
        parts += leg_rods(rect_corners(depth / 2 - 0.05, width / 2 - 0.05), base, 0.03, False)
    return finish_shape(
        "wardrobe",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            doors=doors,
            drawers=drawers,
            cornice=cornice,
            feet=feet,
        ),
        counts={"doors": doors, "drawers": drawers},
        attributes=[Attribute("wardrobe", "wide" if width > 1.3 else "narrow", ("wide", "narrow"))],
        features={"a cornice": cornice, "drawers": drawers > 0},
    )


def build_mantel(rng: np.random.Generator) -> Shape:
    width, height = rng.uniform(1.2, 2.0), rng.uniform(1.0, 1.4)
    depth = rng.uniform(0.2, 0.35)
    open_w, open_h = width * rng.uniform(0.4, 0.6), height * rng.uniform(0.55, 0.75)
    shelf_over = rng.uniform(0.03, 0.12)
    columns = bool(rng.random() < 0.5)
    hearth = bool(rng.random() < 0.6)
    hx = depth / 2
    parts = [
        slab(-hx, hx, -width / 2, -open_w / 2, 0, height - 0.05),
        slab(-hx, hx, open_w / 2, width / 2, 0, height - 0.05),
        slab(-hx, hx, -open_w / 2, open_w / 2, open_h, height - 0.05),
        slab(
            -hx - 0.02,
            hx + shelf_over,
            -width / 2 - shelf_over,
            width / 2 + shelf_over,
            height - 0.05,
            height,
        ),
        slab(-hx, -hx + 0.02, -open_w / 2, open_w / 2, 0, open_h),  # firebox back
    ]
    if columns:
        for s in (-1, 1):
            yc = s * (open_w / 2 + (width - open_w) / 4)
            parts.append(cylinder(0.05, height - 0.1, (hx + 0.03, yc, (height - 0.1) / 2)))
    if hearth:
        parts.append(slab(-hx, hx + 0.4, -open_w / 2 - 0.15, open_w / 2 + 0.15, 0, 0.05))
    return finish_shape(
        "mantel",
        parts,
        dict(
            width=width,
            height=height,
            depth=depth,
            opening_width=open_w,
            opening_height=open_h,
            shelf_overhang=shelf_over,
            columns=columns,
            hearth=hearth,
        ),
        counts={"columns": 2 if columns else 0},
        attributes=[Attribute("opening", "wide" if open_w > 0.9 else "narrow", ("wide", "narrow"))],
        features={"columns": columns, "a hearth": hearth, "a top shelf": True},
    )


def build_glass_box(rng: np.random.Generator) -> Shape:
    w, d, h = rng.uniform(0.25, 1.0), rng.uniform(0.25, 0.7), rng.uniform(0.2, 1.0)
    frame = bool(rng.random() < 0.6)
    plinth = rng.uniform(0.0, 0.25) if rng.random() < 0.5 else 0.0
    shelves = int(rng.integers(0, 3)) if h > 0.5 else 0
    lid_open = bool(rng.random() < 0.25)
    t = 0.006
    z0, z1 = plinth, plinth + h
    parts = []
    if plinth > 0:
        parts.append(slab(-d / 2 - 0.02, d / 2 + 0.02, -w / 2 - 0.02, w / 2 + 0.02, 0, plinth))
    parts += [
        slab(-d / 2, d / 2, -w / 2, w / 2, z0, z0 + t),
        slab(-d / 2, -d / 2 + t, -w / 2, w / 2, z0, z1),
        slab(d / 2 - t, d / 2, -w / 2, w / 2, z0, z1),
        slab(-d / 2, d / 2, -w / 2, -w / 2 + t, z0, z1),
        slab(-d / 2, d / 2, w / 2 - t, w / 2, z0, z1),
    ]
    if lid_open:
        parts.append(box((t, w, d), (-d / 2 - t, 0, z1 + d / 2)))
    else:
        parts.append(slab(-d / 2, d / 2, -w / 2, w / 2, z1 - t, z1))
    if frame:
        for x, y in rect_corners(d / 2, w / 2):
            parts.append(box((0.02, 0.02, h), (x, y, (z0 + z1) / 2)))
    for k in range(shelves):
        z = z0 + h * (k + 1) / (shelves + 1)
        parts.append(slab(-d / 2, d / 2, -w / 2, w / 2, z, z + t))
    return finish_shape(
        "glass_box",
        parts,
        dict(
            width=w,
            depth=d,
            height=h,
            frame=frame,
            plinth=plinth,
            shelves=shelves,
            lid_open=lid_open,
        ),
        counts={"shelves": shelves},
        attributes=[Attribute("lid", "open" if lid_open else "closed", ("open", "closed"))],
        features={"a metal frame": frame, "a base": plinth > 0},
        has_front=False,
    )


# ---------------------------------------------------------------- round containers (lathes)


def _smooth_profile(rng, heights, radii) -> tuple[np.ndarray, np.ndarray]:
    """Densify a coarse (r, z) profile with linear interpolation so lathes look curved."""
    z = np.linspace(heights[0], heights[-1], 24)
    return np.interp(z, heights, radii), z


def build_bottle(rng: np.random.Generator) -> Shape:
    height, radius = rng.uniform(0.15, 0.4), rng.uniform(0.03, 0.06)
    neck_r = radius * rng.uniform(0.25, 0.45)
    shoulder = rng.uniform(0.5, 0.75)
    neck_len = rng.uniform(0.1, 0.25)
    square = bool(rng.random() < 0.25)
    cap = bool(rng.random() < 0.7)
    body_top = height * shoulder
    neck_start = height * (1 - neck_len)
    parts = []
    if square:
        parts.append(box((2 * radius, 2 * radius, body_top), (0, 0, body_top / 2)))
        parts.append(
            lathe(
                [radius * 1.2, neck_r, neck_r], [body_top, neck_start, height], 16, cap_bottom=False
            )
        )
    else:
        r, z = _smooth_profile(
            rng,
            [0, 0.01, body_top, neck_start, height],
            [radius * 0.9, radius, radius, neck_r, neck_r],
        )
        parts.append(lathe(r, z, 20))
    if cap:
        parts.append(cylinder(neck_r * 1.15, height * 0.06, (0, 0, height)))
    return finish_shape(
        "bottle",
        parts,
        dict(
            height=height,
            radius=radius,
            neck_radius=neck_r,
            shoulder=shoulder,
            neck_length=neck_len,
            square=square,
            cap=cap,
        ),
        attributes=[
            Attribute("body", "square" if square else "round", ("round", "square")),
            Attribute("neck", "long" if neck_len > 0.18 else "short", ("long", "short")),
        ],
        features={"a cap": cap},
        has_front=False,
    )


def build_bowl(rng: np.random.Generator) -> Shape:
    radius, depth = rng.uniform(0.06, 0.18), rng.uniform(0.35, 0.75)
    height = radius * depth
    flare = rng.uniform(0.0, 0.3)
    foot = bool(rng.random() < 0.6)
    wall = rng.uniform(0.004, 0.01)
    lip = bool(rng.random() < 0.3)
    t = np.linspace(0, 1, 10)
    bottom_r = radius * rng.uniform(0.3, 0.55)
    outer_r = bottom_r + (radius - bottom_r) * (np.sin(t * np.pi / 2) * (1 - flare) + t * flare)
    outer_z = height * t
    inner_r, inner_z = (
        np.maximum(outer_r[::-1] - wall, 0.0),
        (height * t)[::-1] + wall * t[::-1] * 0,
    )
    inner_z = np.maximum(inner_z, wall)
    r = np.concatenate([outer_r, inner_r])
    z = np.concatenate([outer_z, inner_z])
    parts = [lathe(r, z, 28)]
    if foot:
        parts.append(lathe([bottom_r * 0.8, bottom_r * 0.8], [-0.01, 0.0], 20, cap_bottom=True))
    if lip:
        parts.append(torus(radius, wall * 1.2, (0, 0, height), segments=24))
    return finish_shape(
        "bowl",
        parts,
        dict(radius=radius, depth_ratio=depth, flare=flare, foot=foot, wall=wall, lip=lip),
        attributes=[Attribute("bowl", "deep" if depth > 0.55 else "shallow", ("deep", "shallow"))],
        features={"a foot ring": foot, "a rolled rim": lip},
        has_front=False,
    )


def build_cup(rng: np.random.Generator) -> Shape:
    height, radius = rng.uniform(0.06, 0.12), rng.uniform(0.035, 0.05)
    taper = rng.uniform(0.7, 1.0)
    handle = bool(rng.random() < 0.8)
    square_handle = bool(rng.random() < 0.3)
    saucer = bool(rng.random() < 0.3)
    wall = 0.004
    base = 0.008 if saucer else 0.0
    r_out = [radius * taper, radius]
    parts = [
        lathe(
            [*r_out, radius - wall, radius * taper - wall],
            [base, base + height, base + height, base + wall],
            24,
        )
    ]
    if handle:
        zc, reach = base + height * 0.55, height * 0.3
        if square_handle:
            x0 = radius - 0.002
            parts += [
                rod((x0, 0, zc - reach), (x0 + 0.03, 0, zc - reach), 0.005, 6),
                rod((x0 + 0.03, 0, zc - reach), (x0 + 0.03, 0, zc + reach), 0.005, 6),
                rod((x0 + 0.03, 0, zc + reach), (x0, 0, zc + reach), 0.005, 6),
            ]
        else:
            parts.append(torus(reach, 0.005, (radius, 0, zc), axis=(0, 1, 0), segments=16))
    if saucer:
        parts.append(
            lathe([radius * 2.0, radius * 1.6, 0.0], [0.012, 0.0, 0.0], 24, cap_bottom=False)
        )
    return finish_shape(
        "cup",
        parts,
        dict(
            height=height,
            radius=radius,
            taper=taper,
            handle=handle,
            square_handle=square_handle,
            saucer=saucer,
        ),
        counts={"handles": int(handle)},
        attributes=[
            Attribute("sides", "tapered" if taper < 0.85 else "straight", ("tapered", "straight"))
        ],
        features={"a handle": handle, "a saucer": saucer},
        has_front=handle,
    )


def build_vase(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.18, 0.6)
    base_r = height * rng.uniform(0.1, 0.2)
    belly_r = height * rng.uniform(0.15, 0.35)
    belly_z = rng.uniform(0.25, 0.6)
    neck_r = belly_r * rng.uniform(0.3, 0.8)
    rim_r = neck_r * rng.uniform(1.0, 1.8)
    handles = int(pick(rng, [0, 0, 0, 2]))
    r, z = _smooth_profile(
        rng,
        np.array([0, belly_z * 0.5, belly_z, 0.8, 0.92, 1.0]) * height,
        [base_r, (base_r + belly_r) / 2 * 1.1, belly_r, neck_r, neck_r, rim_r],
    )
    parts = [lathe(r, z, 24)]
    for s in (-1, 1)[:handles]:
        parts.append(
            torus(
                height * 0.12,
                0.006,
                (0, s * (neck_r + height * 0.07), height * 0.8),
                axis=(1, 0, 0),
            )
        )
    shape = "slim" if belly_r < height * 0.22 else "round"
    return finish_shape(
        "vase",
        parts,
        dict(
            height=height,
            base_radius=base_r,
            belly_radius=belly_r,
            belly_height=belly_z,
            neck_radius=neck_r,
            rim_radius=rim_r,
            handles=handles,
        ),
        counts={"handles": handles},
        attributes=[
            Attribute("vase", shape, ("slim", "round")),
            Attribute(
                "rim", "flared" if rim_r > neck_r * 1.3 else "straight", ("flared", "straight")
            ),
        ],
        features={"handles": handles > 0},
        has_front=False,
    )


def build_flower_pot(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.12, 0.5)
    top_r = height * rng.uniform(0.45, 0.75)
    taper = rng.uniform(0.6, 1.0)
    square = bool(rng.random() < 0.3)
    rim = bool(rng.random() < 0.6)
    saucer = bool(rng.random() < 0.4)
    soil = rng.uniform(0.6, 0.9)
    base = 0.015 if saucer else 0.0
    parts = []
    if square:
        parts.append(
            lathe(
                [top_r * taper, top_r, top_r * 0.95, 0.0],
                [base, base + height, base + height, base + height * soil],
                4,
                cap_bottom=True,
            ).transformed(rot_z(np.pi / 4))
        )
    else:
        parts.append(
            lathe(
                [top_r * taper, top_r, top_r * 0.95, 0.0],
                [base, base + height, base + height, base + height * soil],
                24,
            )
        )
    if rim:
        parts.append(
            lathe(
                [top_r * 1.08, top_r * 1.08],
                [base + height * 0.88, base + height],
                4 if square else 24,
                cap_bottom=False,
            ).transformed(rot_z(np.pi / 4) if square else np.eye(3))
        )
    if saucer:
        parts.append(lathe([top_r * taper * 1.3, top_r * taper * 1.3], [0, base], 24))
    return finish_shape(
        "flower_pot",
        parts,
        dict(
            height=height,
            top_radius=top_r,
            taper=taper,
            square=square,
            rim=rim,
            saucer=saucer,
            soil_level=soil,
        ),
        attributes=[
            Attribute("pot", "square" if square else "round", ("round", "square")),
            Attribute("sides", "tapered" if taper < 0.85 else "straight", ("tapered", "straight")),
        ],
        features={"a saucer": saucer, "a thick rim": rim},
        has_front=False,
    )


def build_plant(rng: np.random.Generator) -> Shape:
    pot_h = rng.uniform(0.12, 0.35)
    pot_r = pot_h * rng.uniform(0.5, 0.8)
    form = pick(rng, ["bush", "tree", "fronds"])
    stems = int(rng.integers(3, 10))
    height = pot_h + rng.uniform(0.2, 1.4)
    square_pot = bool(rng.random() < 0.3)
    parts = [lathe([pot_r * 0.75, pot_r, 0.0], [0, pot_h, pot_h * 0.9], 4 if square_pot else 20)]
    top = pot_h * 0.9
    if form == "tree":
        stems = 1
        crown_r = rng.uniform(0.15, 0.45)
        parts.append(rod((0, 0, top), (0, 0, height - crown_r), 0.015))
        for _ in range(int(rng.integers(4, 9))):
            c = rng.normal(0, crown_r * 0.45, 3) + np.array([0.0, 0.0, height - crown_r])
            parts.append(ellipsoid(crown_r * rng.uniform(0.4, 0.6), c, 6))
    else:
        for k in range(stems):
            a = 2 * np.pi * k / stems + rng.uniform(-0.3, 0.3)
            lean = rng.uniform(0.2, 0.7 if form == "fronds" else 0.4)
            length = (height - top) * rng.uniform(0.7, 1.0)
            tip = np.array([np.cos(a) * np.sin(lean), np.sin(a) * np.sin(lean), np.cos(lean)])
            end = np.array([0, 0, top]) + tip * length
            parts.append(rod((0, 0, top), end, 0.005, 5))
            if form == "bush":
                parts.append(ellipsoid((0.06, 0.04, 0.015), end, 6, rot_z(a)))
            else:
                # A frond: a flattened ellipsoid along the stem.
                mid = np.array([0, 0, top]) + tip * length * 0.65
                parts.append(
                    ellipsoid(
                        (length * 0.35, 0.04, 0.008), mid, 6, rot_z(a) @ rot_y(np.pi / 2 - lean)
                    )
                )
    return finish_shape(
        "plant",
        parts,
        dict(
            pot_height=pot_h,
            pot_radius=pot_r,
            form=form,
            stems=stems,
            height=height,
            square_pot=square_pot,
        ),
        counts={"stems": stems},
        attributes=[
            Attribute("pot", "square" if square_pot else "round", ("round", "square")),
            Attribute("plant", "tall" if height > 1.0 else "small", ("tall", "small")),
        ],
        features={"a trunk": form == "tree", "leaves": True},
        has_front=False,
    )


def build_cone(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.3, 1.0)
    base_r = height * rng.uniform(0.18, 0.3)
    top_r = base_r * rng.uniform(0.08, 0.25)
    square_base = bool(rng.random() < 0.7)
    base_t = rng.uniform(0.02, 0.05)
    # Road cones carry retro-reflective collars; a LiDAR sees them as raised rings.
    bands = int(pick(rng, [0, 1, 2, 2]))
    parts = [lathe([base_r, top_r, top_r * 0.8], [base_t, height, height], 20, cap_bottom=False)]
    for k in range(bands):
        z0 = base_t + (height - base_t) * (0.45 + 0.2 * k)
        z1 = z0 + (height - base_t) * 0.1
        r0, r1 = (base_r + (top_r - base_r) * (z - base_t) / (height - base_t) for z in (z0, z1))
        parts.append(lathe([r0 + 0.004, r1 + 0.004], [z0, z1], 20, cap_bottom=False))
    side = base_r * rng.uniform(2.3, 2.8)
    if square_base:
        parts.append(box((side, side, base_t), (0, 0, base_t / 2)))
    else:
        parts.append(cylinder(side / 2, base_t, (0, 0, base_t / 2), segments=20))
    return finish_shape(
        "cone",
        parts,
        dict(
            height=height,
            base_radius=base_r,
            top_radius=top_r,
            square_base=square_base,
            base_thickness=base_t,
            reflective_bands=bands,
        ),
        counts={"reflective bands": bands},
        attributes=[
            Attribute("base", "square" if square_base else "round", ("round", "square")),
            Attribute("cone", "tall" if height > 0.6 else "short", ("tall", "short")),
        ],
        features={"a hole at the top": True},
        has_front=False,
    )


def build_lamp(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["floor", "desk"])
    height = rng.uniform(1.3, 1.8) if kind == "floor" else rng.uniform(0.35, 0.65)
    shade = pick(rng, ["conical", "cylindrical", "dome"])
    base = pick(rng, ["round base", "tripod"])
    shade_r = height * (rng.uniform(0.12, 0.2) if kind == "floor" else rng.uniform(0.2, 0.35))
    shade_h = shade_r * rng.uniform(0.8, 1.3)
    arm = bool(kind == "desk" and rng.random() < 0.5)
    parts = []
    pole_top = height - shade_h * 0.6
    if base == "tripod":
        for x, y in ring_points(3, height * 0.2):
            parts.append(rod((x, y, 0), (0, 0, height * 0.35), 0.01))
        parts.append(rod((0, 0, height * 0.35), (0, 0, pole_top), 0.012))
    else:
        parts.append(cylinder(shade_r * 0.8, 0.03, (0, 0, 0.015), segments=20))
        parts.append(rod((0, 0, 0.03), (0, 0, pole_top), 0.012))
    shade_x = 0.0
    if arm:
        shade_x = height * 0.4
        parts.append(rod((0, 0, pole_top), (shade_x, 0, pole_top), 0.01))
    z0 = height - shade_h
    if shade == "conical":
        parts.append(
            lathe([shade_r, shade_r * 0.5], [z0, height], 20, cap_bottom=False).translated(
                (shade_x, 0, 0)
            )
        )
    elif shade == "cylindrical":
        parts.append(
            lathe([shade_r, shade_r], [z0, height], 20, cap_bottom=False).translated(
                (shade_x, 0, 0)
            )
        )
    else:
        t = np.linspace(0, np.pi / 2, 8)
        parts.append(
            lathe(
                shade_r * np.cos(t) + 0.005, z0 + shade_h * np.sin(t), 20, cap_bottom=False
            ).translated((shade_x, 0, 0))
        )
    return finish_shape(
        "lamp",
        parts,
        dict(kind=kind, height=height, shade=shade, base=base, shade_radius=shade_r, arm=arm),
        counts={"legs": 3 if base == "tripod" else 0},
        attributes=[
            Attribute("shade", shade, ("conical", "cylindrical", "dome")),
            Attribute("lamp", "tall" if kind == "floor" else "short", ("tall", "short")),
        ],
        features={"three legs": base == "tripod", "an arm": arm},
        has_front=arm,
        names=("lamp", "floor lamp") if kind == "floor" else ("lamp", "desk lamp", "table lamp"),
    )


# ---------------------------------------------------------------- bathroom and kitchen


def build_bathtub(rng: np.random.Generator) -> Shape:
    length, width, height = rng.uniform(1.4, 1.8), rng.uniform(0.7, 0.85), rng.uniform(0.45, 0.6)
    oval = bool(rng.random() < 0.4)
    feet = bool(oval and rng.random() < 0.6)
    wall = rng.uniform(0.04, 0.08)
    tap = bool(rng.random() < 0.5)
    lift = 0.1 if feet else 0.0
    parts = []
    if oval:
        t = np.linspace(0, 1, 8)
        r = 0.6 + 0.4 * np.sin(t * np.pi / 2)
        outer = lathe(r, lift + (height - lift) * t, 28)
        inner = lathe(
            r[::-1] * (1 - wall * 2),
            lift + (height - lift) * t[::-1] + wall * (1 - t[::-1]) * 0.5,
            28,
            cap_bottom=False,
        )
        parts += [
            outer.scaled((length / 2, width / 2, 1)),
            inner.scaled((length / 2, width / 2, 1)),
        ]
    else:
        hx, hy = length / 2, width / 2
        parts += [
            slab(-hx, hx, -hy, hy, 0, wall),
            slab(-hx, -hx + wall, -hy, hy, 0, height),
            slab(hx - wall, hx, -hy, hy, 0, height),
            slab(-hx, hx, -hy, -hy + wall, 0, height),
            slab(-hx, hx, hy - wall, hy, 0, height),
        ]
    if feet:
        for x, y in rect_corners(length * 0.35, width * 0.3):
            parts.append(ellipsoid((0.04, 0.04, lift / 2 + 0.02), (x, y, lift / 2), 6))
    if tap:
        parts.append(
            rod((-length / 2 + 0.05, 0, height), (-length / 2 + 0.05, 0, height + 0.15), 0.012)
        )
        parts.append(
            rod(
                (-length / 2 + 0.05, 0, height + 0.15),
                (-length / 2 + 0.17, 0, height + 0.15),
                0.012,
            )
        )
    return finish_shape(
        "bathtub",
        parts,
        dict(length=length, width=width, height=height, oval=oval, feet=feet, wall=wall, tap=tap),
        counts={"feet": 4 if feet else 0},
        attributes=[Attribute("tub", "oval" if oval else "rectangular", ("oval", "rectangular"))],
        features={"feet": feet, "a tap": tap},
    )


def build_sink(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["pedestal", "cabinet", "countertop"])
    basins = int(pick(rng, [1, 1, 2])) if kind == "cabinet" else 1
    round_basin = bool(rng.random() < 0.5)
    faucet = bool(rng.random() < 0.8)
    counter_h = {
        "pedestal": rng.uniform(0.8, 0.9),
        "cabinet": rng.uniform(0.85, 0.92),
        "countertop": rng.uniform(0.15, 0.22),
    }[kind]
    bw, bd = rng.uniform(0.35, 0.55), rng.uniform(0.35, 0.5)
    width = bw * basins + 0.1 * (basins + 1)
    depth = bd + 0.15
    parts = []
    top = counter_h
    rim_z = top - 0.03
    if kind == "cabinet":
        parts.append(slab(-depth / 2, depth / 2, -width / 2, width / 2, 0.08, rim_z))
        parts += drawer_fronts(
            depth / 2, -width / 2 + 0.02, width / 2 - 0.02, 0.1, rim_z - 0.02, 1, basins, False
        )
    elif kind == "pedestal":
        parts.append(lathe([0.12, 0.08, 0.1], [0, top * 0.5, rim_z - 0.1], 16))
    bowl_depth = min(0.18, top - 0.02)
    # Counter slab with basins sunk into it (drawn as rims + bowls).
    if kind != "countertop":
        parts.append(slab(-depth / 2, depth / 2, -width / 2, width / 2, rim_z, rim_z + 0.03))
    for i in range(basins):
        yc = -width / 2 + 0.1 + bw / 2 + i * (bw + 0.1)
        if round_basin:
            t = np.linspace(0, 1, 8)
            r = np.sin(t * np.pi / 2)
            parts.append(
                lathe(r, top - bowl_depth + bowl_depth * t, 24)
                .scaled((bd / 2, bw / 2, 1))
                .translated((0.02, yc, 0))
            )
        else:
            b0 = top - bowl_depth
            parts += [slab(-bd / 2, bd / 2, yc - bw / 2, yc + bw / 2, b0, b0 + 0.01)]
            for x0, x1, y0, y1 in (
                (-bd / 2, -bd / 2 + 0.01, yc - bw / 2, yc + bw / 2),
                (bd / 2 - 0.01, bd / 2, yc - bw / 2, yc + bw / 2),
                (-bd / 2, bd / 2, yc - bw / 2, yc - bw / 2 + 0.01),
                (-bd / 2, bd / 2, yc + bw / 2 - 0.01, yc + bw / 2),
            ):
                parts.append(slab(x0, x1, y0, y1, b0, top))
    if faucet:
        x = -depth / 2 + 0.04
        parts.append(rod((x, 0, top), (x, 0, top + 0.2), 0.012))
        parts.append(rod((x, 0, top + 0.2), (x + 0.12, 0, top + 0.17), 0.01))
    return finish_shape(
        "sink",
        parts,
        dict(
            kind=kind,
            basins=basins,
            round_basin=round_basin,
            faucet=faucet,
            counter_height=counter_h,
            basin_width=bw,
        ),
        counts={"basins": basins},
        attributes=[
            Attribute("basin", "round" if round_basin else "rectangular", ("round", "rectangular")),
            Attribute(
                "sink",
                {"pedestal": "pedestal", "cabinet": "vanity", "countertop": "countertop"}[kind],
                ("pedestal", "vanity", "countertop"),
            ),
        ],
        features={"a faucet": faucet},
    )


def build_toilet(rng: np.random.Generator) -> Shape:
    seat_h = rng.uniform(0.38, 0.45)
    bowl_l, bowl_w = rng.uniform(0.45, 0.55), rng.uniform(0.33, 0.4)
    tank = bool(rng.random() < 0.75)
    lid_open = bool(rng.random() < 0.4)
    wall_hung = bool(not tank and rng.random() < 0.5)
    parts = []
    z0 = 0.15 if wall_hung else 0.0
    t = np.linspace(0, 1, 8)
    r = 0.55 + 0.45 * np.sin(t * np.pi / 2)
    parts.append(
        lathe(r, z0 + (seat_h - 0.03 - z0) * t, 24)
        .scaled((bowl_l / 2, bowl_w / 2, 1))
        .translated((0.05, 0, 0))
    )
    parts.append(
        torus(1.0, 0.12, (0, 0, 0), segments=24)
        .scaled((bowl_l / 2 * 0.9, bowl_w / 2 * 0.9, 0.2))
        .translated((0.05, 0, seat_h - 0.015))
    )
    back_x = 0.05 - bowl_l / 2
    tank_h = rng.uniform(0.3, 0.45)
    if tank:
        parts.append(
            slab(back_x - 0.2, back_x, -bowl_w * 0.6, bowl_w * 0.6, seat_h - 0.05, seat_h + tank_h)
        )
    elif wall_hung:
        parts.append(slab(back_x - 0.08, back_x, -0.2, 0.2, 0.0, seat_h + 0.4))
    if lid_open:
        parts.append(
            box((0.02, bowl_w * 0.9, bowl_l * 0.85), (back_x + 0.03, 0, seat_h + bowl_l * 0.42))
        )
    else:
        parts.append(
            cylinder(
                (bowl_l / 2 * 0.95, bowl_w / 2 * 0.95), 0.02, (0.05, 0, seat_h + 0.01), segments=24
            )
        )
    return finish_shape(
        "toilet",
        parts,
        dict(
            seat_height=seat_h,
            bowl_length=bowl_l,
            bowl_width=bowl_w,
            tank=tank,
            lid_open=lid_open,
            wall_hung=wall_hung,
        ),
        attributes=[Attribute("lid", "open" if lid_open else "closed", ("open", "closed"))],
        features={"a tank": tank},
    )


def build_range_hood(rng: np.random.Generator) -> Shape:
    width, depth = rng.uniform(0.6, 1.2), rng.uniform(0.4, 0.55)
    style = pick(rng, ["pyramid", "box", "slanted"])
    canopy_h = rng.uniform(0.1, 0.3)
    chimney = bool(rng.random() < 0.75)
    chimney_h = rng.uniform(0.3, 0.9) if chimney else 0.0
    chimney_w = width * rng.uniform(0.25, 0.4)
    parts = []
    if style == "pyramid":
        parts.append(slab(-depth / 2, depth / 2, -width / 2, width / 2, 0, 0.05))
        parts.append(
            lathe([1.0, 0.45], [0.05, canopy_h + 0.05], 4, cap_bottom=False, cap_top=True)
            .transformed(rot_z(np.pi / 4))
            .scaled((depth / np.sqrt(2), width / np.sqrt(2), 1))
        )
    elif style == "box":
        parts.append(slab(-depth / 2, depth / 2, -width / 2, width / 2, 0, canopy_h + 0.05))
    else:
        parts.append(
            prism(
                [(-depth / 2, 0), (depth / 2, 0), (depth / 2, 0.06), (-depth / 2, canopy_h + 0.05)],
                width,
            )
        )
    top = canopy_h + 0.05
    if chimney:
        parts.append(
            slab(
                -depth / 2,
                -depth / 2 + chimney_w * 0.8,
                -chimney_w / 2,
                chimney_w / 2,
                top * 0.8,
                top + chimney_h,
            )
        )
    return finish_shape(
        "range_hood",
        parts,
        dict(
            width=width,
            depth=depth,
            style=style,
            canopy_height=canopy_h,
            chimney=chimney,
            chimney_height=chimney_h,
        ),
        attributes=[
            Attribute(
                "canopy",
                {"pyramid": "sloped", "box": "flat", "slanted": "slanted"}[style],
                ("sloped", "flat", "slanted"),
            )
        ],
        features={"a chimney": chimney},
    )


# ---------------------------------------------------------------- electronics


def build_monitor(rng: np.random.Generator) -> Shape:
    diag = rng.uniform(0.5, 0.85)
    aspect = float(pick(rng, [16 / 9, 16 / 9, 16 / 10, 21 / 9]))
    curved = bool(aspect > 2 and rng.random() < 0.7)
    stand = pick(rng, ["pedestal", "two feet"])
    lift = rng.uniform(0.06, 0.15)
    thickness = rng.uniform(0.02, 0.06)
    w = diag * aspect / np.hypot(aspect, 1)
    h = diag / np.hypot(aspect, 1)
    parts = []
    z0 = lift + 0.02
    if curved:
        cols = 12
        ys = np.linspace(-w / 2, w / 2, cols)
        radius = 1.5
        xs = radius - np.sqrt(radius**2 - ys**2)
        grid = np.stack(np.meshgrid(ys, [z0, z0 + h], indexing="xy"), -1)
        pts = np.concatenate([np.broadcast_to(xs, grid.shape[:2])[..., None], grid], -1)
        parts.append(grid_surface(pts))
        parts.append(grid_surface(pts - (thickness, 0, 0)))
    else:
        parts.append(box((thickness, w, h), (0, 0, z0 + h / 2)))
    parts.append(box((0.03, 0.06, lift + 0.1), (-thickness - 0.02, 0, (lift + 0.1) / 2)))
    if stand == "pedestal":
        parts.append(box((0.2, 0.25, 0.015), (-0.03, 0, 0.0075)))
        feet = 1
    else:
        feet = 2
        for s in (-1, 1):
            parts.append(box((0.2, 0.03, 0.015), (-0.03, s * w * 0.35, 0.0075)))
            parts.append(rod((-0.03, s * w * 0.35, 0.015), (-0.03, s * w * 0.3, z0 + 0.02), 0.01))
    return finish_shape(
        "monitor",
        parts,
        dict(
            diagonal=diag, aspect=aspect, curved=curved, stand=stand, lift=lift, thickness=thickness
        ),
        counts={"feet": feet},
        attributes=[
            Attribute("screen", "curved" if curved else "flat", ("curved", "flat")),
            Attribute(
                "screen", "ultrawide" if aspect > 2 else "widescreen", ("ultrawide", "widescreen")
            ),
        ],
        features={"a stand": True},
    )


def build_laptop(rng: np.random.Generator) -> Shape:
    w, d = rng.uniform(0.3, 0.4), rng.uniform(0.2, 0.27)
    base_t, lid_t = rng.uniform(0.01, 0.02), rng.uniform(0.005, 0.01)
    is_open = bool(rng.random() < 0.8)
    angle = rng.uniform(np.radians(95), np.radians(130)) if is_open else 0.0
    trackpad = bool(rng.random() < 0.9)
    parts = [box((d, w, base_t), (0, 0, base_t / 2))]
    hinge = np.array([-d / 2, 0, base_t])
    if is_open:
        rot = rot_y(-angle)
        parts.append(box((d, w, lid_t), hinge + rot @ np.array([d / 2, 0, lid_t / 2]), rot))
        rows = 5
        for r in range(rows):
            parts.append(
                box((d * 0.07, w * 0.8, 0.002), (-d / 2 + d * (0.1 + r * 0.09), 0, base_t + 0.001))
            )
        if trackpad:
            parts.append(box((d * 0.3, w * 0.3, 0.001), (d * 0.28, 0, base_t + 0.0005)))
    else:
        parts.append(box((d, w, lid_t), (0, 0, base_t + lid_t / 2)))
    return finish_shape(
        "laptop",
        parts,
        dict(
            width=w,
            depth=d,
            base_thickness=base_t,
            lid_thickness=lid_t,
            open=is_open,
            lid_angle_deg=float(np.degrees(angle)),
            trackpad=trackpad,
        ),
        attributes=[Attribute("lid", "open" if is_open else "closed", ("open", "closed"))],
        features={"a visible keyboard": is_open},
    )


def build_keyboard(rng: np.random.Generator) -> Shape:
    numpad = bool(rng.random() < 0.6)
    rows = int(pick(rng, [5, 6, 6]))
    w = rng.uniform(0.42, 0.47) if numpad else rng.uniform(0.29, 0.36)
    d = rows * 0.019 + rng.uniform(0.02, 0.05)
    t = rng.uniform(0.015, 0.03)
    tilt = rng.uniform(0.0, 0.12)
    wrist = bool(rng.random() < 0.25)
    parts = [box((d, w, t), (0, 0, t / 2))]
    key = 0.0175
    main_w = w - (0.09 if numpad else 0.0) - 0.02
    for r in range(rows):
        x = d / 2 - 0.015 - r * 0.019
        n = int(main_w / 0.019)
        for c in range(n):
            y = -w / 2 + 0.01 + (c + 0.5) * main_w / n
            parts.append(box((key, main_w / n * 0.9, 0.008), (x, y, t + 0.004)))
        if numpad and r < rows - 1:
            for c in range(4):
                parts.append(box((key, key, 0.008), (x, w / 2 - 0.08 + c * 0.019, t + 0.004)))
    if wrist:
        parts.append(box((0.06, w, t * 0.8), (-d / 2 - 0.03, 0, t * 0.4)))
    mesh_parts = [p.transformed(rot_y(tilt)) for p in parts]
    return finish_shape(
        "keyboard",
        mesh_parts,
        dict(width=w, depth=d, thickness=t, rows=rows, numpad=numpad, tilt=tilt, wrist_rest=wrist),
        counts={"rows of keys": rows},
        attributes=[
            Attribute("keyboard", "full-size" if numpad else "compact", ("full-size", "compact"))
        ],
        features={"a number pad": numpad, "a wrist rest": wrist},
    )


def build_radio(rng: np.random.Generator) -> Shape:
    w, d, h = rng.uniform(0.2, 0.45), rng.uniform(0.08, 0.15), rng.uniform(0.12, 0.3)
    speakers = int(rng.integers(1, 3))
    knobs = int(rng.integers(1, 5))
    antenna = bool(rng.random() < 0.6)
    handle = bool(rng.random() < 0.5)
    parts = [box((d, w, h), (0, 0, h / 2))]
    for i in range(speakers):
        y = -w / 4 if speakers == 1 else (-w / 4 if i == 0 else w / 4)
        if speakers == 1:
            y = -w / 5
        parts.append(
            cylinder(
                min(h, w / 2) * 0.35,
                0.01,
                (d / 2 + 0.005, y, h * 0.45),
                axis=(1, 0, 0),
                segments=16,
            )
        )
    for k in range(knobs):
        y = w / 2 - 0.03 - k * 0.035 if speakers == 1 else -w / 2 * 0.3 + k * 0.035
        if speakers == 2:
            y = (k - (knobs - 1) / 2) * 0.03
        parts.append(
            cylinder(0.012, 0.015, (d / 2 + 0.0075, y, h * 0.8), axis=(1, 0, 0), segments=10)
        )
    if antenna:
        ang = rng.uniform(0.2, 0.9)
        parts.append(
            rod(
                (0, w / 2 - 0.02, h),
                (0, w / 2 - 0.02 + np.sin(ang) * 0.3, h + np.cos(ang) * 0.3),
                0.003,
                5,
            )
        )
    if handle:
        parts.append(
            torus(w * 0.3, 0.01, (0, 0, h), axis=(1, 0, 0))
            .scaled((1, 1, 0.5))
            .translated((0, 0, h * 0.5))
        )
    return finish_shape(
        "radio",
        parts,
        dict(
            width=w,
            depth=d,
            height=h,
            speakers=speakers,
            knobs=knobs,
            antenna=antenna,
            handle=handle,
        ),
        counts={"speakers": speakers, "knobs": knobs},
        attributes=[Attribute("radio", "wide" if w > 0.32 else "compact", ("wide", "compact"))],
        features={"an antenna": antenna, "a carrying handle": handle},
    )


def build_xbox(rng: np.random.Generator) -> Shape:
    upright = bool(rng.random() < 0.5)
    a, b, c = rng.uniform(0.26, 0.32), rng.uniform(0.06, 0.16), rng.uniform(0.15, 0.3)
    stand = bool(upright and rng.random() < 0.6)
    controllers = int(rng.integers(0, 3))
    vent = bool(rng.random() < 0.5)
    parts = []
    lift = 0.015 if stand else 0.0
    if upright:
        parts.append(box((c, b, a), (0, 0, lift + a / 2)))
        if vent:
            parts.append(cylinder(b * 0.4, 0.006, (0, 0, lift + a + 0.003), segments=16))
        if stand:
            parts.append(box((c * 0.8, b * 1.6, lift), (0, 0, lift / 2)))
        top = lift + a
    else:
        parts.append(box((c, a, b), (0, 0, b / 2)))
        if vent:
            parts.append(cylinder(b * 0.8, 0.006, (0, 0, b + 0.003), segments=16))
        top = b
    for k in range(controllers):
        y = (a if not upright else b) / 2 + 0.12 + k * 0.17
        parts.append(ellipsoid((0.05, 0.075, 0.025), (0.05, y, 0.025), 8))
        for s in (-1, 1):
            parts.append(ellipsoid((0.035, 0.025, 0.022), (0.01, y + s * 0.05, 0.022), 6))
    return finish_shape(
        "xbox",
        parts,
        dict(
            upright=upright,
            length=a,
            thickness=b,
            depth=c,
            stand=stand,
            controllers=controllers,
            top_vent=vent,
            top=top,
        ),
        counts={"controllers": controllers},
        attributes=[
            Attribute("console", "upright" if upright else "lying flat", ("upright", "lying flat"))
        ],
        features={"a stand": stand, "a round vent on top": vent},
    )


def build_piano(rng: np.random.Generator) -> Shape:
    grand = bool(rng.random() < 0.4)
    keys88 = bool(rng.random() < 0.8)
    kw = 1.23 if keys88 else 0.85
    pedals = int(pick(rng, [2, 3, 3]))
    lid_open = bool(grand and rng.random() < 0.6)
    key_h = rng.uniform(0.7, 0.76)
    parts = []
    w = kw + 0.25
    if grand:
        length = rng.uniform(1.5, 2.7)
        body_t = 0.3
        # Curved case drawn as a tapering stack of boxes: reads right, costs little.
        n = 6
        for i in range(n):
            f = i / n
            seg_w = w * (1 - 0.55 * f**1.5)
            y0 = -w / 2
            parts.append(
                slab(
                    -length * (f + 1 / n),
                    -length * f,
                    y0,
                    y0 + seg_w,
                    key_h - 0.05,
                    key_h + body_t - 0.05,
                )
            )
        legs = 3
        for x, y in ((-0.15, -w / 2 + 0.1), (-0.15, w / 2 - 0.1), (-length * 0.85, -w / 2 + 0.25)):
            parts.append(rod((x, y, key_h - 0.05), (x, y, 0), 0.04, 8))
        if lid_open:
            parts.append(
                box(
                    (length * 0.8, 0.02, w * 0.8),
                    (-length * 0.5, -w / 2 + 0.2, key_h + body_t + w * 0.3),
                    rot_z(0.0) @ np.array([[1, 0, 0], [0, 0.7, -0.7], [0, 0.7, 0.7]]),
                )
            )
        height_top = key_h + body_t
    else:
        body_h = rng.uniform(1.05, 1.3)
        depth = rng.uniform(0.55, 0.65)
        parts.append(slab(-depth, -0.1, -w / 2, w / 2, 0, body_h))
        legs = 2
        for y in (-w / 2 + 0.05, w / 2 - 0.05):
            parts.append(slab(-0.1, 0.15, y - 0.04, y + 0.04, 0, key_h))
        height_top = body_h
    parts.append(slab(-0.1, 0.15, -kw / 2, kw / 2, key_h - 0.03, key_h))  # keybed
    parts.append(slab(-0.1, 0.05, -kw / 2, kw / 2, key_h, key_h + 0.02))  # keys
    for k in range(pedals):
        y = (k - (pedals - 1) / 2) * 0.06
        parts.append(box((0.08, 0.025, 0.01), (-0.05, y, 0.05)))
    return finish_shape(
        "piano",
        parts,
        dict(
            grand=grand,
            keys=88 if keys88 else 61,
            pedals=pedals,
            lid_open=lid_open,
            key_height=key_h,
            top=height_top,
        ),
        counts={"pedals": pedals, "legs": legs},
        attributes=[Attribute("piano", "grand" if grand else "upright", ("grand", "upright"))],
        features={"an open lid": lid_open},
    )


# ---------------------------------------------------------------- architecture


def build_door(rng: np.random.Generator) -> Shape:
    w, h, t = rng.uniform(0.7, 1.0), rng.uniform(1.95, 2.1), rng.uniform(0.035, 0.05)
    panels = int(pick(rng, [1, 2, 4, 6]))
    frame = bool(rng.random() < 0.7)
    lever = bool(rng.random() < 0.5)
    open_angle = rng.uniform(0.3, 1.2) if rng.random() < 0.3 else 0.0
    window = bool(panels <= 2 and rng.random() < 0.3)
    leaf = [box((t, w, h), (0, w / 2, h / 2))]
    cols = 1 if panels == 1 else 2
    rows = max(1, panels // cols)
    for r in range(rows):
        for c in range(cols):
            pw, ph = w / cols * 0.7, h / rows * 0.75
            yc, zc = (c + 0.5) * w / cols, (r + 0.5) * h / rows
            leaf.append(box((0.01, pw, ph), (t / 2 + 0.005, yc, zc)))
    hy = w - 0.07
    if lever:
        leaf.append(rod((t / 2, hy, 1.0), (t / 2 + 0.06, hy, 1.0), 0.01))
        leaf.append(rod((t / 2 + 0.06, hy, 1.0), (t / 2 + 0.06, hy - 0.12, 1.0), 0.01))
    else:
        leaf.append(ellipsoid(0.03, (t / 2 + 0.05, hy, 1.0), 6))
    # Hinged at y=0: rotate the leaf about the vertical hinge line.
    parts = [p.transformed(rot_z(-open_angle)) for p in leaf]
    if frame:
        parts += [
            slab(-0.06, 0.06, -0.05, 0.0, 0, h + 0.05),
            slab(-0.06, 0.06, w, w + 0.05, 0, h + 0.05),
            slab(-0.06, 0.06, -0.05, w + 0.05, h, h + 0.05),
        ]
    if window:
        parts.append(
            box((0.012, w * 0.5, h * 0.2), (t / 2 + 0.006, w / 2, h * 0.8)).transformed(
                rot_z(-open_angle)
            )
        )
    return finish_shape(
        "door",
        parts,
        dict(
            width=w,
            height=h,
            thickness=t,
            panels=panels,
            frame=frame,
            lever=lever,
            open_angle=open_angle,
            window=window,
        ),
        counts={"panels": panels},
        attributes=[
            Attribute("door", "open" if open_angle > 0 else "closed", ("open", "closed")),
            Attribute("handle", "lever" if lever else "knob", ("lever", "knob")),
        ],
        features={"a frame": frame, "a window": window},
    )


def build_curtain(rng: np.random.Generator) -> Shape:
    width, height = rng.uniform(1.0, 2.5), rng.uniform(1.5, 2.6)
    panels = int(pick(rng, [1, 2, 2]))
    folds = int(rng.integers(4, 12))
    amplitude = rng.uniform(0.03, 0.08)
    gap = rng.uniform(0.2, 0.8) if (panels == 2 and rng.random() < 0.5) else 0.0
    rod_on = bool(rng.random() < 0.8)
    parts = []
    panel_w = (width - gap) / panels
    for p in range(panels):
        y0 = -width / 2 + p * (panel_w + gap)
        ys = np.linspace(y0, y0 + panel_w, folds * 6)
        zs = np.linspace(0.01, height, 6)
        yy, zz = np.meshgrid(ys, zs)
        xx = amplitude * np.sin((yy - y0) / panel_w * folds * 2 * np.pi)
        parts.append(grid_surface(np.stack([xx, yy, zz], -1)))
    if rod_on:
        parts.append(
            rod((0, -width / 2 - 0.1, height + 0.03), (0, width / 2 + 0.1, height + 0.03), 0.012)
        )
    return finish_shape(
        "curtain",
        parts,
        dict(
            width=width,
            height=height,
            panels=panels,
            folds=folds,
            amplitude=amplitude,
            gap=gap,
            rod=rod_on,
        ),
        counts={"panels": panels},
        attributes=[Attribute("curtain", "open" if gap > 0 else "closed", ("open", "closed"))],
        features={"a rod": rod_on},
    )


def build_stairs(rng: np.random.Generator) -> Shape:
    steps = int(rng.integers(3, 15))
    rise, run, width = rng.uniform(0.15, 0.2), rng.uniform(0.25, 0.32), rng.uniform(0.8, 1.5)
    open_risers = bool(rng.random() < 0.35)
    rails = int(pick(rng, [0, 1, 2, 2]))
    parts = []
    for i in range(steps):
        x0 = i * run
        z = (i + 1) * rise
        if open_risers:
            parts.append(slab(x0, x0 + run + 0.02, -width / 2, width / 2, z - 0.04, z))
        else:
            parts.append(slab(x0, x0 + run, -width / 2, width / 2, 0, z))
    total_x, total_z = steps * run, steps * rise
    if open_risers:
        for y in (-width / 2 - 0.03, width / 2 + 0.03):
            parts.append(
                prism(
                    [
                        (0, 0),
                        (0.15, 0),
                        (total_x + 0.05, total_z - 0.12),
                        (total_x + 0.05, total_z),
                        (total_x - 0.1, total_z),
                    ],
                    0.04,
                    y,
                )
            )
    for s in (-1, 1)[:rails]:
        y = s * (width / 2 + 0.02)
        parts.append(rod((0.1, y, rise + 0.9), (total_x - 0.1, y, total_z + 0.9), 0.02))
        for x in np.linspace(0.1, total_x - 0.1, max(2, steps // 3)):
            z = (x / run) * rise
            parts.append(rod((x, y, z), (x, y, z + 0.9), 0.012))
    return finish_shape(
        "stairs",
        parts,
        dict(steps=steps, rise=rise, run=run, width=width, open_risers=open_risers, rails=rails),
        counts={"steps": steps, "handrails": rails},
        attributes=[Attribute("risers", "open" if open_risers else "closed", ("open", "closed"))],
        features={"a handrail": rails > 0},
    )


def build_tent(rng: np.random.Generator) -> Shape:
    style = pick(rng, ["dome", "ridge"])
    length, width = rng.uniform(1.8, 3.2), rng.uniform(1.2, 2.6)
    height = rng.uniform(1.0, 2.0)
    door_open = bool(rng.random() < 0.5)
    vestibule = bool(rng.random() < 0.4)
    parts = []
    if style == "dome":
        t = np.linspace(0, np.pi / 2, 10)
        parts.append(
            lathe(np.cos(t) + 1e-3, np.sin(t), 24, cap_bottom=False).scaled(
                (length / 2, width / 2, height)
            )
        )
        poles = 2
        for s in (-1, 1):
            ang = np.linspace(0, np.pi, 12)
            pts = [
                (
                    s * length / 2 * np.cos(a) * 0.707,
                    width / 2 * np.cos(a) * 0.707 * -s,
                    height * np.sin(a),
                )
                for a in ang
            ]
            for p0, p1 in pairwise(pts):
                parts.append(rod(p0, p1, 0.01, 5))
    else:
        poles = 2
        parts.append(
            prism([(-width / 2, 0), (width / 2, 0), (0, height)], length).transformed(
                rot_z(np.pi / 2)
            )
        )
        for x in (-length / 2, length / 2):
            parts.append(rod((x, 0, 0), (x, 0, height + 0.05), 0.012))
    if door_open:
        parts.append(
            box((0.02, width * 0.3, height * 0.6), (length / 2 + 0.02, width * 0.25, height * 0.3))
        )
    if vestibule:
        parts.append(
            prism([(length / 2, 0), (length / 2 + 0.7, 0), (length / 2, height * 0.7)], width * 0.5)
        )
    return finish_shape(
        "tent",
        parts,
        dict(
            style=style,
            length=length,
            width=width,
            height=height,
            door_open=door_open,
            vestibule=vestibule,
        ),
        counts={"poles": poles},
        attributes=[
            Attribute(
                "tent", "dome-shaped" if style == "dome" else "ridged", ("dome-shaped", "ridged")
            ),
            Attribute("door", "open" if door_open else "closed", ("open", "closed")),
        ],
        features={"a porch": vestibule},
    )


# ---------------------------------------------------------------- vehicles, people, instruments


def build_car(rng: np.random.Generator) -> Shape:
    style = pick(rng, ["sedan", "hatchback", "suv", "pickup"])
    length = {
        "sedan": rng.uniform(4.3, 5.0),
        "hatchback": rng.uniform(3.6, 4.3),
        "suv": rng.uniform(4.4, 5.0),
        "pickup": rng.uniform(5.0, 5.8),
    }[style]
    width = rng.uniform(1.65, 1.95)
    clearance = (
        rng.uniform(0.12, 0.18) if style in ("sedan", "hatchback") else rng.uniform(0.2, 0.28)
    )
    body_h = rng.uniform(0.55, 0.75)
    cabin_h = rng.uniform(0.45, 0.6) if style != "suv" else rng.uniform(0.6, 0.75)
    wheel_r = rng.uniform(0.3, 0.36) if style in ("sedan", "hatchback") else rng.uniform(0.36, 0.42)
    spoiler = bool(style in ("sedan", "hatchback") and rng.random() < 0.3)
    z0 = clearance
    parts = [slab(-length / 2, length / 2, -width / 2, width / 2, z0, z0 + body_h)]
    cabin = {
        "sedan": (-0.25, 0.2),
        "hatchback": (-0.48, 0.15),
        "suv": (-0.48, 0.22),
        "pickup": (-0.05, 0.25),
    }[style]
    cx0, cx1 = cabin[0] * length, cabin[1] * length
    # A pickup has a single or a crew cab; the others two side windows, an SUV sometimes three.
    side_windows = {
        "sedan": 2,
        "hatchback": 2,
        "suv": int(pick(rng, [2, 3])),
        "pickup": int(pick(rng, [1, 2])),
    }[style]
    roof, glass = glazed_cabin(
        cx0,
        cx1 + 0.5,
        z0 + body_h,
        z0 + body_h + cabin_h,
        width * 0.9,
        rear_slope=0.0 if style in ("suv", "hatchback") else 0.35,
        front_slope=0.5,
        side_windows=side_windows,
    )
    parts += roof
    if style == "pickup":
        for y in (-width / 2, width / 2 - 0.05):
            parts.append(slab(-length / 2, cx0, y, y + 0.05, z0 + body_h, z0 + body_h + 0.25))
    wheels = 4
    for x, y in rect_corners(length / 2 - 0.8, width / 2 - 0.1):
        parts.append(cylinder(wheel_r, 0.22, (x, y, wheel_r), axis=(0, 1, 0), segments=16))
    if spoiler:
        parts.append(box((0.2, width * 0.8, 0.03), (-length / 2 + 0.1, 0, z0 + body_h + 0.1)))
    return finish_shape(
        "car",
        parts,
        dict(
            style=style,
            side_windows=side_windows,
            length=length,
            width=width,
            clearance=clearance,
            body_height=body_h,
            cabin_height=cabin_h,
            wheel_radius=wheel_r,
            spoiler=spoiler,
        ),
        glass_parts=glass,
        counts={"wheels": wheels, "side windows": 2 * side_windows},
        attributes=[
            Attribute(
                "car",
                {"sedan": "sedan", "hatchback": "hatchback", "suv": "SUV", "pickup": "pickup"}[
                    style
                ],
                ("sedan", "hatchback", "SUV", "pickup"),
            )
        ],
        features={"a spoiler": spoiler, "an open cargo bed": style == "pickup"},
    )


def build_airplane(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["propeller", "jet"])
    length = rng.uniform(7.0, 12.0) if kind == "propeller" else rng.uniform(12.0, 38.0)
    span = length * rng.uniform(0.9, 1.3)
    radius = length * rng.uniform(0.045, 0.07)
    sweep = rng.uniform(0.0, 0.1) if kind == "propeller" else rng.uniform(0.35, 0.6)
    high_wing = bool(kind == "propeller" and rng.random() < 0.5)
    engines = 1 if kind == "propeller" and rng.random() < 0.6 else int(pick(rng, [2, 2, 4]))
    t_tail = bool(rng.random() < 0.3)
    gear = radius * 1.2
    zc = gear + radius
    parts = [cylinder(radius, length * 0.7, (0.0, 0, zc), axis=(1, 0, 0))]
    parts.append(cone(radius, length * 0.12, (length * 0.35, 0, zc), axis=(1, 0, 0)))
    parts.append(cone(radius, length * 0.18, (-length * 0.35, 0, zc), axis=(-1, 0, 0)))
    chord = span * 0.12
    wing_z = zc + (radius * 0.8 if high_wing else -radius * 0.6)
    for s in (-1, 1):
        rot = rot_z(-s * sweep)
        parts.append(
            box(
                (chord, span / 2, radius * 0.25),
                rot @ np.array([0, s * span / 4, 0]) + (0, 0, wing_z),
                rot,
            )
        )
        tail_rot = rot_z(-s * sweep * 1.2)
        tail_z = zc + (radius * 1.8 if t_tail else 0)
        parts.append(
            box(
                (chord * 0.6, span * 0.16, radius * 0.15),
                tail_rot @ np.array([0, s * span * 0.08, 0]) + (-length * 0.42, 0, tail_z),
                tail_rot,
            )
        )
    parts.append(
        box(
            (chord * 0.7, radius * 0.15, radius * 2.0),
            (-length * 0.42, 0, zc + radius * 1.0),
            rot_y(-0.4),
        )
    )
    if kind == "propeller" and engines == 1:
        parts.append(box((0.1, radius * 3.5, 0.15), (length * 0.47 + 0.05, 0, zc)))
    else:
        positions = [0.35] if engines == 2 else [0.25, 0.5]
        for f in positions:
            for s in (-1, 1):
                y = s * span / 2 * f
                x = -abs(y) * np.tan(sweep) + chord * 0.3
                parts.append(
                    cylinder(
                        radius * 0.35, chord * 0.8, (x, y, wing_z - radius * 0.4), axis=(1, 0, 0)
                    )
                )
    for x, y in (
        (length * 0.3, 0.0),
        (-length * 0.05, radius * 1.5),
        (-length * 0.05, -radius * 1.5),
    ):
        parts.append(rod((x, y, zc - radius * 0.8), (x, y, radius * 0.3), radius * 0.08, 6))
        parts.append(cylinder(radius * 0.3, radius * 0.2, (x, y, radius * 0.3), axis=(0, 1, 0)))
    return finish_shape(
        "airplane",
        parts,
        dict(
            kind=kind,
            length=length,
            wingspan=span,
            fuselage_radius=radius,
            sweep=sweep,
            high_wing=high_wing,
            engines=engines,
            t_tail=t_tail,
        ),
        counts={"engines": engines},
        attributes=[
            Attribute("wings", "swept" if sweep > 0.2 else "straight", ("swept", "straight")),
            Attribute(
                "wings",
                "high-mounted" if high_wing else "low-mounted",
                ("high-mounted", "low-mounted"),
            ),
        ],
        features={"a T-tail": t_tail, "a propeller": kind == "propeller"},
    )


def build_person(rng: np.random.Generator) -> Shape:
    """A pedestrian as driving datasets see them: adult or child, standing, walking or sitting
    (on the ground or a kerb), sometimes carrying a backpack, an umbrella or a rolling suitcase.
    """
    child = bool(rng.random() < 0.2)
    height = rng.uniform(0.95, 1.45) if child else rng.uniform(1.5, 1.95)
    build = rng.uniform(0.85, 1.2)
    pose = pick(rng, ["standing", "walking", "walking", "sitting"])
    raised = int(pick(rng, [0, 0, 1, 2]))
    backpack = bool(rng.random() < 0.25)
    umbrella = bool(not child and pose != "sitting" and rng.random() < 0.12)
    suitcase = bool(not child and pose != "sitting" and not umbrella and rng.random() < 0.15)
    if umbrella or suitcase:
        raised = min(raised, 1)  # the left hand holds the umbrella or the suitcase handle
    s = height / 1.75
    # A child's head is larger and its legs shorter relative to its height.
    head_rz = height * (0.088 if child else 0.0686)
    hip_f, shoulder_f = (0.48, 0.76) if child else (0.543, 0.829)
    w = s * build * (1.15 if child else 1.0)
    sitting = pose == "sitting"
    hip = 0.11 * s if sitting else hip_f * height
    shoulder = hip + (shoulder_f - hip_f) * height
    head_z = shoulder + (height - head_rz - shoulder_f * height)
    sw = 0.2 * w
    parts = [
        ellipsoid((0.12 * w, sw, (shoulder - hip) / 2 + 0.05), (0, 0, (hip + shoulder) / 2), 8)
    ]
    parts.append(ellipsoid((head_rz * 0.83, head_rz * 0.71, head_rz), (0, 0, head_z), 8))
    parts.append(rod((0, 0, shoulder), (0, 0, head_z - head_rz * 0.6), 0.05 * s))
    stride = 0.25 * s if pose == "walking" else 0.03
    leg_r = 0.065 * w
    for k, y in enumerate((-0.09 * w, 0.09 * w)):
        if sitting:
            # Knees up, feet flat in front.
            knee = (0.26 * height, y * 1.2, hip + 0.16 * height)
            foot = (0.42 * height, y * 1.1, 0.05)
            parts.append(rod((0, y, hip), knee, leg_r, 8))
            parts.append(rod(knee, foot, leg_r * 0.85, 8))
            parts.append(box((0.25 * s, 0.1 * s, 0.06), (foot[0] + 0.06 * s, foot[1], 0.03)))
            continue
        fx = stride if k == 0 else -stride
        parts.append(rod((0, y, hip), (fx, y, 0.06), leg_r, 8))
        parts.append(box((0.25 * s, 0.1 * s, 0.06), (fx + 0.06 * s, y, 0.03)))
    for k, y in enumerate((-sw - 0.03, sw + 0.03)):
        if k < raised:
            end = (0.05, y * 1.3, shoulder + 0.6 * s)
        elif k == 1 and umbrella:
            end = (0.25 * s, y * 0.6, shoulder - 0.05 * s)
        elif k == 1 and suitcase:
            end = (-0.2 * s, y * 1.3, hip - 0.02 * s)
        elif sitting:
            end = (0.24 * height, y * 1.1, hip + 0.14 * height)  # hands on the knees
        else:
            end = ((-stride if k == 0 else stride) * 0.8, y * 1.15, hip - 0.05 * s)
        parts.append(rod((0, y, shoulder - 0.03), end, 0.045 * w, 8))
    if backpack:
        parts.append(box((0.15, 0.3 * s, 0.4 * s), (-0.12 * w - 0.08, 0, shoulder - 0.25 * s)))
    if umbrella:
        grip = np.array((0.25 * s, (sw + 0.03) * 0.6, shoulder - 0.05 * s))
        canopy_r, canopy_z = rng.uniform(0.45, 0.55), height + rng.uniform(0.08, 0.18)
        parts.append(rod(grip, (grip[0], grip[1], canopy_z + 0.2), 0.008, 5))
        parts.append(
            lathe(
                [canopy_r, canopy_r * 0.7, 0.02], [0.0, 0.14, 0.22], 16, cap_bottom=False
            ).translated((grip[0], grip[1], canopy_z))
        )
    if suitcase:
        case_h = rng.uniform(0.5, 0.7)
        x_case, y_case = -0.45 * s, sw + 0.12
        parts.append(box((0.24, 0.4, case_h), (x_case, y_case, case_h / 2 + 0.04)))
        for dy in (-0.15, 0.15):
            parts.append(wheel(x_case - 0.08, y_case + dy, 0.03, 0.03, 8))
        parts.append(rod((x_case, y_case, case_h + 0.04), (-0.2 * s, sw + 0.03, hip), 0.01, 5))
    return finish_shape(
        "person",
        parts,
        dict(
            height=height,
            build=build,
            pose=pose,
            child=child,
            raised_arms=raised,
            backpack=backpack,
            umbrella=umbrella,
            suitcase=suitcase,
        ),
        counts={"raised arms": raised},
        attributes=[Attribute("person", pose, ("standing", "walking", "sitting"))],
        features={
            "a backpack": backpack,
            "an umbrella": umbrella,
            "a rolling suitcase": suitcase,
        },
        names=("child", "kid", "young pedestrian") if child else (),
    )


def build_guitar(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["acoustic", "electric", "bass"])
    body_len = rng.uniform(0.45, 0.52) if kind == "acoustic" else rng.uniform(0.38, 0.46)
    lower = body_len * rng.uniform(0.36, 0.42)
    waist = rng.uniform(0.6, 0.78)
    depth = rng.uniform(0.09, 0.12) if kind == "acoustic" else rng.uniform(0.035, 0.05)
    neck_len = rng.uniform(0.42, 0.48) if kind != "bass" else rng.uniform(0.58, 0.65)
    pegs = 4 if kind == "bass" else int(pick(rng, [6, 6, 12]))
    on_stand = bool(rng.random() < 0.5)
    lift = 0.12 if on_stand else 0.0
    parts = []
    # Upright: strings face +x, neck along +z.
    z_lower = lift + lower
    parts.append(
        cylinder((depth / 2, lower), depth, (0, 0, z_lower), axis=(1, 0, 0), segments=20).scaled(
            (1, 1, 1)
        )
    )
    parts[-1] = Mesh(parts[-1].vertices, parts[-1].triangles)
    parts.append(
        ellipsoid((depth / 2, lower * waist, body_len * 0.3), (0, 0, lift + body_len * 0.68), 10)
    )
    top = lift + body_len
    parts.append(box((0.02, 0.05, neck_len), (depth / 2 - 0.01, 0, top + neck_len / 2 - 0.05)))
    head = top + neck_len - 0.05
    parts.append(box((0.02, 0.085, 0.18), (depth / 2 - 0.03, 0, head + 0.09), rot_y(0.2)))
    per_side = pegs // 2
    for k in range(pegs):
        side = -1 if k < per_side else 1
        zk = head + 0.03 + (k % per_side) * 0.14 / per_side
        parts.append(rod((0, side * 0.04, zk), (0, side * 0.07, zk), 0.005, 5))
    if kind == "acoustic":
        parts.append(
            cylinder(0.045, 0.004, (depth / 2 + 0.002, 0, lift + body_len * 0.6), axis=(1, 0, 0))
        )
    if on_stand:
        for y in (-0.15, 0.15):
            parts.append(rod((-0.15, y, 0), (depth / 2 + 0.05, y * 0.5, lift), 0.01))
        parts.append(rod((-0.2, 0, 0), (-0.05, 0, top + neck_len * 0.5), 0.01))
    return finish_shape(
        "guitar",
        parts,
        dict(
            kind=kind,
            body_length=body_len,
            lower_bout=lower,
            waist=waist,
            depth=depth,
            neck_length=neck_len,
            tuning_pegs=pegs,
            on_stand=on_stand,
        ),
        counts={"tuning pegs": pegs},
        attributes=[
            Attribute("guitar", kind, ("acoustic", "electric", "bass")),
            Attribute("body", "thick" if depth > 0.07 else "thin", ("thick", "thin")),
        ],
        features={"a sound hole": kind == "acoustic", "a stand": on_stand},
    )


BUILDERS: dict[str, Callable[[np.random.Generator], Shape]] = {
    "airplane": build_airplane,
    "bathtub": build_bathtub,
    "bed": build_bed,
    "bench": build_bench,
    "bookshelf": build_bookshelf,
    "bottle": build_bottle,
    "bowl": build_bowl,
    "car": build_car,
    "chair": build_chair,
    "cone": build_cone,
    "cup": build_cup,
    "curtain": build_curtain,
    "desk": build_desk,
    "door": build_door,
    "dresser": build_dresser,
    "flower_pot": build_flower_pot,
    "glass_box": build_glass_box,
    "guitar": build_guitar,
    "keyboard": build_keyboard,
    "lamp": build_lamp,
    "laptop": build_laptop,
    "mantel": build_mantel,
    "monitor": build_monitor,
    "night_stand": build_night_stand,
    "person": build_person,
    "piano": build_piano,
    "plant": build_plant,
    "radio": build_radio,
    "range_hood": build_range_hood,
    "sink": build_sink,
    "sofa": build_sofa,
    "stairs": build_stairs,
    "stool": build_stool,
    "table": build_table,
    "tent": build_tent,
    "toilet": build_toilet,
    "tv_stand": build_tv_stand,
    "vase": build_vase,
    "wardrobe": build_wardrobe,
    "xbox": build_xbox,
}


FAMILIES: dict[str, Family] = {
    name: Family(
        name,
        "modelnet",
        SYNONYMS[name],
        HEIGHT_RANGE_M[name],
        BUILDERS[name],
        unseen=name in UNSEEN,
        description=DESCRIPTIONS.get(name, ""),
    )
    for name in NAMES
}
