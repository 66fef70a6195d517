"""Offline replay: every PointCloud2 of the bag, in order, through
`ros_pointlang.describe.Describer.describe`, the very call the node makes per cloud. Results
are deterministic (latencies aside) and nothing is dropped."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ros_pointlang.bag import read_bag
from ros_pointlang.describe import Describer, ObjectDescription
from ros_pointlang.evaluation.frames import Frame, PredictedObject
from ros_pointlang.evaluation.truth import GroundTruth, message_count, stamp_ns


def _predicted(objects: Sequence[ObjectDescription]) -> list[PredictedObject]:
    return [
        PredictedObject(
            o.id,
            np.asarray(o.box.centre, np.float64),
            tuple(label.label for label in o.labels),
            o.caption.text if o.caption is not None else "",
        )
        for o in objects
    ]


def evaluate_offline(
    bag: str | Path,
    describer: Describer,
    points_topic: str,
    truth: GroundTruth,
    progress: bool = True,
) -> list[Frame]:
    """Describe every cloud of the bag in order, exactly as the node would: with the cloud
    stamps as the clock the schedule runs on (the node's clock at replay rate 1)."""
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import PointCloud2
    from tqdm import tqdm

    frames: list[Frame] = []
    messages = read_bag(bag, [points_topic])
    total = message_count(bag, points_topic)
    for index, message in enumerate(
        tqdm(messages, total=total, desc="clouds", unit="cloud", disable=not progress)
    ):
        cloud = deserialize_message(message.data, PointCloud2)
        stamp = stamp_ns(cloud.header)
        start = time.perf_counter()
        xyz, image = describer.read(cloud)
        decode = time.perf_counter() - start
        stages = {"decode": decode * 1e3}
        objects: list[ObjectDescription] = []
        if len(xyz):  # the node publishes an empty result for an empty cloud, and so do we
            objects = describer.describe(xyz, now=stamp / 1e9, image=image)
            stages.update({k: v * 1e3 for k, v in describer.timings.items()})
        total_s = time.perf_counter() - start
        frames.append(
            Frame(
                index,
                stamp,
                truth.get(index, stamp),
                _predicted(objects),
                latency_ms=total_s * 1e3,
                stages_ms=stages,
            )
        )
    return frames


def ask_offline(describer: Describer, question: str, object_id: int) -> dict[str, Any]:
    """Answer `question` about an object of the latest cloud, as the node's service would."""
    if not describer.pipeline.can_generate:
        return {"success": False, "message": "the bundle has no question answering stage"}
    start = time.perf_counter()
    try:
        answer = describer.answer(question, object_id)
    except ValueError as error:
        return {"success": False, "message": str(error)}
    return {
        "success": True,
        "answer": answer.text,
        "confidence": float(answer.confidence),
        "latency_ms": (time.perf_counter() - start) * 1e3,
    }
