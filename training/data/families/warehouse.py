"""Parametric families for logistics, tools and robots indoors (domain "indoor"): boxes, pallets,
racking, crates, barrels, carts, ladders, hand tools, robot arms, mobile robots and drones.
"""

from __future__ import annotations

import numpy as np

from training.data.families.common import (
    Attribute,
    Family,
    Shape,
    finish_shape,
    pick,
    rect_corners,
    ring_points,
)
from training.data.families.indoor import box_word, caster
from training.data.mesh import Mesh, box, cylinder, ellipsoid, lathe, rod, rot_y, slab, torus

# ---------------------------------------------------------------- boxes and loads


def build_cardboard_box(rng: np.random.Generator) -> Shape:
    depth, width, height = rng.uniform(0.2, 0.8), rng.uniform(0.15, 0.6), rng.uniform(0.1, 0.6)
    flaps = pick(rng, ["closed", "closed", "open"])
    stacked = int(pick(rng, [1, 1, 1, 2, 3]))
    tape = bool(flaps == "closed" and rng.random() < 0.7)
    parts: list[Mesh] = []
    z = 0.0
    for k in range(stacked):
        # Boxes on top are a little smaller and shifted, as a real stack is.
        s = 1.0 - 0.08 * k
        dx, dy = (rng.uniform(-0.03, 0.03) for _ in range(2))
        d, w, h = depth * s, width * s, height * s
        top = k == stacked - 1
        if top and flaps == "open":
            t = 0.005
            parts += [
                slab(dx - d / 2, dx + d / 2, dy - w / 2, dy + w / 2, z, z + t),
                slab(dx - d / 2, dx - d / 2 + t, dy - w / 2, dy + w / 2, z, z + h),
                slab(dx + d / 2 - t, dx + d / 2, dy - w / 2, dy + w / 2, z, z + h),
                slab(dx - d / 2, dx + d / 2, dy - w / 2, dy - w / 2 + t, z, z + h),
                slab(dx - d / 2, dx + d / 2, dy + w / 2 - t, dy + w / 2, z, z + h),
            ]
            # Long flaps folded outwards and down, leaning away from the opening.
            for sy in (-1, 1):
                parts.append(
                    box((d, t, w / 2 * 0.9), (dx, dy + sy * (w / 2 + 0.03), z + h + w * 0.15))
                )
        else:
            parts.append(slab(dx - d / 2, dx + d / 2, dy - w / 2, dy + w / 2, z, z + h))
            if tape:
                parts.append(box((d + 0.004, 0.05, 0.003), (dx, dy, z + h)))
        z += h
    return finish_shape(
        "cardboard_box",
        parts,
        dict(depth=depth, width=width, height=height, flaps=flaps, stacked=stacked, tape=tape),
        counts={"boxes": stacked} if stacked > 1 else {},
        attributes=[
            Attribute(
                "cardboard box", box_word(depth, width, height), ("cube-shaped", "rectangular")
            ),
            Attribute("top", "open" if flaps == "open" else "closed", ("open", "closed")),
        ],
        features={"packing tape": tape, "flaps folded open": flaps == "open"},
        has_front=False,
    )


def build_pallet(rng: np.random.Generator) -> Shape:
    size = pick(rng, [(1.2, 0.8), (1.2, 1.0), (1.0, 1.0), (1.2, 0.8)])
    length, width = size
    material = pick(rng, ["wooden", "wooden", "plastic"])
    deck_boards = int(rng.integers(5, 9)) if material == "wooden" else 0
    block_h = rng.uniform(0.08, 0.1)
    load = pick(rng, ["none", "none", "boxes", "wrapped"])
    parts = []
    board_t = 0.022
    # Bottom boards, nine blocks, stringer boards, then the top deck.
    for y in (-width / 2 + 0.05, 0.0, width / 2 - 0.05):
        parts.append(slab(-length / 2, length / 2, y - 0.05, y + 0.05, 0, board_t))
        for x in (-length / 2 + 0.05, 0.0, length / 2 - 0.05):
            parts.append(box((0.1, 0.1, block_h), (x, y, board_t + block_h / 2)))
    z = board_t + block_h
    for x in (-length / 2 + 0.05, 0.0, length / 2 - 0.05):
        parts.append(slab(x - 0.05, x + 0.05, -width / 2, width / 2, z, z + board_t))
    z += board_t
    if material == "wooden":
        gap_w = width / deck_boards
        for k in range(deck_boards):
            y0 = -width / 2 + k * gap_w
            parts.append(
                slab(-length / 2, length / 2, y0 + 0.01, y0 + gap_w - 0.01, z, z + board_t)
            )
    else:
        parts.append(slab(-length / 2, length / 2, -width / 2, width / 2, z, z + board_t))
    z += board_t
    load_h = 0.0
    if load != "none":
        load_h = rng.uniform(0.4, 1.2)
        if load == "wrapped":
            parts.append(
                slab(
                    -length / 2 + 0.02,
                    length / 2 - 0.02,
                    -width / 2 + 0.02,
                    width / 2 - 0.02,
                    z,
                    z + load_h,
                )
            )
        else:
            rows = int(rng.integers(1, 4))
            for r in range(rows):
                for x in (-length / 4, length / 4):
                    for y in (-width / 4, width / 4):
                        zz = z + r * load_h / rows
                        parts.append(
                            box(
                                (length / 2 - 0.03, width / 2 - 0.03, load_h / rows - 0.01),
                                (x, y, zz + load_h / rows / 2),
                            )
                        )
    return finish_shape(
        "pallet",
        parts,
        dict(
            length=length,
            width=width,
            material=material,
            deck_boards=deck_boards,
            block_height=block_h,
            load=load,
            load_height=load_h,
        ),
        counts={"deck boards": deck_boards} if deck_boards else {},
        attributes=[
            Attribute("pallet", material, ("wooden", "plastic")),
            Attribute("pallet", "loaded" if load != "none" else "empty", ("loaded", "empty")),
        ],
        features={
            "fork openings": True,
            "a load of boxes": load == "boxes",
            "a shrink-wrapped load": load == "wrapped",
        },
    )


