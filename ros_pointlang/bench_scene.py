"""`pointlang-bench scene`: the whole per-sweep path of scene mode, in-process and over DDS.

Sources: the real Ouster OS1-64 recording in ``tests/data`` (its 17 scans, cycled) and
generated street scenes with a chosen number of objects (cars, pedestrians, poles, bins,
benches on a road, seen by a 64-beam roof LiDAR at 1.8 m, fresh range noise every sweep and
some cars driving, so the scene changes from sweep to sweep as a real one does).

* in-process: every sweep through decode (``Describer.read``) → ``Describer.describe``, with
  captions on the node's schedule; per-stage p50/p95 in milliseconds. The described share at a
  sensor rate follows from the measured sweep times by the node's rule (a worker that always
  takes the newest sweep; a sweep that waits while a newer one arrives is lost).
* over DDS: the node as shipped (``pointlang-node`` with ``config/lidar.yaml``) in its own
  process; this process publishes the sweeps at the rate with the publish time as stamp and
  subscribes ``/pointlang/objects``. Described share = sweeps whose objects came back; latency
  = arrival - stamp (end to end: serialisation, DDS, decode, segmentation, encoder, publish);
  the node's CPU use (of one core = 100 %) and memory (VmRSS, VmHWM) from /proc.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from ros_pointlang import cloud

ROOT = Path(__file__).resolve().parent.parent
OUSTER_BAG = ROOT / "tests" / "data" / "ouster-os1-64"
OUSTER_TOPIC = "/os1_cloud_node/points"
LIDAR_PARAMS = ROOT / "config" / "lidar.yaml"
FASTDDS_PROFILE = ROOT / "config" / "fastdds_large_data.xml"
SENSOR_HEIGHT = 1.8  # metres above the road, a car-roof LiDAR


# -- sources ------------------------------------------------------------------------------------


def ouster_sweeps(bag: Path = OUSTER_BAG) -> list[PointCloud2]:
    """Every PointCloud2 of the Ouster OS1-64 recording, decoded by rclpy."""
    from rclpy.serialization import deserialize_message
    from rosbags.rosbag2 import Reader

    with Reader(bag) as reader:
        connections = [c for c in reader.connections if c.topic == OUSTER_TOPIC]
        sweeps = [
            deserialize_message(raw, PointCloud2) for _, _, raw in reader.messages(connections)
        ]
    if not sweeps:
        raise ValueError(f"no {OUSTER_TOPIC} message in {bag}")
    return sweeps


@dataclass(frozen=True)
class StreetObject:
    kind: str
    centre: npt.NDArray[np.float64]  # (x, y) on the road
    yaw: float
    size: tuple[float, float, float]  # length, width, height in metres
    speed: float  # metres per second along its yaw (cars only)


# Street furniture and road users. A compact car (the figures of earlier runs were taken with it;
# the shipped max_object_size, 6.5 m of the object's own footprint, keeps longer ones too).
KINDS: dict[str, tuple[tuple[float, float, float], float]] = {
    "car": ((3.4, 1.7, 1.5), 0.4),
    "pedestrian": ((0.5, 0.4, 1.75), 0.25),
    "pole": ((0.2, 0.2, 3.0), 0.1),
    "bin": ((0.6, 0.6, 1.0), 0.1),
    "bench": ((1.8, 0.6, 0.8), 0.15),
}


def street_layout(num_objects: int, seed: int = 0) -> list[StreetObject]:
    """`num_objects` objects 3.5-11.5 m from the sensor, 1 m apart at least (never merged)."""
    rng = np.random.default_rng(seed)
    names = list(KINDS)
    weights = np.array([KINDS[n][1] for n in names])
    placed: list[StreetObject] = []
    for _ in range(num_objects * 500):
        if len(placed) == num_objects:
            break
        kind = str(rng.choice(names, p=weights / weights.sum()))
        size = KINDS[kind][0]
        radius, angle = rng.uniform(3.5, 11.5), rng.uniform(-np.pi, np.pi)
        centre = radius * np.array([np.cos(angle), np.sin(angle)])
        reach = np.hypot(size[0], size[1]) / 2
        if np.abs(centre).max() + reach > 11.8:  # stay inside the shipped crop box
            continue
        if any(
            np.linalg.norm(centre - o.centre) < reach + np.hypot(*o.size[:2]) / 2 + 1.0
            for o in placed
        ):
            continue
        speed = float(rng.uniform(1.0, 3.0)) if kind == "car" and rng.random() < 0.4 else 0.0
        placed.append(StreetObject(kind, centre, float(rng.uniform(-np.pi, np.pi)), size, speed))
    if len(placed) < num_objects:
        raise ValueError(f"cannot place {num_objects} objects 1 m apart within the crop box")
    return placed


def _box_surface(obj: StreetObject, centre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The faces of the object's box that face the sensor, at a 64-beam LiDAR's density."""
    length, width, height = obj.size
    c, s = np.cos(obj.yaw), np.sin(obj.yaw)
    axes = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])  # rows: length, width, up
    middle = np.array([centre[0], centre[1], -SENSOR_HEIGHT + height / 2])
    half = np.array([length, width, height]) / 2
    pieces = []
    for axis in range(3):
        for sign in (-1.0, 1.0) if axis < 2 else (1.0,):  # no bottom face
            normal = sign * axes[axis]
            face_centre = middle + normal * half[axis]
            to_sensor = -face_centre / np.linalg.norm(face_centre)
            cosine = float(normal @ to_sensor)
            if cosine <= 0.05:
                continue
            others = [a for a in range(3) if a != axis]
            area = 4 * half[others[0]] * half[others[1]]
            # ~0.003 x 0.009 rad per return: 37,000 returns per m² at 1 m, over r².
            count = int(37_000 * area * cosine / float(face_centre @ face_centre) * 0.9)
            if count == 0:
                continue
            uv = rng.uniform(-1, 1, (count, 2)) * half[others]
            pieces.append(face_centre + uv[:, :1] * axes[others[0]] + uv[:, 1:] * axes[others[1]])
    return np.concatenate(pieces) if pieces else np.empty((0, 3))


