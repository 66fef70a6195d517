"""Outdoor families with wheels or tracks: road vehicles as driving datasets label them (van,
truck, bus, trailer, construction and farm machines), two-wheelers alone and with their riders,
and the small wheeled things people push (wheelchair, stroller, shopping cart, wheelbarrow).

Front towards +x, width along y. Windows are glass (``Shape.glass``) so simulated rays pass into
the cabin as they do on real scans. Wheel counts are the wheels a person would count from outside
(twin tyres on one hub count once).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np

from training.data.families.common import (
    Attribute,
    Shape,
    finish_shape,
    glazed_cabin,
    pick,
    rect_corners,
    wheel,
)
from training.data.mesh import (
    Mesh,
    box,
    cylinder,
    ellipsoid,
    grid_surface,
    lathe,
    prism,
    rod,
    rot_y,
    rot_z,
    rotation_from_z,
    slab,
    torus,
)

Point = tuple[float, float, float]


def _v(x: float, y: float, z: float) -> np.ndarray:
    return np.array((x, y, z), dtype=np.float64)


# ---------------------------------------------------------------- shared parts


def _axle_wheels(xs, half_track: float, radius: float, width: float) -> list[Mesh]:
    return [wheel(x, y, radius, width) for x in xs for y in (-half_track, half_track)]


def _thin_wheel(x: float, radius: float, tyre: float, y: float = 0.0) -> list[Mesh]:
    """A bicycle-style wheel: a tyre ring standing on the floor, a hub, spokes across the rim."""
    zc = radius
    parts = [torus(radius - tyre, tyre, (x, y, zc), axis=(0, 1, 0), segments=20)]
    parts.append(cylinder(0.03, 0.08, (x, y, zc), axis=(0, 1, 0), segments=8))
    for k in range(4):
        a = k * np.pi / 4
        d = (radius - tyre) * np.array([np.cos(a), 0.0, np.sin(a)])
        parts.append(rod((x - d[0], y, zc - d[2]), (x + d[0], y, zc + d[2]), 0.004, 4))
    return parts


def _figure(
    height: float,
    build: float,
    hip: Point,
    shoulder: Point,
    hands: tuple[Point, Point],
    feet: tuple[Point, Point],
    helmet: bool = False,
    knee_bend: float = 1.0,
) -> list[Mesh]:
    """A rider's body from its joints: torso hip to shoulder, head above, bent legs and arms.

    ``hands`` and ``feet`` are (right, left) points on the vehicle (bars, pedals, pegs);
    ``knee_bend`` 1 is a seated rider's bent knee, near 0 a standing rider's straight leg.
    """
    s = height / 1.75
    hip_p, shoulder_p = np.asarray(hip), np.asarray(shoulder)
    spine = shoulder_p - hip_p
    up = spine / np.linalg.norm(spine)
    torso_len = float(np.linalg.norm(spine))
    parts = [
        ellipsoid(
            (0.12 * s * build, 0.19 * s * build, torso_len / 2 + 0.05),
            (hip_p + shoulder_p) / 2,
            8,
            rotation_from_z(up),
        )
    ]
    head_dir = up + np.array([0.0, 0.0, 0.8])
    head_c = shoulder_p + head_dir / np.linalg.norm(head_dir) * 0.2 * s
    head_r = 0.12 * s * (1.25 if helmet else 1.0)
    parts.append(ellipsoid((head_r * 0.85, head_r * 0.75, head_r), head_c, 8))
    parts.append(rod(shoulder_p, head_c, 0.05 * s))
    for side, (hand, foot) in zip((-1, 1), zip(hands, feet, strict=True), strict=True):
        hip_side = hip_p + _v(0.0, side * 0.1 * s * build, 0.0)
        foot_p = np.asarray(foot)
        # The knee sits forward of the hip-foot line and above it, as when pedalling.
        knee = (hip_side + foot_p) / 2 + knee_bend * np.array([0.18 * s, 0.0, 0.12 * s])
        parts.append(rod(hip_side, knee, 0.065 * s * build, 8))
        parts.append(rod(knee, foot_p, 0.055 * s * build, 8))
        shoulder_side = shoulder_p + _v(0.0, side * 0.2 * s * build, -0.03)
        hand_p = np.asarray(hand)
        elbow = (shoulder_side + hand_p) / 2 + np.array([0.0, side * 0.05, -0.06 * s])
        parts.append(rod(shoulder_side, elbow, 0.045 * s * build, 8))
        parts.append(rod(elbow, hand_p, 0.04 * s * build, 8))
    return parts


def _windscreen(
    x_low: float, x_high: float, half_width: float, z_low: float, z_high: float
) -> tuple[Mesh, Mesh]:
    """A two-wheeler's screen leaning back: (its opaque top rim, the clear pane)."""
    top = half_width * 0.85
    pane = grid_surface(
        np.array(
            [
                [(x_low, -half_width, z_low), (x_low, half_width, z_low)],
                [(x_high, -top, z_high), (x_high, top, z_high)],
            ]
        )
    )
    return rod((x_high, -top, z_high), (x_high, top, z_high), 0.01, 5), pane


def _rider_size(rng: np.random.Generator) -> tuple[float, float]:
    return rng.uniform(1.55, 1.95), rng.uniform(0.85, 1.15)


# ---------------------------------------------------------------- road vehicles


def build_van(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["panel", "passenger"])
    length, width = rng.uniform(4.6, 6.2), rng.uniform(1.9, 2.1)
    high_roof = bool(rng.random() < 0.4)
    height = rng.uniform(2.45, 2.8) if high_roof else rng.uniform(1.85, 2.1)
    clearance, wheel_r = rng.uniform(0.16, 0.22), rng.uniform(0.32, 0.38)
    bonnet = rng.uniform(0.6, 1.0)
    sliding_door = bool(rng.random() < 0.7)
    belt = clearance + rng.uniform(0.8, 0.95)
    x_rear, x_front = -length / 2, length / 2
    x_screen = x_front - bonnet
    parts = [slab(x_rear, x_front, -width / 2, width / 2, clearance, belt)]
    # The bonnet slopes up into the windscreen.
    parts.append(
        prism([(x_screen, belt), (x_front, belt), (x_screen + 0.1, belt + 0.2)], width * 0.96)
    )
    side_windows = 1 if kind == "panel" else int(rng.integers(3, 5))
    if kind == "panel":
        # Cab windows only; the cargo box behind them is closed steel.
        cab_rear = x_screen - rng.uniform(0.9, 1.1)
        parts.append(slab(x_rear, cab_rear, -width / 2, width / 2, belt, height))
        roof, glass = glazed_cabin(
            cab_rear - 0.02, x_screen, belt, height, width, 0.0, 0.5, 1, rear_glass=False
        )
    else:
        roof, glass = glazed_cabin(x_rear, x_screen, belt, height, width, 0.0, 0.5, side_windows)
    parts += roof
    if sliding_door:
        # The door rail: a slim ledge along the right side under the roof.
        parts.append(box((1.2, 0.04, 0.04), (x_screen - 1.6, -width / 2 - 0.02, height - 0.25)))
    wheelbase = length - bonnet * 0.4 - 1.4
    parts += _axle_wheels(
        (x_front - bonnet * 0.6 - 0.25, x_front - bonnet * 0.6 - 0.25 - wheelbase),
        width / 2 - 0.12,
        wheel_r,
        0.22,
    )
    return finish_shape(
        "van",
        parts,
        dict(
            kind=kind,
            length=length,
            width=width,
            height=height,
            high_roof=high_roof,
            bonnet_length=bonnet,
            sliding_door=sliding_door,
            side_windows=side_windows,
            wheel_radius=wheel_r,
        ),
        glass_parts=glass,
        counts={"wheels": 4, "side windows": 2 * side_windows},
        attributes=[
            Attribute("van", "panel" if kind == "panel" else "passenger", ("panel", "passenger")),
            Attribute("roof", "high" if high_roof else "low", ("high", "low")),
        ],
        features={"a sliding door": sliding_door, "a windscreen": True},
    )


