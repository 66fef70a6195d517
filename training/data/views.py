"""Objects where a sensor meets them: which rig, from how far and how high, and what is around.

An object stands on the ground (z=0) and a rig looks at it from its mount height at a range
drawn from where robots meet that category (``ENCOUNTERS``, with a fallback from the object's
size and domain, so new categories work without an entry). Around it, sometimes: another
object in front that hides part of it (an occluder), a neighbour close enough that a few of its
points fall into the crop, and the ground, whose points near the base a crop keeps when its
floor sits below the ground. The cloud is what a box crop of the scan returns.

View frame (as ``training.data.objects`` documents): metres, z up, origin at the object's
footprint centre on the floor, the sensor on the -x side at (-range, 0, mount height).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

from training.data.categories import DOMAIN
from training.data.families import Shape
from training.data.mesh import Mesh, box, cylinder, rot_z, slab
from training.data.sensors import (
    DepthCamera,
    LidarModel,
    RayScene,
    Rig,
    Scan,
    depth_scan,
    lidar_scan,
    pixel_window,
    rig,
)

# A view with fewer returns than this is taken again from closer (real crops go down to ~10).
MIN_POINTS = 10
RETRIES = 4
# A depth view casts at most about this many rays: a close object filling the image is
# decimated (as robots decimate depth images); the encoder samples 2048 points at most anyway.
DEPTH_MAX_RAYS = 6000


@dataclass(frozen=True)
class Encounter:
    """Horizontal ranges (m) at which robots meet a category, and where: "road" or "indoor"."""

    near_m: float
    far_m: float
    setting: str


VEHICLE = Encounter(3.0, 70.0, "road")
PERSON_SIZED = Encounter(1.5, 45.0, "road")
STREET_FURNITURE = Encounter(1.0, 30.0, "road")
FURNITURE = Encounter(0.5, 10.0, "indoor")
SMALL_THING = Encounter(0.3, 5.0, "indoor")

# Categories whose size alone would mislead the fallback (``encounter_for``).
ENCOUNTERS: dict[str, Encounter] = {
    "airplane": Encounter(10.0, 80.0, "road"),
    "car": VEHICLE,
    "person": PERSON_SIZED,
    "bench": STREET_FURNITURE,
    "cone": STREET_FURNITURE,
    "tent": Encounter(2.0, 40.0, "road"),
}

# The bands that summaries (`pointlang-data stats`) and evaluation (`pointlang-eval dataset`)
# group views by, [edge_i, edge_i+1), the last one open. Range: horizontal metres from the sensor
# to the object, as issue 12 measures the model (a car at 40 m is ~20-300 LiDAR returns). Points:
# the returns in the object's crop, from the sparsest real crops (~10) to dense near views.
RANGE_BANDS_M: tuple[float, ...] = (0.0, 10.0, 25.0, 50.0)
POINT_BANDS: tuple[int, ...] = (0, 50, 200, 1000)


def band(value: float, edges: tuple[float, ...]) -> str:
    """The band of ``edges`` a value falls in, as "10-25" (the last one is open: "50+")."""
    for lo, hi in pairwise(edges):
        if value < hi:
            return f"{lo:g}-{hi:g}"
    return f"{edges[-1]:g}+"


def range_band(range_m: float) -> str:
    """The range band of a view, as "10-25 m" (the last one is open: "50+ m")."""
    return f"{band(range_m, RANGE_BANDS_M)} m"


def points_band(num_points: int) -> str:
    """The point-count band of a cloud, as "50-200" (the last one is open: "1000+")."""
    return band(num_points, POINT_BANDS)


# Which rigs see objects of a setting, and how often (the realistic mix).
RIG_MIX: dict[tuple[str, str], dict[str, float]] = {
    ("lidar", "road"): {
        "car-64": 0.3,
        "car-32": 0.2,
        "car-128": 0.2,
        "robot-16": 0.15,
        "robot-32": 0.15,
    },
    ("lidar", "indoor"): {"robot-16": 0.5, "robot-32": 0.5},
    ("depth", "road"): {"robot-d435": 0.5, "robot-kinect": 0.5},
    ("depth", "indoor"): {"robot-d435": 0.5, "robot-kinect": 0.5},
}


def encounter_for(category: str, shape: Shape) -> Encounter:
    """The table's entry, else one from the object's domain and size."""
    if category in ENCOUNTERS:
        return ENCOUNTERS[category]
    depth, width, height = shape.dimensions()
    footprint = max(depth, width)
    if DOMAIN.get(category) == "outdoor":
        if footprint >= 2.5 or height >= 2.5:
            return VEHICLE
        return PERSON_SIZED if height >= 1.0 else STREET_FURNITURE
    return SMALL_THING if max(footprint, height) < 0.6 else FURNITURE


@dataclass(frozen=True)
class ViewConfig:
    """How object views are drawn. Defaults: the realistic mix."""

    rigs: tuple[str, ...] = ()  # empty: RIG_MIX for the object's setting
    range_m: tuple[float, float] | None = None  # None: the category's encounter range
    occluder_probability: float = 0.35
    neighbour_probability: float = 0.2
    min_points: int = MIN_POINTS

    def __post_init__(self) -> None:
        for name in self.rigs:
            rig(name)
        if self.range_m is not None and not 0 < self.range_m[0] <= self.range_m[1]:
            raise ValueError(f"range band {self.range_m} is invalid; expected 0 < near <= far")


@dataclass(frozen=True)
class Surroundings:
    """What is around the object and how the crop is cut. Lengths in metres."""

    occluder: bool
    neighbour: bool
    reflectivity: float  # the object's
    crop_margin_m: float  # the crop box is the object's box grown by this sideways
    crop_floor_m: float  # and cut at this height (below 0: ground points come in)
    crop_top_m: float  # and this much above the object

    @staticmethod
    def draw(rng: np.random.Generator, config: ViewConfig, shape: Shape) -> Surroundings:
        depth, width, height = shape.dimensions()
        # Crops hug small things tighter; 40 % of crops reach below the ground (ground points).
        margin = rng.uniform(0.05, 0.3) * float(np.clip(max(depth, width), 0.2, 1.0))
        if rng.random() < 0.4:
            floor = -rng.uniform(0.01, 0.06)
        else:
            floor = rng.uniform(0.02, max(0.03, min(0.15, 0.2 * height)))
        return Surroundings(
            occluder=bool(rng.random() < config.occluder_probability),
            neighbour=bool(rng.random() < config.neighbour_probability),
            reflectivity=float(rng.uniform(0.1, 0.9)),
            crop_margin_m=float(margin),
            crop_floor_m=float(floor),
            crop_top_m=float(rng.uniform(0.02, 0.08)),
        )

    @staticmethod
    def bare(reflectivity: float = 0.8) -> Surroundings:
        """Nothing around and no ground in the crop (for tests and clean references)."""
        return Surroundings(False, False, reflectivity, 0.1, 0.05, 0.05)


@dataclass
class View:
    """What the manifest records about how an object was seen."""

    rig: str
    sensor_model: str
    mount_height_m: float
    range_m: float
    occlusion: float  # share of the object's returns that objects in front took away
    ground_points: int
    clutter_points: int  # points of other objects inside the crop

    def fields(self) -> dict:
        return {
            "rig": self.rig,
            "sensor_model": self.sensor_model,
            "mount_height_m": round(float(self.mount_height_m), 3),
            "range_m": round(float(self.range_m), 3),
            "occlusion": round(float(self.occlusion), 3),
            "ground_points": self.ground_points,
            "clutter_points": self.clutter_points,
        }


def choose_rig(sensor: str, setting: str, config: ViewConfig, rng: np.random.Generator) -> Rig:
    """A rig for a view: one of the configured rigs, else drawn from the setting's mix."""
    if config.rigs:
        names = [n for n in config.rigs if rig(n).kind == sensor]
        if not names:
            raise ValueError(f"none of the rigs {config.rigs} is a {sensor} rig")
        return rig(names[int(rng.integers(len(names)))])
    mix = RIG_MIX[(sensor, setting)]
    names = list(mix)
    weights = np.array([mix[n] for n in names])
    return rig(names[int(rng.choice(len(names), p=weights / weights.sum()))])


