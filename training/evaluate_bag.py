"""`pointlang-eval bag BAG [--live] [--rate N] [--bundle PATH] [--json OUT] [--report DIR]`.

Scores the point-cloud-to-language pipeline on a rosbag2, the way it runs on a robot:

- offline (default): every PointCloud2 in the bag, in order, goes through
  `ros_pointlang.describe.Describer.describe`, the very call the node makes per cloud; results
  are deterministic (latencies aside) and nothing is dropped.
- live (`--live`): the `pointlang` node runs as its own process, the bag is played into ROS 2 at
  `--rate` times its recorded speed, and the node's `/pointlang/objects` are matched back to the
  played clouds by header stamp. Clouds the node skipped (it always works on the newest cloud)
  count as drops.

Predicted objects are matched to the ground-truth objects of the same cloud by box-centre
distance (Hungarian assignment, at most `--match-distance` metres). Ground truth comes from
`/pointlang/ground_truth` (`pointlang-data scene` bags) or from `--labels FILE`; without either,
predictions and latency are still reported and the accuracy fields are null.

`--labels FILE` is JSON: an object mapping a key to a list of `{"category": str, "centre":
[x, y, z]}` (optional `"caption"`), in the cloud's own frame. A key below 10**15 is the cloud's
index in the bag (0-based, in order); a larger one is its header stamp in nanoseconds.

Metrics (JSON keys are flat and dotted, as in `pointlang-eval dataset`): `labels.top1` and
`labels.top5` over matched ground-truth objects, `detection.recall` (matched / ground truth),
`detection.precision` (matched / predicted), `caption.sbert` (MiniLM cosine between generated
and reference captions of matched objects, when the bundle can caption), `latency_ms.p50/p95`
(offline: decode + describe per cloud, with per-stage keys; live: node output received minus
cloud published), `drop_rate`, `frames`, `mode`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import queue
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from training.report import format_value

POINTCLOUD2 = "sensor_msgs/msg/PointCloud2"
GROUND_TRUTH_TOPIC = "/pointlang/ground_truth"
OBJECTS_TOPIC = "/pointlang/objects"
ASK_SERVICE = "/pointlang/ask"
NODE_NAME = "pointlang"
NODE_READY = "pointlang ready"
MATCH_DISTANCE_M = 0.5
STAMP_KEY_MIN = 10**15  # --labels keys at or above this are stamps in ns, below are indices
CHECKOUT = Path(__file__).resolve().parent.parent
FASTDDS_PROFILE = "config/fastdds_large_data.xml"


class LiveEvaluationError(RuntimeError):
    """The node or DDS did not behave well enough for a live run (not a bad argument)."""


# -- data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TruthObject:
    """One ground-truth object of a cloud, in that cloud's frame."""

    category: str  # normalised spoken name ("flower pot")
    centre: npt.NDArray[np.float64]  # (3,) box centre, metres
    caption: str = ""
    id: int = 0
    num_points: int = 0


@dataclass(frozen=True)
class PredictedObject:
    """One object the pipeline described: box centre, labels best first, caption ("" if none)."""

    id: int
    centre: npt.NDArray[np.float64]
    labels: tuple[str, ...]
    caption: str = ""


@dataclass
class Frame:
    """One input cloud and what became of it.

    `truth` is None when the cloud has no ground truth; `predicted` is None when no output
    arrived for it (a live drop). `matches` pairs (truth index, predicted index).
    """

    index: int
    stamp_ns: int
    truth: list[TruthObject] | None
    predicted: list[PredictedObject] | None
    latency_ms: float | None = None
    stages_ms: dict[str, float] = field(default_factory=dict)
    matches: list[tuple[int, int]] = field(default_factory=list)

    @property
    def correct(self) -> int:
        """Matched objects whose first label is the true category."""
        if self.truth is None or self.predicted is None:
            return 0
        return sum(
            topk_hit(self.truth[t].category, self.predicted[p].labels, 1) for t, p in self.matches
        )


