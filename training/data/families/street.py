"""Outdoor families of street furniture: barriers and posts, signs and signals, poles and lights,
shelters and racks, bins and boxes, fences and rails.

Front towards +x (the face a sign or a door shows to the street), width along y.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np

from training.data.families.common import (
    Attribute,
    Shape,
    finish_shape,
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
    slab,
    torus,
)


def _plate(outline_yz, thickness: float, x: float, y: float, z: float) -> Mesh:
    """A flat plate facing +x whose outline is given in (y, z) around (y, z)=(0, 0)."""
    return prism(outline_yz, thickness).transformed(rot_z(np.pi / 2), (x, y, z))


def _regular(n: int, radius: float, phase: float = 0.0) -> list[tuple[float, float]]:
    # Listed clockwise seen from +x so the prism's faces point outwards after the rotation.
    return [
        (radius * np.cos(phase + 2 * np.pi * k / n), radius * np.sin(phase + 2 * np.pi * k / n))
        for k in range(n)
    ]


def _pane(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> Mesh:
    """A vertical glass sheet between two floor corners (x0, y0) and (x1, y1), z0 to z1."""
    return grid_surface(
        np.array([[(x0, y0, z0), (x1, y1, z0)], [(x0, y0, z1), (x1, y1, z1)]], dtype=np.float64)
    )


# ---------------------------------------------------------------- barriers and posts


def build_barrier(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["concrete", "plastic", "crowd", "trestle"])
    length = {
        "concrete": rng.uniform(2.0, 4.0),
        "plastic": rng.uniform(1.0, 2.0),
        "crowd": rng.uniform(2.0, 2.5),
        "trestle": rng.uniform(1.2, 2.0),
    }[kind]
    height = {
        "concrete": rng.uniform(0.8, 1.07),
        "plastic": rng.uniform(0.8, 1.0),
        "crowd": rng.uniform(1.0, 1.15),
        "trestle": rng.uniform(0.95, 1.2),
    }[kind]
    # Barriers run along y (across the road); the face points at the traffic along +x.
    parts: list[Mesh] = []
    feet = 0
    stripes = 0
    if kind in ("concrete", "plastic"):
        base = rng.uniform(0.55, 0.65) if kind == "concrete" else rng.uniform(0.4, 0.5)
        top = rng.uniform(0.15, 0.25)
        # The safety-shape profile: a steep lower kerb, then a gentler slope to the narrow top.
        profile = [
            (-base / 2, 0.0),
            (base / 2, 0.0),
            (base / 2 - 0.05, 0.08),
            (top / 2, height),
            (-top / 2, height),
            (-base / 2 + 0.05, 0.08),
        ]
        parts.append(prism(profile, length))
        if kind == "plastic":
            parts.append(cylinder(0.05, 0.04, (0, 0, height + 0.02), segments=10))  # filler cap
    elif kind == "crowd":
        feet = 2
        frame_z0 = 0.08
        for y in (-length / 2, length / 2):
            parts.append(rod((0, y, frame_z0), (0, y, height), 0.02, 6))
            parts.append(box((0.6, 0.05, 0.04), (0, y, 0.02)))
        for z in (frame_z0, height):
            parts.append(rod((0, -length / 2, z), (0, length / 2, z), 0.02, 6))
        for k in range(1, 14):
            y = -length / 2 + k * length / 14
            parts.append(rod((0, y, frame_z0), (0, y, height), 0.008, 4))
    else:
        feet = 4
        board_h = rng.uniform(0.2, 0.3)
        stripes = int(rng.integers(3, 7))
        parts.append(box((0.03, length, board_h), (0.1, 0, height - board_h / 2)))
        for k in range(stripes):
            y = -length / 2 + (k + 0.5) * length / stripes
            parts.append(
                box((0.01, length / stripes * 0.45, board_h * 0.9), (0.12, y, height - board_h / 2))
            )
        for y in (-length / 2 + 0.15, length / 2 - 0.15):
            for x in (-0.3, 0.3):
                parts.append(rod((0.05, y, height - 0.05), (x, y, 0.0), 0.02, 5))
    material = {"concrete": "concrete", "plastic": "plastic", "crowd": "metal", "trestle": "metal"}[
        kind
    ]
    return finish_shape(
        "barrier",
        parts,
        dict(
            kind=kind, length=length, height=height, feet=feet, stripes=stripes, material=material
        ),
        counts={"feet": feet, "stripes": stripes} if kind == "trestle" else {"feet": feet},
        attributes=[Attribute("barrier", material, ("concrete", "plastic", "metal"))],
        features={
            "a sloped base": kind in ("concrete", "plastic"),
            "vertical bars": kind == "crowd",
        },
    )


def build_bollard(rng: np.random.Generator) -> Shape:
    square = bool(rng.random() < 0.25)
    height = rng.uniform(0.6, 1.2)
    radius = rng.uniform(0.05, 0.15)
    top = pick(rng, ["domed", "flat", "ball"])
    bands = int(pick(rng, [0, 1, 2, 2]))
    flexible = bool(not square and radius < 0.09 and rng.random() < 0.5)
    parts: list[Mesh] = []
    if square:
        parts.append(box((2 * radius, 2 * radius, height), (0, 0, height / 2)))
    else:
        parts.append(cylinder(radius, height, (0, 0, height / 2), segments=16))
        if flexible:
            parts.append(cylinder(radius * 2.2, 0.03, (0, 0, 0.015), segments=16))  # bolted base
    if top == "domed":
        parts.append(ellipsoid((radius, radius, radius * 0.5), (0, 0, height), 8))
    elif top == "ball":
        parts.append(ellipsoid(radius * 1.2, (0, 0, height + radius * 0.9), 8))
    for k in range(bands):
        z = height * (0.7 + 0.12 * k)
        if square:
            parts.append(box((2 * radius + 0.01, 2 * radius + 0.01, 0.05), (0, 0, z)))
        else:
            parts.append(cylinder(radius + 0.005, 0.05, (0, 0, z), segments=16))
    return finish_shape(
        "bollard",
        parts,
        dict(square=square, height=height, radius=radius, top=top, bands=bands, flexible=flexible),
        counts={"reflective bands": bands},
        attributes=[
            Attribute("post", "square" if square else "round", ("round", "square")),
            Attribute("top", top, ("domed", "flat", "ball")),
        ],
        features={"a bolted base plate": flexible},
        has_front=False,
    )


def build_utility_pole(rng: np.random.Generator) -> Shape:
    height = rng.uniform(7.0, 12.5)
    radius = rng.uniform(0.11, 0.16)
    crossarms = int(pick(rng, [1, 1, 2, 3]))
    per_arm = int(pick(rng, [2, 3, 4]))
    transformer = bool(rng.random() < 0.3)
    streetlight = bool(rng.random() < 0.3)
    arm_len = rng.uniform(1.2, 2.4)
    parts = [cylinder((radius, radius), height, (0, 0, height / 2), segments=12)]
    parts.append(cylinder(radius * 0.8, 0.05, (0, 0, height + 0.025), segments=12))  # cap
    insulators = 0
    for k in range(crossarms):
        z = height - 0.3 - 0.7 * k
        parts.append(box((0.1, arm_len, 0.1), (0, 0, z)))
        for y in np.linspace(-arm_len / 2 + 0.1, arm_len / 2 - 0.1, per_arm):
            parts.append(cylinder(0.04, 0.18, (0, y, z + 0.14), segments=8))
            insulators += 1
    if transformer:
        zt = height - 0.7 * crossarms - 1.0
        parts.append(cylinder(0.3, 0.9, (radius + 0.32, 0, zt), segments=14))
    if streetlight:
        zl = height * rng.uniform(0.6, 0.75)
        parts.append(rod((0, 0, zl), (1.5, 0, zl + 0.4), 0.04, 6))
        parts.append(box((0.6, 0.3, 0.12), (1.7, 0, zl + 0.4)))
    return finish_shape(
        "utility_pole",
        parts,
        dict(
            height=height,
            radius=radius,
            crossarms=crossarms,
            insulators_per_arm=per_arm,
            transformer=transformer,
            streetlight=streetlight,
            crossarm_length=arm_len,
        ),
        counts={"crossarms": crossarms, "insulators": insulators},
        attributes=[Attribute("pole", "tall" if height > 10 else "short", ("tall", "short"))],
        features={"a transformer": transformer, "a light arm": streetlight},
    )


# ---------------------------------------------------------------- signs and signals

_SIGN_SHAPES = ("octagonal", "triangular", "round", "diamond-shaped", "rectangular")


def _sign_outline(shape: str, size: float) -> list[tuple[float, float]]:
    r = size / 2
    if shape == "octagonal":
        return _regular(8, r / np.cos(np.pi / 8), np.pi / 8)
    if shape == "triangular":
        return _regular(3, r * 1.15, -np.pi / 2)  # point down, like a give-way sign
    if shape == "round":
        return _regular(20, r)
    if shape == "diamond-shaped":
        return _regular(4, r * 1.2)
    return [(r * 1.4, r), (-r * 1.4, r), (-r * 1.4, -r), (r * 1.4, -r)][::-1]


def build_traffic_sign(rng: np.random.Generator) -> Shape:
    signs = int(pick(rng, [1, 1, 1, 2]))
    post_h = rng.uniform(2.2, 3.0)
    post_r = rng.uniform(0.03, 0.045)
    shapes = [pick(rng, _SIGN_SHAPES) for _ in range(signs)]
    sizes = [rng.uniform(0.45, 0.9) for _ in range(signs)]
    parts = [cylinder(post_r, post_h, (0, 0, post_h / 2), segments=10)]
    z = post_h
    for shape, size in zip(shapes, sizes, strict=True):
        half_h = (
            size
            / 2
            * (1.2 if shape == "diamond-shaped" else 1.15 if shape == "triangular" else 1.0)
        )
        zc = z - half_h
        parts.append(_plate(_sign_outline(shape, size), 0.02, post_r + 0.015, 0.0, zc))
        z = zc - half_h - 0.08
    return finish_shape(
        "traffic_sign",
        parts,
        dict(
            signs=signs,
            post_height=post_h,
            post_radius=post_r,
            shape=shapes[0],
            size=sizes[0],
            lower_shape=shapes[-1] if signs > 1 else "none",
        ),
        counts={"signs": signs},
        attributes=[Attribute("sign", shapes[0], _SIGN_SHAPES)],
        features={"a single post": True},
    )


def _signal_head(x: float, y: float, z_top: float, lights: int, lens: float) -> list[Mesh]:
    """A signal head facing +x: a housing, ``lights`` lenses one above another, visors."""
    pitch = lens * 2.4
    h = pitch * lights + 0.06
    parts = [box((0.25, pitch, h), (x, y, z_top - h / 2))]
    for k in range(lights):
        zc = z_top - 0.03 - pitch * (k + 0.5)
        parts.append(cylinder(lens, 0.02, (x + 0.135, y, zc), axis=(1, 0, 0), segments=12))
        parts.append(box((0.15, pitch * 0.9, 0.015), (x + 0.2, y, zc + lens + 0.01)))
    return parts


def build_traffic_light(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["post", "post", "mast arm", "pedestrian"])
    lights = 2 if kind == "pedestrian" else 3
    lens = 0.1 if kind == "pedestrian" else rng.uniform(0.1, 0.15)
    pole_h = rng.uniform(2.4, 3.6) if kind != "mast arm" else rng.uniform(5.5, 6.8)
    parts = [cylinder(0.06, pole_h, (0, 0, pole_h / 2), segments=12)]
    heads = 1
    push_button = bool(kind != "mast arm" and rng.random() < 0.5)
    if kind == "mast arm":
        reach = rng.uniform(3.0, 6.0)
        heads = int(pick(rng, [1, 2]))
        parts.append(rod((0, 0, pole_h - 0.2), (0, -reach, pole_h - 0.1), 0.05, 8))
        for k in range(heads):
            y = -reach + k * 1.8
            parts += _signal_head(0.0, y, pole_h - 0.15, lights, lens)
    else:
        heads = int(pick(rng, [1, 1, 2]))
        parts += _signal_head(0.1, 0.0, pole_h + 0.1, lights, lens)
        if heads == 2:
            # A second head on the back for the opposite direction.
            parts += [
                m.transformed(rot_z(np.pi))
                for m in _signal_head(0.1, 0.0, pole_h + 0.1, lights, lens)
            ]
    if push_button:
        parts.append(box((0.08, 0.12, 0.16), (0.08, 0, 1.1)))
    return finish_shape(
        "traffic_light",
        parts,
        dict(
            kind=kind,
            lights_per_head=lights,
            heads=heads,
            lens_radius=lens,
            pole_height=pole_h,
            push_button=push_button,
        ),
        counts={"signal heads": heads, "lights": lights * heads},
        attributes=[
            Attribute(
                "traffic light",
                "overhead" if kind == "mast arm" else "post-mounted",
                ("overhead", "post-mounted"),
            )
        ],
        features={"a push button box": push_button, "visors over the lights": True},
    )


def build_street_light(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["cobra head", "post top", "double arm"])
    height = rng.uniform(3.5, 5.0) if kind == "post top" else rng.uniform(6.0, 11.0)
    base_r = rng.uniform(0.08, 0.14)
    taper = rng.uniform(0.45, 0.8)
    parts = [lathe([base_r, base_r * taper], [0.0, height], 12, cap_bottom=True, cap_top=True)]
    parts.append(cylinder(base_r * 1.4, 0.5, (0, 0, 0.25), segments=12))  # base door housing
    arms = 0
    if kind == "post top":
        head = pick(rng, ["lantern", "globe"])
        if head == "globe":
            parts.append(ellipsoid(0.25, (0, 0, height + 0.25), 8))
        else:
            parts.append(
                lathe(
                    [0.12, 0.25, 0.28, 0.0], [0.0, 0.1, 0.5, 0.62], 8, cap_bottom=True
                ).translated((0, 0, height))
            )
    else:
        arms = 1 if kind == "cobra head" else 2
        reach = rng.uniform(0.8, 2.5)
        for k in range(arms):
            direction = 1 if k == 0 else -1
            end = (direction * reach, 0, height + 0.3)
            parts.append(rod((0, 0, height - 0.1), end, 0.04, 6))
            parts.append(
                ellipsoid((0.35, 0.16, 0.08), (direction * (reach + 0.25), 0, height + 0.3), 8)
            )
    return finish_shape(
        "street_light",
        parts,
        dict(kind=kind, height=height, base_radius=base_r, taper=taper, arms=arms),
        counts={"arms": arms},
        attributes=[
            Attribute(
                "street light",
                {"cobra head": "single-arm", "post top": "post-top", "double arm": "double-arm"}[
                    kind
                ],
                ("single-arm", "post-top", "double-arm"),
            )
        ],
        features={"a tapered pole": taper < 0.7, "a light head on top": kind == "post top"},
    )


# ---------------------------------------------------------------- shelters, racks, meters


def build_bus_stop(rng: np.random.Generator) -> Shape:
    width, depth = rng.uniform(3.0, 6.0), rng.uniform(1.2, 1.8)
    height = rng.uniform(2.3, 2.8)
    side_walls = int(pick(rng, [0, 1, 2, 2]))
    bench = bool(rng.random() < 0.8)
    advert = bool(rng.random() < 0.6)
    sign_pole = bool(rng.random() < 0.5)
    bays = max(2, round(width / 1.5))
    parts: list[Mesh] = []
    glass: list[Mesh] = []
    # Open to the kerb on +x; glass back wall at -x, optional glass ends.
    x_back = -depth / 2
    for y in np.linspace(-width / 2, width / 2, bays + 1):
        parts.append(box((0.08, 0.08, height), (x_back, y, height / 2)))
    for y in (-width / 2, width / 2):
        parts.append(box((0.08, 0.08, height), (depth / 2 - 0.1, y, height / 2)))
    panes = 0
    for k in range(bays):
        y0 = -width / 2 + k * width / bays
        y1 = y0 + width / bays
        if advert and k == 0:
            parts.append(slab(x_back - 0.08, x_back + 0.08, y0 + 0.05, y1 - 0.05, 0.3, 2.0))
        else:
            glass.append(_pane(x_back, x_back, y0 + 0.04, y1 - 0.04, 0.15, height - 0.15))
            panes += 1
    for k in range(side_walls):
        y = -width / 2 if k == 0 else width / 2
        glass.append(_pane(x_back, depth / 2 - 0.15, y, y, 0.15, height - 0.15))
        panes += 1
    parts.append(
        slab(
            -depth / 2 - 0.1,
            depth / 2 + 0.2,
            -width / 2 - 0.1,
            width / 2 + 0.1,
            height,
            height + 0.12,
        )
    )
    if bench:
        parts.append(slab(x_back + 0.05, x_back + 0.45, -width / 4, width / 4, 0.42, 0.47))
        for y in (-width / 4 + 0.1, width / 4 - 0.1):
            parts.append(box((0.05, 0.05, 0.42), (x_back + 0.25, y, 0.21)))
    if sign_pole:
        parts.append(cylinder(0.04, 2.6, (depth / 2 + 0.6, width / 2 + 0.4, 1.3), segments=8))
        parts.append(_plate(_regular(16, 0.22), 0.02, depth / 2 + 0.65, width / 2 + 0.4, 2.45))
    return finish_shape(
        "bus_stop",
        parts,
        dict(
            width=width,
            depth=depth,
            height=height,
            side_walls=side_walls,
            bench=bench,
            advert=advert,
            sign_pole=sign_pole,
            bays=bays,
        ),
        glass_parts=glass,
        counts={"glass panels": panes},
        attributes=[Attribute("ends", "glazed" if side_walls else "open", ("glazed", "open"))],
        features={
            "a bench": bench,
            "an advertising panel": advert,
            "a stop sign on a pole": sign_pole,
            "a roof": True,
        },
    )


def build_bike_rack(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["hoops", "hoops", "wheel rack"])
    parts: list[Mesh] = []
    if kind == "hoops":
        hoops = int(rng.integers(1, 6))
        spacing = rng.uniform(0.8, 1.1)
        hoop_w, hoop_h = rng.uniform(0.6, 0.8), rng.uniform(0.75, 0.95)
        r = rng.uniform(0.024, 0.03)
        for k in range(hoops):
            y = (k - (hoops - 1) / 2) * spacing
            bend = hoop_w * 0.25
            pts = [
                (-hoop_w / 2, y, 0.0),
                (-hoop_w / 2, y, hoop_h - bend),
                (-hoop_w / 2 + bend, y, hoop_h),
                (hoop_w / 2 - bend, y, hoop_h),
                (hoop_w / 2, y, hoop_h - bend),
                (hoop_w / 2, y, 0.0),
            ]
            for a, b in pairwise(pts):
                parts.append(rod(a, b, r, 8))
        count, height, length = hoops, hoop_h, hoops * spacing
    else:
        count = int(rng.integers(4, 11))
        spacing = rng.uniform(0.4, 0.6)
        height, length = rng.uniform(0.3, 0.45), count * spacing
        for x in (-0.25, 0.25):
            parts.append(rod((x, -length / 2, 0.05), (x, length / 2, 0.05), 0.02, 6))
        for k in range(count):
            y = (k - (count - 1) / 2) * spacing
            for dy in (-0.04, 0.04):
                parts.append(rod((-0.3, y + dy, 0.05), (0.0, y + dy, height), 0.012, 5))
                parts.append(rod((0.0, y + dy, height), (0.3, y + dy, 0.05), 0.012, 5))
    return finish_shape(
        "bike_rack",
        parts,
        dict(
            kind=kind,
            spaces=count,
            spacing=spacing,
            height=height,
            length=length,
            wheel_slots=kind == "wheel rack",
        ),
        counts={"hoops" if kind == "hoops" else "wheel slots": count},
        attributes=[
            Attribute(
                "rack", "low" if kind == "wheel rack" else "waist-high", ("low", "waist-high")
            )
        ],
        features={"inverted U-shaped hoops": kind == "hoops"},
    )


def build_parking_meter(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["single", "double", "pay station"])
    parts: list[Mesh] = []
    solar = False
    if kind == "pay station":
        body_h = rng.uniform(1.5, 1.85)
        head_w, head_d = rng.uniform(0.35, 0.5), rng.uniform(0.25, 0.35)
        parts.append(slab(-head_d / 2, head_d / 2, -head_w / 2, head_w / 2, 0.0, body_h))
        parts.append(
            box((0.02, head_w * 0.6, 0.2), (head_d / 2 + 0.01, 0, body_h * 0.75))
        )  # screen
        solar = bool(rng.random() < 0.6)
        if solar:
            parts.append(box((head_d + 0.1, head_w + 0.05, 0.03), (0, 0, body_h + 0.1), rot_y(0.3)))
        heads = 1
    else:
        body_h = rng.uniform(0.95, 1.15)  # the post
        heads = 1 if kind == "single" else 2
        parts.append(cylinder(0.04, body_h, (0, 0, body_h / 2), segments=10))
        head_h, head_w = rng.uniform(0.35, 0.45), rng.uniform(0.18, 0.24)
        head_d = 0.16
        offsets = (0.0,) if heads == 1 else (-head_w * 0.6, head_w * 0.6)
        if heads == 2:
            parts.append(box((0.08, head_w * 1.2, 0.06), (0, 0, body_h)))
        for y in offsets:
            parts.append(box((head_d, head_w, head_h), (0, y, body_h + head_h / 2)))
            parts.append(ellipsoid((0.08, head_w / 2, 0.06), (0, y, body_h + head_h), 8))  # dome
            parts.append(box((0.02, head_w * 0.6, 0.08), (0.09, y, body_h + head_h * 0.7)))
    return finish_shape(
        "parking_meter",
        parts,
        dict(
            kind=kind,
            heads=heads,
            solar_panel=solar,
            post_or_body_height=body_h,
            head_width=head_w,
            head_depth=head_d,
        ),
        counts={"meter heads": heads},
        attributes=[
            Attribute(
                "parking meter",
                "post-mounted" if kind != "pay station" else "free-standing",
                ("post-mounted", "free-standing"),
            )
        ],
        features={"a solar panel": solar, "a display": True},
    )


# ---------------------------------------------------------------- fences and rails


def build_fence(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["picket", "chain-link", "board", "post and rail"])
    length = rng.uniform(2.0, 5.0)
    height = {
        "picket": rng.uniform(0.9, 1.2),
        "chain-link": rng.uniform(1.2, 2.0),
        "board": rng.uniform(1.5, 2.0),
        "post and rail": rng.uniform(0.9, 1.4),
    }[kind]
    post_gap = rng.uniform(1.8, 2.5)
    posts = max(2, int(np.ceil(length / post_gap)) + 1)
    parts: list[Mesh] = []
    ys = np.linspace(-length / 2, length / 2, posts)
    round_posts = kind == "chain-link"
    for y in ys:
        if round_posts:
            parts.append(cylinder(0.03, height + 0.05, (0, y, (height + 0.05) / 2), segments=8))
        else:
            parts.append(box((0.09, 0.09, height + 0.05), (0, y, (height + 0.05) / 2)))
    rails = {"picket": 2, "chain-link": 1, "board": 2, "post and rail": int(pick(rng, [2, 3]))}[
        kind
    ]
    for k in range(rails):
        z = height * (0.25 + 0.6 * k / max(1, rails - 1)) if rails > 1 else height
        parts.append(box((0.04, length, 0.09), (0.065, 0, z)))
    pickets = 0
    if kind == "picket":
        pickets = int(length / rng.uniform(0.1, 0.15))
        for y in np.linspace(-length / 2 + 0.05, length / 2 - 0.05, pickets):
            parts.append(
                prism(
                    [
                        (0.09, 0.05),
                        (0.11, 0.05),
                        (0.11, height - 0.05),
                        (0.1, height),
                        (0.09, height - 0.05),
                    ],
                    0.07,
                    y,
                )
            )
    elif kind == "chain-link":
        parts.append(box((0.005, length, height - 0.05), (0.04, 0, height / 2)))
    elif kind == "board":
        parts.append(box((0.02, length, height - 0.05), (0.1, 0, height / 2 + 0.02)))
    return finish_shape(
        "fence",
        parts,
        dict(kind=kind, length=length, height=height, posts=posts, rails=rails, pickets=pickets),
        counts={"posts": posts, "rails": rails, "pickets": pickets},
        attributes=[Attribute("fence", kind, ("picket", "chain-link", "board", "post and rail"))],
        features={"gaps to see through": kind in ("picket", "post and rail", "chain-link")},
    )


def build_guard_rail(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["w-beam", "w-beam", "cable"])
    length = rng.uniform(3.0, 10.0)
    spacing = rng.uniform(1.9, 2.2) if kind == "w-beam" else rng.uniform(2.5, 3.5)
    posts = max(2, int(length / spacing) + 1)
    rail_h = rng.uniform(0.68, 0.8)
    end_terminal = bool(kind == "w-beam" and rng.random() < 0.4)
    parts: list[Mesh] = []
    ys = np.linspace(-length / 2, length / 2, posts)
    for y in ys:
        parts.append(box((0.1, 0.15, rail_h + 0.05), (0, y, (rail_h + 0.05) / 2)))
    if kind == "w-beam":
        rails = 1
        for dz in (-0.08, 0.08):
            parts.append(box((0.08, length, 0.16), (0.12, 0, rail_h - 0.17 + dz)))
        parts.append(
            box((0.05, length, 0.05), (0.16, 0, rail_h - 0.17))
        )  # the groove between the bulges
        if end_terminal:
            parts.append(box((0.3, 0.3, rail_h), (0.05, -length / 2 - 0.15, rail_h / 2)))
    else:
        rails = 3
        for k in range(rails):
            parts.append(
                rod(
                    (0.06, -length / 2, rail_h - 0.15 * k),
                    (0.06, length / 2, rail_h - 0.15 * k),
                    0.01,
                    5,
                )
            )
    return finish_shape(
        "guard_rail",
        parts,
        dict(
            kind=kind,
            length=length,
            post_spacing=spacing,
            posts=posts,
            rail_height=rail_h,
            end_terminal=end_terminal,
        ),
        counts={"posts": posts, "cables": rails} if kind == "cable" else {"posts": posts},
        attributes=[
            Attribute(
                "rail",
                "corrugated steel" if kind == "w-beam" else "cable",
                ("corrugated steel", "cable"),
            )
        ],
        features={"an end terminal": end_terminal},
    )


# ---------------------------------------------------------------- bins, hydrants and boxes


def build_trash_can(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["round", "square", "post-mounted", "twin"])
    lid = bool(kind != "post-mounted" and rng.random() < 0.6)
    height = {
        "round": rng.uniform(0.75, 1.05),
        "square": rng.uniform(0.85, 1.2),
        "post-mounted": rng.uniform(0.9, 1.2),
        "twin": rng.uniform(0.85, 1.1),
    }[kind]
    parts: list[Mesh] = []
    bins = 2 if kind == "twin" else 1
    if kind == "round":
        r = rng.uniform(0.25, 0.33)
        parts.append(lathe([r * 0.9, r, r], [0.0, 0.1, height], 18, cap_bottom=True))
        if lid:
            parts.append(
                lathe(
                    [r + 0.02, r * 0.6, 0.0],
                    [height, height + 0.08, height + 0.12],
                    18,
                    cap_bottom=True,
                )
            )
    elif kind == "post-mounted":
        r = rng.uniform(0.18, 0.24)
        body_h = rng.uniform(0.4, 0.55)
        parts.append(box((0.06, 0.06, height), (-r - 0.03, 0, height / 2)))
        parts.append(
            lathe([r, r], [height - body_h, height], 16, cap_bottom=True).translated((0, 0, -0.05))
        )
    else:
        w, d = rng.uniform(0.4, 0.55), rng.uniform(0.4, 0.55)
        for k in range(bins):
            y = (k - (bins - 1) / 2) * (w + 0.05)
            parts.append(slab(-d / 2, d / 2, y - w / 2, y + w / 2, 0.0, height))
            if lid:
                parts.append(
                    prism(
                        [
                            (-d / 2 - 0.02, height),
                            (d / 2 + 0.02, height),
                            (d / 2 + 0.02, height + 0.05),
                            (-d / 2 - 0.02, height + 0.12),
                        ],
                        w + 0.02,
                        y,
                    )
                )
            parts.append(
                box((0.02, w * 0.6, 0.12), (d / 2 + 0.01, y, height * 0.8))
            )  # the slot flap
    return finish_shape(
        "trash_can",
        parts,
        dict(kind=kind, height=height, lid=lid, bins=bins, mounted_on_post=kind == "post-mounted"),
        counts={"bins": bins},
        attributes=[
            Attribute(
                "body",
                "round" if kind in ("round", "post-mounted") else "square",
                ("round", "square"),
            )
        ],
        features={"a lid": lid, "a post": kind == "post-mounted"},
        has_front=kind in ("square", "twin"),
    )


def build_fire_hydrant(rng: np.random.Generator) -> Shape:
    barrel_r = rng.uniform(0.09, 0.14)
    barrel_h = rng.uniform(0.45, 0.75)
    outlets = int(pick(rng, [2, 3, 3]))
    bonnet = pick(rng, ["domed", "flat"])
    chain = bool(rng.random() < 0.3)
    flange_z = rng.uniform(0.05, 0.12)
    parts = [cylinder(barrel_r * 1.15, 0.08, (0, 0, flange_z / 2 + 0.02), segments=16)]
    parts.append(cylinder(barrel_r, barrel_h, (0, 0, barrel_h / 2 + 0.04), segments=16))
    parts.append(torus(barrel_r * 1.05, 0.02, (0, 0, barrel_h * 0.75), segments=16))
    top = barrel_h + 0.04
    if bonnet == "domed":
        parts.append(ellipsoid((barrel_r * 1.1, barrel_r * 1.1, barrel_r * 0.8), (0, 0, top), 8))
        top += barrel_r * 0.8
    else:
        parts.append(cylinder(barrel_r * 1.15, 0.05, (0, 0, top + 0.025), segments=16))
        top += 0.05
    parts.append(prism(_regular(5, 0.025), 0.04).transformed(rot_y(np.pi / 2), (0, 0, top + 0.02)))
    # Outlets: a big pumper nozzle to the front, hose nozzles to the sides.
    z_out = barrel_h * 0.62
    directions = (
        [(1, 0, 0), (0, 1, 0), (0, -1, 0)][:outlets] if outlets == 3 else [(0, 1, 0), (0, -1, 0)]
    )
    for k, d in enumerate(directions):
        big = outlets == 3 and k == 0
        r = barrel_r * (0.55 if big else 0.38)
        start = np.array(d) * barrel_r * 0.8 + (0, 0, z_out)
        parts.append(
            cylinder(r, barrel_r * 0.6, start + np.array(d) * barrel_r * 0.3, axis=d, segments=12)
        )
        parts.append(
            cylinder(r * 1.15, 0.03, start + np.array(d) * barrel_r * 0.62, axis=d, segments=6)
        )
    if chain:
        parts.append(
            torus(
                barrel_r * 0.9, 0.006, (0, 0, z_out + barrel_r * 0.5), axis=(0, 1, 0.2), segments=12
            )
        )
    return finish_shape(
        "fire_hydrant",
        parts,
        dict(
            barrel_radius=barrel_r,
            barrel_height=barrel_h,
            outlets=outlets,
            bonnet=bonnet,
            chain=chain,
            flange_height=flange_z,
        ),
        counts={"outlets": outlets},
        attributes=[Attribute("cap", bonnet, ("domed", "flat"))],
        features={"a chain": chain, "a big front outlet": outlets == 3},
    )


def build_mailbox(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["pillar", "collection", "kerbside"])
    parts: list[Mesh] = []
    legs = 0
    flag = False
    if kind == "pillar":
        r, h = rng.uniform(0.22, 0.3), rng.uniform(1.3, 1.55)
        parts.append(cylinder(r * 1.1, 0.12, (0, 0, 0.06), segments=18))
        parts.append(cylinder(r, h - r * 0.4, (0, 0, (h - r * 0.4) / 2), segments=18))
        parts.append(
            lathe(
                [r * 1.12, r * 1.12, r * 0.5, 0.0],
                [h - r * 0.45, h - r * 0.35, h - 0.05, h],
                18,
                cap_bottom=True,
            )
        )
        parts.append(box((0.04, r * 1.0, 0.05), (r, 0, h - r * 0.8)))  # the letter slot lip
    elif kind == "collection":
        w, d, body_h = rng.uniform(0.45, 0.55), rng.uniform(0.45, 0.55), rng.uniform(0.9, 1.05)
        leg_h = rng.uniform(0.12, 0.2)
        legs = 4
        for x, y in rect_corners(d / 2 - 0.03, w / 2 - 0.03):
            parts.append(box((0.05, 0.05, leg_h), (x, y, leg_h / 2)))
        parts.append(slab(-d / 2, d / 2, -w / 2, w / 2, leg_h, leg_h + body_h))
        # The rounded top: a half-buried elliptic cylinder across the width.
        parts.append(
            cylinder((d / 2, w * 0.15), w, (0, 0, leg_h + body_h), axis=(0, 1, 0), segments=16)
        )
        parts.append(
            prism(
                [
                    (d / 2, leg_h + body_h * 0.8),
                    (d / 2 + 0.1, leg_h + body_h * 0.85),
                    (d / 2, leg_h + body_h * 0.9),
                ],
                w * 0.6,
            )
        )
    else:
        post_h = rng.uniform(0.95, 1.1)
        box_len, box_w = rng.uniform(0.45, 0.55), rng.uniform(0.17, 0.22)
        parts.append(box((0.09, 0.09, post_h), (-0.1, 0, post_h / 2)))
        parts.append(
            slab(-box_len / 2, box_len / 2, -box_w / 2, box_w / 2, post_h, post_h + box_w * 0.55)
        )
        parts.append(
            cylinder(box_w / 2, box_len, (0, 0, post_h + box_w * 0.55), axis=(1, 0, 0), segments=14)
        )
        flag = bool(rng.random() < 0.7)
        if flag:
            parts.append(box((0.03, 0.01, 0.22), (-box_len / 4, box_w / 2 + 0.01, post_h + 0.15)))
            parts.append(
                box((0.1, 0.01, 0.06), (-box_len / 4 + 0.05, box_w / 2 + 0.01, post_h + 0.24))
            )
    return finish_shape(
        "mailbox",
        parts,
        dict(
            kind=kind, legs=legs, flag=flag, on_post=kind == "kerbside", round_body=kind == "pillar"
        ),
        counts={"legs": legs},
        attributes=[
            Attribute(
                "mailbox",
                {"pillar": "pillar-shaped", "collection": "box-shaped", "kerbside": "post-mounted"}[
                    kind
                ],
                ("pillar-shaped", "box-shaped", "post-mounted"),
            )
        ],
        features={
            "a flag": flag,
            "a letter slot": kind != "kerbside",
            "a domed top": kind in ("pillar", "kerbside"),
        },
    )


def build_planter_box(rng: np.random.Generator) -> Shape:
    round_body = bool(rng.random() < 0.35)
    height = rng.uniform(0.4, 0.9)
    w, d = rng.uniform(0.6, 2.0), rng.uniform(0.5, 1.0)
    planted = pick(rng, ["shrubs", "flowers", "empty"])
    feet = bool(not round_body and rng.random() < 0.3)
    wall = 0.06
    z0 = 0.08 if feet else 0.0
    parts: list[Mesh] = []
    if round_body:
        r = d / 2 + 0.1
        parts.append(
            lathe(
                [r * 0.85, r, r - wall, r - wall],
                [0.0, height, height, height - 0.05],
                20,
                cap_bottom=True,
            )
        )
        soil = cylinder(r - wall, 0.02, (0, 0, height - 0.06), segments=20)
        footprint = (r, r)
    else:
        parts += [slab(-d / 2, d / 2, -w / 2, w / 2, z0, z0 + 0.05)]
        for x0, x1, y0, y1 in (
            (-d / 2, d / 2, -w / 2, -w / 2 + wall),
            (-d / 2, d / 2, w / 2 - wall, w / 2),
            (-d / 2, -d / 2 + wall, -w / 2, w / 2),
            (d / 2 - wall, d / 2, -w / 2, w / 2),
        ):
            parts.append(slab(x0, x1, y0, y1, z0, z0 + height))
        soil = slab(
            -d / 2 + wall,
            d / 2 - wall,
            -w / 2 + wall,
            w / 2 - wall,
            z0 + height - 0.08,
            z0 + height - 0.06,
        )
        footprint = (d / 2 - wall, w / 2 - wall)
        if feet:
            for x, y in rect_corners(d / 2 - 0.05, w / 2 - 0.05):
                parts.append(box((0.08, 0.08, z0), (x, y, z0 / 2)))
    parts.append(soil)
    top = z0 + height
    clumps = 0
    if planted != "empty":
        clumps = int(rng.integers(1, 4)) if planted == "shrubs" else int(rng.integers(3, 7))
        size = 0.35 if planted == "shrubs" else 0.12
        for _ in range(clumps):
            cx = rng.uniform(-footprint[0], footprint[0]) * 0.6
            cy = rng.uniform(-footprint[1], footprint[1]) * 0.6
            parts.append(ellipsoid((size, size, size * 0.8), (cx, cy, top - 0.05 + size * 0.6), 6))
    return finish_shape(
        "planter_box",
        parts,
        dict(
            round_body=round_body,
            height=height,
            width=w,
            depth=d,
            planted=planted,
            feet=feet,
            clumps=clumps,
        ),
        counts={"shrubs": clumps} if planted == "shrubs" else {},
        attributes=[
            Attribute(
                "planter box", "round" if round_body else "rectangular", ("round", "rectangular")
            )
        ],
        features={
            "flowers": planted == "flowers",
            "soil showing": planted != "shrubs",
            "feet": feet,
        },
        has_front=False,
    )


def build_construction_barrel(rng: np.random.Generator) -> Shape:
    height = rng.uniform(0.9, 1.05)
    r = rng.uniform(0.25, 0.3)
    bands = int(pick(rng, [2, 3, 4]))
    # Four narrow bands or fewer wide ones fill the same reflective sheeting.
    band_h = height * (0.05 if bands == 4 else rng.uniform(0.07, 0.1))
    light = bool(rng.random() < 0.3)
    base_r = r * rng.uniform(1.3, 1.5)
    parts = [cylinder(base_r, 0.07, (0, 0, 0.035), segments=20)]  # rubber ballast ring
    parts.append(
        lathe(
            [r, r * 0.92, r * 0.85, r * 0.6],
            [0.0, height * 0.5, height - 0.04, height],
            20,
            cap_bottom=False,
            cap_top=True,
        )
    )
    for k in range(bands):
        z = height * (0.2 + 0.7 * (k + 0.5) / bands)
        rz = r - (r - r * 0.85) * z / height
        parts.append(cylinder(rz + 0.012, band_h, (0, 0, z), segments=20))
    if light:
        parts.append(rod((0, 0, height), (0, 0, height + 0.08), 0.01, 5))
        parts.append(cylinder(0.09, 0.05, (0, 0, height + 0.1), axis=(1, 0, 0), segments=14))
    return finish_shape(
        "construction_barrel",
        parts,
        dict(
            height=height,
            radius=r,
            bands=bands,
            band_height=band_h,
            warning_light=light,
            base_radius=base_r,
        ),
        counts={"reflective bands": bands},
        attributes=[
            Attribute("reflective bands", "narrow" if bands == 4 else "wide", ("wide", "narrow"))
        ],
        features={"a warning light": light, "a weighted base ring": True},
        has_front=False,
    )


def build_utility_box(rng: np.random.Generator) -> Shape:
    w, d, h = rng.uniform(0.6, 1.4), rng.uniform(0.3, 0.6), rng.uniform(0.8, 1.6)
    doors = 1 if w < 0.9 else 2
    plinth = rng.uniform(0.05, 0.2)
    pitched = bool(rng.random() < 0.3)
    vents = bool(rng.random() < 0.5)
    parts = [slab(-d / 2 - 0.03, d / 2 + 0.03, -w / 2 - 0.03, w / 2 + 0.03, 0, plinth)]
    parts.append(slab(-d / 2, d / 2, -w / 2, w / 2, plinth, plinth + h))
    for k in range(doors):
        y0 = -w / 2 + k * w / doors
        parts.append(
            box(
                (0.01, w / doors - 0.04, h - 0.08),
                (d / 2 + 0.005, y0 + w / doors / 2, plinth + h / 2),
            )
        )
        parts.append(
            box((0.02, 0.02, 0.12), (d / 2 + 0.015, y0 + w / doors - 0.07, plinth + h / 2))
        )
    if pitched:
        parts.append(
            prism(
                [(-d / 2 - 0.04, plinth + h), (d / 2 + 0.04, plinth + h), (0, plinth + h + 0.08)],
                w + 0.08,
            )
        )
    else:
        parts.append(
            slab(
                -d / 2 - 0.04,
                d / 2 + 0.04,
                -w / 2 - 0.04,
                w / 2 + 0.04,
                plinth + h,
                plinth + h + 0.03,
            )
        )
    if vents:
        for k in range(4):
            parts.append(
                box((0.015, 0.2, 0.015), (d / 2 + 0.01, -w / 2 + 0.15, plinth + h * 0.8 - 0.04 * k))
            )
    return finish_shape(
        "utility_box",
        parts,
        dict(
            width=w, depth=d, height=h, doors=doors, plinth=plinth, pitched_top=pitched, vents=vents
        ),
        counts={"doors": doors},
        attributes=[Attribute("top", "pitched" if pitched else "flat", ("pitched", "flat"))],
        features={"vents": vents, "a plinth": True},
    )


def build_boom_barrier(rng: np.random.Generator) -> Shape:
    boom_len = rng.uniform(3.0, 6.0)
    housing_h = rng.uniform(0.95, 1.15)
    raised = bool(rng.random() < 0.35)
    angle = rng.uniform(1.2, np.pi / 2) if raised else 0.0
    rest = bool(not raised and rng.random() < 0.5)
    skirt = bool(not raised and rng.random() < 0.25)
    hw, hd = rng.uniform(0.3, 0.4), rng.uniform(0.25, 0.35)
    parts = [slab(-hd / 2, hd / 2, -hw / 2, hw / 2, 0, housing_h)]
    pivot = np.array([0.0, hw / 2 + 0.05, housing_h - 0.1])
    direction = np.array([0.0, np.cos(angle), np.sin(angle)])
    parts.append(
        box((0.06, boom_len, 0.1), pivot + direction * boom_len / 2, _boom_rotation(angle))
    )
    if rest:
        y_end = pivot[1] + boom_len - 0.15
        parts.append(rod((0, y_end, 0), (0, y_end, pivot[2] - 0.05), 0.04, 6))
        parts.append(box((0.1, 0.05, 0.05), (0, y_end, 0.02)))
    if skirt:
        for k in range(int(boom_len / 0.3)):
            y = pivot[1] + 0.5 + 0.3 * k
            if y < pivot[1] + boom_len - 0.2:
                parts.append(rod((0, y, pivot[2] - 0.05), (0, y, pivot[2] - 0.55), 0.01, 4))
    return finish_shape(
        "boom_barrier",
        parts,
        dict(
            boom_length=boom_len,
            housing_height=housing_h,
            raised=raised,
            angle=angle,
            boom_rest=rest,
            skirt=skirt,
        ),
        counts={},
        attributes=[Attribute("boom", "raised" if raised else "lowered", ("raised", "lowered"))],
        features={
            "a support post at the boom's end": rest,
            "a hanging skirt": skirt,
            "a housing": True,
        },
    )


def _boom_rotation(angle: float) -> np.ndarray:
    # The boom's long axis is y; raising it turns it about x.
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def build_billboard(rng: np.random.Generator) -> Shape:
    board_w, board_h = rng.uniform(3.0, 6.5), rng.uniform(1.5, 3.2)
    clearance = rng.uniform(2.2, 4.5)
    legs = int(pick(rng, [1, 2, 2]))
    catwalk = bool(rng.random() < 0.4)
    double_sided = bool(rng.random() < 0.4)
    parts: list[Mesh] = []
    depth = 0.4 if double_sided else 0.15
    parts.append(
        slab(-depth / 2, depth / 2, -board_w / 2, board_w / 2, clearance, clearance + board_h)
    )
    ys = (0.0,) if legs == 1 else (-board_w / 4, board_w / 4)
    leg_r = 0.25 if legs == 1 else 0.12
    for y in ys:
        parts.append(
            cylinder(
                leg_r,
                clearance + board_h * 0.5,
                (
                    -depth / 2 - leg_r if not double_sided else 0.0,
                    y,
                    (clearance + board_h * 0.5) / 2,
                ),
                segments=12,
            )
        )
    if catwalk:
        parts.append(
            slab(
                depth / 2,
                depth / 2 + 0.6,
                -board_w / 2,
                board_w / 2,
                clearance - 0.1,
                clearance - 0.05,
            )
        )
        parts.append(box((0.03, board_w, 0.03), (depth / 2 + 0.6, 0, clearance + 0.9)))
    return finish_shape(
        "billboard",
        parts,
        dict(
            board_width=board_w,
            board_height=board_h,
            clearance=clearance,
            legs=legs,
            catwalk=catwalk,
            double_sided=double_sided,
        ),
        counts={"legs": legs},
        attributes=[
            Attribute(
                "board",
                "double-sided" if double_sided else "single-sided",
                ("double-sided", "single-sided"),
            )
        ],
        features={"a catwalk": catwalk},
    )


def build_ev_charger(rng: np.random.Generator) -> Shape:
    kind = pick(rng, ["pedestal", "pedestal", "fast charger"])
    cables = int(pick(rng, [1, 2, 2]))
    screen = bool(kind == "fast charger" or rng.random() < 0.5)
    if kind == "pedestal":
        h, w, d = rng.uniform(1.2, 1.5), rng.uniform(0.25, 0.35), rng.uniform(0.15, 0.25)
    else:
        h, w, d = rng.uniform(1.8, 2.3), rng.uniform(0.6, 0.9), rng.uniform(0.4, 0.6)
    parts = [slab(-d / 2, d / 2, -w / 2, w / 2, 0.0, h)]
    parts.append(slab(-d / 2 - 0.05, d / 2 + 0.05, -w / 2 - 0.05, w / 2 + 0.05, 0.0, 0.05))
    if screen:
        parts.append(box((0.02, w * 0.6, 0.2), (d / 2 + 0.01, 0, h * 0.78)))
    for k in range(cables):
        y = (k - (cables - 1) / 2) * w * 0.5 if cables > 1 else 0.0
        side = np.sign(y) if cables > 1 else 1.0
        holster = np.array([d / 2 + 0.05, y, h * 0.55])
        parts.append(box((0.08, 0.06, 0.12), holster))
        # The cable loops down from the holster and back up to a hook on the side.
        loop = [
            holster,
            (d / 2 + 0.15, y + side * 0.05, 0.35),
            (0.0, y + side * (w / 2 + 0.05), 0.4),
            (0.0, side * (w / 2 + 0.03) + y * 0.2, h * 0.7),
        ]
        for a, b in pairwise(loop):
            parts.append(rod(a, b, 0.015, 5))
    return finish_shape(
        "ev_charger",
        parts,
        dict(kind=kind, cables=cables, screen=screen, height=h, width=w, depth=d),
        counts={"charging cables": cables},
        attributes=[
            Attribute(
                "charger", "fast" if kind == "fast charger" else "standard", ("fast", "standard")
            )
        ],
        features={"a screen": screen},
    )


def build_dumpster(rng: np.random.Generator) -> Shape:
    w, d = rng.uniform(1.5, 2.4), rng.uniform(0.9, 1.8)
    h = rng.uniform(1.1, 1.6)
    lids = 2 if w > 1.7 else 1
    lids_open = int(rng.integers(0, lids + 1))
    wheels = int(pick(rng, [0, 4, 4]))
    z0 = 0.18 if wheels else 0.05
    parts: list[Mesh] = []
    # Sloped front (+x) like a front-loading container: deeper at the top than at the bottom.
    profile = [
        (-d / 2, z0),
        (d / 2 - 0.25, z0),
        (d / 2, z0 + h * 0.55),
        (d / 2, z0 + h),
        (-d / 2, z0 + h),
    ]
    parts.append(prism(profile, w))
    for y in (-w / 2 - 0.03, w / 2 + 0.03):
        parts.append(box((0.12, 0.06, 0.2), (0.0, y, z0 + h * 0.6)))  # fork pockets
    for k in range(lids):
        y0 = -w / 2 + k * w / lids
        yc = y0 + w / lids / 2
        if k < lids_open:
            parts.append(box((0.03, w / lids - 0.04, d), (-d / 2 - 0.02, yc, z0 + h + d / 2)))
        else:
            parts.append(
                box((d + 0.04, w / lids - 0.04, 0.03), (0, yc, z0 + h + 0.015), rot_y(-0.04))
            )
    if wheels:
        for x, y in rect_corners(d / 2 - 0.2, w / 2 - 0.15):
            parts.append(wheel(x, y, 0.07, 0.05, 10))
            parts.append(box((0.08, 0.08, z0 - 0.1), (x, y, 0.1 + (z0 - 0.1) / 2)))
    return finish_shape(
        "dumpster",
        parts,
        dict(width=w, depth=d, height=h, lids=lids, lids_open=lids_open, wheels=wheels),
        counts={"lids": lids, "open lids": lids_open, "wheels": wheels},
        attributes=[
            Attribute("lids", "open" if lids_open == lids else "closed", ("open", "closed"))
        ]
        if lids_open in (0, lids)
        else [],
        features={"casters": wheels > 0},
    )


def build_newspaper_box(rng: np.random.Generator) -> Shape:
    boxes = int(pick(rng, [1, 1, 2, 3]))
    w, d = rng.uniform(0.4, 0.5), rng.uniform(0.35, 0.45)
    body_h = rng.uniform(0.55, 0.7)
    stand_h = rng.uniform(0.3, 0.45)
    pedestal = bool(rng.random() < 0.5)
    parts: list[Mesh] = []
    glass: list[Mesh] = []
    for k in range(boxes):
        y = (k - (boxes - 1) / 2) * (w + 0.03)
        if pedestal:
            parts.append(box((0.08, 0.08, stand_h), (0, y, stand_h / 2)))
            parts.append(box((d * 0.8, w * 0.6, 0.03), (0, y, 0.015)))
        else:
            for x, yy in rect_corners(d / 2 - 0.03, w / 2 - 0.03):
                parts.append(box((0.03, 0.03, stand_h), (x, y + yy, stand_h / 2)))
        z0, z1 = stand_h, stand_h + body_h
        parts.append(slab(-d / 2, d / 2 - 0.03, y - w / 2, y + w / 2, z0, z1))
        # The front door: a steel frame around a window onto today's paper.
        parts.append(slab(d / 2 - 0.03, d / 2, y - w / 2, y + w / 2, z0, z0 + body_h * 0.35))
        parts.append(slab(d / 2 - 0.03, d / 2, y - w / 2, y + w / 2, z1 - 0.05, z1))
        glass.append(
            _pane(
                d / 2 - 0.015,
                d / 2 - 0.015,
                y - w / 2 + 0.04,
                y + w / 2 - 0.04,
                z0 + body_h * 0.35,
                z1 - 0.05,
            )
        )
        parts.append(box((0.05, 0.1, 0.12), (d / 2 + 0.025, y + w / 4, z1 - 0.12)))  # coin box
    return finish_shape(
        "newspaper_box",
        parts,
        dict(
            boxes=boxes,
            width=w,
            depth=d,
            body_height=body_h,
            stand_height=stand_h,
            pedestal=pedestal,
        ),
        glass_parts=glass,
        counts={"vending units": boxes},
        attributes=[
            Attribute(
                "stand", "pedestal" if pedestal else "four-legged", ("pedestal", "four-legged")
            )
        ],
        features={"a window in the door": True, "a coin slot": True},
    )


# name -> (words, plausible heights in metres, builder); ``outdoor`` registers them in this order.
SPECS: dict[
    str, tuple[tuple[str, ...], tuple[float, float], Callable[[np.random.Generator], Shape]]
] = {
    "barrier": (
        ("barrier", "road barrier", "safety barrier"),
        (0.75, 1.3),
        build_barrier,
    ),
    "bollard": (("bollard", "traffic post", "parking post"), (0.6, 1.6), build_bollard),
    "utility_pole": (
        ("utility pole", "pole", "telephone pole", "power pole"),
        (7.0, 13.0),
        build_utility_pole,
    ),
    "traffic_sign": (
        ("traffic sign", "road sign", "street sign", "signpost"),
        (2.1, 3.2),
        build_traffic_sign,
    ),
    "traffic_light": (
        ("traffic light", "traffic signal", "stoplight", "signal light"),
        (2.5, 7.0),
        build_traffic_light,
    ),
    "street_light": (
        ("street light", "streetlight", "lamppost", "light pole"),
        (3.5, 11.6),
        build_street_light,
    ),
    "bus_stop": (("bus stop", "bus shelter", "transit shelter"), (2.3, 3.2), build_bus_stop),
    "bike_rack": (("bike rack", "bicycle rack", "cycle stand"), (0.25, 1.0), build_bike_rack),
    "parking_meter": (
        ("parking meter", "pay and display machine", "parking pay station"),
        (1.1, 2.1),
        build_parking_meter,
    ),
    "fence": (("fence", "fence segment", "fencing"), (0.9, 2.1), build_fence),
    "guard_rail": (("guard rail", "guardrail", "crash barrier"), (0.6, 0.9), build_guard_rail),
    "trash_can": (
        ("trash can", "litter bin", "street bin", "public waste bin"),
        (0.7, 1.35),
        build_trash_can,
    ),
    "fire_hydrant": (("fire hydrant", "hydrant", "fireplug"), (0.5, 1.1), build_fire_hydrant),
    "mailbox": (("mailbox", "post box", "postbox", "letter box"), (1.1, 1.7), build_mailbox),
    "planter_box": (("planter box", "street planter", "raised bed"), (0.4, 1.5), build_planter_box),
    "construction_barrel": (
        ("construction barrel", "traffic barrel", "traffic drum"),
        (0.9, 1.3),
        build_construction_barrel,
    ),
    "utility_box": (
        ("utility box", "street cabinet", "electrical cabinet"),
        (0.85, 1.9),
        build_utility_box,
    ),
    "boom_barrier": (("boom barrier", "boom gate", "barrier arm"), (0.95, 7.5), build_boom_barrier),
    "billboard": (
        ("billboard", "advertising hoarding", "advertising board"),
        (3.7, 7.8),
        build_billboard,
    ),
    "ev_charger": (
        ("ev charger", "charging station", "electric vehicle charger"),
        (1.2, 2.4),
        build_ev_charger,
    ),
    "dumpster": (("dumpster", "skip", "waste container"), (1.1, 3.7), build_dumpster),
    "newspaper_box": (
        ("newspaper box", "newspaper vending machine", "news box"),
        (0.85, 1.2),
        build_newspaper_box,
    ),
}
