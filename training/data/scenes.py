"""Scenes: objects on the ground and a rig moving past, written as a rosbag2 with ground truth.

Two kinds, both with the rigs of ``training.data.sensors``:
- ``room``: furniture and indoor things on a floor inside four walls, a ground robot's LiDAR
  (default ``robot-32``) driving through at walking pace;
- ``street``: a road with vehicles in the lanes and parked at the kerbs, pedestrians and riders on
  the pavements and at the road edge, street furniture, building fronts on both sides, and a
  car-roof LiDAR (default ``car-64``) driving down the middle.
Categories default to every category met in that setting (``training.data.views``), so new
families appear in scenes as they are registered.

Topics (one message each per sweep, same stamp):
- ``/lidar/points`` ``sensor_msgs/msg/PointCloud2``, frame ``lidar``, unorganised (height 1),
  fields x, y, z, intensity (float32) and ring (uint16), point_step 20, dense (no NaNs).
- ``/pointlang/ground_truth`` ``ros_pointlang/msg/DescribedObjectArray``, frame ``lidar``: one
  DescribedObject per object hit by at least one ray in that sweep; id = object index + 1 (never
  0) and stable through the bag; pose = box centre and yaw in the sensor frame of that sweep;
  size = box extent along the box's own x (front-back), y (side to side), z (height);
  num_points = returns on the object (its glass included); one label (category spoken name,
  score 1.0); caption = one reference caption.

Ground truth is expressed in the sweep's own sensor frame, so no tf is needed to score a
detector that runs on the cloud as it arrives; the sensor moves in a straight line at constant
speed along the world x axis (heading 0), stamps advance at ``rate_hz`` (default: the rig's
rotation rate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.data.categories import CATEGORIES, category_index, display_name
from training.data.families import Shape, build_shape
from training.data.language import captions_for
from training.data.mesh import Mesh, rot_z, slab
from training.data.sensors import LidarModel, RayScene, lidar_scan, rig
from training.data.views import PERSON_SIZED, VEHICLE, encounter_for

POINTS_TOPIC = "/lidar/points"
GROUND_TRUTH_TOPIC = "/pointlang/ground_truth"
SENSOR_FRAME = "lidar"
POINT_STEP = 20
STORAGES = ("sqlite3", "mcap")
KINDS = ("room", "street")
DEFAULT_RIG = {"room": "robot-32", "street": "car-64"}
SETTING = {"room": "indoor", "street": "road"}
# Street cross-section (metres from the centre line): lanes, kerbside parking, pavements.
LANE_Y = 1.75
PARKING_Y = 5.0
PAVEMENT_Y = (6.5, 10.0)
FACADE_Y = 12.0
# Longest footprint that fits (indexed by "is a vehicle"): a bus in a lane, a bench on a pavement.
STREET_MAX_FOOTPRINT_M = {True: 13.0, False: 3.5}


@dataclass
class SceneConfig:
    """What a generated scene bag contains. Lengths in metres, speed in m/s, None: by kind."""

    kind: str = "room"
    min_objects: int = 3
    max_objects: int = 12
    room_size_m: float = 14.0
    street_length_m: float = 90.0
    walls: bool = True
    sweeps: int = 30
    rate_hz: float | None = None  # None: the rig's rotation rate
    speed_mps: float | None = None  # None: 1 m/s in a room, 8 m/s on a street
    rig: str | None = None  # None: DEFAULT_RIG of the kind
    mount_height_m: float | None = None  # None: the middle of the rig's mount heights
    categories: tuple[str, ...] | None = None  # None: every category met in the kind's setting
    # Room objects whose footprint is wider than this are redrawn (an airliner does not fit).
    max_footprint_m: float = 3.5
    start_time_ns: int = 1_700_000_000_000_000_000

    def resolved_rig(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown scene kind {self.kind!r}; expected one of {KINDS}")
        chosen = rig(self.rig or DEFAULT_RIG[self.kind])
        if not isinstance(chosen.sensor, LidarModel):
            raise ValueError(f"scene rig {chosen.name!r} is a depth camera; expected a LiDAR rig")
        return chosen


@dataclass
class PlacedObject:
    category: str
    mesh: Mesh  # in the world frame
    glass: Mesh | None  # in the world frame
    position: np.ndarray  # footprint centre on the floor, world frame
    yaw: float
    size: tuple[float, float, float]  # own x, y, z extents
    caption: str
    params: dict = field(default_factory=dict)


def _find_msg_dir() -> Path:
    """The folder holding our .msg files: the source tree, or an installed ROS share folder."""
    candidates = [Path(__file__).resolve().parents[2] / "msg"]
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            candidates.append(Path(prefix) / "share" / "ros_pointlang" / "msg")
    for path in candidates:
        if (path / "DescribedObjectArray.msg").is_file():
            return path
    raise ValueError(
        f"DescribedObjectArray.msg not found in {', '.join(map(str, candidates))}; "
        "expected the repository's msg/ folder or an installed ros_pointlang share folder"
    )


def pointlang_typestore(msg_dir: str | os.PathLike | None = None):
    """A rosbags typestore (ROS 2 Kilted) with our ros_pointlang messages registered."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    folder = Path(msg_dir) if msg_dir is not None else _find_msg_dir()
    typestore = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for path in sorted(folder.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"ros_pointlang/msg/{path.stem}"))
    typestore.register(types)
    return typestore


