"""Parametric families for indoor appliances and machines (domain "indoor"): kitchen and laundry
appliances, office machines, climate devices. Glass doors and windows go to ``glass_parts`` so a
simulated sensor sees the shelves and drums behind them.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from training.data.families.common import Attribute, Family, Shape, finish_shape, pick
from training.data.families.indoor import bar_handle, box_word, carcass, caster
from training.data.mesh import Mesh, box, cylinder, ellipsoid, lathe, rod, slab, torus


def _feet(depth: float, width: float, height: float = 0.02) -> list[Mesh]:
    inset = 0.04
    return [
        box((0.04, 0.04, height), (x, y, height / 2))
        for x in (-depth / 2 + inset, depth / 2 - inset)
        for y in (-width / 2 + inset, width / 2 - inset)
    ]


def _knobs(x: float, ys, z: float, radius: float = 0.018) -> list[Mesh]:
    return [cylinder(radius, 0.025, (x + 0.012, y, z), axis=(1, 0, 0), segments=10) for y in ys]


# ---------------------------------------------------------------- kitchen


def build_refrigerator(rng: np.random.Generator) -> Shape:
    layout = pick(rng, ["single", "top freezer", "bottom freezer", "side by side", "glass front"])
    height = (
        rng.uniform(0.82, 0.9)
        if layout in ("single", "glass front") and rng.random() < 0.4
        else rng.uniform(1.45, 2.0)
    )
    width = rng.uniform(0.85, 0.95) if layout == "side by side" else rng.uniform(0.55, 0.75)
    depth = rng.uniform(0.6, 0.75)
    recessed = bool(layout != "glass front" and rng.random() < 0.35)
    lift = 0.02
    x = depth / 2
    glass_parts: list[Mesh] = []
    if layout == "glass front":
        parts = carcass(depth, width, lift, height, 0.04)
        shelves = int(np.clip(round((height - lift) / 0.35) - 1, 2, 5))
        for k in range(shelves):
            z = lift + (height - lift) * (k + 1) / (shelves + 1)
            parts.append(
                slab(-x + 0.04, x - 0.05, -width / 2 + 0.04, width / 2 - 0.04, z, z + 0.01)
            )
        f = 0.05
        parts += [
            slab(x, x + 0.04, -width / 2, -width / 2 + f, lift, height),
            slab(x, x + 0.04, width / 2 - f, width / 2, lift, height),
            slab(x, x + 0.04, -width / 2, width / 2, lift, lift + f * 2),
            slab(x, x + 0.04, -width / 2, width / 2, height - f, height),
        ]
        glass_parts.append(
            slab(x + 0.015, x + 0.025, -width / 2 + f, width / 2 - f, lift + 2 * f, height - f)
        )
        doors = 1
        parts += bar_handle(x + 0.04, width / 2 - 0.08, lift + 0.3 * height, lift + 0.6 * height)
    else:
        parts = [slab(-x, x, -width / 2, width / 2, lift, height)]
        shelves = 0
        if layout == "side by side":
            splits = [
                (-width / 2, -width * 0.06, lift, height),
                (-width * 0.06, width / 2, lift, height),
            ]
        elif layout == "single":
            splits = [(-width / 2, width / 2, lift, height)]
        else:
            z_split = lift + (height - lift) * (0.7 if layout == "top freezer" else 0.35)
            splits = [
                (-width / 2, width / 2, lift, z_split),
                (-width / 2, width / 2, z_split, height),
            ]
        for y0, y1, z0, z1 in splits:
            parts.append(slab(x, x + 0.05, y0 + 0.003, y1 - 0.003, z0 + 0.003, z1 - 0.003))
            # A handle at the free edge: beside the seam of side-by-side doors, else on the right.
            yh = (
                (y1 - 0.05 if y0 < -width / 4 else y0 + 0.05)
                if layout == "side by side"
                else (width / 2 - 0.05)
            )
            zc, span = (z0 + z1) / 2, min(0.25, (z1 - z0) * 0.4)
            if recessed:
                parts.append(box((0.01, 0.03, span), (x + 0.055, yh, zc)))
            else:
                parts += bar_handle(x + 0.05, yh, zc - span / 2, zc + span / 2)
        doors = len(splits)
    dispenser = bool(layout == "side by side" and rng.random() < 0.6)
    if dispenser:
        parts.append(box((0.02, 0.2, 0.3), (x + 0.06, -width * 0.28, height * 0.6)))
    parts += _feet(depth, width, lift)
    return finish_shape(
        "refrigerator",
        parts,
        dict(
            height=height,
            width=width,
            depth=depth,
            layout=layout,
            recessed_handles=recessed,
            ice_dispenser=dispenser,
        ),
        glass_parts=glass_parts,
        counts={"doors": doors, "shelves": shelves} if shelves else {"doors": doors},
        attributes=[
            Attribute(
                "refrigerator",
                "tall" if height > 1.2 else "under-counter",
                ("tall", "under-counter"),
            ),
        ],
        features={
            "a freezer compartment": layout in ("top freezer", "bottom freezer", "side by side"),
            "an ice dispenser": dispenser,
            "a glass door": layout == "glass front",
        },
    )


def build_microwave(rng: np.random.Generator) -> Shape:
    width, depth, height = rng.uniform(0.44, 0.6), rng.uniform(0.32, 0.45), rng.uniform(0.25, 0.36)
    panel = rng.uniform(0.1, 0.15)
    dial = bool(rng.random() < 0.5)
    handle = bool(rng.random() < 0.6)
    turntable = bool(rng.random() < 0.8)
    lift, wall = 0.012, 0.02
    x = depth / 2
    cavity_y1 = width / 2 - panel
    # The cooking cavity (open box behind the door) and the solid control column beside it.
    parts = carcass(depth, width - panel, lift, height, wall)
    parts = [p.translated((0, -panel / 2, 0)) for p in parts]
    parts.append(slab(-x, x, cavity_y1, width / 2, lift, height))
    if turntable:
        parts.append(
            cylinder(
                min(depth, width - panel) * 0.38,
                0.008,
                (0, -panel / 2, lift + wall + 0.01),
                segments=20,
            )
        )
    f = 0.04
    y0 = -width / 2
    parts += [
        slab(x, x + 0.025, y0, y0 + f, lift, height),
        slab(x, x + 0.025, cavity_y1 - f, cavity_y1, lift, height),
        slab(x, x + 0.025, y0, cavity_y1, lift, lift + f),
        slab(x, x + 0.025, y0, cavity_y1, height - f, height),
    ]
    glass_parts = [slab(x + 0.01, x + 0.018, y0 + f, cavity_y1 - f, lift + f, height - f)]
    yc = (cavity_y1 + width / 2) / 2
    if dial:
        parts += _knobs(x, [yc], height * 0.65, 0.025) + _knobs(x, [yc], height * 0.35, 0.025)
        buttons = 0
    else:
        buttons = int(rng.integers(6, 13))
        rows = int(np.ceil(buttons / 3))
        for b in range(buttons):
            r, c = divmod(b, 3)
            parts.append(
                box(
                    (0.006, panel * 0.22, 0.018),
                    (
                        x + 0.003,
                        yc + (c - 1) * panel * 0.28,
                        height * 0.7 - r * (height * 0.5 / rows),
                    ),
                )
            )
    if handle:
        parts += bar_handle(x + 0.025, cavity_y1 - 0.03, lift + 0.05, height - 0.05, 0.03)
    parts += _feet(depth, width, lift)
    return finish_shape(
        "microwave",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            panel_width=panel,
            dials=dial,
            handle=handle,
            turntable=turntable,
        ),
        glass_parts=glass_parts,
        counts={"dials": 2} if dial else {"buttons": buttons},
        features={"a glass door window": True, "a door handle": handle, "a turntable": turntable},
    )


def build_oven(rng: np.random.Generator) -> Shape:
    width = pick(rng, [0.5, 0.6, 0.6, 0.9])
    depth, height = rng.uniform(0.58, 0.65), rng.uniform(0.85, 0.93)
    burners = 6 if width > 0.8 else int(pick(rng, [4, 4, 2]))
    backguard = bool(rng.random() < 0.5)
    drawer = bool(rng.random() < 0.6)
    coils = bool(rng.random() < 0.3)
    x = depth / 2
    door_z0 = 0.18 if drawer else 0.08
    door_z1 = height - 0.12
    f = 0.06
    # The body around the oven cavity, which is open behind the door's window: a sensor
    # looking through the glass sees the rack and the back wall, not a panel just behind it.
    cy0, cy1, cz0, cz1 = -width / 2 + f, width / 2 - f, door_z0 + f, door_z1 - 2 * f
    back = x - 0.02 - rng.uniform(0.4, 0.45)
    parts = [
        slab(-x, x - 0.02, -width / 2, width / 2, 0.0, cz0),
        slab(-x, x - 0.02, -width / 2, width / 2, cz1, height),
        slab(-x, x - 0.02, -width / 2, cy0, cz0, cz1),
        slab(-x, x - 0.02, cy1, width / 2, cz0, cz1),
        slab(-x, back, cy0, cy1, cz0, cz1),
    ]
    rack_z = (cz0 + cz1) / 2
    for xr in np.linspace(back + 0.05, x - 0.08, 4):
        parts.append(rod((xr, cy0, rack_z), (xr, cy1, rack_z), 0.004, 4))
    knob_z = height - 0.06
    knobs = burners + 1
    parts += _knobs(x - 0.02, np.linspace(-width * 0.4, width * 0.4, knobs), knob_z)
    parts += [
        slab(x - 0.02, x + 0.02, -width / 2, -width / 2 + f, door_z0, door_z1),
        slab(x - 0.02, x + 0.02, width / 2 - f, width / 2, door_z0, door_z1),
        slab(x - 0.02, x + 0.02, -width / 2, width / 2, door_z0, door_z0 + f),
        slab(x - 0.02, x + 0.02, -width / 2, width / 2, door_z1 - 2 * f, door_z1),
    ]
    glass_parts = [slab(x - 0.01, x, cy0, cy1, cz0, cz1)]
    parts.append(
        rod(
            (x + 0.05, -width * 0.35, door_z1 - 0.06),
            (x + 0.05, width * 0.35, door_z1 - 0.06),
            0.012,
            6,
        )
    )
    for y in (-width * 0.35, width * 0.35):
        parts.append(rod((x + 0.02, y, door_z1 - 0.06), (x + 0.05, y, door_z1 - 0.06), 0.008, 4))
    if drawer:
        parts.append(slab(x - 0.02, x + 0.01, -width / 2 + 0.01, width / 2 - 0.01, 0.03, 0.16))
    cols = 3 if burners == 6 else 2
    rows = burners // cols
    for b in range(burners):
        r, c = divmod(b, cols)
        bx = (r - (rows - 1) / 2) * depth * 0.42
        by = (c - (cols - 1) / 2) * width * (0.6 / max(cols - 1, 1))
        rad = 0.06 if b % 2 else 0.08
        if coils:
            parts.append(torus(rad, 0.006, (bx, by, height + 0.006)))
        else:
            parts.append(cylinder(rad * 0.6, 0.02, (bx, by, height + 0.01), segments=12))
            parts.append(torus(rad, 0.008, (bx, by, height + 0.012)))
    if backguard:
        parts.append(
            slab(-x, -x + 0.04, -width / 2, width / 2, height, height + rng.uniform(0.08, 0.2))
        )
    return finish_shape(
        "oven",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            burners=burners,
            backguard=backguard,
            storage_drawer=drawer,
            coil_rings=coils,
            cavity_depth=x - 0.02 - back,
        ),
        glass_parts=glass_parts,
        counts={"burners": burners, "knobs": knobs},
        attributes=[Attribute("hob", "coil" if coils else "gas", ("coil", "gas"))],
        features={
            "a glass oven door": True,
            "a storage drawer": drawer,
            "a backguard": backguard,
            "a door handle": True,
        },
    )


def build_dishwasher(rng: np.random.Generator) -> Shape:
    width = pick(rng, [0.45, 0.6, 0.6])
    depth, height = rng.uniform(0.55, 0.62), rng.uniform(0.81, 0.87)
    handle = pick(rng, ["bar", "bar", "pocket"])
    panel_on_top = bool(rng.random() < 0.5)
    buttons = int(rng.integers(3, 8))
    kick = rng.uniform(0.08, 0.12)
    x = depth / 2
    parts = [slab(-x, x - 0.02, -width / 2, width / 2, kick, height)]
    parts.append(
        slab(-x, x - 0.07, -width / 2 + 0.01, width / 2 - 0.01, 0, kick)
    )  # recessed toe kick
    parts.append(
        slab(
            x - 0.02, x + 0.01, -width / 2 + 0.003, width / 2 - 0.003, kick + 0.003, height - 0.003
        )
    )
    panel_z = height - 0.05
    if panel_on_top:
        for b in range(buttons):
            parts.append(
                box(
                    (0.02, 0.025, 0.006), (x - 0.04, (b - (buttons - 1) / 2) * 0.04, height + 0.003)
                )
            )
    else:
        parts.append(box((0.005, width * 0.9, 0.08), (x + 0.012, 0, panel_z)))
        for b in range(buttons):
            parts.append(
                box((0.006, 0.025, 0.015), (x + 0.016, (b - (buttons - 1) / 2) * 0.04, panel_z))
            )
    if handle == "bar":
        hz = height - (0.14 if not panel_on_top else 0.07)
        parts.append(rod((x + 0.04, -width * 0.35, hz), (x + 0.04, width * 0.35, hz), 0.01, 6))
        for y in (-width * 0.35, width * 0.35):
            parts.append(rod((x + 0.01, y, hz), (x + 0.04, y, hz), 0.007, 4))
    else:
        parts.append(box((0.01, width * 0.3, 0.03), (x + 0.012, 0, height - 0.14)))
    return finish_shape(
        "dishwasher",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            handle=handle,
            panel_on_top=panel_on_top,
            buttons=buttons,
            toe_kick=kick,
        ),
        counts={"buttons": buttons},
        attributes=[
            Attribute("handle", handle, ("bar", "pocket")),
            Attribute(
                "control panel",
                "top-mounted" if panel_on_top else "front-mounted",
                ("top-mounted", "front-mounted"),
            ),
        ],
        features={"a drop-down front door": True, "a toe kick": True, "a round door": False},
    )


def build_kettle(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["electric", "electric", "stovetop"])
    height = rng.uniform(0.18, 0.28)
    radius = rng.uniform(0.07, 0.11)
    taper = rng.uniform(0.7, 1.0) if kind == "electric" else rng.uniform(0.55, 0.75)
    window = bool(kind == "electric" and rng.random() < 0.5)
    spout = bool(kind == "stovetop" or rng.random() < 0.4)
    parts = []
    z0 = 0.0
    if kind == "electric":
        parts.append(cylinder(radius * 1.15, 0.025, (0, 0, 0.0125), segments=20))
        z0 = 0.025
    body_top = z0 + height * 0.85
    parts.append(
        lathe(
            [radius, radius * 1.02, radius * taper, 0.0],
            [z0, z0 + 0.02, body_top, body_top + 0.02],
            20,
        )
    )
    parts.append(ellipsoid(0.015, (0, 0, body_top + 0.02), 5))
    if kind == "electric":
        parts.append(box((0.03, 0.03, height * 0.7), (-radius - 0.04, 0, z0 + height * 0.45)))
        parts.append(
            rod((-radius, 0, z0 + height * 0.8), (-radius - 0.04, 0, z0 + height * 0.8), 0.012, 5)
        )
        parts.append(
            rod((-radius, 0, z0 + height * 0.1), (-radius - 0.04, 0, z0 + height * 0.1), 0.012, 5)
        )
    else:
        arc = np.linspace(0, np.pi, 8)
        pts = [
            (radius * 0.5 * np.cos(a), 0.0, body_top + 0.02 + height * 0.25 * np.sin(a))
            for a in arc
        ]
        for p0, p1 in pairwise(pts):
            parts.append(rod(p0, p1, 0.008, 4))
    if spout:
        parts.append(
            rod(
                (radius * 0.8, 0, z0 + height * 0.3),
                (radius + 0.06, 0, z0 + height * 0.75),
                0.012,
                6,
            )
        )
    if window:
        parts.append(
            box((0.004, 0.02, height * 0.5), (radius * 0.98, radius * 0.5, z0 + height * 0.4))
        )
    return finish_shape(
        "kettle",
        parts,
        dict(
            kind=kind, height=height, radius=radius, taper=taper, water_window=window, spout=spout
        ),
        attributes=[
            Attribute("kettle", kind, ("electric", "stovetop")),
            Attribute("handle", "top" if kind == "stovetop" else "side", ("top", "side")),
        ],
        features={"a spout": spout, "a base plate": kind == "electric", "a lid knob": True},
    )


def build_toaster(rng: np.random.Generator) -> Shape:
    slots = int(pick(rng, [2, 2, 4]))
    long_slots = bool(slots == 2 and rng.random() < 0.3)
    slot_len = rng.uniform(0.13, 0.15) * (2 if long_slots else 1)
    width = (slot_len + 0.08) if slots == 2 and not long_slots else rng.uniform(0.25, 0.32)
    width = max(width, slot_len + 0.06)
    depth = 0.05 * (slots if not long_slots else 2) + rng.uniform(0.07, 0.1)
    height = rng.uniform(0.17, 0.22)
    rounded = bool(rng.random() < 0.5)
    parts = []
    # Walls between and around the slots, so the slots are real openings down to the rack.
    z0 = 0.015
    rows = slots if not long_slots else 2
    parts.append(slab(-depth / 2, depth / 2, -width / 2, width / 2, z0, height * 0.4))
    for b in np.linspace(-depth / 2 + 0.012, depth / 2 - 0.012, rows + 1):
        parts.append(slab(b - 0.012, b + 0.012, -width / 2, width / 2, z0, height))
    for y in (-width / 2 + 0.005, width / 2 - 0.005):
        parts.append(slab(-depth / 2, depth / 2, y - 0.015, y + 0.015, z0, height))
    if rounded:
        for x in (-depth / 2, depth / 2):
            parts.append(
                cylinder(
                    (0.015, width / 2), height - z0 - 0.02, (x, 0, (z0 + height) / 2), segments=12
                )
            )
    levers = 1 if slots == 2 else 2
    for k in range(levers):
        parts.append(
            box((0.03, 0.02, 0.015), (0, (width / 2 + 0.015) * (1 if k == 0 else -1), height * 0.6))
        )
    parts += _feet(depth, width, z0)
    return finish_shape(
        "toaster",
        parts,
        dict(
            slots=slots,
            long_slots=long_slots,
            width=width,
            depth=depth,
            height=height,
            rounded=rounded,
        ),
        counts={"slots": slots, "levers": levers},
        attributes=[Attribute("body", "rounded" if rounded else "boxy", ("rounded", "boxy"))],
        features={"slots on top": True},
        has_front=False,
    )


# ---------------------------------------------------------------- laundry and cleaning


def build_washing_machine(rng: np.random.Generator) -> Shape:
    loading = pick(rng, ["front", "front", "top"])
    width, depth, height = rng.uniform(0.58, 0.62), rng.uniform(0.5, 0.65), rng.uniform(0.82, 0.9)
    knobs = int(pick(rng, [1, 1, 2]))
    display = bool(rng.random() < 0.6)
    drawer = bool(loading == "front")
    x = depth / 2
    glass_parts: list[Mesh] = []
    parts = []
    if loading == "front":
        door_r = rng.uniform(0.16, 0.2)
        dz = height * 0.48
        # Body with the drum opening: slabs around a square hole, the drum inside.
        hole = door_r * 0.85
        parts += [
            slab(-x, x, -width / 2, width / 2, 0.0, dz - hole),
            slab(-x, x, -width / 2, width / 2, dz + hole, height),
            slab(-x, x, -width / 2, -hole, dz - hole, dz + hole),
            slab(-x, x, hole, width / 2, dz - hole, dz + hole),
        ]
        parts.append(cylinder(hole, 0.02, (-x + 0.1, 0, dz), axis=(1, 0, 0), segments=20))
        parts.append(torus(door_r, 0.03, (x + 0.04, 0, dz), axis=(1, 0, 0), segments=20))
        glass_parts.append(cylinder(door_r, 0.01, (x + 0.05, 0, dz), axis=(1, 0, 0), segments=20))
        parts.append(box((0.02, 0.2, 0.08), (x + 0.01, -width * 0.28, height - 0.07)))
        panel_x, panel_z = x, height - 0.07
    else:
        parts.append(slab(-x, x, -width / 2, width / 2, 0.0, height))
        parts.append(
            slab(-x * 0.6, x - 0.04, -width / 2 + 0.05, width / 2 - 0.05, height, height + 0.02)
        )
        parts.append(slab(-x, -x + 0.1, -width / 2, width / 2, height, height + 0.15))
        panel_x, panel_z = -x + 0.1, height + 0.08
    for y in np.linspace(width * 0.05, width * 0.38, knobs):
        parts += _knobs(panel_x, [y], panel_z, 0.025)
    if display:
        parts.append(box((0.006, 0.1, 0.04), (panel_x + 0.003, -width * 0.05, panel_z)))
    return finish_shape(
        "washing_machine",
        parts,
        dict(
            loading=loading, width=width, depth=depth, height=height, knobs=knobs, display=display
        ),
        glass_parts=glass_parts,
        counts={"knobs": knobs},
        attributes=[
            Attribute("washing machine", f"{loading}-loading", ("front-loading", "top-loading"))
        ],
        features={
            "a round glass door": loading == "front",
            "a lid on top": loading == "top",
            "a detergent drawer": drawer,
            "a display": display,
        },
    )


def build_vacuum_cleaner(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["upright", "upright", "canister"])
    wheels = 2 if kind == "upright" else int(pick(rng, [2, 4]))
    parts = []
    if kind == "upright":
        height = rng.uniform(1.0, 1.2)
        head_w, head_d = rng.uniform(0.26, 0.34), rng.uniform(0.2, 0.28)
        parts.append(slab(0.0, head_d, -head_w / 2, head_w / 2, 0.01, 0.08))
        for y in (-head_w / 2 + 0.02, head_w / 2 - 0.02):
            parts.append(cylinder(0.04, 0.03, (-0.02, y, 0.04), axis=(0, 1, 0), segments=10))
        body_h = height * rng.uniform(0.4, 0.55)
        body_r = rng.uniform(0.08, 0.12)
        parts.append(cylinder(body_r, body_h, (-0.05, 0, 0.1 + body_h / 2), segments=16))
        parts.append(rod((-0.05, 0, 0.1 + body_h), (-0.08, 0, height - 0.06), 0.016, 6))
        parts.append(rod((-0.08, -0.07, height - 0.02), (-0.08, 0.07, height - 0.02), 0.016, 6))
        parts.append(rod((-0.08, 0, height - 0.06), (-0.08, 0, height - 0.02), 0.012, 4))
        hose, footprint_w = False, head_w
    else:
        length, width = rng.uniform(0.35, 0.45), rng.uniform(0.25, 0.32)
        height = rng.uniform(0.25, 0.35)
        parts.append(
            ellipsoid((length / 2, width / 2, height / 2 - 0.02), (0, 0, height / 2 + 0.02), 12)
        )
        positions = [(-length * 0.3, s * width * 0.5) for s in (-1, 1)]
        if wheels == 4:
            positions += [(length * 0.3, s * width * 0.4) for s in (-1, 1)]
        for px, py in positions:
            parts.append(cylinder(0.05, 0.03, (px, py, 0.05), axis=(0, 1, 0), segments=10))
        parts.append(
            torus(0.05, 0.012, (length / 2 - 0.05, 0, height * 0.6), axis=(1, 0, 0), segments=10)
        )
        hose, footprint_w = True, width
    return finish_shape(
        "vacuum_cleaner",
        parts,
        dict(kind=kind, height=height, wheels=wheels, hose=hose, footprint_width=footprint_w),
        counts={"wheels": wheels},
        attributes=[Attribute("vacuum cleaner", kind, ("upright", "canister"))],
        features={
            "a long handle": kind == "upright",
            "a hose port": hose,
            "a floor head": kind == "upright",
        },
    )


# ---------------------------------------------------------------- office machines


def build_printer(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["desktop", "desktop", "floor-standing"])
    width, depth = rng.uniform(0.38, 0.5), rng.uniform(0.3, 0.45)
    trays = 1
    if kind == "floor-standing":
        width, depth = rng.uniform(0.55, 0.65), rng.uniform(0.55, 0.7)
        trays = int(rng.integers(2, 5))
    engine_h = rng.uniform(0.15, 0.25) if kind == "desktop" else rng.uniform(0.35, 0.45)
    tray_h = 0.1 if kind == "desktop" else rng.uniform(0.11, 0.14)
    scanner = bool(kind == "floor-standing" or rng.random() < 0.5)
    casters_on = bool(kind == "floor-standing" and rng.random() < 0.7)
    x = depth / 2
    z = 0.08 if casters_on else 0.0
    parts = []
    if casters_on:
        for cx in (-x + 0.06, x - 0.06):
            for cy in (-width / 2 + 0.06, width / 2 - 0.06):
                parts += caster(cx, cy, 0.03)
        parts.append(slab(-x, x, -width / 2, width / 2, 0.07, 0.08))
    for _ in range(trays):
        parts.append(slab(-x, x - 0.01, -width / 2, width / 2, z, z + tray_h))
        parts.append(
            slab(
                x - 0.01,
                x + 0.005,
                -width / 2 + 0.01,
                width / 2 - 0.01,
                z + 0.005,
                z + tray_h - 0.005,
            )
        )
        parts.append(box((0.015, width * 0.25, 0.02), (x + 0.012, 0, z + tray_h * 0.7)))
        z += tray_h
    # Print engine with an output slot recessed into its front.
    parts.append(slab(-x, x, -width / 2, width / 2, z, z + engine_h * 0.3))
    parts.append(slab(-x, x - 0.12, -width / 2, width / 2, z + engine_h * 0.3, z + engine_h * 0.55))
    parts.append(slab(-x, x, -width / 2, width / 2, z + engine_h * 0.55, z + engine_h))
    z += engine_h
    if scanner:
        parts.append(slab(-x, x, -width / 2, width / 2, z, z + 0.07))
        parts.append(
            slab(-x, x * 0.3, -width * 0.45, width * 0.45, z + 0.07, z + 0.11)
        )  # document feeder
        parts.append(box((0.06, 0.16, 0.1), (x - 0.06, width / 2 - 0.1, z + 0.04)))  # control panel
    return finish_shape(
        "printer",
        parts,
        dict(
            kind=kind,
            width=width,
            depth=depth,
            paper_trays=trays,
            scanner=scanner,
            casters=casters_on,
        ),
        counts={"paper trays": trays},
        attributes=[Attribute("printer", kind, ("desktop", "floor-standing"))],
        features={"a scanner lid": scanner, "an output slot": True, "casters": casters_on},
    )


def build_computer_tower(rng: np.random.Generator) -> Shape:
    height, depth = rng.uniform(0.35, 0.5), rng.uniform(0.38, 0.5)
    width = rng.uniform(0.17, 0.23)
    bays = int(rng.integers(0, 4))
    side_window = bool(rng.random() < 0.4)
    fans = int(pick(rng, [0, 1, 2, 3]))
    x = depth / 2
    parts = []
    lift = 0.025
    parts.append(
        slab(-x, x, -width / 2, width / 2, lift, height)
        if not side_window
        else slab(-x, x, -width / 2, width / 2 - 0.01, lift, height)
    )
    glass_parts = []
    if side_window:
        parts.append(
            slab(
                -x + 0.05, x - 0.05, width / 2 - 0.08, width / 2 - 0.06, lift + 0.05, height - 0.05
            )
        )  # board inside
        glass_parts.append(
            slab(-x + 0.04, x - 0.04, width / 2 - 0.01, width / 2, lift + 0.04, height - 0.04)
        )
    for b in range(bays):
        zb = height - 0.05 - b * 0.05
        parts.append(box((0.006, width * 0.8, 0.04), (x + 0.003, 0, zb)))
    for f in range(fans):
        parts.append(
            torus(0.055, 0.008, (x + 0.004, 0, lift + 0.08 + f * 0.12), axis=(1, 0, 0), segments=14)
        )
    parts.append(
        cylinder(0.01, 0.008, (x + 0.004, width * 0.3, height - 0.03), axis=(1, 0, 0), segments=8)
    )
    parts += _feet(depth, width, lift)
    return finish_shape(
        "computer_tower",
        parts,
        dict(
            height=height,
            depth=depth,
            width=width,
            drive_bays=bays,
            side_window=side_window,
            front_fans=fans,
        ),
        glass_parts=glass_parts,
        counts={"drive bays": bays, "front fans": fans},
        attributes=[
            Attribute("side panel", "glass" if side_window else "solid", ("glass", "solid"))
        ],
        features={"a glass side panel": side_window, "a power button": True},
    )


def build_vending_machine(rng: np.random.Generator) -> Shape:
    width, depth, height = rng.uniform(0.75, 1.2), rng.uniform(0.7, 0.9), rng.uniform(1.75, 1.95)
    kind = pick(rng, ["snack", "snack", "drinks"])
    shelves = int(rng.integers(4, 8)) if kind == "snack" else 0
    panel = rng.uniform(0.2, 0.28)
    x = depth / 2
    glass_parts: list[Mesh] = []
    body_y1 = width / 2 - panel
    parts = [slab(-x, x, body_y1, width / 2, 0.0, height)]  # control column
    if kind == "snack":
        parts += [
            p.translated((0, -panel / 2, 0))
            for p in carcass(depth, width - panel, 0.0, height, 0.04)
        ]
        base_z = 0.35
        parts.append(slab(-x, x, -width / 2, body_y1, 0.0, base_z))
        for k in range(shelves):
            z = base_z + (height - 0.1 - base_z) * (k + 0.5) / shelves
            parts.append(slab(-x + 0.05, x - 0.1, -width / 2 + 0.04, body_y1 - 0.02, z, z + 0.015))
            for y in np.linspace(-width / 2 + 0.1, body_y1 - 0.08, 5):
                parts.append(
                    torus(0.03, 0.004, (x - 0.15, y, z + 0.04), axis=(1, 0, 0), segments=8)
                )
        glass_parts.append(
            slab(x + 0.01, x + 0.02, -width / 2 + 0.04, body_y1, base_z, height - 0.04)
        )
        parts.append(slab(x, x + 0.03, -width / 2, body_y1, base_z - 0.04, base_z))
        parts.append(slab(x, x + 0.03, -width / 2, body_y1, height - 0.04, height))
        parts.append(slab(x, x + 0.03, -width / 2, -width / 2 + 0.04, base_z, height))
    else:
        parts.append(slab(-x, x, -width / 2, body_y1, 0.0, height))
        parts.append(
            box((0.01, width - panel - 0.1, height * 0.6), (x + 0.005, -panel / 2, height * 0.55))
        )  # lit panel
    parts.append(
        box((0.03, panel * 0.6, 0.2), (x + 0.015, body_y1 + panel / 2, height * 0.6))
    )  # keypad
    parts.append(
        box((0.02, panel * 0.3, 0.05), (x + 0.01, body_y1 + panel / 2, height * 0.45))
    )  # coin slot
    parts.append(
        box((0.03, (width - panel) * 0.7, 0.15), (x + 0.015, -panel / 2, 0.15))
    )  # pickup flap
    return finish_shape(
        "vending_machine",
        parts,
        dict(
            width=width, depth=depth, height=height, kind=kind, shelves=shelves, panel_width=panel
        ),
        glass_parts=glass_parts,
        counts={"shelves": shelves} if shelves else {},
        attributes=[
            Attribute("front", "glass" if kind == "snack" else "solid", ("glass", "solid"))
        ],
        features={"a keypad": True, "a pickup flap": True, "product spirals": kind == "snack"},
    )


def build_water_dispenser(rng: np.random.Generator) -> Shape:
    body_h = rng.uniform(0.9, 1.05)
    width, depth = rng.uniform(0.28, 0.34), rng.uniform(0.3, 0.36)
    bottle = bool(rng.random() < 0.65)
    taps = int(pick(rng, [2, 2, 3]))
    cabinet = bool(rng.random() < 0.5)
    x = depth / 2
    parts = [slab(-x, x, -width / 2, width / 2, 0.0, body_h)]
    # Dispensing recess with taps above a drip tray.
    parts.append(box((0.06, width * 0.8, 0.02), (x + 0.03, 0, body_h * 0.6)))
    for y in np.linspace(-width * 0.25, width * 0.25, taps):
        parts.append(box((0.04, 0.03, 0.05), (x + 0.02, y, body_h * 0.78)))
    if cabinet:
        parts.append(slab(x, x + 0.01, -width / 2 + 0.01, width / 2 - 0.01, 0.05, body_h * 0.5))
    height = body_h
    if bottle:
        bottle_h = rng.uniform(0.35, 0.5)
        r = min(width, depth) * 0.45
        parts.append(cylinder(0.06, 0.05, (0, 0, body_h + 0.025), segments=12))
        parts.append(
            lathe(
                [0.03, 0.03, r, r, r * 0.8],
                [
                    body_h + 0.03,
                    body_h + 0.07,
                    body_h + 0.14,
                    body_h + bottle_h - 0.03,
                    body_h + bottle_h,
                ],
                18,
                cap_top=True,
            )
        )
        height = body_h + bottle_h
    return finish_shape(
        "water_dispenser",
        parts,
        dict(
            body_height=body_h,
            width=width,
            depth=depth,
            bottle=bottle,
            taps=taps,
            cabinet=cabinet,
            height=height,
        ),
        counts={"taps": taps},
        attributes=[
            Attribute(
                "water dispenser",
                "top-loading" if bottle else "bottom-loading",
                ("top-loading", "bottom-loading"),
            )
        ],
        features={"a large bottle on top": bottle, "a drip tray": True, "a cabinet door": cabinet},
    )


# ---------------------------------------------------------------- climate


def build_fan(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["pedestal", "pedestal", "desk", "tower"])
    blades = int(pick(rng, [3, 4, 5])) if kind != "tower" else 0
    parts = []
    pole = base_r = 0.0
    if kind == "tower":
        height = rng.uniform(0.75, 1.1)
        r = rng.uniform(0.1, 0.14)
        parts.append(cylinder(r * 1.8, 0.04, (0, 0, 0.02), segments=20))
        parts.append(
            cylinder((r * 0.9, r), height - 0.04, (0, 0, 0.04 + (height - 0.04) / 2), segments=16)
        )
        parts.append(box((0.01, r * 0.8, height * 0.6), (r * 0.9, 0, height * 0.5)))  # grille
        head_r, base_r = r, r * 1.8
    else:
        head_r = rng.uniform(0.15, 0.22) if kind == "pedestal" else rng.uniform(0.1, 0.15)
        pole = rng.uniform(0.75, 1.15) if kind == "pedestal" else rng.uniform(0.1, 0.2)
        base_r = rng.uniform(0.18, 0.25) if kind == "pedestal" else head_r * 0.9
        parts.append(cylinder(base_r, 0.03, (0, 0, 0.015), segments=20))
        parts.append(rod((0, 0, 0.03), (0, 0, pole), 0.015, 8))
        hub = np.array([0.05, 0, pole + head_r])
        parts.append(ellipsoid((0.08, 0.06, 0.06), (-0.04, 0, pole + head_r), 8))  # motor
        parts.append(rod((0, 0, pole), (-0.04, 0, pole + head_r - 0.05), 0.015, 6))
        for dx in (0.0, 0.08):
            parts.append(
                torus(head_r, 0.005, hub + np.array([dx, 0, 0]), axis=(1, 0, 0), segments=20)
            )
        for a in np.arange(blades) * 2 * np.pi / blades:
            tip = hub + np.array([0.04, np.cos(a) * head_r * 0.85, np.sin(a) * head_r * 0.85])
            parts.append(
                ellipsoid(
                    (0.01, head_r * 0.42, head_r * 0.22),
                    (hub + tip) / 2 + np.array([0.02, 0, 0]),
                    6,
                    None,
                )
            )
        parts.append(
            cylinder(0.03, 0.04, hub + np.array([0.04, 0, 0]), axis=(1, 0, 0), segments=10)
        )
        height = pole + 2 * head_r + 0.01
    return finish_shape(
        "fan",
        parts,
        dict(
            kind=kind,
            blades=blades,
            head_radius=head_r,
            pole_height=pole,
            base_radius=base_r,
            height=height,
        ),
        counts={"blades": blades} if blades else {},
        attributes=[Attribute("fan", kind, ("pedestal", "desk", "tower"))],
        features={
            "a round guard": kind != "tower",
            "a round base": True,
            "a long pole": kind == "pedestal",
        },
    )


def build_heater(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["oil-filled", "oil-filled", "fan", "panel"])
    fins = int(rng.integers(5, 14)) if kind == "oil-filled" else 0
    parts = []
    if kind == "oil-filled":
        height = rng.uniform(0.55, 0.68)
        fin_d, pitch = rng.uniform(0.12, 0.16), rng.uniform(0.045, 0.055)
        lift = 0.09
        for k in range(fins):
            y = (k - (fins - 1) / 2) * pitch
            parts.append(
                ellipsoid(
                    (fin_d / 2, 0.015, (height - lift) / 2), (0, y, lift + (height - lift) / 2), 8
                )
            )
        span = (fins - 1) * pitch / 2
        for y in (-span, span):
            parts.append(rod((-0.12, y, 0.03), (0.12, y, 0.03), 0.01, 5))
            for x in (-0.12, 0.12):
                parts.append(cylinder(0.03, 0.02, (x, y, 0.03), axis=(0, 1, 0), segments=8))
            parts.append(rod((0, y, 0.03), (0, y, lift), 0.01, 4))
        parts.append(box((0.08, 0.06, 0.1), (0, span + 0.06, height * 0.7)))  # control box
        width = 2 * span + 0.1
    elif kind == "fan":
        height = rng.uniform(0.22, 0.35)
        width, depth = rng.uniform(0.18, 0.28), rng.uniform(0.12, 0.18)
        parts.append(slab(-depth / 2, depth / 2, -width / 2, width / 2, 0.02, height))
        parts.append(
            torus(
                min(width, height) * 0.3,
                0.006,
                (depth / 2 + 0.003, 0, height * 0.55),
                axis=(1, 0, 0),
                segments=14,
            )
        )
        parts.append(
            slab(-depth / 2 - 0.02, depth / 2 + 0.02, -width / 2 - 0.02, width / 2 + 0.02, 0, 0.02)
        )
        parts += _knobs(depth / 2, [width * 0.3], height * 0.15, 0.012)
    else:
        height = rng.uniform(0.4, 0.6)
        width = rng.uniform(0.6, 1.0)
        parts.append(slab(-0.04, 0.04, -width / 2, width / 2, 0.12, height))
        for y in (-width / 2 + 0.08, width / 2 - 0.08):
            parts.append(slab(-0.12, 0.12, y - 0.02, y + 0.02, 0, 0.03))
            parts.append(slab(-0.015, 0.015, y - 0.015, y + 0.015, 0.03, 0.13))
        for k in range(6):
            parts.append(box((0.006, width * 0.8, 0.01), (0.043, 0, height - 0.04 - k * 0.015)))
    return finish_shape(
        "heater",
        parts,
        dict(kind=kind, fins=fins, height=height, width=width, on_wheels=kind == "oil-filled"),
        counts={"fins": fins} if fins else {},
        attributes=[Attribute("heater", kind, ("oil-filled", "fan", "panel"))],
        features={
            "wheels": kind == "oil-filled",
            "a front grille": kind == "fan",
            "feet": kind == "panel",
        },
    )


def build_air_purifier(rng: np.random.Generator) -> Shape:
    section = pick(rng, ["round", "square"])
    height = rng.uniform(0.45, 0.85)
    size = rng.uniform(0.2, 0.35)
    top_grille = bool(rng.random() < 0.7)
    handle = bool(rng.random() < 0.4)
    parts = []
    if section == "round":
        parts.append(cylinder(size / 2, height - 0.02, (0, 0, (height - 0.02) / 2), segments=24))
        for z in np.linspace(0.08, height * 0.6, 6):
            parts.append(torus(size / 2 + 0.002, 0.003, (0, 0, z), segments=24))
    else:
        parts.append(box((size * 0.7, size, height - 0.02), (0, 0, (height - 0.02) / 2)))
        for z in np.linspace(0.08, height * 0.6, 6):
            parts.append(box((0.004, size * 0.8, 0.006), (size * 0.35 + 0.002, 0, z)))
    if top_grille:
        parts.append(torus(size * 0.3, 0.008, (0, 0, height - 0.015), segments=20))
    if handle:
        parts.append(box((0.03, size * 0.4, 0.02), (0, 0, height - 0.01)))
    return finish_shape(
        "air_purifier",
        parts,
        dict(section=section, height=height, size=size, top_grille=top_grille, handle=handle),
        attributes=[
            Attribute(
                "body",
                "cylindrical" if section == "round" else box_word(size * 0.7, size, height),
                ("cylindrical", "rectangular", "cube-shaped"),
            )
        ],
        features={
            "side intake slots": True,
            "a top outlet grille": top_grille,
            "a carry handle": handle,
        },
        has_front=section == "square",
    )


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "refrigerator",
            "indoor",
            ("refrigerator", "fridge", "fridge freezer"),
            (0.82, 2.02),
            build_refrigerator,
        ),
        Family(
            "microwave", "indoor", ("microwave", "microwave cooker"), (0.25, 0.4), build_microwave
        ),
        Family(
            "oven", "indoor", ("oven", "cooker", "stove", "kitchen range"), (0.85, 1.15), build_oven
        ),
        # Unseen: a near neighbour of washing machine and oven (a front-door box under a counter).
        Family(
            "dishwasher",
            "indoor",
            ("dishwasher", "dish washer"),
            (0.8, 0.9),
            build_dishwasher,
            unseen=True,
            description="a box as tall as a kitchen counter with a front door that folds down",
        ),
        Family(
            "kettle",
            "indoor",
            ("kettle", "electric kettle", "tea kettle"),
            (0.18, 0.4),
            build_kettle,
        ),
        Family("toaster", "indoor", ("toaster", "pop-up toaster"), (0.17, 0.24), build_toaster),
        Family(
            "washing_machine",
            "indoor",
            ("washing machine", "washer", "laundry machine"),
            (0.82, 1.07),
            build_washing_machine,
        ),
        Family(
            "vacuum_cleaner",
            "indoor",
            ("vacuum cleaner", "vacuum", "hoover"),
            (0.22, 1.22),
            build_vacuum_cleaner,
        ),
        Family(
            "printer",
            "indoor",
            ("printer", "office printer", "laser printer"),
            (0.15, 1.3),
            build_printer,
        ),
        Family(
            "computer_tower",
            "indoor",
            ("computer tower", "desktop computer", "pc case"),
            (0.35, 0.5),
            build_computer_tower,
        ),
        Family(
            "vending_machine",
            "indoor",
            ("vending machine", "snack machine", "drinks machine"),
            (1.75, 1.95),
            build_vending_machine,
        ),
        # Unseen: a tall narrow box with taps and a bottle on top, near vending machine and fridge.
        Family(
            "water_dispenser",
            "indoor",
            ("water dispenser", "water cooler"),
            (0.9, 1.56),
            build_water_dispenser,
            unseen=True,
            description="a waist-high box with taps in front and a big bottle upside down on top",
        ),
        Family(
            "fan",
            "indoor",
            ("fan", "electric fan", "pedestal fan", "floor fan"),
            (0.3, 1.6),
            build_fan,
        ),
        Family(
            "heater",
            "indoor",
            ("heater", "space heater", "radiator heater"),
            (0.2, 0.7),
            build_heater,
        ),
        Family(
            "air_purifier",
            "indoor",
            ("air purifier", "air cleaner"),
            (0.45, 0.85),
            build_air_purifier,
        ),
    )
}