def _truck_cab(
    x_front: float, width: float, clearance: float, cab_len: float, cab_h: float, sleeper: bool
) -> tuple[list[Mesh], list[Mesh]]:
    """A cab-over truck cab: a steel box to the beltline, glazed above, a sleeper box behind."""
    x_back = x_front - cab_len
    belt = clearance + cab_h * 0.55
    parts = [slab(x_back, x_front, -width / 2, width / 2, clearance, belt)]
    roof, glass = glazed_cabin(x_back, x_front, belt, clearance + cab_h, width, 0.0, 0.15, 1)
    parts += roof
    if sleeper:
        parts.append(
            slab(x_back - 0.6, x_back, -width / 2, width / 2, clearance, clearance + cab_h)
        )
    return parts, glass


def build_truck(rng: np.random.Generator) -> Shape:
    body = pick(rng, ["box", "flatbed", "tipper", "tanker"])
    axles = int(pick(rng, [2, 2, 3]))
    width = rng.uniform(2.35, 2.55)
    length = rng.uniform(6.5, 9.0) if axles == 2 else rng.uniform(8.5, 11.0)
    wheel_r, clearance = rng.uniform(0.48, 0.54), rng.uniform(0.55, 0.7)
    cab_len, cab_h = rng.uniform(1.6, 2.1), rng.uniform(2.0, 2.5)
    sleeper = bool(rng.random() < 0.3)
    x_front = length / 2
    parts, glass = _truck_cab(x_front, width, clearance, cab_len, cab_h, sleeper)
    bed_front = x_front - cab_len - (0.7 if sleeper else 0.15)
    x_rear = -length / 2
    deck = clearance + 0.35
    parts.append(slab(x_rear, bed_front, -width / 2 + 0.1, width / 2 - 0.1, clearance, deck))
    if body == "box":
        box_h = rng.uniform(2.2, 2.9)
        parts.append(slab(x_rear, bed_front, -width / 2, width / 2, deck, deck + box_h))
    elif body == "tipper":
        side = rng.uniform(0.6, 1.1)
        for y0, y1 in ((-width / 2, -width / 2 + 0.06), (width / 2 - 0.06, width / 2)):
            parts.append(slab(x_rear, bed_front, y0, y1, deck, deck + side))
        parts.append(
            slab(bed_front - 0.06, bed_front, -width / 2, width / 2, deck, deck + side + 0.3)
        )
        parts.append(slab(x_rear, x_rear + 0.06, -width / 2, width / 2, deck, deck + side))
    elif body == "tanker":
        tank_r = rng.uniform(0.85, 1.1)
        tank_len = bed_front - x_rear
        parts.append(
            cylinder(
                (tank_r, width / 2 - 0.05),
                tank_len,
                ((x_rear + bed_front) / 2, 0, deck + tank_r),
                axis=(1, 0, 0),
                segments=20,
            )
        )
    # Flatbed: the deck alone, with a headboard behind the cab.
    if body == "flatbed":
        parts.append(slab(bed_front - 0.08, bed_front, -width / 2, width / 2, deck, deck + 1.0))
    front_axle = x_front - cab_len * 0.45
    rear = [x_rear + length * 0.22 + 1.35 * k for k in range(axles - 1)]
    parts += _axle_wheels([front_axle, *rear], width / 2 - 0.2, wheel_r, 0.35)
    return finish_shape(
        "truck",
        parts,
        dict(
            body=body,
            axles=axles,
            length=length,
            width=width,
            cab_length=cab_len,
            cab_height=cab_h,
            sleeper_cab=sleeper,
            wheel_radius=wheel_r,
        ),
        glass_parts=glass,
        counts={"wheels": 2 * axles, "axles": axles},
        attributes=[Attribute("truck", body, ("box", "flatbed", "tipper", "tanker"))],
        features={
            "a sleeper cab": sleeper,
            "a closed cargo box": body == "box",
            "an open load bed": body in ("flatbed", "tipper"),
            "a tank": body == "tanker",
        },
    )


def build_bus(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["city", "city", "coach", "double-decker", "articulated"])
    length = {
        "city": rng.uniform(10.5, 12.5),
        "coach": rng.uniform(12.0, 14.0),
        "double-decker": rng.uniform(10.0, 11.5),
        "articulated": rng.uniform(17.5, 18.8),
    }[kind]
    width = rng.uniform(2.45, 2.55)
    height = {
        "city": rng.uniform(2.9, 3.2),
        "coach": rng.uniform(3.4, 3.8),
        "double-decker": rng.uniform(4.2, 4.4),
        "articulated": rng.uniform(2.9, 3.2),
    }[kind]
    clearance, wheel_r = rng.uniform(0.25, 0.35), rng.uniform(0.48, 0.52)
    pane = rng.uniform(1.1, 1.5)
    doors = {
        "city": int(pick(rng, [2, 3])),
        "coach": 1,
        "double-decker": int(pick(rng, [1, 2])),
        "articulated": int(pick(rng, [3, 4])),
    }[kind]
    belt = clearance + (rng.uniform(1.3, 1.6) if kind == "coach" else rng.uniform(0.75, 0.95))
    x_rear, x_front = -length / 2, length / 2
    parts = [slab(x_rear, x_front, -width / 2, width / 2, clearance, belt)]
    glass: list[Mesh] = []
    side_windows = 0
    if kind == "double-decker":
        # Two window bands: the lower deck's and the upper deck's, a steel band between.
        mid = belt + rng.uniform(1.2, 1.4)
        for z0, z1 in ((belt, mid), (mid + 0.35, height)):
            n = max(3, int((length - 0.2) / pane))
            roof, g = glazed_cabin(x_rear, x_front, z0, z1, width, 0.0, 0.05, n)
            parts += roof
            glass += g
            side_windows += n
        parts.append(slab(x_rear, x_front, -width / 2, width / 2, mid - 0.05, mid + 0.35))
    else:
        n = max(3, int(length / pane))
        roof, glass = glazed_cabin(x_rear, x_front, belt, height, width, 0.0, 0.1, n)
        parts += roof
        side_windows = n
    if kind == "articulated":
        # The joint: a dark bellows ring at the middle.
        parts.append(slab(-0.4, 0.4, -width / 2 - 0.03, width / 2 + 0.03, clearance, height - 0.05))
    # Doors on the kerb side (-y), the first ahead of the front axle, the rest spread behind.
    for x in np.linspace(x_front - 1.0, x_rear + 1.5, doors):
        parts.append(
            box((1.1, 0.03, belt - clearance), (x, -width / 2 - 0.015, (belt + clearance) / 2))
        )
    axles = 3 if kind == "articulated" or (kind == "coach" and length > 13.0) else 2
    xs = [x_front - 2.6, x_rear + 3.0]
    if axles == 3:
        xs.append(x_rear + 1.6 if kind == "coach" else 1.2)
    parts += _axle_wheels(xs, width / 2 - 0.25, wheel_r, 0.3)
    return finish_shape(
        "bus",
        parts,
        dict(
            kind=kind,
            length=length,
            width=width,
            height=height,
            doors=doors,
            axles=axles,
            side_windows=side_windows,
            wheel_radius=wheel_r,
        ),
        glass_parts=glass,
        counts={"wheels": 2 * axles, "doors": doors, "side windows": 2 * side_windows},
        attributes=[
            Attribute("bus", kind, ("city", "coach", "double-decker", "articulated")),
        ],
        features={"an upper deck": kind == "double-decker", "a bendy joint": kind == "articulated"},
    )


