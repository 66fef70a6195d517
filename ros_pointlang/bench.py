"""``pointlang-bench``: benchmarks that print figures (never timed assertions in tests).

Subcommands (``scene`` and ``segment``: see ros_pointlang/bench_scene.py; ``runtime``:
bench_runtime.py):

* ``cloud``: PointCloud2 <-> numpy conversion speed (``ros_pointlang.cloud``) on a synthetic
  LiDAR cloud, the real Ouster OS1-64 scan in ``tests/data`` and ``create_cloud``. Every figure
  is a median over ``--repeat`` runs, set beside a plain numpy copy of the same buffer measured
  in the same run (ratio = copy time / path time; 1.0 means "as fast as memcpy").
"""

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from ros_pointlang import cloud, kernels

OUSTER_BAG = Path(__file__).resolve().parent.parent / "tests" / "data" / "ouster-os1-64"
OUSTER_TOPIC = "/os1_cloud_node/points"


def _median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up: first-touch page faults and lazy imports are not what we measure
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def lidar_fields() -> list[PointField]:
    """x, y, z, intensity (float32), ring (uint16), time (float32), padded to 32 bytes."""
    spec = [("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("intensity", 16, 7), ("ring", 20, 4)]
    spec.append(("time", 24, 7))
    return [PointField(name=n, offset=o, datatype=d, count=1) for n, o, d in spec]


def synthetic_cloud(n_points: int, seed: int = 0) -> PointCloud2:
    """A 1-row LiDAR-like cloud, point_step 32, with 10 % NaN and 10 % (0, 0, 0) points."""
    rng = np.random.default_rng(seed)
    fields = lidar_fields()
    points = np.zeros(n_points, dtype=cloud.dtype_from_fields(fields, point_step=32))
    for name in ("x", "y", "z"):
        points[name] = rng.uniform(-50, 50, n_points)
    points["intensity"] = rng.uniform(0, 1000, n_points)
    points["ring"] = np.arange(n_points) % 64
    points["time"] = np.linspace(0, 0.1, n_points)
    points["x"][rng.random(n_points) < 0.1] = np.nan
    zero = rng.random(n_points) < 0.1
    for name in ("x", "y", "z"):
        points[name][zero] = 0.0
    return cloud.create_cloud(Header(frame_id="lidar"), fields, points, point_step=32)


def load_ouster_scan(bag: Path = OUSTER_BAG) -> PointCloud2:
    """The first PointCloud2 of the Ouster OS1-64 recording, decoded by rclpy."""
    from rclpy.serialization import deserialize_message
    from rosbags.rosbag2 import Reader

    with Reader(bag) as reader:
        connections = [c for c in reader.connections if c.topic == OUSTER_TOPIC]
        for _, _, raw in reader.messages(connections=connections):
            return deserialize_message(raw, PointCloud2)
    raise ValueError(f"No {OUSTER_TOPIC} message in {bag}.")


def _row(
    label: str, fn: Callable[[], Any], nbytes: int, buf: np.ndarray, repeat: int, copies: bool
) -> dict[str, Any]:
    # The path and the plain copy alternate run by run, so load from other processes on a
    # shared machine hits both alike and the ratio stays meaningful.
    def memcpy() -> Any:
        return np.frombuffer(buf, np.uint8).copy()

    fn(), memcpy()  # warm-up: first-touch page faults and lazy imports are not what we measure
    times: dict[Callable[[], Any], list[float]] = {fn: [], memcpy: []}
    for _ in range(repeat):
        for call, samples in times.items():
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
    seconds, baseline = statistics.median(times[fn]), statistics.median(times[memcpy])
    return {
        "path": label,
        "ms": seconds * 1e3,
        "MB_per_s": nbytes / seconds / 1e6,
        "memcpy_ms": baseline * 1e3,
        "ratio_to_memcpy": baseline / seconds,
        "copies": copies,
    }


def bench_cloud(n_points: int, repeat: int, ouster_bag: Path = OUSTER_BAG) -> list[dict[str, Any]]:
    """Time each conversion path; figures refer to the bytes of the message data involved."""
    rows: list[dict[str, Any]] = []
    synth = synthetic_cloud(n_points)
    sdata = np.frombuffer(synth.data, np.uint8)
    tag = f"synthetic {n_points / 1e6:g}M ps32"
    cases: list[tuple[str, Callable[[], Any], bool]] = [
        ("read_points (view)", lambda: cloud.read_points(synth), False),
        ("read_points skip_nans", lambda: cloud.read_points(synth, skip_nans=True), True),
        (
            "read_points_numpy xyz (view)",
            lambda: cloud.read_points_numpy(synth, ["x", "y", "z"]),
            False,
        ),
        ("xyz_from_cloud", lambda: cloud.xyz_from_cloud(synth), True),
    ]
    for label, fn, copies in cases:
        rows.append(_row(f"{tag}: {label}", fn, sdata.size, sdata, repeat, copies))

    small = synthetic_cloud(min(n_points, 100_000), seed=1)
    smdata = np.frombuffer(small.data, np.uint8)
    # Not held to the memory-copy ratio: it builds a Python tuple per point (its yardstick is
    # sensor_msgs_py, below); the memcpy column shows what the bytes alone cost.
    rows.append(
        _row(
            f"synthetic {small.width / 1e3:g}k: read_points_list",
            lambda: cloud.read_points_list(small),
            smdata.size,
            smdata,
            repeat,
            False,
        )
    )

    if not (ouster_bag / "metadata.yaml").exists():
        print(f"note: no Ouster bag at {ouster_bag}; pass --ouster-bag to include the real scan")
    else:
        scan = load_ouster_scan(ouster_bag)
        odata = np.frombuffer(scan.data, np.uint8)
        tag = f"ouster {scan.height}x{scan.width} ps{scan.point_step}"
        cases = [
            ("read_points (view)", lambda: cloud.read_points(scan), False),
            (
                "read_points reshape (view)",
                lambda: cloud.read_points(scan, reshape_organized_cloud=True),
                False,
            ),
            (
                "read_points_numpy xyz (view)",
                lambda: cloud.read_points_numpy(scan, ["x", "y", "z"]),
                False,
            ),
            ("xyz_from_cloud", lambda: cloud.xyz_from_cloud(scan), True),
            ("read_points_list", lambda: cloud.read_points_list(scan), False),
        ]
        for label, fn, copies in cases:
            rows.append(_row(f"{tag}: {label}", fn, odata.size, odata, repeat, copies))

    header = Header(frame_id="lidar")
    fields = lidar_fields()
    structured = cloud.read_points(synth).copy()
    xyz = np.random.default_rng(2).uniform(-50, 50, (n_points, 3)).astype(np.float32)
    xyz_bytes = np.frombuffer(cloud.create_cloud_xyz32(header, xyz).data, np.uint8)
    tag = f"create_cloud {n_points / 1e6:g}M"
    rows.append(
        _row(
            f"{tag}: structured ps32",
            lambda: cloud.create_cloud(header, fields, structured, point_step=32),
            sdata.size,
            sdata,
            repeat,
            True,
        )
    )
    rows.append(
        _row(
            f"{tag}: xyz32 from (N,3)",
            lambda: cloud.create_cloud_xyz32(header, xyz),
            xyz_bytes.size,
            xyz_bytes,
            repeat,
            True,
        )
    )
    rows += _numpy_path_rows(synth, sdata, repeat)
    return rows


def _numpy_path_rows(synth: PointCloud2, sdata: np.ndarray, repeat: int) -> list[dict[str, Any]]:
    """The paths the compiled kernels take over, timed again on their numpy code."""
    if kernels.LIBRARY is None:
        print("note: compiled kernels not built (or POINTLANG_KERNELS=numpy): numpy paths only")
        return []
    library, kernels.LIBRARY = kernels.LIBRARY, None
    try:
        tag = f"synthetic {synth.width / 1e6:g}M ps32 numpy path"
        return [
            _row(
                f"{tag}: read_points skip_nans",
                lambda: cloud.read_points(synth, skip_nans=True),
                sdata.size,
                sdata,
                repeat,
                True,
            ),
            _row(
                f"{tag}: xyz_from_cloud",
                lambda: cloud.xyz_from_cloud(synth),
                sdata.size,
                sdata,
                repeat,
                True,
            ),
        ]
    finally:
        kernels.LIBRARY = library


def bench_against_sensor_msgs_py(
    repeat: int, ouster_bag: Path = OUSTER_BAG
) -> list[dict[str, Any]]:
    """The same calls on the real Ouster scan through ``sensor_msgs_py.point_cloud2`` and
    through ours, in one run: speed-up = its median time / ours (>1 means ours is faster)."""
    from sensor_msgs_py import point_cloud2 as upstream  # ROS ships it; not on PyPI

    scan = load_ouster_scan(ouster_bag)
    header = Header(frame_id="lidar")
    structured = cloud.read_points(scan).copy()
    # The scan says is_dense, so upstream's skip_nans checks nothing while ours checks anyway
    # (drivers set the flag carelessly): the same scan marked not dense compares like for like.
    undeclared = PointCloud2(
        header=scan.header,
        height=scan.height,
        width=scan.width,
        fields=scan.fields,
        is_bigendian=scan.is_bigendian,
        point_step=scan.point_step,
        row_step=scan.row_step,
        data=scan.data,
        is_dense=False,
    )
    xyz = cloud.read_points_numpy(scan, ["x", "y", "z"]).copy()
    organised = xyz.reshape(scan.height, scan.width, 3)

    def valid_xyz(module: Any) -> Callable[[], Any]:
        if module is cloud:
            return lambda: cloud.xyz_from_cloud(scan)

        def read() -> np.ndarray:  # what a user of sensor_msgs_py writes for the same result
            points = module.read_points_numpy(scan, ["x", "y", "z"], skip_nans=True)
            return points[np.any(points != 0, axis=1) & np.all(np.isfinite(points), axis=1)]

        return read

    calls: list[tuple[str, Callable[[Any], Callable[[], Any]]]] = [
        ("read_points", lambda m: lambda: m.read_points(scan)),
        ("read_points skip_nans", lambda m: lambda: m.read_points(scan, skip_nans=True)),
        (
            "read_points skip_nans, is_dense false",
            lambda m: lambda: m.read_points(undeclared, skip_nans=True),
        ),
        ("read_points_numpy xyz", lambda m: lambda: m.read_points_numpy(scan, ["x", "y", "z"])),
        ("valid xyz (N, 3)", valid_xyz),
        ("read_points_list", lambda m: lambda: m.read_points_list(scan)),
        (
            "create_cloud structured",
            lambda m: lambda: m.create_cloud(header, scan.fields, structured, scan.point_step),
        ),
        ("create_cloud_xyz32 (N, 3)", lambda m: lambda: m.create_cloud_xyz32(header, xyz)),
        ("create_cloud_xyz32 (H, W, 3)", lambda m: lambda: m.create_cloud_xyz32(header, organised)),
    ]
    rows = []
    for label, make in calls:
        ours = _median_seconds(make(cloud), repeat)
        theirs = _median_seconds(make(upstream), max(3, repeat // 3))
        rows.append(
            {
                "call": label,
                "ours_ms": ours * 1e3,
                "sensor_msgs_py_ms": theirs * 1e3,
                "speedup": theirs / ours,
            }
        )
    return rows


def _print_rows(rows: list[dict[str, Any]]) -> None:
    print(f"{'path':58s} {'ms':>9s} {'MB/s':>9s} {'memcpy ms':>9s} {'ratio':>6s}")
    for r in rows:
        flag = "" if not r["copies"] or r["ratio_to_memcpy"] >= 0.5 else "  < 0.5 of memcpy"
        print(
            f"{r['path']:58s} {r['ms']:9.3f} {r['MB_per_s']:9.0f} {r['memcpy_ms']:9.3f} "
            f"{r['ratio_to_memcpy']:6.2f}{flag}"
        )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pointlang-bench``; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="pointlang-bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_cloud = sub.add_parser("cloud", help="PointCloud2 <-> numpy conversion speed")
    p_cloud.add_argument("--points", type=int, default=1_000_000, help="synthetic cloud size")
    p_cloud.add_argument("--repeat", type=int, default=7, help="timed runs per path (median)")
    p_cloud.add_argument("--json", type=Path, metavar="OUT", help="also write figures as JSON")
    p_cloud.add_argument(
        "--ouster-bag", type=Path, default=OUSTER_BAG, help="the real Ouster OS1-64 rosbag2"
    )
    p_cloud.add_argument(
        "--sensor-msgs-py",
        type=Path,
        metavar="DIR",
        help="folder holding the sensor_msgs_py package (ROS's), to time it side by side",
    )
    p_runtime = sub.add_parser("runtime", help="pipeline latency per stage, ORT vs torch")
    p_runtime.add_argument("--bundle", type=Path, help="model bundle (default: the shipped one)")
    p_runtime.add_argument("--repeat", type=int, default=30, help="timed runs per stage")
    p_runtime.add_argument("--threads", type=int, default=2, help="inference threads (0 = auto)")
    p_runtime.add_argument("--checkpoint", type=Path, help="encoder checkpoint for torch eager")
    p_runtime.add_argument("--json", type=Path, metavar="OUT", help="also write figures as JSON")
    p_scene = sub.add_parser(
        "scene", help="the per-sweep path of scene mode, in-process and over DDS into the node"
    )
    p_scene.add_argument(
        "--source", nargs="+", default=["ouster", "street"], choices=["ouster", "street"],
        help="the real Ouster scan and/or generated street scenes",
    )  # fmt: skip
    p_scene.add_argument(
        "--objects", nargs="+", type=int, default=[5, 10, 20, 40],
        help="objects per generated street scene",
    )  # fmt: skip
    p_scene.add_argument("--rate", nargs="+", type=float, default=[10.0, 20.0], help="sensor Hz")
    p_scene.add_argument("--repeat", type=int, default=60, help="in-process sweeps per source")
    p_scene.add_argument("--duration", type=float, default=20.0, help="seconds over DDS")
    p_scene.add_argument("--no-dds", action="store_true", help="in-process figures only")
    p_scene.add_argument("--no-in-process", action="store_true", help="DDS figures only")
    p_scene.add_argument(
        "--params-file", type=Path, help="node parameters (default: config/lidar.yaml)"
    )
    p_scene.add_argument("--threads", type=int, default=0, help="in-process inference threads")
    p_scene.add_argument("--json", type=Path, metavar="OUT", help="also write figures as JSON")
    p_segment = sub.add_parser(
        "segment", help="scene segmentation alone: euclidean vs range image on the Ouster scan"
    )
    p_segment.add_argument("--repeat", type=int, default=40, help="sweeps per method")
    p_segment.add_argument(
        "--params-file", type=Path, help="node parameters (default: config/lidar.yaml)"
    )
    p_segment.add_argument(
        "--ouster-bag", type=Path, default=OUSTER_BAG, help="the real Ouster OS1-64 rosbag2"
    )
    p_segment.add_argument("--json", type=Path, metavar="OUT", help="also write figures as JSON")
    args = parser.parse_args(argv)

    if args.command == "segment":
        from ros_pointlang.bench_scene import (
            LIDAR_PARAMS,
            bench_segmentation,
            lidar_parameters,
            ouster_sweeps,
            print_segmentation,
        )

        params = lidar_parameters(args.params_file or LIDAR_PARAMS)
        row = bench_segmentation(ouster_sweeps(args.ouster_bag), params, args.repeat)
        print_segmentation("ouster-os1-64", row)
        if args.json is not None:
            args.json.write_text(json.dumps({"segment": {"ouster-os1-64": row}}, indent=2) + "\n")
        return 0

    if args.command == "scene":
        from ros_pointlang.bench_scene import LIDAR_PARAMS, bench_scene

        rows = bench_scene(
            args.source, args.objects, args.rate, args.repeat, args.duration,
            dds=not args.no_dds, in_process=not args.no_in_process,
            params_file=args.params_file or LIDAR_PARAMS, threads=args.threads,
        )  # fmt: skip
        if args.json is not None:
            args.json.write_text(json.dumps({"scene": rows}, indent=2) + "\n")
    elif args.command == "runtime":
        from ros_pointlang.bench_runtime import bench_runtime, print_runtime

        figures = bench_runtime(args.bundle, args.repeat, args.threads, args.checkpoint)
        print_runtime(figures)
        if args.json is not None:
            args.json.write_text(json.dumps(figures, indent=2) + "\n")
    elif args.command == "cloud":
        rows = bench_cloud(args.points, args.repeat, args.ouster_bag)
        _print_rows(rows)
        results: dict[str, Any] = {"cloud": rows, "kernels": kernels.LIBRARY is not None}
        if args.sensor_msgs_py is not None:
            sys.path.insert(0, str(args.sensor_msgs_py))
        try:
            upstream = bench_against_sensor_msgs_py(args.repeat, args.ouster_bag)
        except ImportError:
            print("note: sensor_msgs_py not importable; pass --sensor-msgs-py to compare with it")
        else:
            results["sensor_msgs_py"] = upstream
            print(
                f"\n{'vs sensor_msgs_py on the Ouster scan':40s} {'ours ms':>9s} "
                f"{'theirs ms':>10s} {'speed-up':>9s}"
            )
            for r in upstream:
                print(
                    f"{r['call']:40s} {r['ours_ms']:9.3f} {r['sensor_msgs_py_ms']:10.3f} "
                    f"{r['speedup']:8.1f}x"
                )
        if args.json is not None:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