def front_distance(shape: Shape, yaw: float) -> float:
    """How far the object, turned by ``yaw``, reaches towards the sensor (-x) from its centre."""
    x = shape.mesh.vertices[:, :2] @ np.array([np.cos(yaw), -np.sin(yaw)])
    return float(-x.min())


def range_limits(rig_: Rig, mount: float, front: float, height: float) -> tuple[float, float]:
    """(nearest, farthest) horizontal range at which ``rig_`` sees a fair part of an object whose
    near side is ``front`` metres before its centre."""
    sensor = rig_.sensor
    # Keep the near face clear of the sensor's minimum range, noise and all.
    near = front + 1.25 * sensor.min_range_m + 0.1
    if isinstance(sensor, LidarModel):
        lowest = float(sensor.elevations()[0])
        if mount > height / 2 and lowest < 0:
            # Closer than this the lowest beam passes over the object's upper half.
            near = max(near, front + (mount - height / 2) / np.tan(-lowest))
        return near, 0.9 * sensor.max_range_m
    return near, depth_reach(sensor)


def _beam_crossing_range(rig_: Rig, mount: float, front: float, height: float) -> float:
    """The nearest usable range at which a beam meets the object's front at half its height."""
    near = range_limits(rig_, mount, front, height)[0]
    sensor = rig_.sensor
    if not isinstance(sensor, LidarModel) or mount <= height / 2:
        return near
    down = sensor.elevations()
    down = down[down < 0]
    ranges = (mount - height / 2) / np.tan(-down) + front
    usable = ranges[ranges >= near]
    return float(usable.min()) if usable.size else near