def build_trailer(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["semi-trailer", "utility", "caravan", "flatbed"])
    wheel_r = rng.uniform(0.48, 0.52) if kind == "semi-trailer" else rng.uniform(0.28, 0.36)
    width = rng.uniform(2.45, 2.55) if kind == "semi-trailer" else rng.uniform(1.4, 2.3)
    length = {
        "semi-trailer": rng.uniform(12.0, 13.6),
        "utility": rng.uniform(1.8, 3.0),
        "caravan": rng.uniform(4.0, 7.0),
        "flatbed": rng.uniform(3.0, 5.5),
    }[kind]
    axles = {
        "semi-trailer": 3,
        "utility": 1,
        "caravan": int(pick(rng, [1, 2])),
        "flatbed": int(pick(rng, [1, 2])),
    }[kind]
    deck = rng.uniform(1.1, 1.3) if kind == "semi-trailer" else wheel_r * 2 + rng.uniform(0.05, 0.2)
    x_rear, x_front = -length / 2, length / 2
    parts = [slab(x_rear, x_front, -width / 2, width / 2, deck - 0.15, deck)]
    glass: list[Mesh] = []
    windows = 0
    drawbar = kind != "semi-trailer"
    box_h = 0.0
    if kind == "semi-trailer":
        box_h = rng.uniform(2.6, 2.9)
        curtain = bool(rng.random() < 0.4)
        parts.append(slab(x_rear, x_front, -width / 2, width / 2, deck, deck + box_h))
        if curtain:
            # Curtain-sider: the side straps stand out as vertical ribs.
            for k in range(9):
                x = x_rear + (k + 0.5) * length / 9
                for y in (-width / 2 - 0.02, width / 2 + 0.02):
                    parts.append(box((0.05, 0.04, box_h), (x, y, deck + box_h / 2)))
        # Landing legs hold the front up when no tractor unit is under it.
        for y in (-width / 2 + 0.3, width / 2 - 0.3):
            parts.append(box((0.12, 0.12, deck - 0.15), (x_front - 2.5, y, (deck - 0.15) / 2)))
    elif kind == "utility":
        side = rng.uniform(0.3, 0.5)
        for y0, y1 in ((-width / 2, -width / 2 + 0.04), (width / 2 - 0.04, width / 2)):
            parts.append(slab(x_rear, x_front, y0, y1, deck, deck + side))
        for x0, x1 in ((x_rear, x_rear + 0.04), (x_front - 0.04, x_front)):
            parts.append(slab(x0, x1, -width / 2, width / 2, deck, deck + side))
        box_h = side
    elif kind == "caravan":
        box_h = rng.uniform(1.6, 2.0)
        belt = deck + box_h * 0.45
        parts.append(slab(x_rear, x_front, -width / 2, width / 2, deck, belt))
        windows = int(rng.integers(2, 4))
        roof, glass = glazed_cabin(x_rear, x_front, belt, deck + box_h, width, 0.1, 0.3, windows)
        parts += roof
        parts.append(
            box(
                (0.7, 0.03, box_h * 0.8),
                (x_rear + length * 0.3, -width / 2 - 0.015, deck + box_h * 0.42),
            )
        )
    if drawbar:
        tip = x_front + rng.uniform(1.0, 1.5)
        z_hitch = rng.uniform(0.45, 0.55)
        for y in (-width / 4, width / 4):
            parts.append(rod((x_front, y, deck - 0.1), (tip, 0, z_hitch), 0.04, 6))
        # The jockey wheel under the hitch keeps the drawbar off the ground.
        parts.append(rod((tip - 0.2, 0, z_hitch), (tip - 0.2, 0, 0.08), 0.03, 6))
        parts.append(wheel(tip - 0.2, 0, 0.08, 0.06, 10))
    spacing = 1.3 if kind == "semi-trailer" else 0.9
    xs = [
        x_rear + 1.5 + spacing * k if kind == "semi-trailer" else spacing * (k - (axles - 1) / 2)
        for k in range(axles)
    ]
    half_track = width / 2 - 0.25 if kind == "semi-trailer" else width / 2 + 0.12
    parts += _axle_wheels(xs, half_track, wheel_r, 0.3 if kind == "semi-trailer" else 0.18)
    return finish_shape(
        "trailer",
        parts,
        dict(
            kind=kind,
            length=length,
            width=width,
            deck_height=deck,
            body_height=box_h,
            axles=axles,
            wheel_radius=wheel_r,
            drawbar=drawbar,
        ),
        glass_parts=glass,
        counts={"wheels": 2 * axles, "axles": axles, "side windows": 2 * windows},
        attributes=[
            Attribute("trailer", kind, ("semi-trailer", "utility", "caravan", "flatbed")),
        ],
        features={"a drawbar": drawbar, "landing legs": kind == "semi-trailer"},
    )


def build_excavator(rng: np.random.Generator) -> Shape:
    tracks = bool(rng.random() < 0.75)
    size = rng.uniform(0.8, 1.25)
    length, width = 3.6 * size, 2.5 * size
    slew = rng.uniform(-np.pi, np.pi)
    boom_lift, arm_bend = rng.uniform(0.2, 0.9), rng.uniform(0.6, 1.8)
    dozer_blade = bool(rng.random() < 0.4)
    undercarriage = 0.85 * size
    parts: list[Mesh] = []
    if tracks:
        tw = 0.5 * size
        for y in (-width / 2 + tw / 2, width / 2 - tw / 2):
            parts.append(
                slab(
                    -length / 2 + 0.4, length / 2 - 0.4, y - tw / 2, y + tw / 2, 0.0, undercarriage
                )
            )
            for x in (-length / 2 + 0.4, length / 2 - 0.4):
                parts.append(
                    cylinder(undercarriage / 2, tw, (x, y, undercarriage / 2), axis=(0, 1, 0))
                )
    else:
        parts.append(
            slab(
                -length / 2 + 0.3,
                length / 2 - 0.3,
                -width / 2 + 0.3,
                width / 2 - 0.3,
                0.45,
                undercarriage,
            )
        )
        parts += _axle_wheels(
            (-length / 2 + 0.9, length / 2 - 0.9), width / 2 - 0.35, 0.5 * size, 0.5
        )
    if dozer_blade:
        parts.append(
            slab(length / 2 - 0.1, length / 2 + 0.1, -width / 2, width / 2, 0.0, 0.55 * size)
        )
    # The upper house turns on the undercarriage: everything above it rotates by the slew angle.
    house_z0, house_h = undercarriage + 0.1, 1.0 * size
    upper: list[Mesh] = [
        slab(-1.6 * size, 0.6 * size, -1.2 * size, 1.2 * size, house_z0, house_z0 + house_h),
        slab(
            -1.75 * size, -1.2 * size, -1.2 * size, 1.2 * size, house_z0, house_z0 + house_h * 0.9
        ),
    ]
    cab_y0 = 0.2 * size
    cab_z0, cab_z1 = house_z0 + house_h * 0.35, house_z0 + house_h + 1.3 * size
    cab_parts, cab_glass = glazed_cabin(
        -0.2 * size, 1.0 * size, cab_z0, cab_z1, 0.95 * size, 0.0, 0.1, 1
    )
    shift = (0.0, cab_y0 + 0.5 * size, 0.0)
    upper += [m.translated(shift) for m in cab_parts]
    upper.append(slab(-0.2 * size, 1.0 * size, cab_y0, cab_y0 + 0.95 * size, house_z0, cab_z0))
    glass = [m.translated(shift) for m in cab_glass]
    pivot = np.array([0.7 * size, -0.3 * size, house_z0 + 0.5 * house_h])
    boom_len, arm_len = 3.2 * size, 1.8 * size
    elbow = pivot + boom_len * np.array([np.cos(boom_lift), 0.0, np.sin(boom_lift)])
    down = boom_lift - arm_bend - 0.6
    tip = elbow + arm_len * np.array([np.cos(down), 0.0, np.sin(down)])
    tip[2] = max(tip[2], 0.45 * size)
    upper.append(rod(pivot, elbow, 0.18 * size, 6))
    upper.append(rod(elbow, tip, 0.12 * size, 6))
    upper.append(
        box(
            (0.6 * size, 0.9 * size, 0.5 * size), tip + _v(0.15 * size, 0, -0.15 * size), rot_y(0.5)
        )
    )
    turn = rot_z(slew)
    parts += [m.transformed(turn) for m in upper]
    glass = [m.transformed(turn) for m in glass]
    return finish_shape(
        "excavator",
        parts,
        dict(
            tracks=tracks,
            size=size,
            slew=slew,
            boom_lift=boom_lift,
            arm_bend=arm_bend,
            dozer_blade=dozer_blade,
        ),
        glass_parts=glass,
        counts={"wheels": 0 if tracks else 4},
        attributes=[
            Attribute("undercarriage", "tracked" if tracks else "wheeled", ("tracked", "wheeled")),
            Attribute("boom", "raised" if boom_lift > 0.55 else "lowered", ("raised", "lowered")),
        ],
        features={"a bucket": True, "a dozer blade": dozer_blade, "crawler tracks": tracks},
    )