def build_shelf_rack(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["pallet racking", "shelving", "shelving"])
    if kind == "pallet racking":
        bays = int(rng.integers(1, 4))
        bay_w, depth = rng.uniform(1.8, 2.7), rng.uniform(0.9, 1.1)
        levels = int(rng.integers(2, 5))
        height = rng.uniform(2.5, 5.0)
        post = 0.08
    else:
        bays = int(rng.integers(1, 4))
        bay_w, depth = rng.uniform(0.8, 1.2), rng.uniform(0.4, 0.6)
        levels = int(rng.integers(3, 7))
        height = rng.uniform(1.5, 2.4)
        post = 0.035
    width = bays * bay_w
    loaded = bool(rng.random() < 0.5)
    parts = []
    for b in range(bays + 1):
        y = -width / 2 + b * bay_w
        for x in (-depth / 2, depth / 2):
            parts.append(box((post, post, height), (x, y, height / 2)))
        # Diagonal bracing between front and back posts of each frame.
        for k in range(3):
            z0, z1 = height * k / 3, height * (k + 1) / 3
            parts.append(rod((-depth / 2, y, z0 + 0.05), (depth / 2, y, z1 - 0.05), 0.012, 4))
    for lv in range(levels):
        z = (
            0.15 + (height - 0.3) * lv / max(levels - 1, 1)
            if kind == "pallet racking"
            else 0.1 + (height - 0.15) * lv / (levels - 1)
        )
        for b in range(bays):
            y0 = -width / 2 + b * bay_w
            if kind == "pallet racking":
                for x in (-depth / 2, depth / 2):
                    parts.append(slab(x - 0.03, x + 0.03, y0, y0 + bay_w, z - 0.1, z))
                if loaded and lv < levels - 1 and rng.random() < 0.7:
                    h = min(rng.uniform(0.6, 1.2), (height - 0.3) / max(levels - 1, 1) - 0.15)
                    parts.append(
                        slab(
                            -depth / 2 + 0.05,
                            depth / 2 - 0.05,
                            y0 + 0.1,
                            y0 + bay_w / 2 - 0.05,
                            z,
                            z + h,
                        )
                    )
                    parts.append(
                        slab(
                            -depth / 2 + 0.05,
                            depth / 2 - 0.05,
                            y0 + bay_w / 2 + 0.05,
                            y0 + bay_w - 0.1,
                            z,
                            z + h * 0.8,
                        )
                    )
            else:
                parts.append(slab(-depth / 2, depth / 2, y0, y0 + bay_w, z - 0.02, z))
                if loaded and lv < levels - 1 and rng.random() < 0.6:
                    h = min(rng.uniform(0.15, 0.35), (height - 0.15) / (levels - 1) - 0.05)
                    parts.append(
                        slab(
                            -depth / 2 + 0.03,
                            depth / 2 - 0.03,
                            y0 + 0.05,
                            y0 + bay_w * 0.6,
                            z,
                            z + h,
                        )
                    )
    return finish_shape(
        "shelf_rack",
        parts,
        dict(
            kind=kind,
            bays=bays,
            bay_width=bay_w,
            depth=depth,
            levels=levels,
            height=height,
            loaded=loaded,
        ),
        counts={"bays": bays, "levels": levels},
        attributes=[Attribute("shelf rack", "loaded" if loaded else "empty", ("loaded", "empty"))],
        features={"open sides": True, "diagonal bracing": True, "upright posts": True},
    )