def depth_reach(camera: DepthCamera) -> float:
    """Farthest depth with noise under 3 % of the depth (stereo noise grows with z^2)."""
    if camera.noise == "stereo":
        return min(
            0.9 * camera.max_range_m,
            0.03 * camera.focal_px * camera.baseline_m / camera.subpixel_rms,
        )
    return 0.9 * camera.max_range_m


def take_view(
    shape: Shape, yaw: float, sensor: str, rng: np.random.Generator, config: ViewConfig
) -> tuple[np.ndarray, View]:
    """The cloud a ``sensor`` ("lidar" or "depth") rig sees of ``shape`` turned by ``yaw``."""
    encounter = encounter_for(shape.category, shape)
    rig_ = choose_rig(sensor, encounter.setting, config, rng)
    mount = float(rng.uniform(*rig_.mount_height_m))
    front = front_distance(shape, yaw)
    height = float(shape.mesh.bounds()[1][2])
    lo, hi = config.range_m or (encounter.near_m, encounter.far_m)
    near, far = range_limits(rig_, mount, front, height)
    lo, hi = max(lo, near), min(hi, far)
    range_m = float(rng.uniform(lo, hi)) if hi > lo else max(lo, near)
    surroundings = Surroundings.draw(rng, config, shape)
    cloud, view = view_at(shape, yaw, rig_, range_m, mount, surroundings, rng)
    for attempt in range(RETRIES):
        if len(cloud) >= config.min_points:
            break
        # Too few returns (far, dark, hidden or thin): step closer with nothing in front, the
        # last time alone, from the rig's lowest mount, with a beam aimed at its half height.
        surroundings = replace(
            surroundings, occluder=False, reflectivity=max(surroundings.reflectivity, 0.5)
        )
        if attempt == RETRIES - 1:
            mount = rig_.mount_height_m[0]
            range_m = _beam_crossing_range(rig_, mount, front, height)
            surroundings = replace(
                surroundings, neighbour=False, crop_floor_m=min(surroundings.crop_floor_m, 0.01)
            )
        else:
            range_m = max(near, (range_m + lo) / 2)
        cloud, view = view_at(shape, yaw, rig_, range_m, mount, surroundings, rng)
    return cloud, view