@dataclass
class BagEvaluation:
    """Everything a report needs: the flat metrics, the frames and how the run was set up."""

    mode: str
    metrics: dict[str, Any]
    frames: list[Frame]
    settings: dict[str, Any]


# -- metrics (pure functions, checked on hand-made cases in the tests) ------------------------


def normalise_label(text: str) -> str:
    """A category in the words the labels use: ModelNet names lose their underscores
    ("flower_pot" → "flower pot"), everything is stripped and lower case."""
    from training.data.categories import MODELNET40, display_name

    word = " ".join(str(text).strip().lower().replace("_", " ").split())
    modelnet = word.replace(" ", "_")
    return display_name(modelnet) if modelnet in MODELNET40 else word


def match_objects(
    truth_centres: npt.ArrayLike,
    predicted_centres: npt.ArrayLike,
    max_distance: float = MATCH_DISTANCE_M,
) -> list[tuple[int, int]]:
    """Pairs (truth index, predicted index) with the least total centre distance, none longer
    than `max_distance` metres; each object is in at most one pair. Sorted by truth index."""
    from scipy.optimize import linear_sum_assignment

    if max_distance <= 0:
        raise ValueError(f"max_distance must be > 0 metres, got {max_distance}")
    truth = np.asarray(truth_centres, np.float64).reshape(-1, 3)
    predicted = np.asarray(predicted_centres, np.float64).reshape(-1, 3)
    if len(truth) == 0 or len(predicted) == 0:
        return []
    distance = np.linalg.norm(truth[:, None, :] - predicted[None, :, :], axis=-1)  # (G, P)
    # Pairs beyond reach cost more than any set of reachable pairs, so the assignment never
    # trades a good pair for one that is thrown away afterwards.
    big = 1.0 + max_distance * (min(len(truth), len(predicted)) + 1)
    cost = np.where(distance <= max_distance, distance, big)
    rows, cols = linear_sum_assignment(cost)
    return sorted(
        (int(r), int(c)) for r, c in zip(rows, cols, strict=True) if distance[r, c] <= max_distance
    )


def topk_hit(truth: str, labels: Sequence[str], k: int) -> bool:
    """Whether the true category is among the first `k` labels (names normalised)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    wanted = normalise_label(truth)
    return any(normalise_label(label) == wanted for label in labels[:k])


def percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    """(p50, p95) of `values`, or (None, None) when there are none."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None, None
    p50, p95 = np.percentile(finite, [50, 95])
    return float(p50), float(p95)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def match_frames(frames: Sequence[Frame], max_distance: float = MATCH_DISTANCE_M) -> None:
    """Fill in `matches` of every frame that has both ground truth and an output."""
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            frame.matches = []
            continue
        frame.matches = match_objects(
            [t.centre for t in frame.truth], [p.centre for p in frame.predicted], max_distance
        )


def score_frames(frames: Sequence[Frame], min_truth_points: int = 0) -> dict[str, Any]:
    """Accuracy over the frames that have ground truth and an output (matches already filled).

    Ground-truth objects with fewer than `min_truth_points` returns are left out of the
    counts (and so are the predictions matched to them): nobody can label three points.
    """
    truth_total = predicted_total = matched = top1 = top5 = 0
    scored = 0
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            continue
        scored += 1
        ignored = {i for i, t in enumerate(frame.truth) if t.num_points < min_truth_points}
        ignored_predictions = {p for t, p in frame.matches if t in ignored}
        truth_total += len(frame.truth) - len(ignored)
        predicted_total += len(frame.predicted) - len(ignored_predictions)
        for t, p in frame.matches:
            if t in ignored:
                continue
            matched += 1
            top1 += topk_hit(frame.truth[t].category, frame.predicted[p].labels, 1)
            top5 += topk_hit(frame.truth[t].category, frame.predicted[p].labels, 5)
    return {
        "labels.top1": _ratio(top1, matched),
        "labels.top5": _ratio(top5, matched),
        "labels.matched": matched if scored else None,
        "detection.recall": _ratio(matched, truth_total),
        "detection.precision": _ratio(matched, predicted_total),
        "objects.truth": truth_total if scored else None,
        "objects.predicted": predicted_total if scored else None,
        "frames_scored": scored,
    }