def build_crate(rng: np.random.Generator) -> Shape:
    material = pick(rng, ["plastic", "plastic", "wooden"])
    depth, width, height = rng.uniform(0.3, 0.6), rng.uniform(0.25, 0.4), rng.uniform(0.15, 0.35)
    stacked = int(pick(rng, [1, 1, 2, 3]))
    handles = bool(material == "plastic" and rng.random() < 0.8)
    slats = int(rng.integers(2, 5)) if material == "wooden" else 0
    parts = []
    t = 0.012
    for k in range(stacked):
        z0 = k * height
        parts.append(slab(-depth / 2, depth / 2, -width / 2, width / 2, z0, z0 + t))
        if material == "wooden":
            # Slatted sides: horizontal boards with gaps, corner posts.
            for s in range(slats):
                zb = z0 + height * (s + 0.15) / slats
                hb = height * 0.6 / slats
                parts += [
                    slab(-depth / 2, -depth / 2 + t, -width / 2, width / 2, zb, zb + hb),
                    slab(depth / 2 - t, depth / 2, -width / 2, width / 2, zb, zb + hb),
                    slab(-depth / 2, depth / 2, -width / 2, -width / 2 + t, zb, zb + hb),
                    slab(-depth / 2, depth / 2, width / 2 - t, width / 2, zb, zb + hb),
                ]
            for x, y in rect_corners(depth / 2 - 0.02, width / 2 - 0.02):
                parts.append(box((0.03, 0.03, height), (x, y, z0 + height / 2)))
        else:
            for sx in (-1, 1):
                x0, x1 = (
                    (sx * depth / 2 - t, sx * depth / 2) if sx > 0 else (-depth / 2, -depth / 2 + t)
                )
                if handles:
                    parts.append(slab(x0, x1, -width / 2, width / 2, z0, z0 + height * 0.7))
                    parts.append(slab(x0, x1, -width / 2, -0.06, z0 + height * 0.7, z0 + height))
                    parts.append(slab(x0, x1, 0.06, width / 2, z0 + height * 0.7, z0 + height))
                    parts.append(slab(x0, x1, -0.06, 0.06, z0 + height - 0.015, z0 + height))
                else:
                    parts.append(slab(x0, x1, -width / 2, width / 2, z0, z0 + height))
            parts.append(slab(-depth / 2, depth / 2, -width / 2, -width / 2 + t, z0, z0 + height))
            parts.append(slab(-depth / 2, depth / 2, width / 2 - t, width / 2, z0, z0 + height))
    return finish_shape(
        "crate",
        parts,
        dict(
            material=material,
            depth=depth,
            width=width,
            height=height,
            stacked=stacked,
            handles=handles,
            slats=slats,
        ),
        counts={"crates": stacked} if stacked > 1 else {},
        attributes=[
            Attribute("crate", material, ("plastic", "wooden")),
            Attribute("top", "open", ("open", "closed")),
        ],
        features={"hand holes": handles, "slatted sides": material == "wooden"},
        has_front=False,
    )


def build_barrel(rng: np.random.Generator) -> Shape:
    material = pick(rng, ["steel", "steel", "plastic", "wooden"])
    height = rng.uniform(0.8, 0.95) if material != "wooden" else rng.uniform(0.7, 1.0)
    radius = rng.uniform(0.27, 0.3) if material != "wooden" else rng.uniform(0.25, 0.33)
    hoops = int(rng.integers(2, 5)) if material != "plastic" else 0
    open_top = bool(rng.random() < 0.2)
    parts = []
    if material == "wooden":
        zs = np.linspace(0, height, 7)
        rs = radius * (0.85 + 0.15 * np.sin(np.pi * zs / height))
        parts.append(lathe(rs, zs, 24, cap_top=not open_top))
    else:
        parts.append(
            lathe(
                [radius, radius, radius * 0.97],
                [0.0, height - 0.02, height],
                24,
                cap_top=not open_top,
            )
        )
        parts.append(torus(radius, 0.01, (0, 0, height - 0.01), segments=24))
        if material == "plastic" and not open_top:
            for y in (-radius * 0.5, radius * 0.5):
                parts.append(cylinder(0.03, 0.015, (0, y, height + 0.007), segments=8))
    for k in range(hoops):
        z = height * (k + 0.5) / hoops
        r = radius if material != "wooden" else radius * (0.85 + 0.15 * np.sin(np.pi * z / height))
        parts.append(torus(r + 0.004, 0.008, (0, 0, z), segments=24))
    return finish_shape(
        "barrel",
        parts,
        dict(material=material, height=height, radius=radius, hoops=hoops, open_top=open_top),
        counts={"hoops": hoops} if hoops else {},
        attributes=[
            Attribute("barrel", material, ("steel", "plastic", "wooden")),
            Attribute(
                "barrel",
                "cylindrical" if material != "wooden" else "bulging",
                ("cylindrical", "bulging"),
            ),
            Attribute("top", "open" if open_top else "closed", ("open", "closed")),
        ],
        features={"bungs on top": material == "plastic" and not open_top},
        has_front=False,
    )


# ---------------------------------------------------------------- carts and climbing