def _occluder(mesh: Mesh, range_m: float, rng: np.random.Generator) -> Mesh:
    """A box between the sensor and the object that hides part of it (often the lower part)."""
    lo, hi = mesh.bounds()
    width, height = float(hi[1] - lo[1]), float(hi[2])
    occ_h = min(height * rng.uniform(0.3, 0.9), 2.0)
    occ_w = max(width, 0.4) * rng.uniform(0.4, 1.2)
    occ_d = rng.uniform(0.2, 1.0)
    near_side = float(lo[0])  # the object's face towards the sensor
    room = range_m + near_side - 0.6  # free length between the sensor and the object
    gap = rng.uniform(0.2, max(0.3, min(6.0, 0.5 * room)))
    x = near_side - gap - occ_d / 2
    y = rng.uniform(-0.5, 0.5) * (width + occ_w)
    return box((occ_d, occ_w, occ_h), (x, y, occ_h / 2))


def _neighbour(shape: Shape, rotation: np.ndarray, rng: np.random.Generator) -> Mesh:
    """Another thing standing just beside the object, often close enough that a few of its
    points fall into the crop."""
    lo, hi = shape.mesh.bounds()
    height = max(float(hi[2]), 0.4)
    size = rng.uniform(0.15, 0.6)
    h = height * rng.uniform(0.4, 1.3)
    axis = int(rng.integers(2))  # beside the object's own x or y side
    side = 1.0 if rng.random() < 0.5 else -1.0
    centre = np.zeros(3)
    centre[axis] = (hi[axis] if side > 0 else -lo[axis]) * side + side * (
        size / 2 + rng.uniform(0.0, 0.25)
    )
    centre[1 - axis] = rng.uniform(lo[1 - axis], hi[1 - axis])
    centre[2] = h / 2
    if rng.random() < 0.5:
        part = cylinder(size / 2, h, segments=10)
    else:
        part = box((size, size, h), rotation=rot_z(rng.uniform(0, np.pi)))
    return part.transformed(rotation, rotation @ centre)


def view_at(
    shape: Shape,
    yaw: float,
    rig_: Rig,
    range_m: float,
    mount_height_m: float,
    surroundings: Surroundings,
    rng: np.random.Generator,
) -> tuple[np.ndarray, View]:
    """The cropped cloud of ``shape`` (turned by ``yaw``) seen by ``rig_`` from ``range_m``."""
    rotation = rot_z(yaw)
    mesh = shape.mesh.transformed(rotation)
    lo, hi = mesh.bounds()
    radius = float(np.max(np.linalg.norm(mesh.vertices[:, :2], axis=1)))
    height = float(hi[2])
    if range_m < front_distance(shape, yaw) + 0.1:
        raise ValueError(
            f"range {range_m:.2f} m puts the sensor inside the object; expected more than "
            f"{front_distance(shape, yaw) + 0.1:.2f} m"
        )
    scene = RayScene()
    own = [scene.add(mesh, surroundings.reflectivity)]
    if shape.glass is not None:
        own.append(scene.add(shape.glass.transformed(rotation), 0.5, glass=True))
    far_edge = radius + 10.0
    ground = scene.add(
        slab(-range_m - 2.0, far_edge, -far_edge, far_edge, -0.05, 0.0),
        float(rng.uniform(0.1, 0.3)),
    )
    others: frozenset[int] = frozenset()
    if surroundings.occluder:
        others |= {scene.add(_occluder(mesh, range_m, rng), float(rng.uniform(0.1, 0.9)))}
    if surroundings.neighbour:
        others |= {scene.add(_neighbour(shape, rotation, rng), float(rng.uniform(0.1, 0.9)))}
    sensor_position = np.array([-range_m, 0.0, mount_height_m])

    if isinstance(rig_.sensor, LidarModel):
        result = _lidar_object_scan(
            scene, sensor_position, rig_.sensor, radius, height, surroundings, rng, others
        )
    else:
        result = _depth_object_scan(
            scene, sensor_position, rig_.sensor, lo, hi, surroundings, rng, others
        )
    seen = int(np.isin(result.geometry_ids, own).sum())
    lost = int(np.isin(result.occluded_ids, own).sum())
    occlusion = lost / (seen + lost) if seen + lost else 0.0
    inside = _in_crop(result.points, rotation, shape, surroundings)
    ids = result.geometry_ids[inside]
    cloud = result.points[inside]
    view = View(
        rig=rig_.name,
        sensor_model=rig_.sensor.name,
        mount_height_m=mount_height_m,
        range_m=range_m,
        occlusion=occlusion,
        ground_points=int((ids == ground).sum()),
        clutter_points=int(np.isin(ids, list(others)).sum()),
    )
    return np.ascontiguousarray(cloud, dtype=np.float32), view


