"""`make demo`: a simulated LiDAR drive past furniture, described live by the pointlang node.

1. generates a short scene rosbag with ground truth (`pointlang-data scene`), once;
2. starts the node as its own process, as the launch file does (`config/lidar.yaml`);
3. replays the bag into ROS 2 and prints the objects, labels and captions as they arrive;
4. asks the node a question through its `~/ask` service;
5. evaluates the bag and writes a report with plots (`pointlang-eval bag`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))  # run as a script: python tools/demo.py
POINTS_TOPIC = "/lidar/points"


# Room furniture the shipped model was trained to name (ModelNet40's seen categories). The data
# engine's rooms now hold every indoor category, most of them new to the shipped bundle until it
# is retrained on data engine v2; a demo of a model naming what it never learned shows nothing.
DEMO_CATEGORIES = (
    "bed,bench,chair,desk,dresser,night_stand,sofa,table,tv_stand,plant,flower_pot,piano,sink"
)


def make_scene_bag(bag: Path, sweeps: int, seed: int) -> None:
    if bag.exists():
        print(f"reusing {bag}")
        return
    from training.data.cli import main as data_main

    bag.parent.mkdir(parents=True, exist_ok=True)
    data_main(
        [
            "scene",
            "--out",
            str(bag),
            "--sweeps",
            str(sweeps),
            "--seed",
            str(seed),
            "--min-objects",
            "4",
            "--max-objects",
            "7",
            "--categories",
            DEMO_CATEGORIES,
        ]
    )


def describe_line(objects_msg) -> str:
    stamp = objects_msg.header.stamp.sec + objects_msg.header.stamp.nanosec * 1e-9
    parts = []
    for obj in objects_msg.objects[:6]:
        best = obj.labels[0] if obj.labels else None
        label = f"{best.label} {best.score:.2f}" if best else "?"
        parts.append(f"#{obj.id} {label} ({obj.size.z:.1f} m)")
    more = f" +{len(objects_msg.objects) - 6}" if len(objects_msg.objects) > 6 else ""
    return f"t={stamp:8.2f}  {len(objects_msg.objects)} objects: " + ", ".join(parts) + more


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/demo.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=CHECKOUT / "build" / "demo", help="work folder")
    parser.add_argument("--bundle", type=Path, help="model bundle (default: the shipped one)")
    parser.add_argument("--sweeps", type=int, default=40, help="LiDAR sweeps in the scene bag")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=1.0, help="replay speed factor")
    parser.add_argument("--question", default="what is this object?")
    parser.add_argument("--no-report", action="store_true", help="skip the evaluation report")
    args = parser.parse_args(argv)

    from ros_pointlang.evaluation.live import ros_environment

    ros_environment()
    bag = args.out / f"scene-{args.seed}.mcap"
    make_scene_bag(bag, args.sweeps, args.seed)

    import rclpy
    from ros_pointlang.msg import CloudCaption, DescribedObjectArray
    from ros_pointlang.srv import AskCloud

    from ros_pointlang.bag import BagPlayer
    from ros_pointlang.evaluation.process import NodeProcess, NodeProcessError

    node_args = [
        "-m",
        "ros_pointlang.node",
        "--ros-args",
        "--params-file",
        str(CHECKOUT / "config" / "lidar.yaml"),
        "-r",
        f"points:={POINTS_TOPIC}",
        "-p",
        "caption_period:=1.0",
    ]
    if args.bundle:
        node_args += ["-p", f"bundle:={args.bundle}"]
    print("starting the pointlang node:", " ".join(node_args), flush=True)
    node_proc = NodeProcess(node_args, "pointlang ready", echo=True)
    try:
        node_proc.start()
    except NodeProcessError as error:
        print(error, file=sys.stderr)
        return 1
    rclpy.init(args=[])
    node = rclpy.create_node("pointlang_demo")
    frames: list[DescribedObjectArray] = []

    def on_objects(msg: DescribedObjectArray) -> None:
        frames.append(msg)
        print(describe_line(msg), flush=True)

    def on_caption(msg: CloudCaption) -> None:
        print(f"            caption: {msg.caption!r} ({msg.confidence:.2f})", flush=True)

    node.create_subscription(DescribedObjectArray, "/pointlang/objects", on_objects, 10)
    node.create_subscription(CloudCaption, "/pointlang/caption", on_caption, 10)
    ask = node.create_client(AskCloud, "/pointlang/ask")
    status = 0
    try:
        player = BagPlayer(node, bag, [POINTS_TOPIC], rate=args.rate)
        deadline = time.monotonic() + 60
        while (not ask.service_is_ready() or player.subscription_count() == 0) and (
            time.monotonic() < deadline
        ):
            rclpy.spin_once(node, timeout_sec=0.1)
            if node_proc.poll() is not None:
                raise RuntimeError("the pointlang node exited; see its error above")
        print(f"replaying {bag} at {args.rate}x", flush=True)
        for _ in player.play():
            rclpy.spin_once(node, timeout_sec=0.0)
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        print(f"\nreplayed the bag; the node described {len(frames)} clouds")

        future = ask.call_async(AskCloud.Request(question=args.question, object_id=0))
        rclpy.spin_until_future_complete(node, future, timeout_sec=20)
        answer = future.result()
        if answer is None:
            print(f"ask: no reply to {args.question!r}")
        elif answer.success:
            print(f"ask: {args.question!r} → {answer.answer!r} ({answer.confidence:.2f})")
        else:
            print(f"ask: {args.question!r} → no answer ({answer.message})")
    except (KeyboardInterrupt, RuntimeError) as error:
        print(error, file=sys.stderr)
        status = 1
    finally:
        node_proc.stop()
        node.destroy_node()
        rclpy.try_shutdown()
    if status or not frames:
        return status or 1
    if not args.no_report:
        status = write_report(bag, args.bundle, args.out / "report")
    return status


def write_report(bag: Path, bundle: Path | None, report: Path) -> int:
    """Offline evaluation of the same bag (deterministic), with a report."""
    from ros_pointlang.evaluation.cli import main as eval_main

    eval_args = ["bag", str(bag), "--report", str(report), "--json", str(report / "metrics.json")]
    if bundle:
        eval_args += ["--bundle", str(bundle)]
    print(f"\nevaluating: pointlang-eval {' '.join(eval_args)}", flush=True)
    return eval_main(eval_args)


if __name__ == "__main__":
    raise SystemExit(main())