def build_hand_truck(rng: np.random.Generator) -> Shape:
    height = rng.uniform(1.1, 1.35)
    width = rng.uniform(0.4, 0.55)
    wheel_r = rng.uniform(0.1, 0.14)
    toe = rng.uniform(0.2, 0.3)
    handle = pick(rng, ["loop", "two grips"])
    crossbars = int(rng.integers(2, 5))
    lean = rng.uniform(0.0, 0.35)
    parts = []
    tilt = rot_y(-lean)  # the frame leans back (towards -x) from the toe plate

    def at(x, y, z):
        return tilt @ np.array([x, y, z])

    for y in (-width / 2, width / 2):
        parts.append(rod(at(0, y, 0.02), at(0, y, height), 0.014, 6))
    for k in range(crossbars):
        z = 0.15 + (height - 0.3) * k / max(crossbars - 1, 1)
        parts.append(rod(at(0, -width / 2, z), at(0, width / 2, z), 0.01, 5))
    if handle == "loop":
        parts.append(rod(at(0, -width / 2, height), at(-0.08, 0, height + 0.06), 0.014, 5))
        parts.append(rod(at(-0.08, 0, height + 0.06), at(0, width / 2, height), 0.014, 5))
    else:
        for y in (-width / 2, width / 2):
            parts.append(rod(at(0, y, height), at(-0.1, y * 1.1, height + 0.05), 0.015, 5))
    parts.append(slab(0.0, toe, -width / 2, width / 2, 0.0, 0.012))
    axle = at(-wheel_r * 0.6, 0, wheel_r)
    for y in (-width / 2 - 0.05, width / 2 + 0.05):
        parts.append(cylinder(wheel_r, 0.06, (axle[0], y, wheel_r), axis=(0, 1, 0), segments=14))
    parts.append(
        rod((axle[0], -width / 2 - 0.02, wheel_r), (axle[0], width / 2 + 0.02, wheel_r), 0.01, 5)
    )
    return finish_shape(
        "hand_truck",
        parts,
        dict(
            height=height,
            width=width,
            wheel_radius=wheel_r,
            toe_plate=toe,
            handle=handle,
            crossbars=crossbars,
            lean=lean,
        ),
        counts={"wheels": 2, "crossbars": crossbars},
        attributes=[
            Attribute("handle", "loop" if handle == "loop" else "split", ("loop", "split"))
        ],
        features={"a toe plate": True, "a frame tilted back": lean > 0.15},
    )


def build_utility_cart(rng: np.random.Generator) -> Shape:
    length, width = rng.uniform(0.7, 1.2), rng.uniform(0.45, 0.7)
    shelves = int(pick(rng, [1, 2, 2, 3]))
    deck_h = rng.uniform(0.8, 0.95) if shelves > 1 else rng.uniform(0.18, 0.3)
    handle = bool(rng.random() < 0.85)
    wheel_r = rng.uniform(0.05, 0.08)
    lips = bool(rng.random() < 0.6)
    parts = []
    base = wheel_r * 2.4
    levels = [base + 0.02] if shelves == 1 else list(np.linspace(base + 0.05, deck_h, shelves))
    for z in levels:
        parts.append(slab(-length / 2, length / 2, -width / 2, width / 2, z - 0.03, z))
        if lips:
            for y in (-width / 2, width / 2):
                parts.append(slab(-length / 2, length / 2, y - 0.01, y + 0.01, z, z + 0.03))
    if shelves > 1:
        for x, y in rect_corners(length / 2 - 0.02, width / 2 - 0.02):
            parts.append(box((0.03, 0.03, deck_h - base + 0.02), (x, y, (deck_h + base) / 2)))
    for x, y in rect_corners(length / 2 - 0.08, width / 2 - 0.08):
        parts += caster(x, y, wheel_r)
    if handle:
        top = max(levels) + rng.uniform(0.1, 0.9 if shelves == 1 else 0.25)
        for y in (-width / 2 + 0.03, width / 2 - 0.03):
            parts.append(rod((-length / 2, y, levels[-1]), (-length / 2 - 0.03, y, top), 0.013, 6))
        parts.append(
            rod(
                (-length / 2 - 0.03, -width / 2 + 0.03, top),
                (-length / 2 - 0.03, width / 2 - 0.03, top),
                0.015,
                6,
            )
        )
    return finish_shape(
        "utility_cart",
        parts,
        dict(
            length=length,
            width=width,
            shelves=shelves,
            deck_height=deck_h,
            push_handle=handle,
            wheel_radius=wheel_r,
            lips=lips,
        ),
        counts={"shelves": shelves, "wheels": 4},
        attributes=[
            Attribute(
                "utility cart", "flat" if shelves == 1 else "multi-level", ("flat", "multi-level")
            )
        ],
        features={"a push handle": handle, "raised edges": lips},
    )


def build_ladder(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["step ladder", "step ladder", "leaning"])
    rungs = int(rng.integers(4, 10))
    pitch = rng.uniform(0.25, 0.3)
    height = 0.1 + rungs * pitch
    width_bottom = rng.uniform(0.4, 0.55)
    width_top = width_bottom * rng.uniform(0.7, 0.95)
    platform = bool(kind == "step ladder" and rng.random() < 0.6)
    parts = []
    spread = height * rng.uniform(0.28, 0.38)
    # Front legs carry the treads; the back frame of a step ladder meets them at the top.
    foot_x = spread / 2 if kind == "step ladder" else height * 0.3
    top_x = 0.0 if kind == "step ladder" else -height * 0.05
    for s in (-1, 1):
        parts.append(
            rod((foot_x, s * width_bottom / 2, 0), (top_x, s * width_top / 2, height), 0.018, 4)
        )
        if kind == "step ladder":
            parts.append(
                rod(
                    (-spread / 2, s * width_bottom / 2, 0),
                    (top_x - 0.04, s * width_top / 2, height),
                    0.016,
                    4,
                )
            )
    for k in range(rungs):
        f = (0.1 + k * pitch) / height
        x = foot_x + (top_x - foot_x) * f
        w = width_bottom + (width_top - width_bottom) * f
        if kind == "step ladder":
            parts.append(box((0.08, w, 0.02), (x, 0, f * height)))
        else:
            parts.append(rod((x, -w / 2, f * height), (x, w / 2, f * height), 0.014, 6))
    if platform:
        parts.append(box((0.25, width_top, 0.03), (top_x - 0.08, 0, height + 0.015)))
    return finish_shape(
        "ladder",
        parts,
        dict(
            kind=kind,
            rungs=rungs,
            rung_spacing=pitch,
            width=width_bottom,
            platform=platform,
            spread=spread,
        ),
        counts={"rungs": rungs} if kind == "leaning" else {"steps": rungs},
        attributes=[
            Attribute(
                "ladder",
                "freestanding" if kind == "step ladder" else "leaning",
                ("freestanding", "leaning"),
            )
        ],
        features={
            "a top platform": platform,
            "flat treads": kind == "step ladder",
            "side rails": True,
        },
    )