def _in_crop(
    points: np.ndarray, rotation: np.ndarray, shape: Shape, surroundings: Surroundings
) -> np.ndarray:
    """Which points fall in the object's own box grown by the crop margins."""
    own = points @ rotation  # world -> object frame (inverse of a rotation is its transpose)
    lo, hi = shape.mesh.bounds()
    m = surroundings.crop_margin_m
    return (
        (own[:, 0] >= lo[0] - m)
        & (own[:, 0] <= hi[0] + m)
        & (own[:, 1] >= lo[1] - m)
        & (own[:, 1] <= hi[1] + m)
        & (own[:, 2] >= surroundings.crop_floor_m)
        & (own[:, 2] <= hi[2] + surroundings.crop_top_m)
    )


def _lidar_object_scan(
    scene: RayScene,
    position: np.ndarray,
    model: LidarModel,
    radius: float,
    height: float,
    surroundings: Surroundings,
    rng: np.random.Generator,
    occluders: frozenset[int],
) -> Scan:
    """Only the rays that can reach the crop box: its angular extent seen from the sensor."""
    range_m = -float(position[0])
    mount = float(position[2])
    reach = radius + surroundings.crop_margin_m
    step = np.radians(model.azimuth_step_deg)
    half = np.arcsin(min(1.0, reach / range_m)) + 2 * step
    near, far = max(range_m - reach, 0.05), range_m + reach
    margin = np.radians(0.5)
    # Looking down at a point, the steepest ray is to its nearest spot, the shallowest to its
    # farthest (a wide object's far corners); looking up, the other way round.
    bottom, top = (
        min(surroundings.crop_floor_m, 0.0) - mount,
        height + surroundings.crop_top_m - mount,
    )
    el_window = (
        np.arctan2(bottom, near if bottom < 0 else far) - margin,
        np.arctan2(top, far if top < 0 else near) + margin,
    )
    phase = float(rng.uniform(0.0, step))
    return lidar_scan(scene, position, 0.0, model, rng, (-half, half), el_window, phase, occluders)


def _depth_object_scan(
    scene: RayScene,
    eye: np.ndarray,
    camera: DepthCamera,
    lo: np.ndarray,
    hi: np.ndarray,
    surroundings: Surroundings,
    rng: np.random.Generator,
    occluders: frozenset[int],
) -> Scan:
    """A camera aimed near the object's centre (not exactly: robots do not frame objects)."""
    size = hi - lo
    target = (lo + hi) / 2 + rng.uniform(-0.15, 0.15, 3) * size
    m = surroundings.crop_margin_m
    corners = np.array(
        [
            [x, y, z]
            for x in (lo[0] - m, hi[0] + m)
            for y in (lo[1] - m, hi[1] + m)
            for z in (min(surroundings.crop_floor_m, 0.0), hi[2] + surroundings.crop_top_m)
        ]
    )
    window = pixel_window(camera, eye, target, corners)
    pixels = (window[1] - window[0]) * (window[3] - window[2])
    decimation = max(1, int(np.ceil(np.sqrt(pixels / DEPTH_MAX_RAYS))))
    return depth_scan(scene, eye, target, camera, rng, window, occluders, decimation)