def build_tractor(rng: np.random.Generator) -> Shape:
    rear_r, front_r = rng.uniform(0.7, 0.9), rng.uniform(0.4, 0.52)
    wheelbase = rng.uniform(2.2, 2.8)
    width = rng.uniform(1.8, 2.4)
    cab = bool(rng.random() < 0.7)
    loader = bool(rng.random() < 0.35)
    hood_h = rng.uniform(1.2, 1.5)
    x_rear, x_front = -wheelbase / 2, wheelbase / 2
    parts = _axle_wheels([x_rear], width / 2 - 0.25, rear_r, 0.5)
    parts += _axle_wheels([x_front], width / 2 - 0.35, front_r, 0.32)
    parts.append(slab(x_rear - 0.2, x_front + 0.7, -0.45, 0.45, 0.45, hood_h))
    # Exhaust stack rising beside the hood.
    parts.append(rod((x_front - 0.3, 0.35, hood_h), (x_front - 0.3, 0.35, hood_h + 0.9), 0.05, 8))
    top = hood_h + rng.uniform(1.0, 1.3)
    glass: list[Mesh] = []
    parts.append(slab(x_rear - 0.4, x_rear + 0.9, -0.7, 0.7, 0.9, hood_h))
    if cab:
        roof, glass = glazed_cabin(x_rear - 0.4, x_rear + 0.9, hood_h, top, 1.4, 0.0, 0.1, 1)
        parts += roof
    else:
        # An open roll-over frame: two hoops behind the seat.
        for y in (-0.6, 0.6):
            parts.append(rod((x_rear - 0.3, y, hood_h), (x_rear - 0.3, y, top), 0.04, 6))
        parts.append(rod((x_rear - 0.3, -0.6, top), (x_rear - 0.3, 0.6, top), 0.04, 6))
        parts.append(box((0.45, 0.45, 0.1), (x_rear + 0.2, 0, hood_h + 0.05)))
    if loader:
        for y in (-width / 2 + 0.1, width / 2 - 0.1):
            parts.append(rod((x_rear + 0.6, y, hood_h + 0.3), (x_front + 1.3, y, 0.35), 0.06, 6))
        parts.append(slab(x_front + 1.2, x_front + 1.9, -width / 2, width / 2, 0.0, 0.7))
    return finish_shape(
        "tractor",
        parts,
        dict(
            rear_wheel_radius=rear_r,
            front_wheel_radius=front_r,
            wheelbase=wheelbase,
            width=width,
            cab=cab,
            front_loader=loader,
            hood_height=hood_h,
        ),
        glass_parts=glass,
        counts={"wheels": 4},
        attributes=[Attribute("cab", "enclosed" if cab else "open", ("enclosed", "open"))],
        features={"a front loader": loader, "an exhaust stack": True},
    )


# ---------------------------------------------------------------- two-wheelers and riders


def _bicycle(rng: np.random.Generator) -> tuple[list[Mesh], dict, dict[str, np.ndarray]]:
    """Bicycle parts, parameters and the rider's contact points (saddle, bars, pedals)."""
    kind = pick(rng, ["road", "mountain", "city"])
    radius = rng.uniform(0.33, 0.36) if kind == "road" else rng.uniform(0.3, 0.37)
    tyre = {"road": 0.014, "mountain": 0.03, "city": 0.02}[kind]
    wheelbase = rng.uniform(0.98, 1.12)
    saddle_h = rng.uniform(0.85, 1.05)
    bar_h = (
        saddle_h + {"road": -0.08, "mountain": 0.0, "city": 0.12}[kind] + rng.uniform(-0.03, 0.03)
    )
    basket = bool(kind == "city" and rng.random() < 0.5)
    mudguards = bool(kind == "city" or rng.random() < 0.2)
    step_through = bool(kind == "city" and rng.random() < 0.5)
    crank = rng.uniform(0.0, 2 * np.pi)
    rear, front = -wheelbase / 2, wheelbase / 2
    bb = np.array([rear + 0.42, 0.0, radius - 0.05])
    seat_top = np.array([bb[0] - 0.16, 0.0, saddle_h - 0.08])
    head_top = np.array([front - 0.15, 0.0, bar_h - 0.12])
    head_low = np.array([front - 0.1, 0.0, radius + 0.2])
    hub_r, hub_f = np.array([rear, 0.0, radius]), np.array([front, 0.0, radius])
    tube = 0.018 if kind == "road" else 0.022
    parts = _thin_wheel(rear, radius, tyre) + _thin_wheel(front, radius, tyre)
    frame = [(bb, seat_top), (bb, head_low), (bb, hub_r), (seat_top, hub_r), (head_low, head_top)]
    if not step_through:
        frame.append((seat_top, head_top))
    else:
        frame.append((bb + _v(0.25, 0, 0.1), head_low))
    parts += [rod(a, b, tube, 6) for a, b in frame]
    parts.append(rod(hub_f, head_low, tube, 6))  # fork
    saddle = np.array([seat_top[0] - 0.02, 0.0, saddle_h])
    parts.append(rod(seat_top, saddle, 0.012, 6))
    parts.append(box((0.26, 0.14 if kind == "city" else 0.11, 0.05), saddle + _v(0, 0, 0.02)))
    bar_w = {"road": 0.21, "mountain": 0.36, "city": 0.3}[kind]
    bar = np.array([head_top[0] - (0.08 if kind == "city" else 0.0), 0.0, bar_h])
    parts.append(rod(head_top, bar, 0.014, 6))
    parts.append(rod(bar + _v(0, -bar_w, 0), bar + _v(0, bar_w, 0), 0.013, 6))
    pedals = []
    for side, phase in ((-1, 0.0), (1, np.pi)):
        p = bb + 0.17 * np.array([np.cos(crank + phase), 0.0, np.sin(crank + phase)])
        p[1] = side * 0.1
        parts.append(rod(bb + _v(0, side * 0.05, 0), p, 0.01, 4))
        parts.append(box((0.1, 0.08, 0.02), p + _v(0, side * 0.03, 0)))
        pedals.append(p + _v(0, 0, 0.03))
    parts.append(
        cylinder(0.09, 0.006, bb + _v(0, 0.05, 0), axis=(0, 1, 0), segments=16)
    )  # chainring
    if basket:
        parts.append(slab(front - 0.05, front + 0.25, -0.17, 0.17, bar_h - 0.3, bar_h - 0.05))
    if mudguards:
        for x in (rear, front):
            arc = [
                (x + (radius + 0.03) * np.cos(a), 0.0, radius + (radius + 0.03) * np.sin(a))
                for a in np.linspace(0.3, 2.6, 6)
            ]
            for a, b in pairwise(arc):
                parts.append(
                    box(
                        (float(np.hypot(b[0] - a[0], b[2] - a[2])), 0.06, 0.006),
                        ((a[0] + b[0]) / 2, 0, (a[2] + b[2]) / 2),
                        rot_y(-np.arctan2(b[2] - a[2], b[0] - a[0])),
                    )
                )
    params = dict(
        kind=kind,
        wheel_radius=radius,
        wheelbase=wheelbase,
        saddle_height=saddle_h,
        handlebar_height=bar_h,
        basket=basket,
        mudguards=mudguards,
        step_through=step_through,
    )
    contacts = {
        "saddle": saddle + _v(0, 0, 0.06),
        "bar_right": bar + _v(0, -bar_w * 0.85, 0),
        "bar_left": bar + _v(0, bar_w * 0.85, 0),
        "foot_right": pedals[0],
        "foot_left": pedals[1],
    }
    return parts, params, contacts


