"""Read rosbag2 files (sqlite3 or mcap) and play them into ROS 2, without rosbag2 itself.

rosbag2 and `ros2 bag` are not on PyPI; the pure-Python `rosbags` library reads both storage
formats, and rclpy publishes the stored CDR bytes as they are, so replay never deserialises.

A recording cut short (the recorder killed, the disk full) is an mcap without its footer and
summary, often in a folder without metadata.yaml; `rosbags` refuses it. Such a bag is read
record by record up to the cut with the `mcap` package's stream reader, and a
`TruncatedBagWarning` says how much was there, so replay and evaluation use what was recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import struct
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rosbags.rosbag2 import Reader


class TruncatedBagWarning(UserWarning):
    """A bag was cut short; only the messages before the cut are read."""


@dataclass(frozen=True)
class BagMessage:
    """One stored message: its topic, ROS type name, receive time and serialised CDR bytes."""

    topic: str
    msgtype: str  # e.g. "sensor_msgs/msg/PointCloud2"
    stamp_ns: int
    data: bytes


def bag_topics(path: str | Path) -> dict[str, str]:
    """Topic name → message type of every topic in the bag at `path`."""
    with _open(path) as reader:
        return {c.topic: c.msgtype for c in reader.connections}


def read_bag(path: str | Path, topics: Iterable[str] | None = None) -> Iterator[BagMessage]:
    """Yield the bag's messages in time order, only those on `topics` when given."""
    wanted = None if topics is None else set(topics)
    with _open(path) as reader:
        connections = [c for c in reader.connections if wanted is None or c.topic in wanted]
        if wanted is not None:
            missing = wanted - {c.topic for c in connections}
            if missing:
                have = sorted(c.topic for c in reader.connections)
                raise ValueError(f"bag {path} has no topic {sorted(missing)}; it has {have}")
        for connection, stamp_ns, data in reader.messages(connections=connections):
            yield BagMessage(connection.topic, connection.msgtype, stamp_ns, bytes(data))


def message_count(path: str | Path, topic: str) -> int:
    """How many messages the bag at `path` holds on `topic` (0 if the topic is absent)."""
    with _open(path) as reader:
        connections = [c for c in reader.connections if c.topic == topic]
        return sum(1 for _ in reader.messages(connections=connections)) if connections else 0


def message_class(msgtype: str) -> Any:
    """The rclpy message class for a ROS type name such as "sensor_msgs/msg/PointCloud2"."""
    package, kind, name = _split_type(msgtype)
    try:
        return getattr(importlib.import_module(f"{package}.{kind}"), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"message type {msgtype!r} is not installed ({error})") from error


class BagPlayer:
    """Publishes a bag's messages on a node, paced by their recorded times.

    `remap` renames topics (stored name → published name); `rate` scales speed (2.0 = twice as
    fast; 0 = as fast as possible). Publishers use the given QoS profile (SensorData by default,
    as drivers do).
    """

    def __init__(
        self,
        node: Any,
        path: str | Path,
        topics: Iterable[str],
        remap: dict[str, str] | None = None,
        rate: float = 1.0,
        qos: Any = None,
    ) -> None:
        if rate < 0:
            raise ValueError(f"replay rate must be >= 0 (0 = unpaced), got {rate}")
        from rclpy.qos import qos_profile_sensor_data

        self.path = Path(path)
        self.topics = list(topics)
        self.rate = rate
        kinds = bag_topics(self.path)
        remap = remap or {}
        self._publishers = {
            topic: node.create_publisher(
                message_class(kinds[topic]), remap.get(topic, topic), qos or qos_profile_sensor_data
            )
            for topic in self.topics
            if topic in kinds
        }
        missing = set(self.topics) - set(self._publishers)
        if missing:
            raise ValueError(f"bag {path} has no topic {sorted(missing)}; it has {sorted(kinds)}")

    def subscription_count(self) -> int:
        """The fewest subscribers any of our publishers has (0 until everyone is discovered)."""
        return min(p.get_subscription_count() for p in self._publishers.values())

    def play(self) -> Iterator[BagMessage]:
        """Publish every message once, in order and paced; yield each right after publishing."""
        first_bag_ns: int | None = None
        start = time.monotonic()
        for message in read_bag(self.path, self.topics):
            if first_bag_ns is None:
                first_bag_ns = message.stamp_ns
            if self.rate > 0:
                due = start + (message.stamp_ns - first_bag_ns) / 1e9 / self.rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self._publishers[message.topic].publish(message.data)
            yield message