def street_sweep(
    layout: Sequence[StreetObject], sweep: int, rate_hz: float, seed: int = 0
) -> np.ndarray:
    """(N, 3) float32 points of sweep `sweep`: road, the objects (cars moved on), 1 cm noise."""
    rng = np.random.default_rng([seed, sweep])
    t = sweep / rate_hz
    parts = []
    for obj in layout:
        moved = obj.centre + obj.speed * t * np.array([np.cos(obj.yaw), np.sin(obj.yaw)])
        if obj.speed and np.abs(moved).max() > 11.0:  # a car that left turns back (wraps)
            moved = obj.centre
        parts.append(_box_surface(obj, moved, rng))
    # The road: returns thin out with range as the beams spread, ~25,000 within the crop box.
    radius = 1.0 / rng.uniform(1 / 16.0, 1 / 2.5, 25_000)
    angle = rng.uniform(-np.pi, np.pi, 25_000)
    road = np.column_stack(
        [radius * np.cos(angle), radius * np.sin(angle), np.full(25_000, -SENSOR_HEIGHT)]
    )
    parts.append(road)
    xyz = np.concatenate(parts)
    xyz += rng.normal(0, 0.01, xyz.shape)
    return xyz.astype(np.float32)


def street_sweeps(num_objects: int, count: int, rate_hz: float, seed: int = 0) -> list[PointCloud2]:
    """`count` sweeps of a street scene as PointCloud2 (x, y, z, intensity; point_step 16)."""
    layout = street_layout(num_objects, seed)
    fields = [
        PointField(name=n, offset=4 * i, datatype=PointField.FLOAT32, count=1)
        for i, n in enumerate(("x", "y", "z", "intensity"))
    ]
    sweeps = []
    for k in range(count):
        xyz = street_sweep(layout, k, rate_hz, seed)
        points = np.column_stack([xyz, np.full(len(xyz), 100.0, np.float32)])
        sweeps.append(cloud.create_cloud(Header(frame_id="lidar"), fields, points))
    return sweeps


# -- in-process ---------------------------------------------------------------------------------


def lidar_parameters(path: Path = LIDAR_PARAMS) -> dict[str, Any]:
    """The node's parameters from a ROS params YAML (the `/**` or first node section)."""
    import yaml

    document = yaml.safe_load(path.read_text())
    section = document.get("/**") or next(iter(document.values()))
    return dict(section["ros__parameters"])


