"""`pointlang-ask "how many legs does it have?" [--object 3]`: ask the running node."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pointlang-ask", description=__doc__)
    parser.add_argument("question", help="the question, in quotes")
    parser.add_argument("--object", type=int, default=0, help="object id; 0 = the latest cloud")
    parser.add_argument("--service", default="/pointlang/ask", help="the node's ask service")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait")
    import rclpy
    from rclpy.utilities import remove_ros_args

    argv = sys.argv[1:] if argv is None else list(argv)
    # Everything from --ros-args on is for rcl (a remapping, a domain, a log level).
    args = parser.parse_args(remove_ros_args(argv))
    if args.object < 0:
        parser.error(f"--object must be >= 0, got {args.object}")

    from ros_pointlang.srv import AskCloud

    rclpy.init(args=["pointlang_ask", *argv])
    node = rclpy.create_node("pointlang_ask")
    try:
        client: Any = node.create_client(AskCloud, args.service)
        if not client.wait_for_service(timeout_sec=args.timeout):
            print(f"no {args.service} service: is the pointlang node running?", file=sys.stderr)
            return 2
        future = client.call_async(AskCloud.Request(question=args.question, object_id=args.object))
        rclpy.spin_until_future_complete(node, future, timeout_sec=args.timeout)
        if not future.done():
            print(f"{args.service} did not answer within {args.timeout} s", file=sys.stderr)
            return 2
        response = future.result()
        if response is None:
            print(f"{args.service} failed to answer", file=sys.stderr)
            return 2
        if not response.success:
            print(f"no answer: {response.message}", file=sys.stderr)
            return 1
        stamp = response.cloud_stamp.sec + response.cloud_stamp.nanosec * 1e-9
        print(f"{response.answer}  (confidence {response.confidence:.2f}, cloud {stamp:.3f})")
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