def build_scene(seed: int, config: SceneConfig) -> tuple[list[PlacedObject], list[Mesh], dict]:
    """Objects placed on the ground without overlaps, the static meshes, and the sensor path."""
    if config.min_objects < 1 or config.max_objects < config.min_objects:
        raise ValueError(
            f"object count range {config.min_objects}..{config.max_objects} is invalid; "
            "expected 1 <= min_objects <= max_objects"
        )
    lidar_rig = config.resolved_rig()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7919]))
    street = config.kind == "street"
    rate = config.rate_hz or lidar_rig.sensor.rotation_hz
    speed = config.speed_mps if config.speed_mps is not None else (8.0 if street else 1.0)
    mount = config.mount_height_m or float(np.mean(lidar_rig.mount_height_m))
    extent = config.street_length_m if street else config.room_size_m
    path_length = min(speed * config.sweeps / rate, extent - 2)
    lane_y = 0.0 if street else float(rng.uniform(-1.0, 1.0))
    path = {
        "start": np.array([-path_length / 2, lane_y - (LANE_Y if street else 0.0), mount]),
        "velocity": np.array([path_length / max(config.sweeps - 1, 1) * rate, 0, 0]),
        "rate_hz": rate,
    }
    categories = config.categories or CATEGORIES
    wanted = int(rng.integers(config.min_objects, config.max_objects + 1))
    placed: list[PlacedObject] = []
    for index in range(wanted * 40):
        if len(placed) == wanted:
            break
        category = categories[int(rng.integers(len(categories)))]
        shape_rng = np.random.default_rng(
            np.random.SeedSequence([seed, category_index(category), 100_000 + index])
        )
        shape = build_shape(category, shape_rng)
        encounter = encounter_for(category, shape)
        if config.categories is None and encounter.setting != SETTING[config.kind]:
            continue
        spot = (
            _street_spot(shape, encounter, extent, rng)
            if street
            else _room_spot(shape, config, lane_y, rng)
        )
        if spot is None:
            continue
        xy, yaw = spot
        radius = _footprint_radius(shape)
        if any(np.linalg.norm(xy - p.position[:2]) < radius + _radius(p) + 0.2 for p in placed):
            continue
        depth, width, height = shape.dimensions()
        # No "facing" words: the sensor drives past, so the object's bearing changes per sweep.
        caption = captions_for(shape, None, shape_rng, count=1)[0]
        glass = shape.glass.transformed(rot_z(yaw), (xy[0], xy[1], 0.0)) if shape.glass else None
        placed.append(
            PlacedObject(
                category,
                shape.mesh.transformed(rot_z(yaw), (xy[0], xy[1], 0.0)),
                glass,
                np.array([xy[0], xy[1], 0.0]),
                yaw,
                (depth, width, height),
                caption,
                dict(shape.params),
            )
        )
    return placed, _static_meshes(config, extent), path


def _footprint_radius(shape: Shape) -> float:
    return float(np.max(np.linalg.norm(shape.mesh.vertices[:, :2], axis=1)))