def build_step_stool(rng: np.random.Generator) -> Shape:
    steps = int(pick(rng, [1, 2, 2, 3]))
    rise = rng.uniform(0.2, 0.25)
    width, tread = rng.uniform(0.35, 0.5), rng.uniform(0.18, 0.26)
    folding = bool(rng.random() < 0.4)
    grip = bool(rng.random() < 0.4)
    parts = []
    depth = steps * tread
    if folding:
        for s in (-1, 1):
            parts.append(
                rod(
                    (depth / 2, s * width / 2, 0),
                    (-depth / 2 + tread / 2, s * width / 2, steps * rise),
                    0.014,
                    4,
                )
            )
            parts.append(
                rod(
                    (-depth / 2, s * width / 2, 0),
                    (-depth / 2 + tread / 2, s * width / 2, steps * rise),
                    0.014,
                    4,
                )
            )
        for k in range(steps):
            x = depth / 2 - (k + 0.5) * tread
            parts.append(box((tread * 0.9, width, 0.025), (x, 0, (k + 1) * rise)))
    else:
        for k in range(steps):
            x0 = depth / 2 - (k + 1) * tread
            parts.append(slab(x0, x0 + tread, -width / 2, width / 2, 0, (k + 1) * rise))
            parts.append(
                box((tread + 0.01, width + 0.01, 0.012), (x0 + tread / 2, 0, (k + 1) * rise))
            )  # tread lip
    if grip:
        top = steps * rise
        for y in (-0.08, 0.08):
            parts.append(slab(-depth / 2, -depth / 2 + 0.03, y - 0.02, y + 0.02, top, top + 0.06))
    return finish_shape(
        "step_stool",
        parts,
        dict(steps=steps, rise=rise, width=width, tread=tread, folding=folding, grip=grip),
        counts={"steps": steps},
        attributes=[Attribute("frame", "folding" if folding else "solid", ("folding", "solid"))],
        features={"a carry slot": grip, "a handrail": False},
    )


# ---------------------------------------------------------------- tools


def build_tool_box(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["portable", "portable", "roller cabinet"])
    if kind == "portable":
        width, depth, height = (
            rng.uniform(0.35, 0.6),
            rng.uniform(0.18, 0.28),
            rng.uniform(0.15, 0.3),
        )
        drawers = 0
    else:
        width, depth = rng.uniform(0.6, 1.0), rng.uniform(0.4, 0.5)
        drawers = int(rng.integers(4, 9))
        height = rng.uniform(0.75, 1.0)
    latches = int(pick(rng, [1, 2, 2]))
    parts = []
    x = depth / 2
    if kind == "portable":
        parts.append(slab(-x, x, -width / 2, width / 2, 0, height * 0.7))
        parts.append(slab(-x, x, -width / 2, width / 2, height * 0.7, height - 0.01))
        parts.append(
            rod((0, -width * 0.3, height - 0.01), (0, -width * 0.3, height + 0.05), 0.01, 5)
        )
        parts.append(rod((0, width * 0.3, height - 0.01), (0, width * 0.3, height + 0.05), 0.01, 5))
        parts.append(
            rod((0, -width * 0.3, height + 0.05), (0, width * 0.3, height + 0.05), 0.016, 6)
        )
        for y in np.linspace(-width * 0.35, width * 0.35, latches) if latches > 1 else [0.0]:
            parts.append(box((0.015, 0.04, 0.05), (x + 0.007, y, height * 0.7)))
    else:
        wheel_r = 0.05
        base = wheel_r * 2.4
        parts.append(slab(-x, x - 0.01, -width / 2, width / 2, base, height))
        dh = (height - base - 0.04) / drawers
        for k in range(drawers):
            z0 = base + 0.02 + k * dh
            parts.append(
                slab(
                    x - 0.01,
                    x + 0.005,
                    -width / 2 + 0.01,
                    width / 2 - 0.01,
                    z0 + 0.003,
                    z0 + dh - 0.003,
                )
            )
            parts.append(box((0.02, width * 0.6, 0.012), (x + 0.012, 0, z0 + dh * 0.75)))
        for cx, cy in rect_corners(x - 0.05, width / 2 - 0.05):
            parts += caster(cx, cy, wheel_r)
        latches = 0
    return finish_shape(
        "tool_box",
        parts,
        dict(kind=kind, width=width, depth=depth, height=height, drawers=drawers, latches=latches),
        counts={"drawers": drawers} if drawers else {"latches": latches},
        attributes=[Attribute("tool box", kind, ("portable", "roller cabinet"))],
        features={"a carry handle": kind == "portable", "casters": kind != "portable"},
    )