def _bicycle_facts(params: dict) -> dict:
    kind = params["kind"]
    return dict(
        counts={"wheels": 2},
        attributes=[
            Attribute("bicycle", kind, ("road", "mountain", "city")),
            Attribute(
                "frame",
                "step-through" if params["step_through"] else "diamond",
                ("step-through", "diamond"),
            ),
        ],
        features={"a basket": params["basket"], "mudguards": params["mudguards"]},
    )


def build_bicycle(rng: np.random.Generator) -> Shape:
    parts, params, _contacts = _bicycle(rng)
    return finish_shape("bicycle", parts, params, **_bicycle_facts(params))


def build_cyclist(rng: np.random.Generator) -> Shape:
    parts, params, c = _bicycle(rng)
    height, build = _rider_size(rng)
    # Road riders lean far forward, city riders sit upright.
    lean = {
        "road": rng.uniform(0.7, 1.0),
        "mountain": rng.uniform(0.45, 0.7),
        "city": rng.uniform(0.1, 0.3),
    }[params["kind"]]
    hip = c["saddle"]
    torso = 0.3 * height  # hip joint to shoulder line
    shoulder = hip + torso * np.array([np.sin(lean), 0.0, np.cos(lean)])
    backpack = bool(rng.random() < 0.3)
    parts += _figure(
        height,
        build,
        tuple(hip),
        tuple(shoulder),
        (tuple(c["bar_right"]), tuple(c["bar_left"])),
        (tuple(c["foot_right"]), tuple(c["foot_left"])),
        helmet=bool(rng.random() < 0.6),
    )
    if backpack:
        back = hip + 0.6 * (shoulder - hip) + np.array([-0.17, 0.0, 0.0])
        parts.append(box((0.14, 0.3, 0.38), back, rot_y(lean)))
    params.update(rider_height=height, rider_build=build, lean=lean, backpack=backpack)
    facts = _bicycle_facts(params)
    facts["attributes"][0] = Attribute("bicycle", params["kind"], ("road", "mountain", "city"))
    facts["attributes"].append(
        Attribute(
            "rider", "leaning forward" if lean > 0.5 else "upright", ("leaning forward", "upright")
        )
    )
    facts["features"]["a backpack"] = backpack
    facts["features"]["a rider"] = True
    return finish_shape("cyclist", parts, params, **facts)


def _motorcycle(
    rng: np.random.Generator,
) -> tuple[list[Mesh], list[Mesh], dict, dict[str, np.ndarray]]:
    kind = pick(rng, ["sport", "cruiser", "touring", "off-road"])
    radius = rng.uniform(0.3, 0.34) if kind != "off-road" else rng.uniform(0.34, 0.38)
    wheelbase = {
        "sport": rng.uniform(1.35, 1.45),
        "cruiser": rng.uniform(1.55, 1.7),
        "touring": rng.uniform(1.5, 1.65),
        "off-road": rng.uniform(1.4, 1.5),
    }[kind]
    seat_h = {
        "sport": rng.uniform(0.8, 0.85),
        "cruiser": rng.uniform(0.65, 0.72),
        "touring": rng.uniform(0.78, 0.85),
        "off-road": rng.uniform(0.9, 0.97),
    }[kind]
    exhausts = int(pick(rng, [1, 2])) if kind != "off-road" else 1
    panniers = bool(kind == "touring" or rng.random() < 0.1)
    rear, front = -wheelbase / 2, wheelbase / 2
    tyre = 0.06
    parts = [
        torus(radius - tyre, tyre, (x, 0, radius), axis=(0, 1, 0), segments=20)
        for x in (rear, front)
    ]
    parts += [
        cylinder(radius - tyre, 0.05, (x, 0, radius), axis=(0, 1, 0), segments=12)
        for x in (rear, front)
    ]
    parts.append(box((0.5, 0.32, 0.35), (-0.05, 0, radius + 0.05)))  # engine
    parts.append(ellipsoid((0.3, 0.17, 0.13), (0.2, 0, seat_h + 0.05), 8))  # tank
    parts.append(box((0.55, 0.28, 0.08), (-0.3, 0, seat_h)))  # seat
    parts.append(rod((rear, 0, radius), (-0.15, 0, radius + 0.2), 0.04, 6))  # swingarm
    parts.append(box((0.45, 0.2, 0.18), (rear + 0.25, 0, seat_h - 0.1)))  # tail
    bar_z = seat_h + {"sport": 0.12, "cruiser": 0.45, "touring": 0.3, "off-road": 0.25}[kind]
    bar_x = front - 0.3 if kind != "cruiser" else front - 0.4
    for y in (-0.08, 0.08):
        parts.append(rod((front, y, radius), (bar_x + 0.05, y, bar_z - 0.08), 0.025, 6))
    half_bar = 0.3 if kind != "sport" else 0.22
    parts.append(rod((bar_x, -half_bar, bar_z), (bar_x, half_bar, bar_z), 0.015, 6))
    parts.append(ellipsoid((0.08, 0.1, 0.1), (bar_x + 0.2, 0, bar_z - 0.15), 8))  # headlight
    for k in range(exhausts):
        y = -0.16 if k == 0 else 0.16
        parts.append(rod((-0.1, y, radius - 0.05), (rear - 0.1, y, radius + 0.1), 0.045, 8))
    glass: list[Mesh] = []
    if kind == "sport":
        parts.append(ellipsoid((0.35, 0.2, 0.25), (front - 0.3, 0, seat_h - 0.05), 8))  # fairing
    if kind in ("sport", "touring"):
        screen_h = 0.15 if kind == "sport" else 0.35
        rim, pane = _windscreen(bar_x + 0.15, bar_x + 0.05, 0.18, bar_z - 0.05, bar_z + screen_h)
        parts.append(rim)
        glass.append(pane)
    if panniers:
        for y in (-0.25, 0.25):
            parts.append(box((0.45, 0.18, 0.35), (rear + 0.2, y, seat_h - 0.2)))
    params = dict(
        kind=kind,
        wheel_radius=radius,
        wheelbase=wheelbase,
        seat_height=seat_h,
        handlebar_height=bar_z,
        exhausts=exhausts,
        panniers=panniers,
    )
    contacts = {
        "seat": np.array([-0.25, 0.0, seat_h + 0.06]),
        "bar_right": np.array([bar_x, -half_bar * 0.9, bar_z]),
        "bar_left": np.array([bar_x, half_bar * 0.9, bar_z]),
        "foot_right": np.array([-0.05 if kind != "cruiser" else 0.45, -0.22, 0.35]),
        "foot_left": np.array([-0.05 if kind != "cruiser" else 0.45, 0.22, 0.35]),
    }
    return parts, glass, params, contacts


