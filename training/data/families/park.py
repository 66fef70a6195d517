"""Outdoor families of green and open spaces: trees, bushes, hedges and rocks, dogs and cats,
and the furniture of parks (statue, swing set, picnic table, patio umbrella).

Front towards +x (where an animal's head or a statue's face points), width along y.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from training.data.families.common import Attribute, Shape, finish_shape, pick, rect_corners
from training.data.mesh import (
    Mesh,
    box,
    cylinder,
    ellipsoid,
    lathe,
    rod,
    rot_z,
    slab,
)


def _v(x: float, y: float, z: float) -> np.ndarray:
    return np.array((x, y, z), dtype=np.float64)


def _foliage(rng: np.random.Generator, centre, radii, clumps: int) -> list[Mesh]:
    """A lumpy crown: overlapping ellipsoids scattered inside an ellipsoidal envelope."""
    parts = []
    c, r = np.asarray(centre, dtype=np.float64), np.asarray(radii, dtype=np.float64)
    for _ in range(clumps):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        offset = d * r * rng.uniform(0.2, 0.6)
        parts.append(ellipsoid(tuple(r * rng.uniform(0.45, 0.65)), c + offset, 6))
    return parts


def build_tree(rng: np.random.Generator) -> Shape:
    crown = pick(rng, ["round", "conical", "columnar", "spreading"])
    height = rng.uniform(3.0, 14.0)
    trunk_r = height * rng.uniform(0.012, 0.025)
    clear = height * rng.uniform(0.25, 0.45)  # the bare trunk under the crown
    branches = int(rng.integers(2, 6))
    guard = bool(height < 6.0 and rng.random() < 0.3)
    crown_h = height - clear
    parts = [lathe([trunk_r * 1.3, trunk_r, trunk_r * 0.6], [0.0, 0.4, clear + crown_h * 0.5], 10)]
    for k in range(branches):
        a = 2 * np.pi * k / branches + rng.uniform(-0.3, 0.3)
        z = clear + crown_h * rng.uniform(0.05, 0.35)
        reach = crown_h * rng.uniform(0.2, 0.35)
        tip = (reach * np.cos(a), reach * np.sin(a), z + reach * 0.8)
        parts.append(rod((0, 0, z), tip, trunk_r * 0.45, 6))
    if crown == "conical":
        # A conifer: stacked tiers narrowing upwards.
        base_r = crown_h * rng.uniform(0.22, 0.32)
        tiers = 4
        for k in range(tiers):
            z0 = clear + k * crown_h / (tiers + 0.5)
            r = base_r * (1 - k / (tiers + 0.5))
            parts.append(
                lathe(
                    [r, r * 0.35, 0.0],
                    [z0, z0 + crown_h * 0.3, z0 + crown_h * 0.45],
                    12,
                    cap_bottom=True,
                )
            )
        width = 2 * base_r
    else:
        rz = crown_h / 2
        rxy = {
            "round": rz * rng.uniform(0.8, 1.1),
            "columnar": rz * rng.uniform(0.3, 0.45),
            "spreading": rz * rng.uniform(1.3, 1.7),
        }[crown]
        parts += _foliage(
            rng,
            (0, 0, clear + rz),
            (rxy, rxy * rng.uniform(0.85, 1.0), rz),
            int(rng.integers(6, 11)),
        )
        width = 2 * rxy
    if guard:
        for x, y in rect_corners(0.3, 0.3):
            parts.append(rod((x, y, 0.0), (x, y, 1.5), 0.02, 5))
        for z in (0.5, 1.4):
            for (x0, y0), (x1, y1) in (
                ((-0.3, -0.3), (0.3, -0.3)),
                ((0.3, -0.3), (0.3, 0.3)),
                ((0.3, 0.3), (-0.3, 0.3)),
                ((-0.3, 0.3), (-0.3, -0.3)),
            ):
                parts.append(rod((x0, y0, z), (x1, y1, z), 0.015, 4))
    return finish_shape(
        "tree",
        parts,
        dict(
            crown=crown,
            height=height,
            trunk_radius=trunk_r,
            clear_trunk=clear,
            branches=branches,
            tree_guard=guard,
            crown_width=width,
        ),
        counts={"main limbs": branches},
        attributes=[
            Attribute("crown", crown, ("round", "conical", "columnar", "spreading")),
            Attribute("tree", "tall" if height > 8.0 else "small", ("tall", "small")),
        ],
        features={"a trunk": True, "a tree guard": guard},
        has_front=False,
    )


def build_bush(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.5, 2.2)
    width = height * rng.uniform(0.8, 1.8)
    clumps = int(rng.integers(5, 12))
    flowering = bool(rng.random() < 0.3)
    stems = int(rng.integers(0, 4))
    parts = _foliage(
        rng,
        (0, 0, height * 0.55),
        (width / 2, width / 2 * rng.uniform(0.8, 1.0), height * 0.45),
        clumps,
    )
    parts.append(ellipsoid((width * 0.35, width * 0.3, height * 0.35), (0, 0, height * 0.4), 6))
    for k in range(stems):
        a = 2 * np.pi * k / max(1, stems)
        parts.append(
            rod(
                (0.05 * np.cos(a), 0.05 * np.sin(a), 0.0),
                (0.2 * np.cos(a), 0.2 * np.sin(a), height * 0.3),
                0.015,
                5,
            )
        )
    if flowering:
        for _ in range(8):
            d = rng.normal(size=3)
            d /= np.linalg.norm(d)
            p = np.array([width / 2, width / 2, height * 0.45]) * d * 0.9 + (0, 0, height * 0.55)
            parts.append(ellipsoid(0.05, p, 4))
    return finish_shape(
        "bush",
        parts,
        dict(height=height, width=width, clumps=clumps, flowering=flowering, stems=stems),
        counts={"visible stems": stems},
        attributes=[
            Attribute("bush", "wide" if width > 1.3 * height else "rounded", ("wide", "rounded"))
        ],
        features={"flowers": flowering, "leaves": True},
        has_front=False,
    )


def build_hedge(rng: np.random.Generator) -> Shape:
    length = rng.uniform(1.5, 6.0)
    height = rng.uniform(0.6, 2.2)
    depth = rng.uniform(0.45, 1.0)
    trimmed = bool(rng.random() < 0.7)
    taper = rng.uniform(0.7, 1.0) if trimmed else 1.0
    gap = bool(length > 3.0 and rng.random() < 0.25)
    parts: list[Mesh] = []
    segments = [(-length / 2, length / 2)] if not gap else [(-length / 2, -0.5), (0.5, length / 2)]
    for y0, y1 in segments:
        if trimmed:
            # A clipped hedge: a block tapered towards the top, cut so its base stays lit.
            parts.append(
                lathe([1.0, taper], [0.0, height], 4, cap_bottom=True, cap_top=True)
                .transformed(rot_z(np.pi / 4))
                .scaled((depth / np.sqrt(2), (y1 - y0) / np.sqrt(2), 1.0))
                .translated((0, (y0 + y1) / 2, 0))
            )
        else:
            n = max(2, int((y1 - y0) / 0.6))
            for k in range(n):
                y = y0 + (k + 0.5) * (y1 - y0) / n
                parts.append(
                    ellipsoid((depth / 2, (y1 - y0) / n * 0.75, height / 2), (0, y, height / 2), 6)
                )
    return finish_shape(
        "hedge",
        parts,
        dict(length=length, height=height, depth=depth, trimmed=trimmed, taper=taper, gap=gap),
        counts={"gaps": 1 if gap else 0},
        attributes=[
            Attribute("hedge", "trimmed" if trimmed else "overgrown", ("trimmed", "overgrown"))
        ],
        features={"a flat top": trimmed, "a gap to walk through": gap},
        has_front=False,
    )


def build_boulder(rng: np.random.Generator) -> Shape:
    size = rng.uniform(0.4, 2.0)
    flat = rng.uniform(0.45, 0.9)
    lumps = int(rng.integers(2, 6))
    mossy = bool(rng.random() < 0.3)
    elongation = rng.uniform(1.0, 1.6)
    radii = np.array([size * elongation / 2, size / 2, size * flat / 2])
    parts = [ellipsoid(tuple(radii), (0, 0, radii[2] * 0.8), 8, rot_z(rng.uniform(0, np.pi)))]
    for _ in range(lumps):
        d = rng.normal(size=3)
        d[2] = abs(d[2]) * 0.5
        d /= np.linalg.norm(d)
        r = radii * rng.uniform(0.35, 0.6)
        parts.append(ellipsoid(tuple(r), d * radii * 0.55 + (0, 0, radii[2] * 0.8), 6))
    if mossy:
        parts.append(ellipsoid((radii[0] * 0.7, radii[1] * 0.7, 0.04), (0, 0, radii[2] * 1.75), 6))
    return finish_shape(
        "boulder",
        parts,
        dict(size=size, flatness=flat, lumps=lumps, mossy=mossy, elongation=elongation),
        attributes=[
            Attribute("boulder", "flat" if flat < 0.65 else "rounded", ("flat", "rounded"))
        ],
        features={"a mossy top": mossy},
        counts={},
        has_front=False,
    )


def _quadruped(
    rng: np.random.Generator,
    length: float,
    leg_h: float,
    body_r: float,
    head_r: float,
    tail_len: float,
    pose: str,
    ear_up: bool,
) -> list[Mesh]:
    """A four-legged animal along +x: body, neck, head, legs, tail; standing, sitting or lying."""
    parts: list[Mesh] = []
    if pose == "lying":
        body_z = body_r * 0.9
        parts.append(ellipsoid((length / 2, body_r * 1.1, body_r * 0.9), (0, 0, body_z), 8))
        for y in (-body_r * 0.8, body_r * 0.8):
            parts.append(rod((length * 0.3, y, 0.03), (length * 0.6, y, 0.03), body_r * 0.22, 6))
            parts.append(
                ellipsoid(
                    (length * 0.2, body_r * 0.3, body_r * 0.3), (-length * 0.3, y, body_r * 0.3), 6
                )
            )
        head = np.array([length * 0.55, 0.0, body_z + body_r * 0.8])
    else:
        sitting = pose == "sitting"
        hip_z = leg_h * (0.45 if sitting else 1.0) + body_r * 0.5
        shoulder_z = leg_h + body_r * 0.5
        rear_x, front_x = -length * 0.35, length * 0.35
        tilt = np.arctan2(shoulder_z - hip_z, front_x - rear_x)
        parts.append(
            ellipsoid(
                (length / 2, body_r, body_r),
                ((rear_x + front_x) / 2, 0, (hip_z + shoulder_z) / 2),
                8,
                np.array(
                    [[np.cos(tilt), 0, -np.sin(tilt)], [0, 1, 0], [np.sin(tilt), 0, np.cos(tilt)]]
                ),
            )
        )
        for y in (-body_r * 0.6, body_r * 0.6):
            parts.append(
                rod(
                    (front_x, y, shoulder_z - body_r * 0.5),
                    (front_x + 0.02, y, 0.0),
                    body_r * 0.22,
                    6,
                )
            )
            if sitting:
                parts.append(
                    ellipsoid(
                        (length * 0.18, body_r * 0.3, leg_h * 0.25),
                        (rear_x + length * 0.05, y, leg_h * 0.25),
                        6,
                    )
                )
            else:
                parts.append(
                    rod(
                        (rear_x, y, hip_z - body_r * 0.5), (rear_x - 0.02, y, 0.0), body_r * 0.25, 6
                    )
                )
        head = np.array([front_x + body_r * 0.8, 0.0, shoulder_z + body_r * 1.4])
        parts.append(rod((front_x, 0, shoulder_z), head, body_r * 0.45, 6))
        tail_base = np.array([rear_x - body_r * 0.6, 0.0, hip_z + body_r * 0.2])
        tail_up = 0.15 if sitting else rng.uniform(-0.5, 0.9)
        tail_dir = np.array([-np.cos(tail_up), 0.0, np.sin(tail_up)])
        parts.append(rod(tail_base, tail_base + tail_dir * tail_len, body_r * 0.12, 5))
    parts.append(ellipsoid((head_r * 1.1, head_r * 0.9, head_r * 0.9), head, 8))
    parts.append(
        ellipsoid(
            (head_r * 0.7, head_r * 0.45, head_r * 0.4),
            head + _v(head_r * 1.1, 0, -head_r * 0.3),
            6,
        )
    )  # muzzle
    for y in (-head_r * 0.55, head_r * 0.55):
        if ear_up:
            parts.append(
                ellipsoid(
                    (head_r * 0.2, head_r * 0.15, head_r * 0.45),
                    head + _v(-head_r * 0.1, y, head_r * 0.95),
                    4,
                )
            )
        else:
            parts.append(
                ellipsoid(
                    (head_r * 0.2, head_r * 0.12, head_r * 0.5),
                    head + _v(-head_r * 0.2, y * 1.5, -head_r * 0.1),
                    4,
                )
            )
    return parts


def build_dog(rng: np.random.Generator) -> Shape:
    size = pick(rng, ["small", "medium", "large"])
    scale = {
        "small": rng.uniform(0.25, 0.4),
        "medium": rng.uniform(0.45, 0.6),
        "large": rng.uniform(0.62, 0.8),
    }[size]
    pose = pick(rng, ["standing", "standing", "sitting", "lying"])
    ear_up = bool(rng.random() < 0.5)
    leash = bool(pose == "standing" and rng.random() < 0.3)
    length = scale * rng.uniform(1.1, 1.4)
    leg_h = scale * rng.uniform(0.55, 0.7)
    body_r = scale * 0.22
    parts = _quadruped(
        rng, length, leg_h, body_r, scale * 0.14, scale * rng.uniform(0.3, 0.5), pose, ear_up
    )
    if leash:
        neck = np.array([length * 0.35 + body_r * 0.4, 0.0, leg_h + body_r * 1.2])
        parts.append(rod(neck, neck + _v(0.1, 0.3, 0.5), 0.005, 4))
    return finish_shape(
        "dog",
        parts,
        dict(
            size=size,
            scale=scale,
            pose=pose,
            ears_up=ear_up,
            leash=leash,
            length=length,
            leg_height=leg_h,
        ),
        counts={"legs": 4},
        attributes=[
            Attribute("dog", pose, ("standing", "sitting", "lying")),
            Attribute("ears", "pointed" if ear_up else "floppy", ("pointed", "floppy")),
        ],
        features={"a tail": pose != "lying", "a leash": leash},
    )


def build_cat(rng: np.random.Generator) -> Shape:
    scale = rng.uniform(0.22, 0.32)
    pose = pick(rng, ["standing", "sitting", "lying"])
    tail_up = bool(pose == "standing" and rng.random() < 0.5)
    length = scale * rng.uniform(1.4, 1.7)
    leg_h = scale * rng.uniform(0.6, 0.8)
    body_r = scale * 0.25
    tail_len = scale * rng.uniform(0.9, 1.2)
    parts = _quadruped(
        rng, length, leg_h, body_r, scale * 0.14, 0.01 if tail_up else tail_len, pose, True
    )
    if tail_up:
        base = np.array([-length * 0.35 - body_r * 0.6, 0.0, leg_h + body_r * 0.7])
        parts.append(rod(base, base + _v(-0.03, 0.0, tail_len), body_r * 0.12, 5))
    return finish_shape(
        "cat",
        parts,
        dict(
            scale=scale,
            pose=pose,
            tail_up=tail_up,
            length=length,
            leg_height=leg_h,
            tail_length=tail_len,
        ),
        counts={"legs": 4},
        attributes=[Attribute("cat", pose, ("standing", "sitting", "lying"))],
        features={"a tail held upright": tail_up, "pointed ears": True},
    )


def build_statue(rng: np.random.Generator) -> Shape:
    plinth_h = rng.uniform(0.5, 2.0)
    plinth_w = rng.uniform(0.6, 1.6)
    figure_h = rng.uniform(1.2, 3.0)
    subject = pick(rng, ["standing figure", "bust", "rider on a horse"])
    steps = int(pick(rng, [0, 0, 1, 2]))
    parts: list[Mesh] = []
    z = 0.0
    for k in range(steps):
        w = plinth_w + 0.4 * (steps - k)
        parts.append(slab(-w / 2, w / 2, -w / 2, w / 2, z, z + 0.15))
        z += 0.15
    parts.append(slab(-plinth_w / 2, plinth_w / 2, -plinth_w / 2, plinth_w / 2, z, z + plinth_h))
    parts.append(
        slab(
            -plinth_w / 2 - 0.05,
            plinth_w / 2 + 0.05,
            -plinth_w / 2 - 0.05,
            plinth_w / 2 + 0.05,
            z + plinth_h - 0.08,
            z + plinth_h,
        )
    )
    top = z + plinth_h
    s = figure_h / 1.75
    if subject == "bust":
        parts.append(ellipsoid((0.22 * s, 0.35 * s, 0.3 * s), (0, 0, top + 0.3 * s), 8))
        parts.append(ellipsoid((0.13 * s, 0.11 * s, 0.16 * s), (0, 0, top + 0.78 * s), 8))
        parts.append(rod((0, 0, top + 0.5 * s), (0, 0, top + 0.66 * s), 0.07 * s))
    elif subject == "standing figure":
        arm_up = bool(rng.random() < 0.5)
        parts.append(ellipsoid((0.13 * s, 0.2 * s, 0.3 * s), (0, 0, top + 1.2 * s), 8))
        parts.append(ellipsoid((0.1 * s, 0.085 * s, 0.12 * s), (0, 0, top + 1.62 * s), 8))
        parts.append(
            lathe([0.25 * s, 0.15 * s], [top, top + 0.95 * s], 12, cap_bottom=True, cap_top=True)
        )  # robe
        for y in (-0.23 * s, 0.23 * s):
            end = (0.1 * s, y * 1.2, top + (2.05 if arm_up and y > 0 else 0.85) * s)
            parts.append(rod((0, y, top + 1.4 * s), end, 0.05 * s, 6))
    else:
        horse_len = 1.1 * s
        body_z = top + 0.9 * s
        parts.append(ellipsoid((horse_len / 2, 0.18 * s, 0.22 * s), (0, 0, body_z), 8))
        for x in (-horse_len * 0.35, horse_len * 0.35):
            for y in (-0.1 * s, 0.1 * s):
                parts.append(rod((x, y, body_z - 0.1 * s), (x, y, top), 0.04 * s, 6))
        parts.append(
            rod(
                (horse_len * 0.4, 0, body_z + 0.1 * s),
                (horse_len * 0.62, 0, body_z + 0.45 * s),
                0.08 * s,
                6,
            )
        )
        parts.append(
            ellipsoid((0.18 * s, 0.07 * s, 0.08 * s), (horse_len * 0.7, 0, body_z + 0.45 * s), 6)
        )
        parts.append(ellipsoid((0.12 * s, 0.17 * s, 0.25 * s), (0, 0, body_z + 0.45 * s), 8))
        parts.append(ellipsoid((0.08 * s, 0.07 * s, 0.1 * s), (0.02 * s, 0, body_z + 0.8 * s), 8))
    return finish_shape(
        "statue",
        parts,
        dict(
            plinth_height=plinth_h,
            plinth_width=plinth_w,
            figure_height=figure_h,
            subject=subject,
            steps=steps,
        ),
        counts={"steps": steps},
        attributes=[
            Attribute(
                "statue",
                {"standing figure": "standing", "bust": "bust", "rider on a horse": "equestrian"}[
                    subject
                ],
                ("standing", "bust", "equestrian"),
            )
        ],
        features={"a plinth": True, "a horse": subject == "rider on a horse"},
    )


def build_swing_set(rng: np.random.Generator) -> Shape:
    swings = int(rng.integers(1, 5))
    height = rng.uniform(2.0, 2.6)
    bay = rng.uniform(0.9, 1.3)
    spread = rng.uniform(0.8, 1.3)
    seat = pick(rng, ["flat", "bucket"])
    slide = bool(rng.random() < 0.2)
    length = swings * bay + 0.3
    parts = [rod((0, -length / 2, height), (0, length / 2, height), 0.05, 8)]
    for y in (-length / 2, length / 2):
        for x in (-spread, spread):
            parts.append(rod((0, y, height), (x, y * 1.08, 0.0), 0.045, 6))
    for k in range(swings):
        y = -length / 2 + 0.15 + (k + 0.5) * bay
        seat_z = rng.uniform(0.35, 0.55)
        for dy in (-0.2, 0.2):
            parts.append(rod((0, y + dy, height), (0, y + dy, seat_z + 0.02), 0.006, 4))
        if seat == "flat":
            parts.append(box((0.2, 0.45, 0.03), (0, y, seat_z)))
        else:
            parts.append(
                lathe([0.0, 0.18, 0.22], [0.0, 0.05, 0.22], 12)
                .scaled((1.0, 1.1, 1.0))
                .translated((0, y, seat_z - 0.1))
            )
    if slide:
        parts.append(
            box(
                (1.8, 0.45, 0.04),
                (spread + 0.8, 0, height * 0.35),
                np.array(
                    [[np.cos(0.55), 0, np.sin(0.55)], [0, 1, 0], [-np.sin(0.55), 0, np.cos(0.55)]]
                ),
            )
        )
    return finish_shape(
        "swing_set",
        parts,
        dict(
            swings=swings, height=height, bay_width=bay, leg_spread=spread, seat=seat, slide=slide
        ),
        counts={"swings": swings, "legs": 4},
        attributes=[Attribute("seats", seat, ("flat", "bucket"))],
        features={"an A-frame": True, "a slide": slide},
    )


def build_picnic_table(rng: np.random.Generator) -> Shape:
    length = rng.uniform(1.5, 2.4)
    top_w = rng.uniform(0.7, 0.9)
    top_h = rng.uniform(0.72, 0.78)
    attached = bool(rng.random() < 0.75)
    planks = int(rng.integers(3, 7))
    round_top = bool(rng.random() < 0.15)
    parts: list[Mesh] = []
    if round_top:
        r = top_w * 0.7
        parts.append(cylinder(r, 0.05, (0, 0, top_h - 0.025), segments=24))
        parts.append(cylinder(0.06, top_h - 0.05, (0, 0, (top_h - 0.05) / 2), segments=10))
        parts.append(cylinder(0.4, 0.04, (0, 0, 0.02), segments=16))
        seats = int(pick(rng, [3, 4]))
        for k in range(seats):
            a = 2 * np.pi * k / seats
            x, y = (r + 0.3) * np.cos(a), (r + 0.3) * np.sin(a)
            parts.append(box((0.35, 0.35, 0.04), (x, y, 0.44), rot_z(a)))
            parts.append(rod((x * 0.4, y * 0.4, 0.05), (x, y, 0.42), 0.03, 6))
        planks, benches, length = 0, seats, 2 * r
    else:
        pw = top_w / planks
        for k in range(planks):
            x = -top_w / 2 + (k + 0.5) * pw
            parts.append(box((pw * 0.9, length, 0.04), (x, 0, top_h - 0.02)))
        benches = 2
        bench_x = top_w / 2 + 0.3
        for y in (-length / 2 + 0.25, length / 2 - 0.25):
            # A-frame legs crossing under the top and carrying both benches.
            for s in (-1, 1):
                parts.append(
                    rod((s * 0.1, y, top_h - 0.04), (s * (bench_x + 0.1), y, 0.0), 0.035, 6)
                )
            if attached:
                parts.append(box((2 * bench_x + 0.3, 0.08, 0.06), (0, y, 0.4)))
        for s in (-1, 1):
            if attached:
                parts.append(box((0.28, length, 0.04), (s * bench_x, 0, 0.45)))
            else:
                parts.append(box((0.28, length * 0.9, 0.04), (s * (bench_x + 0.2), 0, 0.45)))
                for y in (-length * 0.35, length * 0.35):
                    parts.append(box((0.05, 0.05, 0.43), (s * (bench_x + 0.2), y, 0.215)))
    return finish_shape(
        "picnic_table",
        parts,
        dict(
            length=length,
            top_width=top_w,
            top_height=top_h,
            attached_benches=attached,
            planks=planks,
            round_top=round_top,
        ),
        counts={"seats": benches} if round_top else {"planks": planks, "bench seats": benches},
        attributes=[
            Attribute("tabletop", "round" if round_top else "rectangular", ("round", "rectangular"))
        ],
        features={"benches joined to the frame": attached and not round_top},
        has_front=False,
    )


def build_patio_umbrella(rng: np.random.Generator) -> Shape:
    radius = rng.uniform(1.0, 1.8)
    height = rng.uniform(2.2, 2.8)
    ribs = int(pick(rng, [6, 8, 8]))
    square = bool(rng.random() < 0.3)
    base = pick(rng, ["weighted base", "table"])
    tilt = rng.uniform(0.0, 0.3)
    parts: list[Mesh] = []
    if base == "table":
        parts.append(cylinder(0.5, 0.04, (0, 0, 0.72), segments=20))
        for x, y in rect_corners(0.3, 0.3):
            parts.append(rod((x, y, 0.72), (x * 1.2, y * 1.2, 0.0), 0.02, 5))
    else:
        parts.append(cylinder(0.25, 0.08, (0, 0, 0.04), segments=16))
    parts.append(rod((0, 0, 0.0), (0, 0, height - 0.3), 0.02, 6))
    canopy_segments = 4 if square else ribs
    canopy = lathe(
        [radius, radius * 0.6, 0.03], [0.0, 0.25, 0.4], canopy_segments, cap_bottom=False
    )
    if square:
        canopy = canopy.transformed(rot_z(np.pi / 4))
    turn = np.array([[np.cos(tilt), 0, np.sin(tilt)], [0, 1, 0], [-np.sin(tilt), 0, np.cos(tilt)]])
    parts.append(canopy.transformed(turn, (0, 0, height - 0.45)))
    parts.append(
        rod(
            (0, 0, height - 0.45),
            tuple(turn @ np.array([0, 0, 0.5]) + (0, 0, height - 0.45)),
            0.02,
            5,
        )
    )
    return finish_shape(
        "patio_umbrella",
        parts,
        dict(radius=radius, height=height, ribs=ribs, square=square, base=base, tilt=tilt),
        counts={"ribs": ribs if not square else 4},
        attributes=[Attribute("canopy", "square" if square else "round", ("square", "round"))],
        features={"a table under it": base == "table", "a tilted canopy": tilt > 0.15},
        has_front=False,
    )


# name -> (words, plausible heights in metres, builder); ``outdoor`` registers them in this order.
SPECS: dict[
    str, tuple[tuple[str, ...], tuple[float, float], Callable[[np.random.Generator], Shape]]
] = {
    "tree": (("tree", "street tree", "park tree"), (2.9, 14.5), build_tree),
    "bush": (("bush", "shrub", "shrubbery"), (0.45, 2.4), build_bush),
    "hedge": (("hedge", "hedgerow", "garden hedge"), (0.55, 2.3), build_hedge),
    "boulder": (("boulder", "rock", "large stone"), (0.15, 2.0), build_boulder),
    "dog": (("dog", "pet dog", "canine"), (0.15, 1.2), build_dog),
    "cat": (("cat", "house cat", "kitty"), (0.12, 0.65), build_cat),
    "statue": (("statue", "sculpture", "monument"), (1.3, 7.0), build_statue),
    "swing_set": (("swing set", "playground swing", "swing frame"), (2.0, 2.7), build_swing_set),
    "picnic_table": (
        ("picnic table", "picnic bench", "park table"),
        (0.7, 0.85),
        build_picnic_table,
    ),
    "patio_umbrella": (
        ("patio umbrella", "parasol", "sun umbrella"),
        (2.0, 3.0),
        build_patio_umbrella,
    ),
}