def _room_spot(shape: Shape, config: SceneConfig, lane_y: float, rng: np.random.Generator):
    """A free floor spot off the robot's corridor, or None if the object does not fit."""
    depth, width, _ = shape.dimensions()
    radius = _footprint_radius(shape)
    limit = config.room_size_m / 2 - radius - 0.3
    if max(depth, width) > config.max_footprint_m or limit <= 0:
        return None
    xy = rng.uniform(-limit, limit, 2)
    if abs(xy[1] - lane_y) < radius + 0.6:  # keep a corridor free for the sensor
        return None
    return xy, float(rng.uniform(-np.pi, np.pi))


def _street_spot(shape: Shape, encounter, length: float, rng: np.random.Generator):
    """Vehicles in a lane or parked at the kerb (along the road); people on the pavement or at
    the road edge; everything else on the pavement. None if it fits nowhere (an airliner)."""
    depth, width, _ = shape.dimensions()
    if max(depth, width) > STREET_MAX_FOOTPRINT_M[encounter == VEHICLE]:
        return None
    x = float(rng.uniform(-length / 2, length / 2))
    side = 1.0 if rng.random() < 0.5 else -1.0
    along = float(rng.choice([0.0, np.pi])) + float(rng.normal(0.0, 0.05))
    if encounter == VEHICLE:
        # The ego lane (y = -LANE_Y) stays free ahead of the car; the others are used.
        y = float(rng.choice([LANE_Y, PARKING_Y, -PARKING_Y]))
        return np.array([x, y]), along
    if encounter == PERSON_SIZED and rng.random() < 0.3:
        return np.array([x, side * (PARKING_Y - 1.0)]), along
    y = side * float(rng.uniform(*PAVEMENT_Y))
    return np.array([x, y]), float(rng.uniform(-np.pi, np.pi))


def _static_meshes(config: SceneConfig, extent: float) -> list[Mesh]:
    half = extent / 2
    if config.kind == "street":
        static = [slab(-half - 40, half + 40, -FACADE_Y - 5, FACADE_Y + 5, -0.05, 0.0)]
        if config.walls:
            for side in (-1, 1):
                y0 = side * FACADE_Y
                static.append(
                    slab(-half - 40, half + 40, min(y0, y0 + side), max(y0, y0 + side), 0, 9)
                )
        return static
    static = [slab(-half, half, -half, half, -0.05, 0.0)]
    if config.walls:
        wall_h = 2.5
        static += [
            slab(-half - 0.1, -half, -half, half, 0, wall_h),
            slab(half, half + 0.1, -half, half, 0, wall_h),
            slab(-half, half, -half - 0.1, -half, 0, wall_h),
            slab(-half, half, half, half + 0.1, 0, wall_h),
        ]
    return static


def _radius(obj: PlacedObject) -> float:
    return float(np.max(np.linalg.norm(obj.mesh.vertices[:, :2] - obj.position[:2], axis=1)))


def _yaw_quaternion(yaw: float) -> tuple[float, float, float, float]:
    return 0.0, 0.0, float(np.sin(yaw / 2)), float(np.cos(yaw / 2))