def caption_pairs(frames: Sequence[Frame]) -> list[tuple[str, str]]:
    """(generated, reference) for every matched object that has both captions."""
    pairs = []
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            continue
        for t, p in frame.matches:
            generated, reference = frame.predicted[p].caption, frame.truth[t].caption
            if generated.strip() and reference.strip():
                pairs.append((generated, reference))
    return pairs


def caption_similarity(pairs: Sequence[tuple[str, str]], encoder: Any = None) -> float | None:
    """Mean Sentence-BERT cosine between generated and reference captions (None if no pair).

    `encoder` has `encode(list[str]) -> (n, 384)` unit vectors; the default is the frozen
    MiniLM of `training.text.TextEncoder` (the PointLLM protocol's SBERT similarity).
    """
    if not pairs:
        return None
    if encoder is None:
        from training.text import TextEncoder

        encoder = TextEncoder()
    generated = np.asarray(encoder.encode([g for g, _ in pairs]), np.float64)
    reference = np.asarray(encoder.encode([r for _, r in pairs]), np.float64)
    return float(np.mean(np.sum(generated * reference, axis=1)))


def cdr_header_stamp(data: bytes) -> int:
    """The header stamp (ns) of a serialised message whose first field is a std_msgs/Header,
    read from the CDR bytes without deserialising the (possibly large) rest."""
    if len(data) < 12:
        raise ValueError(f"serialised message of {len(data)} bytes is too short for a header")
    # Byte 1 of the encapsulation header is odd for little endian (CDR_LE, PL_CDR_LE, ...).
    order = "<" if data[1] & 1 else ">"
    sec, nanosec = struct.unpack_from(f"{order}iI", data, 4)
    return sec * 1_000_000_000 + nanosec


def _stamp_ns(header: Any) -> int:
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


# -- inputs -----------------------------------------------------------------------------------


def points_topic_of(bag: str | Path, topic: str | None = None) -> str:
    """The PointCloud2 topic to evaluate: `topic`, or the bag's only PointCloud2 topic."""
    from ros_pointlang.bag import bag_topics

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
    """How many messages the bag holds on `topic` (for progress bars)."""
    from rosbags.rosbag2 import Reader

    with Reader(Path(bag)) as reader:
        return sum(c.msgcount for c in reader.connections if c.topic == topic)


def read_truth(bag: str | Path, topic: str = GROUND_TRUTH_TOPIC) -> dict[int, list[TruthObject]]:
    """Ground truth per header stamp, from the bag's DescribedObjectArray messages."""
    from rclpy.serialization import deserialize_message
    from ros_pointlang.msg import DescribedObjectArray

    from ros_pointlang.bag import read_bag

    truth: dict[int, list[TruthObject]] = {}
    for message in read_bag(bag, [topic]):
        array = deserialize_message(message.data, DescribedObjectArray)
        truth[_stamp_ns(array.header)] = [
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
            centre = (
                np.asarray(item.get("centre", ()), np.float64) if isinstance(item, dict) else []
            )
            if not isinstance(item, dict) or "category" not in item or np.shape(centre) != (3,):
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
    from ros_pointlang.bag import bag_topics

    if labels_file is not None:
        by_index, by_stamp = read_labels_file(labels_file)
        return GroundTruth(by_stamp, by_index, f"labels file {labels_file}")
    if GROUND_TRUTH_TOPIC in bag_topics(bag):
        return GroundTruth(read_truth(bag), {}, f"bag topic {GROUND_TRUTH_TOPIC}")
    return GroundTruth()


# -- node parameters (the same for offline and live) ------------------------------------------


def read_params_file(path: str | Path, node: str = NODE_NAME) -> dict[str, Any]:
    """The `ros__parameters` a ROS 2 params file gives node `node` (wildcards included)."""
    import yaml

    path = Path(path)
    try:
        content = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"params file {path} is not readable YAML ({error})") from error
    if not isinstance(content, dict):
        raise ValueError(f"params file {path} is not a mapping of node names to parameters")
    sections = {str(key).strip("/").split("/")[-1]: value for key, value in content.items()}
    merged: dict[str, Any] = {}
    # Wildcard sections first, so the node's own section wins where both set a parameter.
    for name in ("**", "*", node):
        section = sections.get(name)
        if isinstance(section, dict):
            merged.update(section.get("ros__parameters") or {})
    return merged