def _motorcycle_facts(params: dict) -> dict:
    return dict(
        counts={"wheels": 2, "exhaust pipes": params["exhausts"]},
        attributes=[
            Attribute("motorcycle", params["kind"], ("sport", "cruiser", "touring", "off-road"))
        ],
        features={
            "panniers": params["panniers"],
            "a windscreen": params["kind"] in ("sport", "touring"),
        },
    )


def build_motorcycle(rng: np.random.Generator) -> Shape:
    parts, glass, params, _c = _motorcycle(rng)
    return finish_shape("motorcycle", parts, params, glass_parts=glass, **_motorcycle_facts(params))


def build_motorcyclist(rng: np.random.Generator) -> Shape:
    parts, glass, params, c = _motorcycle(rng)
    height, build = _rider_size(rng)
    lean = {
        "sport": rng.uniform(0.6, 0.9),
        "cruiser": rng.uniform(-0.2, 0.05),
        "touring": rng.uniform(0.05, 0.25),
        "off-road": rng.uniform(0.2, 0.45),
    }[params["kind"]]
    hip = c["seat"]
    shoulder = hip + 0.3 * height * np.array([np.sin(lean), 0.0, np.cos(lean)])
    parts += _figure(
        height,
        build,
        tuple(hip),
        tuple(shoulder),
        (tuple(c["bar_right"]), tuple(c["bar_left"])),
        (tuple(c["foot_right"]), tuple(c["foot_left"])),
        helmet=True,
    )
    passenger = bool(params["kind"] in ("touring", "cruiser") and rng.random() < 0.3)
    if passenger:
        p_height = rng.uniform(1.5, 1.85)
        p_hip = hip + np.array([-0.35, 0.0, 0.05])
        p_sh = p_hip + 0.3 * p_height * np.array([0.1, 0.0, 1.0])
        hands = (tuple(shoulder - (0.1, 0.15, 0.15)), tuple(shoulder - (0.1, -0.15, 0.15)))
        feet = ((-0.35, -0.24, 0.4), (-0.35, 0.24, 0.4))
        parts += _figure(p_height, 1.0, tuple(p_hip), tuple(p_sh), hands, feet, helmet=True)
    params.update(rider_height=height, rider_build=build, lean=lean, passenger=passenger)
    facts = _motorcycle_facts(params)
    facts["counts"]["riders"] = 2 if passenger else 1
    facts["features"]["a helmet"] = True
    return finish_shape("motorcyclist", parts, params, glass_parts=glass, **facts)


def build_scooter(rng: np.random.Generator) -> Shape:
    """A motor scooter (moped): small wheels, a step-through floorboard and a front apron."""
    radius = rng.uniform(0.2, 0.26)
    wheelbase = rng.uniform(1.2, 1.4)
    seat_h = rng.uniform(0.74, 0.82)
    top_box = bool(rng.random() < 0.35)
    screen = bool(rng.random() < 0.4)
    rear, front = -wheelbase / 2, wheelbase / 2
    parts = [wheel(x, 0, radius, 0.11, 16) for x in (rear, front)]
    parts.append(box((0.5, 0.3, 0.06), (0.05, 0, radius + 0.05)))  # floorboard
    parts.append(
        ellipsoid(
            (0.42, 0.2, (seat_h - radius) / 2), (rear + 0.3, 0, (seat_h + radius) / 2 + 0.02), 8
        )
    )
    parts.append(box((0.6, 0.28, 0.08), (rear + 0.3, 0, seat_h)))
    bar_z = seat_h + rng.uniform(0.2, 0.32)
    apron = prism(
        [
            (front - 0.35, radius),
            (front - 0.15, radius),
            (front - 0.2, bar_z - 0.05),
            (front - 0.3, bar_z - 0.05),
        ],
        0.42,
    )
    parts.append(apron)
    parts.append(rod((front, 0, radius), (front - 0.25, 0, bar_z), 0.035, 6))
    parts.append(rod((front - 0.27, -0.34, bar_z), (front - 0.27, 0.34, bar_z), 0.018, 6))
    parts.append(box((0.2, 0.2, 0.12), (front - 0.22, 0, bar_z + 0.02)))  # headset with the light
    glass: list[Mesh] = []
    if screen:
        rim, pane = _windscreen(front - 0.17, front - 0.27, 0.22, bar_z + 0.06, bar_z + 0.45)
        parts.append(rim)
        glass.append(pane)
    if top_box:
        parts.append(box((0.35, 0.38, 0.3), (rear + 0.05, 0, seat_h + 0.18)))
    return finish_shape(
        "scooter",
        parts,
        dict(
            wheel_radius=radius,
            wheelbase=wheelbase,
            seat_height=seat_h,
            handlebar_height=bar_z,
            top_box=top_box,
            windscreen=screen,
        ),
        glass_parts=glass,
        counts={"wheels": 2},
        attributes=[Attribute("seat", "high" if seat_h > 0.78 else "low", ("high", "low"))],
        features={"a top box": top_box, "a windscreen": screen, "a floorboard": True},
    )


def build_e_scooter(rng: np.random.Generator) -> Shape:
    """An electric kick scooter: a narrow deck, two small wheels and a tall stem."""
    radius = rng.uniform(0.1, 0.13)
    deck_len, deck_w = rng.uniform(0.5, 0.65), rng.uniform(0.13, 0.18)
    bar_h = rng.uniform(0.98, 1.22)
    bar_w = rng.uniform(0.4, 0.55)
    seat = bool(rng.random() < 0.15)
    ridden = bool(rng.random() < 0.35)
    rear, front = -deck_len / 2 - 0.08, deck_len / 2 + 0.12
    deck_z = radius + 0.02
    parts = [wheel(x, 0, radius, 0.05, 12) for x in (rear, front)]
    parts.append(box((deck_len, deck_w, 0.05), (0, 0, deck_z)))
    parts.append(rod((rear, 0, radius), (-deck_len / 2, 0, deck_z), 0.02, 6))
    parts.append(rod((front, 0, radius), (front - 0.06, 0, bar_h), 0.022, 8))
    parts.append(rod((front - 0.06, -bar_w / 2, bar_h), (front - 0.06, bar_w / 2, bar_h), 0.015, 6))
    if seat:
        parts.append(rod((-deck_len / 4, 0, deck_z), (-deck_len / 4, 0, 0.75), 0.02, 6))
        parts.append(box((0.25, 0.2, 0.06), (-deck_len / 4, 0, 0.77)))
    params = dict(
        wheel_radius=radius,
        deck_length=deck_len,
        deck_width=deck_w,
        handlebar_height=bar_h,
        handlebar_width=bar_w,
        seat=seat,
        ridden=ridden,
    )
    if ridden:
        height, build = _rider_size(rng)
        feet = ((-0.05, -0.06, deck_z + 0.05), (0.12, 0.06, deck_z + 0.05))
        hip = np.array([-0.05, 0.0, deck_z + 0.53 * height])
        shoulder = hip + np.array([0.08, 0.0, 0.29 * height])
        hands = ((front - 0.06, -bar_w / 2 + 0.04, bar_h), (front - 0.06, bar_w / 2 - 0.04, bar_h))
        parts += _figure(height, build, tuple(hip), tuple(shoulder), hands, feet, knee_bend=0.25)
        params.update(rider_height=height, rider_build=build)
    return finish_shape(
        "e_scooter",
        parts,
        params,
        counts={"wheels": 2},
        attributes=[Attribute("deck", "wide" if deck_w > 0.16 else "narrow", ("narrow", "wide"))],
        features={"a seat": seat, "a standing rider": ridden, "a tall stem": True},
    )