def _stats(samples: Sequence[float]) -> dict[str, float]:
    if not samples:
        return {"p50": float("nan"), "p95": float("nan"), "n": 0}
    return {
        "p50": float(np.percentile(samples, 50)),
        "p95": float(np.percentile(samples, 95)),
        "n": len(samples),
    }


def described_share(sweep_seconds: Sequence[float], rate_hz: float) -> float:
    """Share of sweeps a keep-newest worker describes when they arrive at `rate_hz` and take
    the given times, in order (the node's rule: a waiting sweep is replaced by a newer one)."""
    period = 1.0 / rate_hz
    free_at, described, pending = 0.0, 0, None
    durations = iter(sweep_seconds)
    for k in range(len(sweep_seconds)):
        arrival = k * period
        while pending is not None and free_at <= arrival:  # the worker takes the waiting sweep
            start = max(free_at, pending)
            free_at = start + next(durations, period)
            described += 1
            pending = None
        pending = arrival  # a sweep still waiting here is replaced (a stale drop)
    if pending is not None:
        described += 1
    return described / len(sweep_seconds)


def bench_in_process(
    sweeps: Sequence[PointCloud2], params: dict[str, Any], rate_hz: float, repeat: int, threads: int
) -> dict[str, Any]:
    """Describe `repeat` sweeps back to back as the node's worker does; figures per stage."""
    from ros_pointlang.backends import BackendOptions
    from ros_pointlang.describe import Describer, settings_from_parameters
    from ros_pointlang.pipeline import Pipeline

    pipeline = Pipeline.from_bundle(
        params.get("bundle") or None, backend=BackendOptions("onnxruntime", threads=threads)
    )
    describer = Describer(pipeline, settings_from_parameters(params, default_mode="scene"))
    stages: dict[str, list[float]] = {}
    totals, label_totals, objects, encoded, captioned = [], [], [], [], []
    xyz, image = describer.read(sweeps[0])
    describer.describe(xyz, image=image)  # warm-up: first-run allocations
    for k in range(repeat):
        start = time.perf_counter()
        xyz, image = describer.read(sweeps[k % len(sweeps)])
        decoded = time.perf_counter()
        # Sensor time, as the node's clock would run.
        describer.describe(xyz, now=k / rate_hz, image=image)
        total = time.perf_counter() - start
        timings = dict(describer.timings, decode=decoded - start)
        for stage, seconds in timings.items():
            stages.setdefault(stage, []).append(seconds * 1e3)
        totals.append(total)
        label_totals.append(total - timings.get("caption", 0.0))
        objects.append(describer.counts["objects"])
        encoded.append(describer.counts["encoded"])
        captioned.append(describer.counts["captioned"])
    # The same sweeps with every object through the encoder each time (no memory, no
    # captions): what a sweep costs when everything changes, as for a robot turning on the spot.
    every = []
    for k in range(max(5, repeat // 2)):
        start = time.perf_counter()
        xyz, image = describer.read(sweeps[k % len(sweeps)])
        describer.describe(xyz, image=image)
        every.append((time.perf_counter() - start) * 1e3)
    return {
        "sweeps": repeat,
        "labels_every_object_encoded_ms": _stats(every),
        "objects_p50": float(np.median(objects)),
        "encoded_per_sweep_mean": float(np.mean(encoded)),
        "captioned_per_sweep_mean": float(np.mean(captioned)),
        "stages_ms": {stage: _stats(v) for stage, v in stages.items()},
        "labels_ms": _stats([s * 1e3 for s in label_totals]),
        "total_ms": _stats([s * 1e3 for s in totals]),
        "described_share_at_rate": described_share(totals, rate_hz),
    }


# -- segmentation alone: euclidean against the range image ------------------------------------


def _cells(points: np.ndarray, size: float) -> set[tuple[int, int, int]]:
    """The voxels an object's (voxelised) points occupy: what two segmentations compare."""
    return set(map(tuple, np.floor(points / size).astype(np.int64).tolist()))


def agreement(
    first: Sequence[np.ndarray], second: Sequence[np.ndarray], size: float, threshold: float = 0.5
) -> dict[str, Any]:
    """Objects of two segmentations of one sweep that match (intersection over union of their
    voxels at least `threshold`, each used once, best pairs first)."""
    a = [_cells(o, size) for o in first]
    b = [_cells(o, size) for o in second]
    pairs = []
    for i, cells_a in enumerate(a):
        for j, cells_b in enumerate(b):
            shared = len(cells_a & cells_b)
            if shared:
                pairs.append((shared / len(cells_a | cells_b), i, j))
    used_a: set[int] = set()
    used_b: set[int] = set()
    ious = []
    for iou, i, j in sorted(pairs, reverse=True):
        if iou < threshold:
            break
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            ious.append(iou)
    return {"matched": len(ious), "iou_mean": float(np.mean(ious)) if ious else float("nan")}


def bench_segmentation(
    sweeps: Sequence[PointCloud2], params: dict[str, Any], repeat: int
) -> dict[str, Any]:
    """Scene segmentation as the node runs it (decode included), euclidean clustering and the
    range image side by side: alternating sweep by sweep, so load from other processes hits
    both alike. Wall and CPU (this process) milliseconds, objects found, and how many match."""
    from dataclasses import replace

    from ros_pointlang import range_image
    from ros_pointlang.describe import settings_from_parameters
    from ros_pointlang.preprocess import segment_scene

    scene = settings_from_parameters(params, default_mode="scene").scene
    configs = {
        "euclidean": replace(scene, segmentation="euclidean"),
        "range_image": replace(scene, segmentation="range_image"),
    }

    def run(method: str, msg: PointCloud2) -> list[np.ndarray]:
        xyz, image = range_image.read_sweep(msg, organised=method == "range_image")
        return segment_scene(xyz, configs[method], image=image)

    for method in configs:  # warm-up: first-run allocations and lazy imports
        run(method, sweeps[0])
    wall: dict[str, list[float]] = {m: [] for m in configs}
    cpu: dict[str, list[float]] = {m: [] for m in configs}
    found: dict[str, list[int]] = {m: [] for m in configs}
    matched, ious = [], []
    for k in range(repeat):
        msg = sweeps[k % len(sweeps)]
        objects = {}
        for method in configs if k % 2 == 0 else reversed(list(configs)):
            start, start_cpu = time.perf_counter(), time.process_time()
            objects[method] = run(method, msg)
            wall[method].append((time.perf_counter() - start) * 1e3)
            cpu[method].append((time.process_time() - start_cpu) * 1e3)
            found[method].append(len(objects[method]))
        same = agreement(objects["euclidean"], objects["range_image"], scene.voxel_size or 0.03)
        matched.append(same["matched"])
        ious.append(same["iou_mean"])
    result: dict[str, Any] = {
        "sweeps": repeat,
        "points": int(sweeps[0].width * sweeps[0].height),
        "organised": bool(sweeps[0].height > 1),
        "methods": {
            m: {
                "wall_ms": _stats(wall[m]),
                "cpu_ms": _stats(cpu[m]),
                "objects_p50": float(np.median(found[m])),
            }
            for m in configs
        },
        "matched_p50": float(np.median(matched)),
        "matched_iou_mean": float(np.nanmean(ious)) if np.isfinite(ious).any() else float("nan"),
    }
    methods = result["methods"]
    for clock in ("wall_ms", "cpu_ms"):
        result[f"speedup_{clock.removesuffix('_ms')}"] = (
            methods["euclidean"][clock]["p50"] / methods["range_image"][clock]["p50"]
        )
    return result


def print_segmentation(name: str, row: dict[str, Any]) -> None:
    print(
        f"\n{name}: segmentation alone, decode included ({row['points']} points, "
        f"{row['sweeps']} sweeps, the two methods alternating)"
    )
    for method, m in row["methods"].items():
        print(
            f"  {method:12s} wall p50 {m['wall_ms']['p50']:7.2f} ms  p95 {m['wall_ms']['p95']:7.2f}"
            f"   cpu p50 {m['cpu_ms']['p50']:7.2f} ms   {m['objects_p50']:.0f} objects (p50)"
        )
    print(
        f"  range image {row['speedup_wall']:.1f}x faster (wall p50), {row['speedup_cpu']:.1f}x "
        f"(cpu p50); {row['matched_p50']:.0f} objects match (voxel IoU >= 0.5, p50), "
        f"mean IoU {row['matched_iou_mean']:.2f}"
    )


# -- over DDS -----------------------------------------------------------------------------------


def _proc_figures(pid: int) -> tuple[float, int, int]:
    """CPU seconds (user + system), VmRSS and VmHWM in bytes of process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    memory = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            memory[key] = int(value.split()[0]) * 1024
    return cpu, memory.get("VmRSS", 0), memory.get("VmHWM", 0)


def _dds_environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A domain of its own: other ROS processes on the machine must not see the bench's clouds.
    env.setdefault("ROS_DOMAIN_ID", str(150 + os.getpid() % 80))
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(FASTDDS_PROFILE))
    return env


def _start_node(params_file: Path, topic: str, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ros_pointlang.node", "--ros-args", "--params-file",
         str(params_file), "-r", f"points:={topic}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        cwd=ROOT,  # `-m` puts the cwd first on sys.path: the node is this checkout's code
    )  # fmt: skip
    deadline = time.monotonic() + 60
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line and proc.poll() is not None:
            raise RuntimeError(f"pointlang-node exited with {proc.returncode}: {''.join(seen)}")
        seen.append(line)
        if "pointlang ready" in line:
            threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
            return proc
    proc.kill()
    raise TimeoutError(f"pointlang-node did not start within 60 s: {''.join(seen)}")


def bench_over_dds(
    sweeps: Sequence[PointCloud2], params_file: Path, rate_hz: float, duration: float
) -> dict[str, Any]:
    """Publish `sweeps` (cycled) at `rate_hz` for `duration` s into the node as shipped."""
    env = _dds_environment()
    for key in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE", "FASTDDS_DEFAULT_PROFILES_FILE"):
        os.environ[key] = env[key]  # before rclpy starts: this process joins the same domain
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import qos_profile_sensor_data

    from ros_pointlang.msg import DescribedObjectArray

    topic = "/pointlang_bench/points"
    proc = _start_node(params_file, topic, env)
    rclpy.init()
    node = rclpy.create_node("pointlang_bench")
    received: dict[int, tuple[float, int]] = {}  # stamp (ns) -> (latency s, objects)
    diagnostics: dict[str, str] = {}

    def on_objects(msg: Any) -> None:
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        received[stamp] = (time.time() - stamp / 1e9, len(msg.objects))

    def on_diagnostics(msg: Any) -> None:
        for status in msg.status:
            if status.name.startswith("pointlang"):
                diagnostics.update({kv.key: kv.value for kv in status.values})

    publisher = node.create_publisher(PointCloud2, topic, qos_profile_sensor_data)
    node.create_subscription(DescribedObjectArray, "/pointlang/objects", on_objects, 10)
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
    spinning = threading.Event()
    spinning.set()

    def spin() -> None:
        while spinning.is_set():
            rclpy.spin_once(node, timeout_sec=0.02)

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    try:
        deadline = time.monotonic() + 30
        while (publisher.get_subscription_count() == 0 or not _node_subscribed(node)) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)

        def publish_for(seconds: float) -> list[int]:
            stamps = []
            period = 1.0 / rate_hz
            start = time.monotonic()
            for k in range(int(seconds * rate_hz)):
                time.sleep(max(0.0, start + k * period - time.monotonic()))
                msg = sweeps[k % len(sweeps)]
                now = time.time_ns()
                msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 1_000_000_000)
                publisher.publish(msg)
                stamps.append(now)
            return stamps

        publish_for(3.0)  # warm-up: discovery, first-run allocations, first captions
        time.sleep(1.0)
        cpu0, _, _ = _proc_figures(proc.pid)
        wall0 = time.monotonic()
        stamps = publish_for(duration)
        time.sleep(1.0)  # the last sweep's objects are still on their way
        cpu1, rss, hwm = _proc_figures(proc.pid)
        wall = time.monotonic() - wall0
    finally:
        spinning.clear()
        spinner.join(timeout=2)
        node.destroy_node()
        rclpy.try_shutdown()
        proc.send_signal(2)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    answered = [received[s] for s in stamps if s in received]
    latencies = [latency * 1e3 for latency, _ in answered]
    return {
        "published": len(stamps),
        "described": len(answered),
        "described_share": len(answered) / max(len(stamps), 1),
        "latency_ms": _stats(latencies),
        "objects_p50": float(np.median([n for _, n in answered])) if answered else 0.0,
        "node_cpu_percent": 100.0 * (cpu1 - cpu0) / wall,
        "node_rss_mb": rss / 2**20,
        "node_peak_rss_mb": hwm / 2**20,
        "node_diagnostics": {
            k: float(v) for k, v in diagnostics.items() if k.startswith("latency_")
        },
    }


def _node_subscribed(node: Any) -> bool:
    return bool(node.get_publishers_info_by_topic("/pointlang/objects"))


# -- report -------------------------------------------------------------------------------------


def sources(
    names: Sequence[str], objects: Sequence[int], count: int, rate_hz: float
) -> Iterator[tuple[str, Callable[[], list[PointCloud2]]]]:
    """(name, sweeps) for each source asked for: "ouster" and "street" with each object count."""
    for name in names:
        if name == "ouster":
            yield "ouster-os1-64", ouster_sweeps
        elif name == "street":
            for n in objects:
                yield f"street-{n}", partial(street_sweeps, n, count, rate_hz)
        else:
            raise ValueError(f"source {name!r} is unknown; expected 'ouster' or 'street'")


def bench_scene(
    source_names: Sequence[str],
    objects: Sequence[int],
    rates: Sequence[float],
    repeat: int,
    duration: float,
    dds: bool,
    in_process: bool,
    params_file: Path = LIDAR_PARAMS,
    threads: int = 0,
) -> list[dict[str, Any]]:
    params = lidar_parameters(params_file)
    rows = []
    for rate in rates:
        for name, make in sources(source_names, objects, 40, rate):
            sweeps = make()
            row: dict[str, Any] = {
                "source": name,
                "rate_hz": rate,
                "points": sweeps[0].width * sweeps[0].height,
            }
            if in_process:
                row["in_process"] = bench_in_process(sweeps, params, rate, repeat, threads)
            if dds:
                row["dds"] = bench_over_dds(sweeps, params_file, rate, duration)
            rows.append(row)
            print_row(row)
    return rows


def print_row(row: dict[str, Any]) -> None:
    print(f"\n{row['source']} at {row['rate_hz']:g} Hz ({row['points']} points per sweep)")
    local = row.get("in_process")
    if local:
        print(
            f"  in-process, {local['sweeps']} sweeps, {local['objects_p50']:.0f} objects (p50), "
            f"{local['encoded_per_sweep_mean']:.1f} encoded and "
            f"{local['captioned_per_sweep_mean']:.1f} captioned per sweep (mean):"
        )
        lab, tot = local["labels_ms"], local["total_ms"]
        lines = [(stage, s, f"{s['n']} sweeps") for stage, s in local["stages_ms"].items()]
        lines += [("labels", lab, "decode to labels"), ("total", tot, "with captions")]
        every = local["labels_every_object_encoded_ms"]
        lines += [("labels all", every, "every object encoded, every sweep")]
        for stage, s, note in lines:
            print(f"    {stage:10s} p50 {s['p50']:7.1f} ms   p95 {s['p95']:7.1f} ms   ({note})")
        share = 100 * local["described_share_at_rate"]
        print(f"    described at {row['rate_hz']:g} Hz (keep-newest worker): {share:.0f} %")
    dds = row.get("dds")
    if dds:
        lat = dds["latency_ms"]
        print(
            f"  over DDS into pointlang-node: {dds['described']} of {dds['published']} sweeps "
            f"described ({100 * dds['described_share']:.1f} %), end-to-end latency "
            f"p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms; {dds['objects_p50']:.0f} objects"
        )
        print(
            f"    node CPU {dds['node_cpu_percent']:.0f} % of one core, RSS "
            f"{dds['node_rss_mb']:.0f} MB (peak {dds['node_peak_rss_mb']:.0f} MB)"
        )
        if dds["node_diagnostics"]:
            shown = ", ".join(
                f"{k.removeprefix('latency_')}={v:.1f}"
                for k, v in sorted(dds["node_diagnostics"].items())
            )
            print(f"    node stages (ms): {shown}")
