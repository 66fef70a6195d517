"""Scenes: several objects on a floor, a LiDAR driving past, written as a rosbag2 with ground truth.

Topics (one message each per sweep, same stamp):
- ``/lidar/points`` ``sensor_msgs/msg/PointCloud2``, frame ``lidar``, unorganised (height 1),
  fields x, y, z, intensity (float32) and ring (uint16), point_step 20, dense (no NaNs).
- ``/pointlang/ground_truth`` ``ros_pointlang/msg/DescribedObjectArray``, frame ``lidar``: one
  DescribedObject per object hit by at least one ray in that sweep; id = object index + 1 (never
  0) and stable through the bag; pose = box centre and yaw in the sensor frame of that sweep;
  size = box extent along the box's own x (front-back), y (side to side), z (height);
  num_points = returns on the object; one label (category spoken name, score 1.0); caption =
  one reference caption.

Ground truth is expressed in the sweep's own sensor frame, so no tf is needed to score a
detector that runs on the cloud as it arrives; the sensor moves in a straight line at constant
speed along the world x axis (heading 0), stamps advance at ``rate_hz``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.data.categories import CATEGORIES, category_index
from training.data.families import build_shape
from training.data.language import captions_for
from training.data.mesh import Mesh, rot_z, slab
from training.data.sensors import LIDAR_PRESETS, lidar_scan, raycasting_scene

POINTS_TOPIC = "/lidar/points"
GROUND_TRUTH_TOPIC = "/pointlang/ground_truth"
SENSOR_FRAME = "lidar"
POINT_STEP = 20
STORAGES = ("sqlite3", "mcap")


@dataclass
class SceneConfig:
    """What a generated scene bag contains. Lengths in metres, speed in m/s."""

    min_objects: int = 3
    max_objects: int = 12
    room_size_m: float = 14.0
    walls: bool = True
    sweeps: int = 30
    rate_hz: float = 10.0
    speed_mps: float = 1.0
    lidar: str = "hdl32"
    mount_height_m: float = 0.8
    categories: tuple[str, ...] = CATEGORIES
    # Objects whose footprint is wider than this are redrawn (an airliner does not fit a room).
    max_footprint_m: float = 3.5
    start_time_ns: int = 1_700_000_000_000_000_000


@dataclass
class PlacedObject:
    category: str
    mesh: Mesh  # in the world frame
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
    """Objects placed on the floor without overlaps, the static meshes, and the sensor path."""
    if config.min_objects < 1 or config.max_objects < config.min_objects:
        raise ValueError(
            f"object count range {config.min_objects}..{config.max_objects} is invalid; "
            "expected 1 <= min_objects <= max_objects"
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7919]))
    half = config.room_size_m / 2
    path_length = min(config.speed_mps * config.sweeps / config.rate_hz, config.room_size_m - 2)
    lane_y = float(rng.uniform(-1.0, 1.0))
    path = {
        "start": np.array([-path_length / 2, lane_y, config.mount_height_m]),
        "velocity": np.array([path_length / max(config.sweeps - 1, 1) * config.rate_hz, 0, 0]),
    }
    wanted = int(rng.integers(config.min_objects, config.max_objects + 1))
    placed: list[PlacedObject] = []
    for index in range(wanted * 20):
        if len(placed) == wanted:
            break
        category = config.categories[int(rng.integers(len(config.categories)))]
        shape_rng = np.random.default_rng(
            np.random.SeedSequence([seed, category_index(category), 100_000 + index])
        )
        shape = build_shape(category, shape_rng)
        depth, width, height = shape.dimensions()
        radius = float(np.max(np.linalg.norm(shape.mesh.vertices[:, :2], axis=1)))
        if max(depth, width) > config.max_footprint_m:
            continue
        limit = half - radius - 0.3
        if limit <= 0:
            continue
        xy = rng.uniform(-limit, limit, 2)
        # Keep a corridor free for the sensor and a gap between objects.
        if abs(xy[1] - lane_y) < radius + 0.6:
            continue
        if any(np.linalg.norm(xy - p.position[:2]) < radius + _radius(p) + 0.2 for p in placed):
            continue
        yaw = float(rng.uniform(-np.pi, np.pi))
        mesh = shape.mesh.transformed(rot_z(yaw), (xy[0], xy[1], 0.0))
        # No "facing" words: the sensor drives past, so the object's bearing changes per sweep.
        caption = captions_for(shape, None, shape_rng, count=1)[0]
        placed.append(
            PlacedObject(
                category,
                mesh,
                np.array([xy[0], xy[1], 0.0]),
                yaw,
                (depth, width, height),
                caption,
                dict(shape.params),
            )
        )
    static = [slab(-half, half, -half, half, -0.05, 0.0)]
    if config.walls:
        wall_h = 2.5
        static += [
            slab(-half - 0.1, -half, -half, half, 0, wall_h),
            slab(half, half + 0.1, -half, half, 0, wall_h),
            slab(-half, half, -half - 0.1, -half, 0, wall_h),
            slab(-half, half, half, half + 0.1, 0, wall_h),
        ]
    return placed, static, path


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
    if config.lidar not in LIDAR_PRESETS:
        raise ValueError(
            f"unknown lidar {config.lidar!r}; expected one of {', '.join(LIDAR_PRESETS)}"
        )
    out = Path(out)
    if out.exists():
        raise ValueError(f"{out} already exists; expected a new path for the bag folder")
    lidar = LIDAR_PRESETS[config.lidar]
    typestore = pointlang_typestore(msg_dir)
    T = typestore.types
    placed, static, path = build_scene(seed, config)
    scene = raycasting_scene([p.mesh for p in placed] + static)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 104729]))
    reflectivity = rng.uniform(0.2, 1.0, len(placed) + len(static))
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
    period_ns = round(1e9 / config.rate_hz)
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
            sensor = path["start"] + path["velocity"] * (k / config.rate_hz)
            scan = lidar_scan(scene, sensor, 0.0, lidar, rng)
            local = scan.points - sensor.astype(np.float32)  # heading 0: a pure translation
            cloud = np.zeros(len(local), dtype=point_dtype)
            cloud["x"], cloud["y"], cloud["z"] = local[:, 0], local[:, 1], local[:, 2]
            cloud["intensity"] = 255.0 * reflectivity[scan.geometry_ids] * np.exp(-scan.ranges / 40)
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
            hits = np.bincount(scan.geometry_ids, minlength=len(placed) + len(static))
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
                                label=obj.category.replace("_", " "), score=1.0
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
        "objects": [(i + 1, p.category) for i, p in enumerate(placed)],
        "points": points_total,
    }