# ---------------------------------------------------------------- pushed and wheeled things


def build_wheelchair(rng: np.random.Generator) -> Shape:
    electric = bool(rng.random() < 0.3)
    seat_h, seat_w, seat_d = rng.uniform(0.45, 0.52), rng.uniform(0.4, 0.5), rng.uniform(0.4, 0.47)
    back_h = rng.uniform(0.35, 0.5)
    armrests = bool(electric or rng.random() < 0.6)
    occupied = bool(rng.random() < 0.35)
    rear_r = rng.uniform(0.16, 0.2) if electric else rng.uniform(0.28, 0.32)
    caster_r = rng.uniform(0.08, 0.1) if electric else rng.uniform(0.06, 0.09)
    half = seat_w / 2
    parts = [slab(-seat_d / 2, seat_d / 2, -half, half, seat_h - 0.05, seat_h)]
    parts.append(
        box((0.04, seat_w, back_h), (-seat_d / 2 - 0.02, 0, seat_h + back_h / 2), rot_y(-0.1))
    )
    for y in (-half - 0.04, half + 0.04):
        if electric:
            parts.append(wheel(-seat_d / 2 + 0.05, y, rear_r, 0.08))
        else:
            parts += _thin_wheel(-seat_d / 2 + 0.05, rear_r, 0.018, y)
            parts.append(
                torus(
                    rear_r - 0.03,
                    0.008,
                    (-seat_d / 2 + 0.05, y + np.sign(y) * 0.03, rear_r),
                    axis=(0, 1, 0),
                )
            )
        parts.append(wheel(seat_d / 2 + 0.02, y * 0.9, caster_r, 0.04, 10))
        parts.append(
            rod(
                (seat_d / 2 + 0.02, y * 0.9, caster_r),
                (seat_d / 2, y * 0.9, seat_h - 0.05),
                0.012,
                5,
            )
        )
        parts.append(
            rod(
                (-seat_d / 2, y, seat_h - 0.05),
                (-seat_d / 2 - 0.05, y, seat_h + back_h + 0.05),
                0.012,
                5,
            )
        )
        # Push handles stick out backwards from the top of the back.
        parts.append(
            rod(
                (-seat_d / 2 - 0.05, y, seat_h + back_h + 0.05),
                (-seat_d / 2 - 0.17, y, seat_h + back_h + 0.05),
                0.015,
                5,
            )
        )
        if armrests:
            parts.append(box((seat_d * 0.8, 0.05, 0.03), (0, y, seat_h + 0.22)))
        parts.append(
            rod((seat_d / 2, y * 0.8, seat_h - 0.05), (seat_d / 2 + 0.15, y * 0.8, 0.1), 0.012, 5)
        )
    parts.append(box((0.12, seat_w * 0.8, 0.02), (seat_d / 2 + 0.17, 0, 0.1)))  # footplate
    if electric:
        parts.append(box((seat_d * 0.8, seat_w * 0.7, 0.2), (0, 0, seat_h - 0.2)))  # battery
        parts.append(
            box((0.05, 0.05, 0.08), (seat_d * 0.4, half + 0.04, seat_h + 0.27))
        )  # joystick
    params = dict(
        electric=electric,
        seat_height=seat_h,
        seat_width=seat_w,
        seat_depth=seat_d,
        back_height=back_h,
        armrests=armrests,
        occupied=occupied,
        rear_wheel_radius=rear_r,
    )
    if occupied:
        height = rng.uniform(1.5, 1.9)
        hip = np.array([-seat_d / 4, 0.0, seat_h + 0.08])
        shoulder = hip + np.array([0.02, 0.0, 0.3 * height])
        hands = ((seat_d * 0.3, -half, seat_h + 0.24), (seat_d * 0.3, half, seat_h + 0.24))
        feet = ((seat_d / 2 + 0.18, -0.1, 0.14), (seat_d / 2 + 0.18, 0.1, 0.14))
        parts += _figure(height, rng.uniform(0.9, 1.15), tuple(hip), tuple(shoulder), hands, feet)
        params["occupant_height"] = height
    return finish_shape(
        "wheelchair",
        parts,
        params,
        counts={"wheels": 4},
        attributes=[
            Attribute("wheelchair", "electric" if electric else "manual", ("electric", "manual")),
            Attribute("rear wheels", "small" if electric else "large", ("small", "large")),
        ],
        features={"armrests": armrests, "push handles": True, "a person seated in it": occupied},
    )


def build_stroller(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["pram", "pushchair", "jogger"])
    wheels = 3 if kind == "jogger" else 4
    wheel_r = {
        "pram": rng.uniform(0.12, 0.16),
        "pushchair": rng.uniform(0.08, 0.11),
        "jogger": rng.uniform(0.2, 0.25),
    }[kind]
    length = rng.uniform(0.75, 0.95) if kind != "jogger" else rng.uniform(0.95, 1.15)
    width = rng.uniform(0.5, 0.6)
    handle_h = rng.uniform(0.95, 1.1)
    canopy = bool(rng.random() < 0.8)
    basket = bool(rng.random() < 0.6)
    rear, front = -length / 2, length / 2
    parts: list[Mesh] = []
    for y in (-width / 2, width / 2):
        parts.append(wheel(rear, y, wheel_r, 0.04, 12))
        parts.append(rod((rear, y, wheel_r), (rear - 0.1, y, handle_h), 0.013, 5))
        if wheels == 4:
            parts.append(wheel(front, y * 0.8, wheel_r * 0.9, 0.04, 12))
            parts.append(rod((front, y * 0.8, wheel_r * 0.9), (0.0, y * 0.9, 0.5), 0.012, 5))
    if wheels == 3:
        parts.append(wheel(front, 0, wheel_r * 0.8, 0.04, 12))
        for y in (-width / 2, width / 2):
            parts.append(rod((front, 0, wheel_r * 0.8), (0.0, y * 0.9, 0.5), 0.012, 5))
    parts.append(
        rod((rear - 0.1, -width / 2, handle_h), (rear - 0.1, width / 2, handle_h), 0.016, 6)
    )
    seat_z = 0.5 if kind != "pram" else 0.58
    if kind == "pram":
        # A bassinet: a deep open-topped box the baby lies in.
        parts.append(
            lathe(
                [0.0, width * 0.4, width * 0.44], [seat_z - 0.15, seat_z - 0.13, seat_z + 0.12], 16
            ).scaled((1.7, 1.0, 1.0))
        )
    else:
        parts.append(slab(-0.2, 0.15, -width * 0.4, width * 0.4, seat_z, seat_z + 0.05))
        parts.append(box((0.05, width * 0.8, 0.45), (-0.22, 0, seat_z + 0.25), rot_y(-0.35)))
    if canopy:
        hood = lathe(
            [width * 0.45, width * 0.4, width * 0.25, 0.01],
            [0.0, 0.1, 0.2, 0.26],
            16,
            cap_bottom=False,
        )
        parts.append(hood.transformed(rot_y(-1.0), (-0.18, 0, seat_z + 0.4)))
    if basket:
        parts.append(slab(-0.25, 0.2, -width * 0.35, width * 0.35, wheel_r + 0.05, wheel_r + 0.18))
    return finish_shape(
        "stroller",
        parts,
        dict(
            kind=kind,
            wheels=wheels,
            wheel_radius=wheel_r,
            length=length,
            width=width,
            handle_height=handle_h,
            canopy=canopy,
            basket=basket,
        ),
        counts={"wheels": wheels},
        attributes=[Attribute("stroller", kind, ("pram", "pushchair", "jogger"))],
        features={"a canopy": canopy, "a basket underneath": basket, "a push bar": True},
    )


