"""`make demo`: a real Ouster OS1-64 recording replayed into ROS 2 and decoded live.

Two processes talk over DDS, as on a robot: a bag player publishes the stored
sensor_msgs/PointCloud2 scans on `points` (SensorData QoS), and this process subscribes, decodes
each scan with ros_pointlang.cloud and prints what it sees. The labelling and captioning node
replaces the listener here once it lands (see the open issues).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ros_pointlang.cloud import xyz_from_cloud

CHECKOUT = Path(__file__).resolve().parent.parent
OUSTER_BAG = CHECKOUT / "tests" / "data" / "ouster-os1-64"
OUSTER_TOPIC = "/os1_cloud_node/points"
FASTDDS_PROFILE = CHECKOUT / "config" / "fastdds_large_data.xml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ros_pointlang.demo", description=__doc__)
    parser.add_argument("--bag", type=Path, default=OUSTER_BAG, help="rosbag2 with PointCloud2")
    parser.add_argument("--topic", default=OUSTER_TOPIC, help="PointCloud2 topic in the bag")
    parser.add_argument("--loops", type=int, default=5, help="times to replay the bag")
    args = parser.parse_args(argv)

    os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(FASTDDS_PROFILE))
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import PointCloud2

    rclpy.init(args=[])
    node = rclpy.create_node("pointlang_demo")
    decode_ms: list[float] = []

    def on_cloud(msg: PointCloud2) -> None:
        start = time.perf_counter()
        xyz = xyz_from_cloud(msg)
        decode_ms.append((time.perf_counter() - start) * 1e3)
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        extent = np.ptp(xyz, axis=0) if len(xyz) else np.zeros(3)
        print(
            f"  cloud {len(decode_ms):2d}  stamp {stamp:.3f}  frame {msg.header.frame_id!r}  "
            f"{msg.height}x{msg.width} points, {len(xyz):6d} returns  "
            f"extent {extent[0]:5.1f} x {extent[1]:5.1f} x {extent[2]:4.1f} m  "
            f"decoded in {decode_ms[-1]:.2f} ms",
            flush=True,
        )

    node.create_subscription(PointCloud2, "points", on_cloud, qos_profile_sensor_data)
    player = subprocess.Popen(
        [sys.executable, "-m", "ros_pointlang.bag", "play", str(args.bag), "--topics", args.topic,
         "--remap", f"{args.topic}:=points", "--loop", str(args.loops)],
    )  # fmt: skip
    print(f"replaying {args.bag} into ROS 2 ({args.loops} loops) ...", flush=True)
    try:
        while player.poll() is None:
            rclpy.spin_once(node, timeout_sec=0.1)
        deadline = time.monotonic() + 1.0  # what is still in flight
        while time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.1)
    except KeyboardInterrupt:
        player.terminate()
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    if not decode_ms:
        print("no cloud arrived: is DDS discovery blocked on this machine?", file=sys.stderr)
        return 1
    print(f"received {len(decode_ms)} clouds; decode median {np.median(decode_ms):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