def describe_settings(params: dict[str, Any]) -> Any:
    """The DescribeSettings the node builds from these parameters (the same function the node
    uses); `mode` defaults to "scene": scene bags are what this evaluator is for."""
    from ros_pointlang.describe import settings_from_parameters

    return settings_from_parameters(params, default_mode="scene")


def describe_parameter_names() -> set[str]:
    """Node parameters that change what describe() does, plus the vocabulary and schedule."""
    from ros_pointlang.describe import DescribeSettings
    from ros_pointlang.preprocess import SceneConfig

    fields = {f.name for kind in (DescribeSettings, SceneConfig) for f in dataclasses.fields(kind)}
    return (fields - {"scene"}) | {"labels", "unknown_threshold", "caption_period"}


def resolve_vocabulary(choice: str | None, truth: GroundTruth) -> list[str] | None:
    """None (the bundle's own labels), the ground truth's categories, all 40 ModelNet names,
    or a comma-separated list."""
    if choice is None or choice == "bundle":
        return None
    if choice == "truth":
        if not truth or not truth.categories:
            raise ValueError("--vocabulary truth needs ground truth; the bag has none")
        return truth.categories
    if choice == "modelnet40":
        from training.data.categories import MODELNET40

        return [normalise_label(c) for c in MODELNET40]
    words = [w.strip() for w in choice.split(",") if w.strip()]
    if not words:
        raise ValueError(f"--vocabulary {choice!r} names no label")
    return words


def should_caption(period: float, stamp_ns: int, last_ns: int | None) -> bool:
    """The node's caption schedule on cloud stamps: -1 never, 0 every cloud, else every
    `period` seconds (the node counts wall time, which equals stamp time at rate 1)."""
    if period < 0:
        return False
    return last_ns is None or stamp_ns - last_ns >= period * 1e9


# -- offline ----------------------------------------------------------------------------------


def _predicted(objects: Sequence[Any]) -> list[PredictedObject]:
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
    describer: Any,
    points_topic: str,
    truth: GroundTruth,
    caption_period: float = 1.0,
    progress: bool = True,
) -> list[Frame]:
    """Describe every cloud of the bag in order, exactly as the node would."""
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import PointCloud2
    from tqdm import tqdm

    from ros_pointlang.bag import read_bag
    from ros_pointlang.cloud import xyz_from_cloud

    frames: list[Frame] = []
    last_caption: int | None = None
    messages = read_bag(bag, [points_topic])
    total = message_count(bag, points_topic)
    for index, message in enumerate(
        tqdm(messages, total=total, desc="clouds", unit="cloud", disable=not progress)
    ):
        cloud = deserialize_message(message.data, PointCloud2)
        stamp = _stamp_ns(cloud.header)
        start = time.perf_counter()
        xyz = xyz_from_cloud(cloud)
        decode = time.perf_counter() - start
        stages = {"decode": decode * 1e3}
        objects = []
        if len(xyz):  # the node publishes an empty result for an empty cloud, and so do we
            caption = should_caption(caption_period, stamp, last_caption)
            objects = describer.describe(xyz, caption=caption)
            if caption and describer.pipeline.can_generate:
                last_caption = stamp
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