def build_shopping_cart(rng: np.random.Generator) -> Shape:
    length, width = rng.uniform(0.8, 1.0), rng.uniform(0.5, 0.6)
    basket_h = rng.uniform(0.4, 0.55)
    rim = rng.uniform(0.95, 1.05)
    child_seat = bool(rng.random() < 0.7)
    lower_tray = bool(rng.random() < 0.6)
    caster_r = 0.06
    rear, front = -length / 2, length / 2
    z0 = rim - basket_h
    t = 0.01
    # A wire basket, its floor sloping up to the back. The wire walls are solid sheets here; a real
    # scan of wire mesh returns a sparser subset of the same outline.
    parts = [
        slab(rear + 0.05, front, -width / 2 + 0.05, width / 2 - 0.05, z0, z0 + t),
        slab(front - t, front, -width / 2 + 0.05, width / 2 - 0.05, z0, rim),
        slab(rear, rear + t, -width / 2, width / 2, z0 + 0.05, rim),
    ]
    for y in (-width / 2, width / 2 - t):
        parts.append(
            prism([(rear, z0 + 0.05), (front, z0), (front, rim), (rear, rim)], t, y + t / 2)
        )
    for x, y in rect_corners(length / 2 - 0.08, width / 2 - 0.08):
        parts.append(wheel(x, y, caster_r, 0.03, 10))
        parts.append(rod((x, y, caster_r), (x * 0.9, y, z0), 0.012, 5))
    handle_x = rear - 0.12
    parts.append(
        rod((handle_x, -width / 2, rim + 0.02), (handle_x, width / 2, rim + 0.02), 0.016, 6)
    )
    for y in (-width / 2, width / 2):
        parts.append(rod((rear, y, rim), (handle_x, y, rim + 0.02), 0.012, 5))
    if child_seat:
        parts.append(box((0.02, width * 0.8, 0.25), (rear + 0.18, 0, rim - 0.13), rot_y(0.3)))
    if lower_tray:
        parts.append(
            slab(rear + 0.08, front - 0.08, -width / 2 + 0.08, width / 2 - 0.08, 0.18, 0.19)
        )
    return finish_shape(
        "shopping_cart",
        parts,
        dict(
            length=length,
            width=width,
            basket_height=basket_h,
            rim_height=rim,
            child_seat=child_seat,
            lower_tray=lower_tray,
        ),
        counts={"wheels": 4},
        attributes=[
            Attribute("basket", "deep" if basket_h > 0.48 else "shallow", ("deep", "shallow"))
        ],
        features={"a child seat": child_seat, "a lower tray": lower_tray, "a handle": True},
    )


def build_wheelbarrow(rng: np.random.Generator) -> Shape:
    wheels = int(pick(rng, [1, 1, 2]))
    wheel_r = rng.uniform(0.17, 0.22)
    tray_len, tray_w, tray_d = rng.uniform(0.6, 0.8), rng.uniform(0.5, 0.7), rng.uniform(0.2, 0.3)
    handle_len = rng.uniform(0.5, 0.7)
    loaded = bool(rng.random() < 0.3)
    rim_z = wheel_r + tray_d + rng.uniform(0.12, 0.2)
    x_wheel = tray_len / 2 + 0.05
    parts: list[Mesh] = []
    if wheels == 1:
        parts.append(wheel(x_wheel, 0, wheel_r, 0.08))
    else:
        parts += [wheel(x_wheel, y, wheel_r, 0.07) for y in (-0.25, 0.25)]
    tray = lathe([0.0, 0.42, 0.5], [0.0, 0.02, 1.0], 16, cap_bottom=True)
    parts.append(tray.scaled((tray_len, tray_w, tray_d)).translated((0, 0, rim_z - tray_d)))
    legs = 2
    for y in (-tray_w * 0.3, tray_w * 0.3):
        end = (-tray_len / 2 - handle_len, y * 1.2, rim_z - 0.05)
        parts.append(rod((x_wheel, y * 0.5 if wheels == 1 else y, wheel_r), end, 0.016, 6))
        parts.append(rod((-tray_len * 0.3, y, rim_z - tray_d), (-tray_len * 0.3, y, 0.0), 0.015, 6))
    if loaded:
        parts.append(ellipsoid((tray_len * 0.4, tray_w * 0.4, 0.12), (0, 0, rim_z - 0.02), 8))
    return finish_shape(
        "wheelbarrow",
        parts,
        dict(
            wheels=wheels,
            wheel_radius=wheel_r,
            tray_length=tray_len,
            tray_width=tray_w,
            tray_depth=tray_d,
            handle_length=handle_len,
            loaded=loaded,
        ),
        counts={"wheels": wheels, "legs": legs, "handles": 2},
        attributes=[Attribute("tray", "deep" if tray_d > 0.25 else "shallow", ("deep", "shallow"))],
        features={"a load in the tray": loaded},
    )


# name -> (words, plausible heights in metres, builder); ``outdoor`` registers them in this order.
SPECS: dict[
    str, tuple[tuple[str, ...], tuple[float, float], Callable[[np.random.Generator], Shape]]
] = {
    "van": (("van", "transit van", "commercial van"), (1.8, 2.9), build_van),
    "truck": (("truck", "lorry", "heavy goods vehicle"), (2.4, 4.1), build_truck),
    "bus": (("bus", "motorbus", "passenger bus"), (2.8, 4.5), build_bus),
    "trailer": (
        ("trailer", "towed trailer"),
        (0.6, 4.3),
        build_trailer,
    ),
    "excavator": (("excavator", "digger", "backhoe"), (2.2, 6.5), build_excavator),
    "tractor": (("tractor", "farm tractor"), (2.1, 3.3), build_tractor),
    "bicycle": (("bicycle", "bike", "push bike", "pedal cycle"), (0.85, 1.3), build_bicycle),
    "cyclist": (
        ("cyclist", "bicyclist", "person riding a bicycle", "bike rider"),
        (1.3, 2.1),
        build_cyclist,
    ),
    "motorcycle": (("motorcycle", "motorbike", "motor bike"), (0.95, 1.6), build_motorcycle),
    "motorcyclist": (
        ("motorcyclist", "motorbike rider", "person riding a motorcycle"),
        (1.3, 2.0),
        build_motorcyclist,
    ),
    "scooter": (("scooter", "motor scooter", "moped"), (1.0, 1.75), build_scooter),
    "e_scooter": (("e-scooter", "electric scooter", "kick scooter"), (0.95, 2.2), build_e_scooter),
    "wheelchair": (("wheelchair", "wheel chair"), (0.8, 1.55), build_wheelchair),
    "stroller": (("stroller", "pushchair", "pram", "baby buggy"), (0.9, 1.25), build_stroller),
    "shopping_cart": (
        ("shopping cart", "shopping trolley", "supermarket trolley"),
        (0.95, 1.15),
        build_shopping_cart,
    ),
    "wheelbarrow": (("wheelbarrow", "barrow", "garden cart"), (0.5, 0.95), build_wheelbarrow),
}