def build_drill(rng: np.random.Generator) -> Shape:
    body_len = rng.uniform(0.15, 0.24)
    grip_h = rng.uniform(0.1, 0.14)
    battery = bool(rng.random() < 0.75)
    chuck_len = rng.uniform(0.04, 0.07)
    bit = bool(rng.random() < 0.6)
    side_handle = bool(rng.random() < 0.25)
    parts = []
    base_h = 0.07 if battery else 0.0
    if battery:
        parts.append(box((0.11, 0.08, base_h), (0.0, 0, base_h / 2)))
    grip_top = base_h + grip_h
    parts.append(box((0.045, 0.04, grip_h), (0.0, 0, base_h + grip_h / 2), rot_y(-0.2)))
    motor_z = grip_top + 0.03
    parts.append(
        cylinder(0.035, body_len, (body_len / 2 - 0.06, 0, motor_z), axis=(1, 0, 0), segments=12)
    )
    nose = body_len - 0.06
    parts.append(
        cylinder(0.02, chuck_len, (nose + chuck_len / 2, 0, motor_z), axis=(1, 0, 0), segments=10)
    )
    if bit:
        blen = rng.uniform(0.05, 0.12)
        parts.append(
            cylinder(
                0.004, blen, (nose + chuck_len + blen / 2, 0, motor_z), axis=(1, 0, 0), segments=6
            )
        )
    parts.append(box((0.02, 0.012, 0.025), (0.03, 0, grip_top - 0.015)))  # trigger
    if not battery:
        parts.append(rod((-0.01, 0, base_h + 0.01), (-0.05, 0, 0.0), 0.006, 5))  # cord
    if side_handle:
        parts.append(rod((nose, 0, motor_z), (nose, 0.12, motor_z - 0.05), 0.012, 6))
    return finish_shape(
        "drill",
        parts,
        dict(
            body_length=body_len,
            grip_height=grip_h,
            battery=battery,
            chuck_length=chuck_len,
            bit=bit,
            side_handle=side_handle,
        ),
        attributes=[
            Attribute("drill", "cordless" if battery else "corded", ("cordless", "corded"))
        ],
        features={
            "a pistol grip": True,
            "a battery pack": battery,
            "a drill bit": bit,
            "a side handle": side_handle,
        },
    )


def build_fire_extinguisher(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.35, 0.7)
    radius = rng.uniform(0.05, 0.09)
    hose = bool(height > 0.45 and rng.random() < 0.8)
    stand = bool(rng.random() < 0.3)
    wheeled = bool(height > 0.6 and rng.random() < 0.3)
    parts = []
    z0 = 0.03 if stand else 0.0
    if stand:
        parts.append(cylinder(radius * 1.6, 0.03, (0, 0, 0.015), segments=16))
    body_h = height * 0.78
    parts.append(
        lathe(
            [radius, radius, radius * 0.9, radius * 0.35],
            [z0, z0 + body_h * 0.85, z0 + body_h * 0.97, z0 + body_h],
            18,
            cap_top=True,
        )
    )
    neck = z0 + body_h
    parts.append(cylinder(radius * 0.3, height * 0.08, (0, 0, neck + height * 0.04), segments=10))
    valve = neck + height * 0.08
    parts.append(box((0.06, 0.025, 0.02), (0.02, 0, valve + 0.01)))
    parts.append(box((0.1, 0.025, 0.015), (-0.02, 0, valve + 0.04), rot_y(0.25)))  # lever
    if hose:
        parts.append(rod((0.03, 0, valve), (radius + 0.02, 0, z0 + body_h * 0.3), 0.008, 5))
        parts.append(
            cylinder(0.015, 0.06, (radius + 0.02, 0, z0 + body_h * 0.3 - 0.03), segments=8)
        )
    if wheeled:
        for y in (-radius, radius):
            parts.append(
                cylinder(0.06, 0.03, (-radius, y * 1.3, 0.06), axis=(0, 1, 0), segments=10)
            )
    return finish_shape(
        "fire_extinguisher",
        parts,
        dict(height=height, radius=radius, hose=hose, stand=stand, wheeled=wheeled),
        attributes=[Attribute("body", "cylindrical", ("cylindrical", "boxy"))],
        features={
            "a hose": hose,
            "a squeeze lever": True,
            "a floor stand": stand,
            "wheels": wheeled,
        },
        has_front=hose,  # the hose and lever mark a front; a bare cylinder has none
    )


# ---------------------------------------------------------------- robots


