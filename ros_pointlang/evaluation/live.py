"""Live replay: the `pointlang` node in its own process, the bag played into ROS 2 at `rate`
times its recorded speed, and the node's `/pointlang/objects` matched back to the played clouds
by header stamp. Clouds the node skipped (it always works on the newest cloud) count as drops."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ros_pointlang.bag import BagPlayer
from ros_pointlang.evaluation.frames import (
    MATCH_DISTANCE_M,
    Frame,
    PredictedObject,
    choose_question_object,
)
from ros_pointlang.evaluation.process import NodeProcess
from ros_pointlang.evaluation.truth import GroundTruth, cdr_header_stamp, message_count, stamp_ns
from ros_pointlang.parameters import DESCRIBE_PARAMETERS

OBJECTS_TOPIC = "/pointlang/objects"
ASK_SERVICE = "/pointlang/ask"
NODE_READY = "pointlang ready"
CHECKOUT = Path(__file__).resolve().parents[2]
FASTDDS_PROFILE = "config/fastdds_large_data.xml"


class LiveEvaluationError(RuntimeError):
    """The node or DDS did not behave well enough for a live run (not a bad argument)."""


def ros_environment() -> None:
    """Settings every process of a live run needs (kept when the user set them already).

    Without the large-data Fast DDS profile, whole clouds over best-effort DDS get lost.
    """
    for prefix in [str(CHECKOUT), *os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)]:
        root = Path(prefix)
        candidates = [root / FASTDDS_PROFILE, root / "share" / "ros_pointlang" / FASTDDS_PROFILE]
        found = next((p for p in candidates if p.is_file()), None)
        if found:
            os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(found))
            break
    # The node, player and recorder all run on this machine; keep their traffic here.
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")


def node_arguments(
    params: dict[str, Any],
    bundle: str | Path | None,
    points_topic: str,
    params_file: str | Path | None,
) -> list[str]:
    """`--ros-args` for the node: the params file, then every describe parameter we resolved,
    so the node describes clouds exactly as offline mode did."""
    args: list[str] = []
    if params_file is not None:
        args += ["--params-file", str(params_file)]
    if bundle is not None:
        args += ["-p", f"bundle:={Path(bundle).resolve()}"]
    for name in sorted(params):
        if name in DESCRIBE_PARAMETERS:
            # JSON is valid YAML, which is how rcl reads `-p` values (lists, floats, strings).
            args += ["-p", f"{name}:={json.dumps(params[name])}"]
    return [*args, "-r", f"points:={points_topic}"]


def _wait(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    return done()


def evaluate_live(
    bag: str | Path,
    points_topic: str,
    truth: GroundTruth,
    params: dict[str, Any],
    bundle: str | Path | None = None,
    params_file: str | Path | None = None,
    rate: float = 1.0,
    drain_s: float = 5.0,
    question: str | None = None,
    max_distance: float = MATCH_DISTANCE_M,
    progress: bool = True,
) -> tuple[list[Frame], dict[str, Any] | None]:
    """Play the bag into the node (its own process) and collect its outputs by stamp.

    Latency is the wall time from our publish call returning to our callback receiving the
    node's objects for that cloud, both in this process on one monotonic clock.
    """
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from tqdm import tqdm

    from ros_pointlang.msg import DescribedObjectArray
    from ros_pointlang.srv import AskCloud

    ros_environment()
    arguments = node_arguments(params, bundle, points_topic, params_file)
    received: dict[int, tuple[float, Any]] = {}
    arrival: list[int] = []  # stamps in the order their outputs arrived
    lock = threading.Lock()

    def on_objects(msg: Any) -> None:
        now = time.monotonic()
        stamp = stamp_ns(msg.header)
        with lock:
            if stamp not in received:
                received[stamp] = (now, msg)
                arrival.append(stamp)

    node_args = ["-m", "ros_pointlang.node", "--ros-args", *arguments]
    with NodeProcess(node_args, NODE_READY) as node_process:
        context = rclpy.Context()  # our own, so a caller's rclpy session is left alone
        rclpy.init(args=[], context=context)
        node = rclpy.create_node("pointlang_eval", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        stop = threading.Event()

        def spin() -> None:
            while not stop.is_set() and context.ok():
                executor.spin_once(timeout_sec=0.05)

        spinner = threading.Thread(target=spin, name="pointlang-eval-spin", daemon=True)
        try:
            subscription = node.create_subscription(
                DescribedObjectArray,
                OBJECTS_TOPIC,
                on_objects,
                QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE),
            )
            player = BagPlayer(node, bag, [points_topic], rate=rate)
            spinner.start()
            if not _wait(
                lambda: player.subscription_count() > 0 and subscription.get_publisher_count() > 0,
                30.0,
            ):
                raise LiveEvaluationError(
                    f"the node and the evaluator did not discover each other on {points_topic} "
                    f"and {OBJECTS_TOPIC} within 30 s (DDS discovery blocked?)"
                )
            # Discovery is seen from our side first; give the node's side a moment to match us
            # too, or its first cloud is lost (best effort) or skipped as unobserved (lazy).
            time.sleep(0.5)
            published: list[tuple[int, float]] = []
            total = message_count(bag, points_topic)
            for message in tqdm(
                player.play(), total=total, desc="played", unit="cloud", disable=not progress
            ):
                published.append((cdr_header_stamp(message.data), time.monotonic()))
            stamps = {s for s, _ in published}

            def all_answered() -> bool:
                with lock:
                    return stamps <= received.keys()

            _wait(all_answered, drain_s)
            qa = None
            if question:
                qa = _ask_live(
                    node,
                    AskCloud,
                    question,
                    truth,
                    received,
                    arrival,
                    lock,
                    published,
                    max_distance,
                )
        finally:
            stop.set()
            if spinner.is_alive():
                spinner.join(timeout=2.0)
            executor.shutdown()
            node.destroy_node()
            rclpy.try_shutdown(context=context)
        if node_process.poll() is not None:
            raise LiveEvaluationError(f"the node died during replay: {node_process.tail()}")

    frames = []
    for index, (stamp, sent) in enumerate(published):
        got = received.get(stamp)
        predicted = None
        latency = None
        if got is not None:
            latency = (got[0] - sent) * 1e3
            predicted = [
                PredictedObject(
                    int(o.id),
                    np.array([o.pose.position.x, o.pose.position.y, o.pose.position.z]),
                    tuple(s.label for s in o.labels),
                    o.caption,
                )
                for o in got[1].objects
            ]
        frames.append(Frame(index, stamp, truth.get(index, stamp), predicted, latency))
    return frames, qa


def _ask_live(
    node: Any,
    service_type: Any,
    question: str,
    truth: GroundTruth,
    received: dict[int, tuple[float, Any]],
    arrival: list[int],
    lock: threading.Lock,
    published: list[tuple[int, float]],
    max_distance: float,
) -> dict[str, Any]:
    """Ask the node about the latest cloud it described, about an object with ground truth."""
    client = node.create_client(service_type, ASK_SERVICE)
    if not client.wait_for_service(timeout_sec=10.0):
        return {"success": False, "message": f"service {ASK_SERVICE} did not appear in 10 s"}
    with lock:
        latest = arrival[-1] if arrival else None
    index = next((i for i, (s, _) in enumerate(published) if s == latest), -1)
    object_id, category = 0, None
    if latest is not None:
        msg = received[latest][1]
        centres = [[o.pose.position.x, o.pose.position.y, o.pose.position.z] for o in msg.objects]
        object_id, category = choose_question_object(
            truth.get(index, latest), centres, [int(o.id) for o in msg.objects], max_distance
        )
    request = service_type.Request(question=question, object_id=object_id)
    start = time.monotonic()
    future = client.call_async(request)
    if not _wait(future.done, 30.0):
        return {"success": False, "message": f"no answer from {ASK_SERVICE} in 30 s"}
    latency = (time.monotonic() - start) * 1e3
    response = future.result()
    return {
        "success": bool(response.success),
        "answer": response.answer,
        "confidence": float(response.confidence),
        "latency_ms": latency,
        "message": response.message,
        "object_id": object_id,
        "true_category": category,
    }