def write_scene_bag(
    out: str | os.PathLike,
    seed: int,
    config: SceneConfig | None = None,
    storage: str = "mcap",
    msg_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> dict:
    """Simulate the sweeps and write them as a rosbag2 folder at ``out`` (must not exist)."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from tqdm import tqdm

    config = config or SceneConfig()
    if storage not in STORAGES:
        raise ValueError(f"unknown storage {storage!r}; expected one of {', '.join(STORAGES)}")
    lidar = config.resolved_rig().sensor
    out = Path(out)
    if out.exists():
        raise ValueError(f"{out} already exists; expected a new path for the bag folder")
    typestore = pointlang_typestore(msg_dir)
    T = typestore.types
    placed, static, path = build_scene(seed, config)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 104729]))
    scene = RayScene()
    owner = []  # geometry id -> placed object index, or -1 for static meshes
    for index, obj in enumerate(placed):
        scene.add(obj.mesh, float(rng.uniform(0.1, 0.9)))
        owner.append(index)
        if obj.glass is not None:
            scene.add(obj.glass, 0.5, glass=True)
            owner.append(index)
    for mesh in static:
        scene.add(mesh, float(rng.uniform(0.1, 0.4)))
        owner.append(-1)
    owner_of = np.array(owner)
    fields = [
        T["sensor_msgs/msg/PointField"](name=name, offset=offset, datatype=datatype, count=1)
        for name, offset, datatype in (
            ("x", 0, 7),
            ("y", 4, 7),
            ("z", 8, 7),
            ("intensity", 12, 7),
            ("ring", 16, 4),
        )
    ]
    point_dtype = np.dtype(
        {
            "names": ["x", "y", "z", "intensity", "ring"],
            "formats": ["<f4", "<f4", "<f4", "<f4", "<u2"],
            "offsets": [0, 4, 8, 12, 16],
            "itemsize": POINT_STEP,
        }
    )
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    rate = path["rate_hz"]
    period_ns = round(1e9 / rate)
    step = np.radians(lidar.azimuth_step_deg)  # each sweep's firing grid starts anywhere in one
    points_total = 0
    with Writer(out, version=9, storage_plugin=plugin) as writer:
        cloud_conn = writer.add_connection(
            POINTS_TOPIC, "sensor_msgs/msg/PointCloud2", typestore=typestore
        )
        truth_conn = writer.add_connection(
            GROUND_TRUTH_TOPIC, "ros_pointlang/msg/DescribedObjectArray", typestore=typestore
        )
        for k in tqdm(range(config.sweeps), disable=not progress, desc="sweeps", unit="sweep"):
            stamp_ns = config.start_time_ns + k * period_ns
            sensor = path["start"] + path["velocity"] * (k / rate)
            scan = lidar_scan(scene, sensor, 0.0, lidar, rng, azimuth_phase=rng.uniform(0.0, step))
            local = scan.points - sensor.astype(np.float32)  # heading 0: a pure translation
            cloud = np.zeros(len(local), dtype=point_dtype)
            cloud["x"], cloud["y"], cloud["z"] = local[:, 0], local[:, 1], local[:, 2]
            reflectivity = scene.reflectivity_of(scan.geometry_ids)
            cloud["intensity"] = 255.0 * reflectivity * np.exp(-scan.ranges / 40)
            cloud["ring"] = scan.rings
            header = T["std_msgs/msg/Header"](
                stamp=T["builtin_interfaces/msg/Time"](
                    sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9
                ),
                frame_id=SENSOR_FRAME,
            )
            message = T["sensor_msgs/msg/PointCloud2"](
                header=header,
                height=1,
                width=len(cloud),
                fields=fields,
                is_bigendian=False,
                point_step=POINT_STEP,
                row_step=POINT_STEP * len(cloud),
                data=np.frombuffer(cloud.tobytes(), dtype=np.uint8),
                is_dense=True,
            )
            writer.write(
                cloud_conn,
                stamp_ns,
                typestore.serialize_cdr(message, "sensor_msgs/msg/PointCloud2"),
            )
            owners = owner_of[scan.geometry_ids]
            hits = np.bincount(owners[owners >= 0], minlength=len(placed))
            objects = []
            for index, obj in enumerate(placed):
                if hits[index] == 0:
                    continue
                centre = obj.position + np.array([0.0, 0.0, obj.size[2] / 2]) - sensor
                x, y, z, w = _yaw_quaternion(obj.yaw)
                objects.append(
                    T["ros_pointlang/msg/DescribedObject"](
                        id=index + 1,
                        pose=T["geometry_msgs/msg/Pose"](
                            position=T["geometry_msgs/msg/Point"](
                                x=float(centre[0]), y=float(centre[1]), z=float(centre[2])
                            ),
                            orientation=T["geometry_msgs/msg/Quaternion"](x=x, y=y, z=z, w=w),
                        ),
                        size=T["geometry_msgs/msg/Vector3"](
                            x=obj.size[0], y=obj.size[1], z=obj.size[2]
                        ),
                        num_points=int(hits[index]),
                        labels=[
                            T["ros_pointlang/msg/LabelScore"](
                                label=display_name(obj.category), score=1.0
                            )
                        ],
                        caption=obj.caption,
                    )
                )
            truth = T["ros_pointlang/msg/DescribedObjectArray"](header=header, objects=objects)
            writer.write(
                truth_conn,
                stamp_ns,
                typestore.serialize_cdr(truth, "ros_pointlang/msg/DescribedObjectArray"),
            )
            points_total += len(cloud)
    return {
        "bag": str(out),
        "storage": storage,
        "sweeps": config.sweeps,
        "kind": config.kind,
        "rig": config.resolved_rig().name,
        "objects": [(i + 1, p.category) for i, p in enumerate(placed)],
        "points": points_total,
    }