def build_robot_arm(rng: np.random.Generator) -> Shape:
    links = int(pick(rng, [2, 3, 3]))
    base_r = rng.uniform(0.08, 0.15)
    link_len = rng.uniform(0.25, 0.45)
    link_r = base_r * rng.uniform(0.4, 0.6)
    gripper = pick(rng, ["two-finger", "two-finger", "suction", "none"])
    pedestal = rng.uniform(0.0, 0.5) if rng.random() < 0.5 else 0.0
    parts = []
    if pedestal:
        parts.append(box((base_r * 2.6, base_r * 2.6, pedestal), (0, 0, pedestal / 2)))
    parts.append(cylinder(base_r, base_r * 1.2, (0, 0, pedestal + base_r * 0.6), segments=16))
    point = np.array([0.0, 0.0, pedestal + base_r * 1.2])
    # A joint angle per link from vertical; the arm reaches forward (+x).
    elevation = np.pi / 2 - rng.uniform(0.0, 0.6)
    joints = 0
    for k in range(links):
        direction = np.array([np.cos(elevation), 0.0, np.sin(elevation)])
        end = point + direction * link_len * (0.8 if k == links - 1 else 1.0)
        r = link_r * (0.85**k)
        parts.append(rod(point, end, r, 10))
        parts.append(cylinder(r * 1.3, r * 2.4, end, axis=(0, 1, 0), segments=12))
        joints += 1
        point = end
        elevation -= rng.uniform(0.5, 1.4)
        elevation = max(elevation, -np.pi / 2 + 0.3)
    fingers = 0
    if gripper == "two-finger":
        fingers = 2
        parts.append(box((0.03, 0.08, 0.03), point + np.array([0.02, 0, 0])))
        for y in (-0.03, 0.03):
            parts.append(box((0.06, 0.012, 0.015), point + np.array([0.06, y, 0])))
    elif gripper == "suction":
        parts.append(cylinder(0.025, 0.02, point + np.array([0.0, 0, -0.02]), segments=10))
    return finish_shape(
        "robot_arm",
        parts,
        dict(
            links=links,
            base_radius=base_r,
            link_length=link_len,
            gripper=gripper,
            pedestal=pedestal,
            link_radius=link_r,
        ),
        counts={"links": links, "joints": joints, "gripper fingers": fingers},
        attributes=[Attribute("gripper", gripper, ("two-finger", "suction"))]
        if gripper != "none"
        else [],
        features={"a round base": True, "a pedestal": pedestal > 0, "a gripper": gripper != "none"},
    )


def build_mobile_robot(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["round", "round", "boxy"])
    size = rng.uniform(0.35, 0.7)
    body_h = rng.uniform(0.15, 0.4)
    mast = rng.uniform(0.3, 1.0) if rng.random() < 0.5 else 0.0
    lidar = bool(rng.random() < 0.8)
    shelf = bool(kind == "boxy" and rng.random() < 0.5)
    wheels = int(pick(rng, [2, 4, 4])) if kind == "boxy" else 2
    wheel_r = rng.uniform(0.04, 0.08)
    clearance = wheel_r * 0.6
    parts = []
    if kind == "round":
        parts.append(cylinder(size / 2, body_h, (0, 0, clearance + body_h / 2), segments=24))
        for y in (-size * 0.38, size * 0.38):
            parts.append(cylinder(wheel_r, 0.03, (0, y, wheel_r), axis=(0, 1, 0), segments=10))
        for x in (-size * 0.35, size * 0.35):
            parts.append(ellipsoid(0.015, (x, 0, 0.015), 5))
    else:
        parts.append(box((size, size * 0.75, body_h), (0, 0, clearance + body_h / 2)))
        xs = [0.0] if wheels == 2 else [-size * 0.35, size * 0.35]
        for x in xs:
            for y in (-size * 0.375 - 0.02, size * 0.375 + 0.02):
                parts.append(cylinder(wheel_r, 0.04, (x, y, wheel_r), axis=(0, 1, 0), segments=10))
    top = clearance + body_h
    if mast:
        parts.append(cylinder(0.03, mast, (-size * 0.15, 0, top + mast / 2), segments=8))
        parts.append(box((0.06, 0.2, 0.14), (-size * 0.1, 0, top + mast)))  # head / screen
    if shelf:
        parts += [
            box((0.02, 0.02, 0.25), (x, y, top + 0.125))
            for x, y in rect_corners(size / 2 - 0.02, size * 0.35)
        ]
        parts.append(box((size, size * 0.75, 0.02), (0, 0, top + 0.26)))
        top += 0.27
    if lidar:
        parts.append(cylinder(0.04, 0.05, (size * 0.2, 0, top + 0.025), segments=12))
    parts.append(
        box(
            (0.02, size * 0.3, 0.04),
            (size / 2 + 0.005 if kind == "boxy" else size / 2 - 0.005, 0, clearance + body_h * 0.5),
        )
    )  # bumper sensor
    return finish_shape(
        "mobile_robot",
        parts,
        dict(
            kind=kind,
            size=size,
            body_height=body_h,
            mast_height=mast,
            lidar=lidar,
            shelf=shelf,
            wheels=wheels,
        ),
        counts={"wheels": wheels},
        attributes=[
            Attribute(
                "base", "round" if kind == "round" else "rectangular", ("round", "rectangular")
            )
        ],
        features={"a lidar on top": lidar, "a mast": mast > 0, "a carrying shelf": shelf},
    )


