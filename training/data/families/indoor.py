"""Parametric families for what a service robot meets in homes and offices (domain "indoor"):
office furniture, storage, bags and household things. Appliances live in ``appliances``,
logistics, tools and robots in ``warehouse``; both use the part helpers defined here.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from training.data.families.common import (
    Attribute,
    Family,
    Shape,
    finish_shape,
    leg_rods,
    pick,
    rect_corners,
    ring_points,
)
from training.data.mesh import (
    Mesh,
    box,
    cone,
    cylinder,
    ellipsoid,
    lathe,
    rod,
    rot_y,
    slab,
    torus,
)

# ---------------------------------------------------------------- part helpers


def carcass(depth: float, width: float, z0: float, z1: float, wall: float) -> list[Mesh]:
    """Back, sides, top and bottom panels of a cabinet body open at the front (+x)."""
    hx, hy = depth / 2, width / 2
    return [
        slab(-hx, -hx + wall, -hy, hy, z0, z1),
        slab(-hx, hx, -hy, -hy + wall, z0, z1),
        slab(-hx, hx, hy - wall, hy, z0, z1),
        slab(-hx, hx, -hy, hy, z0, z0 + wall),
        slab(-hx, hx, -hy, hy, z1 - wall, z1),
    ]


def caster(x: float, y: float, radius: float) -> list[Mesh]:
    """A swivel caster whose wheel touches the floor at (x, y): wheel, fork and stem."""
    return [
        cylinder(radius, radius * 0.8, (x, y, radius), axis=(0, 1, 0), segments=10),
        box((radius * 1.2, radius * 1.1, radius * 0.5), (x, y, radius * 2.1)),
    ]


def bar_handle(x: float, y: float, z0: float, z1: float, standoff: float = 0.04) -> list[Mesh]:
    """A vertical bar handle on a front face at ``x`` between heights z0 and z1."""
    r = 0.009
    return [
        rod((x + standoff, y, z0), (x + standoff, y, z1), r, 6),
        rod((x, y, z0), (x + standoff, y, z0), r, 4),
        rod((x, y, z1), (x + standoff, y, z1), r, 4),
    ]


def box_word(depth: float, width: float, height: float) -> str:
    """ "cube-shaped" when all three sides are within 15 % of each other, else "rectangular"."""
    sides = (depth, width, height)
    return "cube-shaped" if max(sides) <= 1.15 * min(sides) else "rectangular"


# ---------------------------------------------------------------- office furniture


def build_office_chair(rng: np.random.Generator) -> Shape:
    seat_h, seat_w, seat_d = (
        rng.uniform(0.44, 0.56),
        rng.uniform(0.46, 0.56),
        rng.uniform(0.44, 0.52),
    )
    back_h = rng.uniform(0.4, 0.75)
    headrest = bool(back_h > 0.55 and rng.random() < 0.5)
    arms = bool(rng.random() < 0.7)
    star = int(pick(rng, [5, 5, 5, 4]))
    base_r = rng.uniform(0.27, 0.34)
    wheel_r = rng.uniform(0.025, 0.035)
    mesh_back = bool(rng.random() < 0.5)
    parts = []
    hub_z = wheel_r * 2.6
    for x, y in ring_points(star, base_r, rng.uniform(0, np.pi)):
        parts.append(rod((0, 0, hub_z + 0.03), (x, y, hub_z), 0.022, 5))
        parts += caster(x, y, wheel_r)
    seat_t = 0.08
    parts.append(cylinder(0.03, seat_h - seat_t - hub_z, (0, 0, (seat_h - seat_t + hub_z) / 2)))
    parts.append(box((0.22, 0.2, 0.05), (0, 0, seat_h - seat_t - 0.02)))  # tilt mechanism
    parts.append(box((seat_d, seat_w, seat_t), (0, 0, seat_h - seat_t / 2)))
    # Back on an upright spine behind the seat, slightly reclined.
    lean = rot_y(-0.12)
    back_x = -seat_d / 2 - 0.03
    base = np.array([back_x, 0, seat_h + 0.08])
    parts.append(box((0.04, 0.06, 0.2), (back_x + 0.01, 0, seat_h - 0.02)))
    thickness = 0.025 if mesh_back else 0.07
    parts.append(
        box((thickness, seat_w * 0.95, back_h), base + lean @ np.array([0, 0, back_h / 2]), lean)
    )
    if headrest:
        top = base + lean @ np.array([0, 0, back_h + 0.1])
        parts.append(box((0.06, seat_w * 0.55, 0.14), top, lean))
    if arms:
        arm_z = seat_h + rng.uniform(0.18, 0.25)
        for y in (-seat_w / 2 - 0.03, seat_w / 2 + 0.03):
            parts.append(box((seat_d * 0.55, 0.07, 0.03), (0.0, y, arm_z)))
            parts.append(
                box((0.04, 0.03, arm_z - seat_h + 0.05), (-0.02, y, (arm_z + seat_h) / 2 - 0.03))
            )
    return finish_shape(
        "office_chair",
        parts,
        dict(
            seat_height=seat_h,
            seat_width=seat_w,
            back_height=back_h,
            headrest=headrest,
            arms=arms,
            base_spokes=star,
            mesh_back=mesh_back,
        ),
        counts={"wheels": star, "spokes on the base": star},
        attributes=[
            Attribute("back", "high" if back_h > 0.55 else "mid-height", ("high", "mid-height")),
            Attribute("back", "mesh" if mesh_back else "padded", ("mesh", "padded")),
        ],
        features={"armrests": arms, "a headrest": headrest, "a gas-lift column": True},
    )


def build_whiteboard(rng: np.random.Generator) -> Shape:
    width, board_h = rng.uniform(0.9, 2.0), rng.uniform(0.6, 1.2)
    board_bottom = rng.uniform(0.7, 0.9)
    tray = bool(rng.random() < 0.7)
    wheels = bool(rng.random() < 0.6)
    foot = rng.uniform(0.45, 0.65)
    parts = [box((0.03, width, board_h), (0, 0, board_bottom + board_h / 2))]
    parts.append(box((0.04, width + 0.03, 0.02), (0, 0, board_bottom + board_h + 0.01)))
    parts.append(box((0.04, width + 0.03, 0.02), (0, 0, board_bottom - 0.01)))
    if tray:
        parts.append(box((0.07, width * 0.6, 0.02), (0.045, 0, board_bottom - 0.02)))
    lift = 0.1 if wheels else 0.02
    top = board_bottom + board_h + 0.02
    for y in (-width / 2 - 0.02, width / 2 + 0.02):
        parts.append(box((0.035, 0.035, top - lift), (0, y, (top + lift) / 2)))
        parts.append(box((foot, 0.04, 0.03), (0, y, lift)))
        for x in (-foot / 2 + 0.03, foot / 2 - 0.03):
            parts += caster(x, y, 0.04) if wheels else [box((0.04, 0.04, 0.02), (x, y, 0.01))]
    return finish_shape(
        "whiteboard",
        parts,
        dict(
            width=width,
            board_height=board_h,
            board_bottom=board_bottom,
            marker_tray=tray,
            wheels=wheels,
        ),
        counts={"wheels": 4} if wheels else {},
        attributes=[Attribute("board", "wide" if width > 1.5 else "narrow", ("wide", "narrow"))],
        features={"a marker tray": tray, "wheels": wheels},
    )


def build_coat_rack(rng: np.random.Generator) -> Shape:
    height = rng.uniform(1.6, 1.9)
    hooks = int(rng.integers(3, 9))
    base = pick(rng, ["round", "tripod", "cross"])
    pole_r = rng.uniform(0.015, 0.03)
    tiers = int(pick(rng, [1, 1, 2]))
    umbrella_ring = bool(rng.random() < 0.4)
    parts = [cylinder(pole_r, height - 0.02, (0, 0, (height - 0.02) / 2 + 0.02))]
    spread = rng.uniform(0.2, 0.3)
    if base == "round":
        parts.append(cylinder(spread, 0.025, (0, 0, 0.0125), segments=20))
    else:
        for x, y in ring_points(3 if base == "tripod" else 4, spread, 0.3):
            parts.append(rod((0, 0, 0.35), (x, y, 0.0), 0.015, 5))
    per_tier = [hooks - hooks // 2, hooks // 2] if tiers == 2 else [hooks]
    for t, n in enumerate(per_tier):
        z = height - 0.05 - t * 0.3
        for x, y in ring_points(n, 0.13, t * 0.4):
            parts.append(rod((0, 0, z - 0.08), (x, y, z), 0.008, 5))
            parts.append(ellipsoid(0.015, (x, y, z), 5))
    parts.append(ellipsoid(pole_r * 1.6, (0, 0, height - 0.01), 6))
    if umbrella_ring:
        parts.append(torus(0.12, 0.008, (0, 0, 0.45)))
    return finish_shape(
        "coat_rack",
        parts,
        dict(
            height=height,
            hooks=hooks,
            base=base,
            pole_radius=pole_r,
            tiers=tiers,
            umbrella_ring=umbrella_ring,
        ),
        counts={"hooks": hooks},
        attributes=[Attribute("base", base, ("round", "tripod", "cross"))],
        features={"an umbrella ring": umbrella_ring, "a single upright pole": True},
        has_front=False,
    )


def build_lectern(rng: np.random.Generator) -> Shape:
    height = rng.uniform(1.05, 1.25)
    width, depth = rng.uniform(0.45, 0.7), rng.uniform(0.4, 0.55)
    kind = pick(rng, ["panel", "pedestal"])
    slope = rng.uniform(0.15, 0.35)
    shelf = bool(kind == "panel" and rng.random() < 0.6)
    parts = []
    top_z = height - 0.06
    if kind == "panel":
        parts += carcass(depth * 0.8, width * 0.9, 0.0, top_z, 0.02)
        parts.append(slab(-depth * 0.4, depth * 0.4, -width * 0.45, width * 0.45, 0, 0.02))
        if shelf:
            parts.append(
                slab(
                    -depth * 0.4,
                    depth * 0.38,
                    -width * 0.43,
                    width * 0.43,
                    top_z * 0.6,
                    top_z * 0.6 + 0.02,
                )
            )
    else:
        parts.append(cylinder(depth * 0.45, 0.03, (0, 0, 0.015), segments=20))
        parts.append(cylinder(0.04, top_z, (0, 0, top_z / 2)))
    tilt = rot_y(slope)
    parts.append(box((depth, width, 0.03), (0, 0, top_z + 0.03), tilt))
    parts.append(
        box(
            (0.02, width, 0.04),
            (depth / 2 * np.cos(slope), 0, top_z + 0.03 - depth / 2 * np.sin(slope) + 0.02),
        )
    )
    return finish_shape(
        "lectern",
        parts,
        dict(height=height, width=width, depth=depth, kind=kind, top_slope=slope, shelf=shelf),
        attributes=[
            Attribute("top", "sloped", ("sloped", "flat")),
            Attribute(
                "stand", "boxy" if kind == "panel" else "single-column", ("boxy", "single-column")
            ),
        ],
        features={"an inner shelf": shelf, "a book ledge": True},
    )


# ---------------------------------------------------------------- storage


def build_storage_cabinet(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.8, 2.0)
    width, depth = rng.uniform(0.6, 1.2), rng.uniform(0.35, 0.6)
    doors = int(pick(rng, [1, 2, 2]))
    glass = bool(rng.random() < 0.35)
    shelves = int(np.clip(round(height / 0.4) - 1, 1, 4))
    plinth = rng.uniform(0.03, 0.1)
    parts = carcass(depth, width, plinth, height, 0.02)
    parts.append(slab(-depth / 2 + 0.02, depth / 2 - 0.03, -width / 2, width / 2, 0, plinth))
    for k in range(shelves):
        z = plinth + (height - plinth) * (k + 1) / (shelves + 1)
        parts.append(
            slab(
                -depth / 2 + 0.02,
                depth / 2 - 0.02,
                -width / 2 + 0.02,
                width / 2 - 0.02,
                z,
                z + 0.02,
            )
        )
    glass_parts = []
    door_w = width / doors
    x = depth / 2
    for d in range(doors):
        y0 = -width / 2 + d * door_w
        if glass:
            f = 0.05
            parts += [
                slab(x, x + 0.02, y0, y0 + f, plinth, height),
                slab(x, x + 0.02, y0 + door_w - f, y0 + door_w, plinth, height),
                slab(x, x + 0.02, y0, y0 + door_w, plinth, plinth + f),
                slab(x, x + 0.02, y0, y0 + door_w, height - f, height),
            ]
            glass_parts.append(
                slab(x + 0.005, x + 0.012, y0 + f, y0 + door_w - f, plinth + f, height - f)
            )
        else:
            parts.append(slab(x, x + 0.02, y0 + 0.002, y0 + door_w - 0.002, plinth, height))
        hy = y0 + (door_w - 0.06 if doors == 1 or d == 0 else 0.06)
        zc = plinth + (height - plinth) * 0.5
        parts += bar_handle(x + 0.02, hy, zc - 0.08, zc + 0.08, 0.03)
    return finish_shape(
        "storage_cabinet",
        parts,
        dict(
            height=height, width=width, depth=depth, doors=doors, glass_doors=glass, shelves=shelves
        ),
        glass_parts=glass_parts,
        counts={"doors": doors, "shelves": shelves},
        attributes=[Attribute("doors", "glass" if glass else "solid", ("glass", "solid"))],
        features={"a plinth": True, "handles": True},
    )


def build_filing_cabinet(rng: np.random.Generator) -> Shape:
    drawers = int(rng.integers(2, 6))
    drawer_h = rng.uniform(0.26, 0.33)
    width, depth = rng.uniform(0.38, 0.5), rng.uniform(0.5, 0.7)
    lateral = bool(rng.random() < 0.3)
    if lateral:
        width, depth = rng.uniform(0.75, 1.0), rng.uniform(0.45, 0.55)
        drawers = min(drawers, 4)
    height = drawers * drawer_h + 0.04
    lock = bool(rng.random() < 0.6)
    parts = [slab(-depth / 2, depth / 2 - 0.015, -width / 2, width / 2, 0, height)]
    for k in range(drawers):
        z0 = 0.03 + k * drawer_h
        parts.append(
            slab(
                depth / 2 - 0.015,
                depth / 2,
                -width / 2 + 0.01,
                width / 2 - 0.01,
                z0 + 0.005,
                z0 + drawer_h - 0.005,
            )
        )
        zc = z0 + drawer_h * 0.7
        parts.append(box((0.025, width * 0.3, 0.025), (depth / 2 + 0.015, 0, zc)))
        parts.append(box((0.004, 0.08, 0.04), (depth / 2 + 0.002, 0, zc + 0.05)))  # label holder
    if lock:
        parts.append(
            cylinder(
                0.012,
                0.015,
                (depth / 2 + 0.007, width / 2 - 0.05, height - 0.04),
                axis=(1, 0, 0),
                segments=8,
            )
        )
    return finish_shape(
        "filing_cabinet",
        parts,
        dict(
            drawers=drawers,
            drawer_height=drawer_h,
            width=width,
            depth=depth,
            lateral=lateral,
            lock=lock,
        ),
        counts={"drawers": drawers},
        attributes=[
            Attribute("filing cabinet", "wide" if lateral else "narrow", ("wide", "narrow"))
        ],
        features={"a lock": lock, "label holders": True, "doors": False},
    )


def build_locker(rng: np.random.Generator) -> Shape:
    columns = int(rng.integers(1, 5))
    tiers = int(pick(rng, [1, 1, 2, 3, 4]))
    col_w = rng.uniform(0.3, 0.45)
    depth = rng.uniform(0.4, 0.55)
    height = rng.uniform(1.7, 1.95)
    legs = bool(rng.random() < 0.5)
    sloped_top = bool(rng.random() < 0.3)
    width = columns * col_w
    z0 = 0.12 if legs else 0.0
    parts = [slab(-depth / 2, depth / 2 - 0.01, -width / 2, width / 2, z0, height)]
    if legs:
        parts += leg_rods(rect_corners(depth / 2 - 0.04, width / 2 - 0.04), z0, 0.02, True)
    if sloped_top:
        parts.append(box((depth, width, 0.02), (0, 0, height + 0.06), rot_y(-0.25)))
    door_h = (height - z0) / tiers
    for c in range(columns):
        y0 = -width / 2 + c * col_w
        for t in range(tiers):
            zb = z0 + t * door_h
            parts.append(
                slab(
                    depth / 2 - 0.01,
                    depth / 2 + 0.005,
                    y0 + 0.005,
                    y0 + col_w - 0.005,
                    zb + 0.005,
                    zb + door_h - 0.005,
                )
            )
            for v in range(3):  # ventilation slots near the top of each door
                zv = zb + door_h - 0.06 - v * 0.025
                parts.append(
                    box((0.006, col_w * 0.5, 0.008), (depth / 2 + 0.006, y0 + col_w / 2, zv))
                )
            parts.append(
                box((0.02, 0.02, 0.06), (depth / 2 + 0.015, y0 + col_w - 0.05, zb + door_h / 2))
            )
    return finish_shape(
        "locker",
        parts,
        dict(
            columns=columns,
            tiers=tiers,
            column_width=col_w,
            depth=depth,
            height=height,
            legs=legs,
            sloped_top=sloped_top,
        ),
        counts={"doors": columns * tiers, "columns of doors": columns},
        attributes=[Attribute("top", "sloped" if sloped_top else "flat", ("sloped", "flat"))],
        features={"ventilation slots": True, "legs": legs},
    )


# ---------------------------------------------------------------- household


def build_trash_bin(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.3, 0.75)
    section = pick(rng, ["round", "round", "square"])
    radius = rng.uniform(0.13, 0.25)
    taper = rng.uniform(0.75, 1.0)
    lid = pick(rng, ["none", "pedal", "swing"])
    parts = []
    if section == "round":
        parts.append(
            lathe(
                [radius * taper, radius * taper, radius],
                [0.0, 0.01, height - 0.02 * (lid != "none")],
                24,
            )
        )
    else:
        hb, ht = radius * taper, radius
        for s in (-1, 1):
            parts.append(
                box((0.006, 2 * (hb + ht) / 2, height), (s * (hb + ht) / 2, 0, height / 2))
            )
            parts.append(
                box((2 * (hb + ht) / 2, 0.006, height), (0, s * (hb + ht) / 2, height / 2))
            )
        parts.append(slab(-hb, hb, -hb, hb, 0, 0.01))
    if lid != "none":
        parts.append(
            cylinder(radius * 1.02, 0.02, (0, 0, height - 0.01), segments=24)
            if section == "round"
            else box((2 * radius, 2 * radius, 0.02), (0, 0, height - 0.01))
        )
        if lid == "swing":
            parts.append(ellipsoid((radius * 0.8, radius * 0.8, 0.06), (0, 0, height), 10))
        else:
            parts.append(box((0.08, 0.1, 0.02), (radius * taper + 0.04, 0, 0.02)))
    return finish_shape(
        "trash_bin",
        parts,
        dict(height=height, section=section, radius=radius, taper=taper, lid=lid),
        attributes=[
            Attribute(
                "body", "cylindrical" if section == "round" else "square", ("cylindrical", "square")
            ),
            Attribute("top", "open" if lid == "none" else "closed", ("open", "closed")),
        ],
        features={
            "a lid": lid != "none",
            "a foot pedal": lid == "pedal",
            "a swing lid": lid == "swing",
        },
        has_front=lid == "pedal",
    )


def build_recycling_bin(rng: np.random.Generator) -> Shape:
    compartments = int(pick(rng, [1, 2, 3, 3, 4]))
    bin_w, depth = rng.uniform(0.28, 0.42), rng.uniform(0.3, 0.45)
    height = rng.uniform(0.6, 1.0)
    opening = pick(rng, ["round", "slot-shaped", "flap"])
    sign = bool(compartments > 1 and rng.random() < 0.5)
    width = compartments * bin_w
    hx, wall, lid_t = depth / 2, 0.012, 0.025
    parts = [slab(-hx, hx, -width / 2, width / 2, 0, wall)]
    parts += [slab(-hx, -hx + wall, -width / 2, width / 2, 0, height)]
    parts += [slab(hx - wall, hx, -width / 2, width / 2, 0, height)]
    top = height + lid_t
    for c in range(compartments + 1):  # side walls and dividers
        y = -width / 2 + c * bin_w
        parts.append(slab(-hx, hx, y - wall / 2, y + wall / 2, 0, height))
    for c in range(compartments):
        y0, y1 = -width / 2 + c * bin_w, -width / 2 + (c + 1) * bin_w
        yc = (y0 + y1) / 2
        if opening == "flap":
            parts.append(slab(-hx, hx, y0, y1, height, top))
            parts.append(box((0.01, bin_w * 0.6, 0.12), (hx + 0.006, yc, height - 0.08)))
            continue
        # The lid around a real opening, so a sensor looking down sees into the bin.
        ox, oy = (0.09, bin_w * 0.3) if opening == "round" else (0.035, bin_w * 0.65)
        parts += [
            slab(-hx, -ox, y0, y1, height, top),
            slab(ox, hx, y0, y1, height, top),
            slab(-ox, ox, y0, yc - oy, height, top),
            slab(-ox, ox, yc + oy, y1, height, top),
        ]
        if opening == "round":
            parts.append(torus(min(ox, oy), 0.008, (0, yc, top)))
    if sign:
        sign_h = rng.uniform(0.2, 0.35)
        parts.append(slab(-hx, -hx + 0.015, -width / 2, width / 2, top, top + sign_h))
    return finish_shape(
        "recycling_bin",
        parts,
        dict(
            compartments=compartments,
            bin_width=bin_w,
            depth=depth,
            height=height,
            opening=opening,
            sign_board=sign,
        ),
        counts={"compartments": compartments},
        attributes=[
            Attribute("lid opening", opening, ("round", "slot-shaped", "flap")),
        ],
        features={"a sign board": sign, "dividers": compartments > 1},
    )


def build_bucket(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.2, 0.38)
    top_r = rng.uniform(0.12, 0.18)
    bottom_r = top_r * rng.uniform(0.7, 0.9)
    handle_up = bool(rng.random() < 0.5)
    spout = bool(rng.random() < 0.3)
    rim = bool(rng.random() < 0.7)
    parts = [lathe([bottom_r, top_r], [0.0, height], 24)]
    if rim:
        parts.append(torus(top_r, 0.008, (0, 0, height - 0.008)))
    # Bail handle: an arc over the top (up) or folded down along the side.
    arc = np.linspace(0, np.pi, 9)
    for a0, a1 in pairwise(arc):
        if handle_up:
            p0 = (0, top_r * np.cos(a0), height + top_r * 0.9 * np.sin(a0))
            p1 = (0, top_r * np.cos(a1), height + top_r * 0.9 * np.sin(a1))
        else:
            p0 = (top_r * 0.9 * np.sin(a0) + 0.01, top_r * np.cos(a0), height * 0.85)
            p1 = (top_r * 0.9 * np.sin(a1) + 0.01, top_r * np.cos(a1), height * 0.85)
        parts.append(rod(p0, p1, 0.004, 4))
    if spout:
        parts.append(box((0.05, 0.06, 0.02), (top_r + 0.01, 0, height - 0.01)))
    return finish_shape(
        "bucket",
        parts,
        dict(
            height=height,
            top_radius=top_r,
            bottom_radius=bottom_r,
            handle_up=handle_up,
            spout=spout,
            rim=rim,
        ),
        attributes=[
            Attribute("top", "open", ("open", "closed")),
            Attribute(
                "handle", "raised" if handle_up else "folded down", ("raised", "folded down")
            ),
        ],
        features={"a carrying handle": True, "a pouring lip": spout, "a lid": False},
        has_front=spout,
    )


def build_watering_can(rng: np.random.Generator) -> Shape:
    body_h = rng.uniform(0.18, 0.3)
    body_r = rng.uniform(0.08, 0.13)
    spout_len = rng.uniform(0.25, 0.45)
    rose = bool(rng.random() < 0.6)
    oval = bool(rng.random() < 0.5)
    handle = pick(rng, ["top", "top", "back"])
    parts = [
        cylinder((body_r * (1.3 if oval else 1.0), body_r), body_h, (0, 0, body_h / 2), segments=20)
    ]
    reach = body_r * (1.3 if oval else 1.0)
    tip = np.array([reach + spout_len * 0.75, 0, body_h + spout_len * 0.45])
    parts.append(rod((reach * 0.8, 0, body_h * 0.2), tip, 0.012, 6))
    if rose:
        parts.append(
            cylinder(0.03, 0.03, tip + np.array([0.012, 0, 0.008]), axis=(1, 0, 0.6), segments=10)
        )
    if handle == "top":
        parts.append(rod((-reach * 0.8, 0, body_h), (-reach * 0.6, 0, body_h + 0.08), 0.01, 5))
        parts.append(
            rod((-reach * 0.6, 0, body_h + 0.08), (reach * 0.5, 0, body_h + 0.08), 0.01, 5)
        )
        parts.append(rod((reach * 0.5, 0, body_h + 0.08), (reach * 0.7, 0, body_h), 0.01, 5))
    else:
        parts.append(rod((-reach, 0, body_h * 0.9), (-reach - 0.06, 0, body_h * 0.6), 0.01, 5))
        parts.append(rod((-reach - 0.06, 0, body_h * 0.6), (-reach, 0, body_h * 0.25), 0.01, 5))
    parts.append(cylinder(0.035, 0.03, (-reach * 0.3, 0, body_h + 0.01), segments=10))  # filler
    return finish_shape(
        "watering_can",
        parts,
        dict(
            body_height=body_h,
            body_radius=body_r,
            spout_length=spout_len,
            rose=rose,
            oval=oval,
            handle=handle,
        ),
        attributes=[
            Attribute("body", "oval" if oval else "round", ("oval", "round")),
            Attribute("spout", "long" if spout_len > 0.35 else "short", ("long", "short")),
        ],
        features={
            "a long spout": True,
            "a sprinkler head": rose,
            "a handle on top": handle == "top",
        },
    )


def build_ironing_board(rng: np.random.Generator) -> Shape:
    length, width = rng.uniform(1.1, 1.4), rng.uniform(0.3, 0.42)
    height = rng.uniform(0.75, 0.95)
    iron_rest = bool(rng.random() < 0.6)
    cross = rng.uniform(0.25, 0.4)
    parts = []
    # Board: a rectangle with a pointed nose towards +y.
    parts.append(box((width, length * 0.8, 0.02), (0, -length * 0.1, height - 0.01)))
    parts.append(
        cylinder((width / 2, length * 0.2), 0.02, (0, length * 0.3, height - 0.01), segments=16)
    )
    for s in (-1, 1):
        for side in (-1, 1):
            parts.append(
                rod(
                    (side * width * 0.4, s * cross, height - 0.03),
                    (side * width * 0.45, -s * cross, 0.0),
                    0.01,
                    5,
                )
            )
    if iron_rest:
        parts.append(box((width * 0.9, 0.18, 0.01), (0, -length * 0.5 - 0.09, height - 0.01)))
    return finish_shape(
        "ironing_board",
        parts,
        dict(length=length, width=width, height=height, iron_rest=iron_rest, leg_spread=cross),
        counts={"legs": 4},
        attributes=[Attribute("board", "long and narrow", ("long and narrow", "square"))],
        features={"crossed legs": True, "a pointed end": True, "an iron rest": iron_rest},
    )


def build_potted_tree(rng: np.random.Generator) -> Shape:
    pot_h, pot_r = rng.uniform(0.25, 0.5), rng.uniform(0.15, 0.3)
    trunk_h = rng.uniform(0.5, 1.2)
    crown = pick(rng, ["round", "round", "conical", "columnar"])
    crown_r = rng.uniform(0.25, 0.5)
    square_pot = bool(rng.random() < 0.4)
    parts = []
    if square_pot:
        parts.append(slab(-pot_r, pot_r, -pot_r, pot_r, 0, pot_h))
    else:
        parts.append(lathe([pot_r * 0.75, pot_r, pot_r * 0.95], [0.0, pot_h, pot_h], 20))
    trunk_top = pot_h + trunk_h
    parts.append(rod((0, 0, pot_h - 0.05), (0, 0, trunk_top), 0.025, 6))
    if crown == "round":
        for k, (x, y) in enumerate(ring_points(5, crown_r * 0.5, rng.uniform(0, 6))):
            parts.append(
                ellipsoid(crown_r * 0.6, (x, y, trunk_top + crown_r * (0.5 + 0.15 * (k % 2))), 7)
            )
        top = trunk_top + crown_r * 1.25
    elif crown == "conical":
        parts.append(cone(crown_r, crown_r * 2.2, (0, 0, trunk_top - crown_r * 0.5), segments=12))
        top = trunk_top + crown_r * 1.7
    else:
        parts.append(
            ellipsoid((crown_r * 0.5, crown_r * 0.5, crown_r * 1.3), (0, 0, trunk_top + crown_r), 8)
        )
        top = trunk_top + crown_r * 2.3
    return finish_shape(
        "potted_tree",
        parts,
        dict(
            pot_height=pot_h,
            pot_radius=pot_r,
            trunk_height=trunk_h,
            crown=crown,
            crown_radius=crown_r,
            square_pot=square_pot,
            height=top,
        ),
        attributes=[
            Attribute("crown", crown, ("round", "conical", "columnar")),
            Attribute("pot", "square" if square_pot else "round", ("square", "round")),
        ],
        features={"a bare trunk": True, "a pot": True},
        has_front=False,
    )


# ---------------------------------------------------------------- bags


def build_backpack(rng: np.random.Generator) -> Shape:
    height, width, depth = rng.uniform(0.38, 0.55), rng.uniform(0.26, 0.36), rng.uniform(0.12, 0.22)
    front_pocket = bool(rng.random() < 0.75)
    side_pockets = int(pick(rng, [0, 2, 2]))
    top_handle = bool(rng.random() < 0.8)
    parts = [ellipsoid((depth / 2, width / 2, height / 2), (0, 0, height / 2), 12)]
    parts.append(box((depth * 0.7, width * 0.9, height * 0.75), (0, 0, height * 0.42)))
    if front_pocket:
        parts.append(
            ellipsoid(
                (depth * 0.25, width * 0.38, height * 0.25), (depth * 0.45, 0, height * 0.3), 8
            )
        )
    for s in range(side_pockets):
        y = (width / 2) * (1 if s else -1)
        parts.append(box((depth * 0.6, 0.04, height * 0.3), (0, y, height * 0.22)))
    for y in (-width * 0.25, width * 0.25):  # shoulder straps on the back (-x)
        parts.append(
            rod(
                (-depth / 2 - 0.02, y, height * 0.85),
                (-depth / 2 - 0.03, y * 1.3, height * 0.1),
                0.012,
                5,
            )
        )
    if top_handle:
        parts.append(torus(0.04, 0.008, (0, 0, height + 0.01), axis=(1, 0, 0), segments=10))
    return finish_shape(
        "backpack",
        parts,
        dict(
            height=height,
            width=width,
            depth=depth,
            front_pocket=front_pocket,
            side_pockets=side_pockets,
            top_handle=top_handle,
        ),
        counts={"shoulder straps": 2, "side pockets": side_pockets},
        attributes=[Attribute("backpack", "rounded", ("rounded", "boxy"))],
        features={"a front pocket": front_pocket, "a top carry loop": top_handle},
    )


def build_suitcase(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.5, 0.8)
    width, depth = height * rng.uniform(0.6, 0.72), rng.uniform(0.2, 0.32)
    wheels = int(pick(rng, [0, 2, 4, 4]))
    handle_up = bool(wheels and rng.random() < 0.5)
    hard = bool(rng.random() < 0.6)
    lift = 0.06 if wheels else 0.02
    parts = [box((depth, width, height - lift), (0, 0, lift + (height - lift) / 2))]
    if hard:
        for z in np.linspace(lift + 0.08, height - 0.08, 4):
            parts.append(box((depth + 0.01, width * 0.9, 0.01), (0, 0, z)))
    else:
        parts.append(
            box(
                (0.03, width * 0.8, (height - lift) * 0.7),
                (depth / 2 + 0.01, 0, lift + (height - lift) * 0.45),
            )
        )
    parts.append(
        box((0.04, 0.14, 0.025), (0, 0, height + 0.0125))
        if not handle_up
        else box((0.02, 0.02, 0.02), (0, 0, height))
    )
    if wheels:
        spots = [(-depth / 2 + 0.03, y) for y in (-width / 2 + 0.03, width / 2 - 0.03)]
        if wheels == 4:
            spots += [(depth / 2 - 0.03, y) for y in (-width / 2 + 0.03, width / 2 - 0.03)]
        for x, y in spots:
            parts += caster(x, y, 0.025)
    else:
        for x, y in rect_corners(depth / 2 - 0.03, width / 2 - 0.04):
            parts.append(box((0.02, 0.02, 0.02), (x, y, 0.01)))
    if handle_up:
        ext = rng.uniform(0.3, 0.45)
        for y in (-0.12, 0.12):
            parts.append(
                rod((-depth / 2 + 0.02, y, height), (-depth / 2 + 0.02, y, height + ext), 0.008, 5)
            )
        parts.append(
            rod(
                (-depth / 2 + 0.02, -0.12, height + ext),
                (-depth / 2 + 0.02, 0.12, height + ext),
                0.012,
                5,
            )
        )
    return finish_shape(
        "suitcase",
        parts,
        dict(
            height=height,
            width=width,
            depth=depth,
            wheels=wheels,
            handle_extended=handle_up,
            hard_shell=hard,
        ),
        counts={"wheels": wheels},
        attributes=[
            Attribute("shell", "hard" if hard else "soft", ("hard", "soft")),
            Attribute(
                "pull handle", "extended" if handle_up else "retracted", ("extended", "retracted")
            ),
        ],
        features={"a carry handle": True, "wheels": wheels > 0},
    )


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "office_chair",
            "indoor",
            ("office chair", "swivel chair", "desk chair", "task chair"),
            (0.85, 1.6),
            build_office_chair,
        ),
        Family(
            "whiteboard",
            "indoor",
            ("whiteboard", "dry-erase board", "mobile whiteboard"),
            (1.3, 2.2),
            build_whiteboard,
        ),
        # Unseen: thin pole with hooks, unrelated to any seen silhouette but the pole of a lamp.
        Family(
            "coat_rack",
            "indoor",
            ("coat rack", "coat stand", "hat stand"),
            (1.6, 1.95),
            build_coat_rack,
            unseen=True,
            description="a tall thin pole on a small foot with hooks sticking out near the top",
        ),
        Family(
            "lectern", "indoor", ("lectern", "podium", "reading stand"), (1.0, 1.35), build_lectern
        ),
        Family(
            "storage_cabinet",
            "indoor",
            ("storage cabinet", "cupboard", "office cabinet"),
            (0.8, 2.0),
            build_storage_cabinet,
        ),
        # Unseen: a near neighbour of dresser, night stand and locker (a stack of drawers).
        Family(
            "filing_cabinet",
            "indoor",
            ("filing cabinet", "file cabinet", "drawer cabinet"),
            (0.55, 1.7),
            build_filing_cabinet,
            unseen=True,
            description="a narrow metal box with two to five deep pull-out trays stacked in front",
        ),
        Family(
            "locker",
            "indoor",
            ("locker", "metal locker", "staff locker", "gym locker"),
            (1.7, 2.1),
            build_locker,
        ),
        Family(
            "trash_bin",
            "indoor",
            ("trash bin", "waste bin", "wastebasket", "rubbish bin", "pedal bin"),
            (0.3, 0.85),
            build_trash_bin,
        ),
        # Unseen: a row of lidded bins, near trash bin, crate and filing cabinet.
        Family(
            "recycling_bin",
            "indoor",
            ("recycling bin", "recycling station", "recycling container"),
            (0.6, 1.4),
            build_recycling_bin,
            unseen=True,
            description="a row of one to four tall boxes, each lid with a round hole, slot or flap",
        ),
        Family("bucket", "indoor", ("bucket", "pail"), (0.2, 0.55), build_bucket),
        # Unseen: a bucket-sized body with a long spout, near bucket and kettle.
        Family(
            "watering_can",
            "indoor",
            ("watering can", "garden watering can"),
            (0.2, 0.55),
            build_watering_can,
            unseen=True,
            description="a round vessel with a handle over it and a long thin spout at an angle",
        ),
        # Unseen: unrelated to every seen shape (a long flat board on crossed legs).
        Family(
            "ironing_board",
            "indoor",
            ("ironing board",),
            (0.75, 1.0),
            build_ironing_board,
            unseen=True,
            description="a long narrow flat top with one pointed end on folding crossed legs",
        ),
        Family(
            "potted_tree",
            "indoor",
            ("potted tree", "indoor tree", "ficus tree"),
            (1.0, 2.9),
            build_potted_tree,
        ),
        Family(
            "backpack",
            "indoor",
            ("backpack", "rucksack", "knapsack", "school bag"),
            (0.38, 0.62),
            build_backpack,
        ),
        # Seen: ModelNet's person may pull one ("a rolling suitcase"), so the word is in seen text.
        Family(
            "suitcase",
            "indoor",
            ("suitcase", "luggage", "roller bag", "travel case"),
            (0.5, 1.3),
            build_suitcase,
        ),
    )
}