def ask_offline(describer: Any, question: str, object_id: int) -> dict[str, Any]:
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


# -- live -------------------------------------------------------------------------------------


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


class NodeProcess:
    """The `pointlang` node in a process of its own, its log drained by a thread (a full pipe
    would block the node) and its last lines kept for error messages."""

    def __init__(self, ros_args: list[str], ready_line: str = NODE_READY, timeout: float = 90.0):
        self.command = [sys.executable, "-m", "ros_pointlang.node", "--ros-args", *ros_args]
        self.ready_line = ready_line
        self.timeout = timeout
        self.log: deque[str] = deque(maxlen=200)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> NodeProcess:
        self.proc = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait()
                raise LiveEvaluationError(
                    f"the node exited with {self.proc.returncode} before it was ready: "
                    + self.tail()
                )
            if self.ready_line in line:
                return self
        self.__exit__(None, None, None)
        raise LiveEvaluationError(f"the node never logged {self.ready_line!r}: {self.tail()}")

    def _drain(self) -> None:
        stream = self.proc.stdout if self.proc is not None else None
        for line in stream or ():
            self.log.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def tail(self, lines: int = 20) -> str:
        return "".join(list(self.log)[-lines:]).strip()

    def __exit__(self, *exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(2)  # SIGINT: the node shuts down cleanly, as on Ctrl-C
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


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
        if name in describe_parameter_names():
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
    from ros_pointlang.msg import DescribedObjectArray
    from ros_pointlang.srv import AskCloud
    from tqdm import tqdm

    from ros_pointlang.bag import BagPlayer

    ros_environment()
    arguments = node_arguments(params, bundle, points_topic, params_file)
    received: dict[int, tuple[float, Any]] = {}
    arrival: list[int] = []  # stamps in the order their outputs arrived
    lock = threading.Lock()

    def on_objects(msg: Any) -> None:
        now = time.monotonic()
        stamp = _stamp_ns(msg.header)
        with lock:
            if stamp not in received:
                received[stamp] = (now, msg)
                arrival.append(stamp)

    with NodeProcess(arguments) as node_process:
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
        if node_process.proc is not None and node_process.proc.poll() is not None:
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


def choose_question_object(
    truth: list[TruthObject] | None,
    predicted_centres: Sequence[Sequence[float]],
    predicted_ids: Sequence[int],
    max_distance: float = MATCH_DISTANCE_M,
) -> tuple[int, str | None]:
    """The id of the first predicted object that matches ground truth, and its true category;
    (0, None) when none does (0 asks the node about its largest object)."""
    if truth and len(predicted_centres):
        pairs = match_objects([t.centre for t in truth], predicted_centres, max_distance)
        if pairs:
            t, p = pairs[0]
            return int(predicted_ids[p]), truth[t].category
    return 0, None


# -- summary ----------------------------------------------------------------------------------


def summarise(
    frames: list[Frame],
    mode: str,
    min_truth_points: int = 0,
    caption_encoder: Any = None,
    can_caption: bool = True,
) -> dict[str, Any]:
    """The flat metrics of one run (matches must be filled in already)."""
    metrics: dict[str, Any] = {"mode": mode, "frames": len(frames)}
    processed = [f for f in frames if f.predicted is not None]
    metrics["frames_processed"] = len(processed)
    metrics["frames_with_truth"] = sum(f.truth is not None for f in frames)
    metrics["drop_rate"] = _ratio(len(frames) - len(processed), len(frames))
    metrics.update(score_frames(frames, min_truth_points))
    pairs = caption_pairs(frames) if can_caption else []
    metrics["caption.count"] = len(pairs)
    metrics["caption.sbert"] = caption_similarity(pairs, caption_encoder)
    latency = [f.latency_ms for f in processed if f.latency_ms is not None]
    metrics["latency_ms.p50"], metrics["latency_ms.p95"] = percentiles(latency)
    stages = sorted({s for f in processed for s in f.stages_ms})
    for stage in stages:
        values = [f.stages_ms[stage] for f in processed if stage in f.stages_ms]
        p50, p95 = percentiles(values)
        metrics[f"latency_ms.{stage}.p50"], metrics[f"latency_ms.{stage}.p95"] = p50, p95
    return metrics


# -- command line -----------------------------------------------------------------------------


def add_bag_parser(subparsers: Any) -> None:
    """Add the `bag` subcommand to `pointlang-eval`'s subparsers (dispatch with `run_bag`)."""
    bag = subparsers.add_parser(
        "bag",
        help="offline or live rosbag replay evaluation with a report",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    bag.add_argument("bag", type=Path, help="rosbag2 folder (mcap or sqlite3)")
    bag.add_argument("--live", action="store_true", help="replay into the node (its own process)")
    bag.add_argument("--rate", type=float, default=1.0, help="live replay speed; 0 = unpaced")
    bag.add_argument("--bundle", type=Path, help="model bundle (default: the shipped one)")
    bag.add_argument("--json", type=Path, help="write the metrics here")
    bag.add_argument("--report", type=Path, help="folder for report.md, report.html and plots")
    bag.add_argument("--topic", help="PointCloud2 topic (default: the bag's only one)")
    bag.add_argument("--labels", type=Path, help="ground-truth JSON for bags without it")
    bag.add_argument(
        "--params-file", type=Path, help="node params YAML (both modes apply it the same way)"
    )
    bag.add_argument(
        "--mode", choices=("scene", "object"), help="describe mode (default: params file, scene)"
    )
    bag.add_argument("--top-k", type=int, help="labels per object (default: params file, 5)")
    bag.add_argument(
        "--vocabulary",
        help="labels to choose from: bundle (default), truth (the bag's categories), "
        "modelnet40, or a comma-separated list",
    )
    bag.add_argument(
        "--caption-period",
        type=float,
        help="seconds between captions, 0 = every cloud, -1 = never (default: params file, 1)",
    )
    bag.add_argument(
        "--match-distance",
        type=float,
        default=MATCH_DISTANCE_M,
        help="metres between box centres for a prediction to match ground truth",
    )
    bag.add_argument(
        "--min-truth-points",
        type=int,
        default=0,
        help="ignore ground-truth objects with fewer LiDAR returns",
    )
    bag.add_argument("--question", help="ask the node (or offline describer) this at the end")
    bag.add_argument("--drain", type=float, default=5.0, help="live: seconds to wait for outputs")
    bag.add_argument("--no-progress", action="store_true", help="no progress bar")


def effective_parameters(args: argparse.Namespace, truth: GroundTruth) -> dict[str, Any]:
    """Node parameters of the run: the params file's, then the command line's on top."""
    params = read_params_file(args.params_file) if args.params_file else {}
    params = {k: v for k, v in params.items() if k in describe_parameter_names()}
    params["mode"] = args.mode or params.get("mode", "scene")
    if args.top_k is not None:
        params["top_k"] = args.top_k
    if args.caption_period is not None:
        params["caption_period"] = args.caption_period
    params.setdefault("caption_period", 1.0)
    vocabulary = resolve_vocabulary(args.vocabulary, truth)
    if vocabulary is not None:
        params["labels"] = vocabulary
    return params


def evaluate_bag(args: argparse.Namespace, caption_encoder: Any = None) -> BagEvaluation:
    """Run one evaluation as the command line describes it."""
    from ros_pointlang.describe import Describer
    from ros_pointlang.pipeline import Pipeline

    if args.rate < 0:
        raise ValueError(f"--rate must be >= 0 (0 = unpaced), got {args.rate}")
    points_topic = points_topic_of(args.bag, args.topic)
    truth = load_ground_truth(args.bag, args.labels)
    params = effective_parameters(args, truth)
    settings = describe_settings(params)  # validates mode and top_k before anything starts
    pipeline = Pipeline.from_bundle(args.bundle)
    if params.get("labels"):
        pipeline.set_vocabulary(params["labels"])
    if "unknown_threshold" in params:
        pipeline.unknown_threshold = float(params["unknown_threshold"])
    progress = not args.no_progress
    qa: dict[str, Any] | None = None
    if args.live:
        frames, qa = evaluate_live(
            args.bag,
            points_topic,
            truth,
            params,
            bundle=args.bundle,
            params_file=args.params_file,
            rate=args.rate,
            drain_s=args.drain,
            question=args.question,
            max_distance=args.match_distance,
            progress=progress,
        )
    else:
        describer = Describer(pipeline, settings)
        frames = evaluate_offline(
            args.bag, describer, points_topic, truth, float(params["caption_period"]), progress
        )
        if args.question:
            last = frames[-1] if frames else None
            object_id, category = 0, None
            if last is not None and last.predicted:
                object_id, category = choose_question_object(
                    last.truth,
                    [p.centre for p in last.predicted],
                    [p.id for p in last.predicted],
                    args.match_distance,
                )
            qa = {
                **ask_offline(describer, args.question, object_id),
                "object_id": object_id,
                "true_category": category,
            }
    match_frames(frames, args.match_distance)
    mode = "live" if args.live else "offline"
    metrics = summarise(frames, mode, args.min_truth_points, caption_encoder, pipeline.can_generate)
    metrics["bag"] = str(args.bag)
    metrics["bundle"] = str(pipeline.bundle.path)
    metrics["truth"] = truth.source
    metrics["vocabulary_size"] = len(pipeline.vocabulary)
    metrics["labels.top_k"] = settings.top_k
    if args.live:
        metrics["rate"] = args.rate
    if qa is not None:
        metrics["qa.question"] = args.question
        for key, value in qa.items():
            metrics[f"qa.{key}"] = value
    run_settings = {
        "bag": str(args.bag),
        "points_topic": points_topic,
        "bundle": str(pipeline.bundle.path),
        "ground truth": truth.source,
        "parameters": params,
        "vocabulary": pipeline.vocabulary,
        "match distance (m)": args.match_distance,
        "min truth points": args.min_truth_points,
        "rate": args.rate if args.live else None,
    }
    return BagEvaluation(mode, metrics, frames, run_settings)


def run_bag(args: argparse.Namespace) -> int:
    """The `bag` subcommand: evaluate, print the metrics, write the JSON and the report."""
    ros_environment()
    try:
        evaluation = evaluate_bag(args)
    except (ValueError, LiveEvaluationError) as error:
        print(f"pointlang-eval bag: error: {error}", file=sys.stderr)
        return 2
    for key, value in evaluation.metrics.items():
        print(f"{key:32s} {format_value(value, 4)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(evaluation.metrics, indent=2) + "\n")
    if args.report:
        from training.report import write_report

        paths = write_report(evaluation, args.report)
        print(f"report: {paths['html']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m training.evaluate_bag BAG ...`: the `bag` subcommand on its own."""
    parser = argparse.ArgumentParser(prog="pointlang-eval", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_bag_parser(sub)
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] != "bag":
        argv = ["bag", *argv]
    return run_bag(parser.parse_args(argv))


def iter_frames_csv(frames: Sequence[Frame]) -> Iterator[str]:
    """Per-frame rows for a CSV file: index, stamp, counts and latency."""
    yield "index,stamp_ns,truth,predicted,matched,correct,latency_ms"
    for f in frames:
        truth = "" if f.truth is None else len(f.truth)
        predicted = "" if f.predicted is None else len(f.predicted)
        latency = "" if f.latency_ms is None else f"{f.latency_ms:.3f}"
        yield f"{f.index},{f.stamp_ns},{truth},{predicted},{len(f.matches)},{f.correct},{latency}"


if __name__ == "__main__":
    raise SystemExit(main())
