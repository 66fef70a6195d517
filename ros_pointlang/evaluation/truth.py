"""Ground truth for a bag: the `/pointlang/ground_truth` topic of `pointlang-data scene` bags,
or a `--labels FILE`.

`--labels FILE` is JSON: an object mapping a key to a list of `{"category": str, "centre":
[x, y, z]}` (optional `"caption"`), in the cloud's own frame. A key below 10**15 is the cloud's
index in the bag (0-based, in order); a larger one is its header stamp in nanoseconds.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ros_pointlang.bag import bag_topics, read_bag
from ros_pointlang.evaluation.frames import TruthObject
from ros_pointlang.vocabulary import normalise_label

POINTCLOUD2 = "sensor_msgs/msg/PointCloud2"
GROUND_TRUTH_TOPIC = "/pointlang/ground_truth"
STAMP_KEY_MIN = 10**15  # --labels keys at or above this are stamps in ns, below are indices


def cdr_header_stamp(data: bytes) -> int:
    """The header stamp (ns) of a serialised message whose first field is a std_msgs/Header,
    read from the CDR bytes without deserialising the (possibly large) rest."""
    if len(data) < 12:
        raise ValueError(f"serialised message of {len(data)} bytes is too short for a header")
    # Byte 1 of the encapsulation header is odd for little endian (CDR_LE, PL_CDR_LE, ...).
    order = "<" if data[1] & 1 else ">"
    sec, nanosec = struct.unpack_from(f"{order}iI", data, 4)
    return sec * 1_000_000_000 + nanosec


def stamp_ns(header: Any) -> int:
    """A std_msgs/Header's stamp in nanoseconds."""
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def points_topic_of(bag: str | Path, topic: str | None = None) -> str:
    """The PointCloud2 topic to evaluate: `topic`, or the bag's only PointCloud2 topic."""
    kinds = bag_topics(bag)
    clouds = sorted(t for t, kind in kinds.items() if kind == POINTCLOUD2)
    if topic is not None:
        if kinds.get(topic) != POINTCLOUD2:
            raise ValueError(f"bag {bag} has no PointCloud2 topic {topic!r}; it has {clouds}")
        return topic
    if len(clouds) != 1:
        raise ValueError(
            f"bag {bag} has {len(clouds)} PointCloud2 topics {clouds}; name one with --topic"
        )
    return clouds[0]


def message_count(bag: str | Path, topic: str) -> int:
    """How many messages the bag holds on `topic` (for progress bars; a bag cut short too)."""
    from ros_pointlang.bag import message_count as count

    return count(bag, topic)


def read_truth(bag: str | Path, topic: str = GROUND_TRUTH_TOPIC) -> dict[int, list[TruthObject]]:
    """Ground truth per header stamp, from the bag's DescribedObjectArray messages."""
    from rclpy.serialization import deserialize_message

    from ros_pointlang.msg import DescribedObjectArray

    truth: dict[int, list[TruthObject]] = {}
    for message in read_bag(bag, [topic]):
        array = deserialize_message(message.data, DescribedObjectArray)
        truth[stamp_ns(array.header)] = [
            TruthObject(
                category=normalise_label(o.labels[0].label) if o.labels else "",
                centre=np.array([o.pose.position.x, o.pose.position.y, o.pose.position.z]),
                caption=o.caption,
                id=int(o.id),
                num_points=int(o.num_points),
            )
            for o in array.objects
        ]
    return truth


def read_labels_file(path: str | Path) -> tuple[dict[int, list[TruthObject]], dict[int, list]]:
    """(by frame index, by stamp ns) ground truth from a `--labels` JSON file."""
    path = Path(path)
    try:
        content = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"labels file {path} is not readable JSON ({error})") from error
    if not isinstance(content, dict):
        raise ValueError(f"labels file {path} holds a {type(content).__name__}; expected an object")
    by_index: dict[int, list[TruthObject]] = {}
    by_stamp: dict[int, list[TruthObject]] = {}
    for key, objects in content.items():
        try:
            number = int(key)
        except ValueError:
            raise ValueError(
                f"labels file {path}: key {key!r} is not a frame index or a stamp in ns"
            ) from None
        if not isinstance(objects, list):
            raise ValueError(f"labels file {path}: entry {key!r} is not a list of objects")
        parsed = []
        for item in objects:
            centre = np.asarray(item.get("centre", ()) if isinstance(item, dict) else (), float)
            if not isinstance(item, dict) or "category" not in item or centre.shape != (3,):
                raise ValueError(
                    f"labels file {path}: entry {key!r} has {item!r}; expected "
                    '{"category": str, "centre": [x, y, z]}'
                )
            parsed.append(
                TruthObject(
                    normalise_label(item["category"]),
                    centre,
                    str(item.get("caption", "")),
                    num_points=int(item.get("num_points", 1 << 30)),
                )
            )
        (by_stamp if number >= STAMP_KEY_MIN else by_index)[number] = parsed
    return by_index, by_stamp


@dataclass
class GroundTruth:
    """Ground truth looked up by a cloud's stamp or, for labels files, its index."""

    by_stamp: dict[int, list[TruthObject]] = field(default_factory=dict)
    by_index: dict[int, list[TruthObject]] = field(default_factory=dict)
    source: str = "none"

    def get(self, index: int, stamp_ns: int) -> list[TruthObject] | None:
        if stamp_ns in self.by_stamp:
            return self.by_stamp[stamp_ns]
        return self.by_index.get(index)

    @property
    def categories(self) -> list[str]:
        objects = [*self.by_stamp.values(), *self.by_index.values()]
        return sorted({t.category for frame in objects for t in frame})

    def __bool__(self) -> bool:
        return bool(self.by_stamp or self.by_index)


def load_ground_truth(bag: str | Path, labels_file: str | Path | None) -> GroundTruth:
    """The labels file when given, else the bag's ground-truth topic, else nothing."""
    if labels_file is not None:
        by_index, by_stamp = read_labels_file(labels_file)
        return GroundTruth(by_stamp, by_index, f"labels file {labels_file}")
    if GROUND_TRUTH_TOPIC in bag_topics(bag):
        return GroundTruth(read_truth(bag), {}, f"bag topic {GROUND_TRUTH_TOPIC}")
    return GroundTruth()