def build_drone(rng: np.random.Generator) -> Shape:
    rotors = int(pick(rng, [4, 4, 4, 6, 8]))
    arm = rng.uniform(0.12, 0.4)
    prop_r = arm * rng.uniform(0.45, 0.6) * (4 / rotors) ** 0.5
    body = arm * rng.uniform(0.4, 0.6)
    legs = pick(rng, ["skids", "legs"])
    leg_h = rng.uniform(0.06, 0.2)
    guards = bool(rng.random() < 0.3)
    camera = bool(rng.random() < 0.6)
    parts = []
    z = leg_h + 0.03
    parts.append(ellipsoid((body, body * 0.7, 0.04), (0, 0, z), 10))
    for x, y in ring_points(rotors, arm, np.pi / rotors):
        parts.append(rod((0, 0, z), (x, y, z + 0.01), 0.01, 5))
        parts.append(cylinder(0.02, 0.03, (x, y, z + 0.025), segments=8))
        parts.append(cylinder(prop_r, 0.004, (x, y, z + 0.045), segments=16))
        if guards:
            parts.append(torus(prop_r + 0.01, 0.004, (x, y, z + 0.045)))
    if legs == "skids":
        for y in (-body * 0.6, body * 0.6):
            parts.append(rod((-body * 0.3, y, z - 0.02), (-body * 0.4, y * 1.3, 0.008), 0.006, 4))
            parts.append(rod((body * 0.3, y, z - 0.02), (body * 0.4, y * 1.3, 0.008), 0.006, 4))
            parts.append(rod((-body * 0.8, y * 1.3, 0.008), (body * 0.8, y * 1.3, 0.008), 0.008, 5))
    else:
        for x, y in ring_points(4, body * 0.8, np.pi / 4):
            parts.append(rod((x * 0.6, y * 0.6, z - 0.02), (x, y, 0.0), 0.006, 4))
    if camera:
        parts.append(ellipsoid(0.025, (body * 0.8, 0, z - 0.03), 6))
    return finish_shape(
        "drone",
        parts,
        dict(
            rotors=rotors,
            arm_length=arm,
            propeller_radius=prop_r,
            landing_gear=legs,
            leg_height=leg_h,
            guards=guards,
            camera=camera,
        ),
        counts={"rotors": rotors, "propellers": rotors},
        attributes=[
            Attribute(
                "landing gear",
                "skid-type" if legs == "skids" else "leg-type",
                ("skid-type", "leg-type"),
            )
        ],
        features={"propeller guards": guards, "a camera": camera},
        has_front=camera,  # without a camera a multirotor looks the same from every side
    )


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "cardboard_box",
            "indoor",
            ("cardboard box", "carton", "shipping box", "moving box"),
            (0.1, 1.75),
            build_cardboard_box,
        ),
        Family(
            "pallet",
            "indoor",
            ("pallet", "shipping pallet", "wooden pallet"),
            (0.13, 1.4),
            build_pallet,
        ),
        Family(
            "shelf_rack",
            "indoor",
            ("shelf rack", "warehouse racking", "pallet rack", "shelving unit"),
            (1.5, 5.05),
            build_shelf_rack,
        ),
        # Unseen: an open-topped box with holes, near cardboard box and trash bin.
        Family(
            "crate",
            "indoor",
            ("crate", "storage crate", "plastic crate"),
            (0.15, 1.05),
            build_crate,
            unseen=True,
            description="an open-topped box with slatted or perforated sides and hand holes",
        ),
        Family("barrel", "indoor", ("barrel", "oil drum", "steel drum"), (0.7, 1.02), build_barrel),
        # Unseen: a tall frame on two wheels, near utility cart and ladder.
        Family(
            "hand_truck",
            "indoor",
            ("hand truck", "sack truck", "dolly"),
            (1.1, 1.45),
            build_hand_truck,
            unseen=True,
            description="an upright frame on two small wheels, a toe plate below and grips on top",
        ),
        Family(
            "utility_cart",
            "indoor",
            ("utility cart", "trolley", "service cart", "platform trolley"),
            (0.18, 1.25),
            build_utility_cart,
        ),
        Family(
            "ladder", "indoor", ("ladder", "step ladder", "stepladder"), (1.1, 2.9), build_ladder
        ),
        # Unseen: its name holds an unseen ModelNet word (stool); a near neighbour of stairs.
        Family(
            "step_stool",
            "indoor",
            ("step stool", "kick step", "step-up"),
            (0.2, 0.85),
            build_step_stool,
            unseen=True,
            description="a low platform of one to three flat treads rising like stairs",
        ),
        Family(
            "tool_box", "indoor", ("tool box", "toolbox", "tool chest"), (0.15, 1.0), build_tool_box
        ),
        Family(
            "drill", "indoor", ("drill", "power drill", "cordless drill"), (0.13, 0.3), build_drill
        ),
        # Unseen: a capped cylinder with a lever and hose, near bottle and barrel.
        Family(
            "fire_extinguisher",
            "indoor",
            ("fire extinguisher", "extinguisher"),
            (0.35, 0.85),
            build_fire_extinguisher,
            unseen=True,
            description="a narrow upright cylinder with a rounded top, a squeeze lever and a hose",
        ),
        Family(
            "robot_arm",
            "indoor",
            ("robot arm", "robotic arm", "manipulator", "industrial robot"),
            (0.35, 2.0),
            build_robot_arm,
        ),
        Family(
            "mobile_robot",
            "indoor",
            ("mobile robot", "wheeled robot", "delivery robot", "robot base"),
            (0.18, 1.6),
            build_mobile_robot,
        ),
        # Unseen: unrelated to every seen shape (a flat hub with rotors on thin arms).
        Family(
            "drone",
            "indoor",
            ("drone", "quadcopter", "multicopter"),
            (0.08, 0.35),
            build_drone,
            unseen=True,
            description="a small flat hub with four to eight thin arms, each ending in a propeller",
        ),
    )
}