@contextlib.contextmanager
def _open(path: str | Path) -> Iterator[Any]:
    """A reader with `connections` and `messages(connections=...)`: rosbags' for a complete
    bag, the stream reader for an mcap cut short."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"rosbag {path} does not exist")
    try:
        reader = Reader(path)
        reader.open()
    except Exception as error:  # rosbags raises several unrelated types for a bad bag
        truncated = _TruncatedMcap.open(path)
        if truncated is None:
            raise ValueError(f"{path} is not a readable rosbag2 ({error})") from error
        yield truncated
        return
    try:
        yield reader
    finally:
        reader.close()


@dataclass(frozen=True)
class _Connection:
    topic: str
    msgtype: str


class _TruncatedMcap:
    """The records of an mcap without its footer, in the order they were written, up to the
    cut (a record cut in half ends it). One pass at open counts what is there, for the
    warning; `messages` streams a second pass, so memory stays flat on large bags."""

    def __init__(self, file: Path, connections: dict[int, _Connection], stats: str) -> None:
        self.file = file
        self._by_channel = connections
        self.connections = list(connections.values())
        self.stats = stats

    @classmethod
    def open(cls, path: Path) -> _TruncatedMcap | None:
        """The truncated mcap at `path` (a file, or a bag folder holding one), else None."""
        files = sorted(path.glob("*.mcap")) if path.is_dir() else [path]
        if len(files) != 1 or files[0].suffix != ".mcap" or not files[0].is_file():
            return None
        file = files[0]
        connections: dict[int, _Connection] = {}
        count, first_ns, last_ns, complete = 0, None, None, True
        try:
            for record in _records(file, connections):
                if record is None:  # reached the cut
                    complete = False
                    break
                count += 1
                first_ns = record.log_time if first_ns is None else first_ns
                last_ns = record.log_time
        except Exception:  # not an mcap at all (bad magic, unknown compression, ...)
            return None
        if complete or not connections:
            return None  # a whole file rosbags refused for another reason, or no channels
        seconds = (last_ns - first_ns) / 1e9 if first_ns is not None and last_ns else 0.0
        stats = f"{count} messages over {seconds:.1f} s"
        warnings.warn(
            TruncatedBagWarning(
                f"rosbag {path} was cut short (its mcap has no footer: the recording was not "
                f"closed); reading what it holds before the cut: {stats} of {file.name} "
                f"({file.stat().st_size / 1e6:.1f} MB)"
            ),
            stacklevel=4,
        )
        return cls(file, connections, stats)

    def messages(
        self, connections: Iterable[_Connection] | None = None
    ) -> Iterator[tuple[_Connection, int, bytes]]:
        wanted = None if connections is None else {c.topic for c in connections}
        for record in _records(self.file, {}):
            if record is None:
                return
            connection = self._by_channel.get(record.channel_id)
            if connection is not None and (wanted is None or connection.topic in wanted):
                yield connection, record.log_time, record.data


def _records(file: Path, connections: dict[int, _Connection]) -> Iterator[Any]:
    """The mcap's message records, filling `connections` (channel id → topic and type) from
    its schema and channel records as they come; None at a cut, then stop."""
    from mcap.exceptions import EndOfFile
    from mcap.records import Channel, Message, Schema
    from mcap.stream_reader import StreamReader

    schemas: dict[int, str] = {}
    with open(file, "rb") as stream:
        try:
            for record in StreamReader(stream).records:
                if isinstance(record, Schema):
                    schemas[record.id] = record.name
                elif isinstance(record, Channel):
                    msgtype = schemas.get(record.schema_id, "")
                    connections.setdefault(record.id, _Connection(record.topic, msgtype))
                elif isinstance(record, Message):
                    yield record
        except (EndOfFile, struct.error):
            yield None


def _split_type(msgtype: str) -> tuple[str, str, str]:
    parts = msgtype.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"message type {msgtype!r} is not of the form 'package/msg/Name'")
    return parts[0], parts[1], parts[2]


def main(argv: list[str] | None = None) -> int:
    """`python -m ros_pointlang.bag play BAG`: a small `ros2 bag play` for machines without it."""
    parser = argparse.ArgumentParser(prog="python -m ros_pointlang.bag", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    play = commands.add_parser("play", help="publish a bag's messages into ROS 2")
    play.add_argument("bag", help="rosbag2 folder or file (sqlite3 or mcap)")
    play.add_argument("--topics", nargs="+", help="topics to play (default: all)")
    play.add_argument("--remap", nargs="*", default=[], help="renames, as stored:=published")
    play.add_argument("--rate", type=float, default=1.0, help="speed factor; 0 = unpaced")
    play.add_argument("--loop", type=int, default=1, help="times to play the bag")
    play.add_argument(
        "--wait-for-subscribers",
        type=float,
        default=10.0,
        help="seconds to wait for a subscriber on every topic before playing",
    )
    argv = sys.argv[1:] if argv is None else argv
    # Everything after --ros-args is for rcl (e.g. a domain or a log level), not for argparse.
    split = argv.index("--ros-args") if "--ros-args" in argv else len(argv)
    args = parser.parse_args(argv[:split])

    import rclpy
    from rclpy.executors import ExternalShutdownException

    remap = {}
    for rule in args.remap:
        stored, sep, published = rule.partition(":=")
        if not sep or not stored or not published:
            parser.error(f"--remap {rule!r} is not of the form stored:=published")
        remap[stored] = published
    topics = args.topics or sorted(bag_topics(args.bag))

    rclpy.init(args=["pointlang_bag_player", *argv[split:]])
    node = rclpy.create_node("pointlang_bag_player")
    try:
        player = BagPlayer(node, args.bag, topics, remap=remap, rate=args.rate)
        deadline = time.monotonic() + args.wait_for_subscribers
        while player.subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"playing {args.bag} ({', '.join(topics)})", flush=True)
        count = 0
        for _ in range(args.loop):
            count += sum(1 for _ in player.play())
        print(f"played {count} messages", flush=True)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
