"""The `pointlang` node: PointCloud2 in; labels, captions, objects, markers and answers out.

Subscribes `points` (SensorData QoS, keep-last 1). Publishes `~/labels` (object mode),
`~/caption`, `~/objects`, `~/markers` and `/diagnostics`; serves `~/ask`. Every output
carries the input cloud's header. Inference runs on a worker thread that always takes the
newest cloud: a cloud that arrives while another waits replaces it and counts as a stale drop,
so the node never falls behind the sensor. Bad clouds are logged, counted and dropped.
"""

from __future__ import annotations

import colorsys
import math
import threading
import time
import zlib
from collections import Counter, deque
from dataclasses import replace
from typing import Any

import numpy as np
import rclpy
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Pose, PoseWithCovariance, Quaternion, Vector3
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.exceptions import ParameterUninitializedException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from ros_pointlang.backends import BackendOptions, BackendUnavailable
from ros_pointlang.bundle import BundleError
from ros_pointlang.describe import (
    Describer,
    DescribeSettings,
    ObjectDescription,
    settings_from_parameters,
)
from ros_pointlang.msg import (
    CloudCaption,
    CloudLabels,
    DescribedObject,
    DescribedObjectArray,
    LabelScore,
)
from ros_pointlang.parameters import BY_NAME, DESCRIBE_PARAMETERS, NODE_NAME, PARAMETERS
from ros_pointlang.pipeline import Pipeline
from ros_pointlang.range_image import RangeImage
from ros_pointlang.srv import AskCloud
from ros_pointlang.vocabulary import requested_vocabulary

try:  # vision_msgs is an exec_depend of the package; a bare venv may lack it
    from vision_msgs.msg import (
        BoundingBox3D,
        Detection3D,
        Detection3DArray,
        ObjectHypothesis,
        ObjectHypothesisWithPose,
    )
except ImportError:  # pragma: no cover - depends on the installation
    Detection3DArray = None

RELIABILITY = {"best_effort": ReliabilityPolicy.BEST_EFFORT, "reliable": ReliabilityPolicy.RELIABLE}


class PointLangNode(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self._declare_parameters(read_only=True)
        p = self._value
        options = BackendOptions(
            name=p("backend"), threads=p("threads"), fallback=p("backend_fallback")
        )
        self.pipeline = Pipeline.from_bundle(p("bundle") or None, backend=options)
        self._declare_parameters(read_only=False)
        vocabulary = requested_vocabulary(p("labels"), p("labels_preset"))
        if vocabulary is not None:
            self.pipeline.set_vocabulary(vocabulary)
        self.pipeline.unknown_threshold = p("unknown_threshold")
        self.describer = Describer(self.pipeline, self._describe_settings())

        self._lock = threading.Lock()  # guards the pending cloud and the counters
        self._pipeline_lock = threading.Lock()  # one inference at a time (worker, service)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: PointCloud2 | None = None
        self._latest_header: Header | None = None
        self._latest_xyz: np.ndarray | None = None
        self._latest_image: RangeImage | None = None
        self._latest_described = False
        self.counts: Counter[str] = Counter()
        self._latency: dict[str, deque[float]] = {}
        self._last_diag = (self.get_clock().now(), Counter[str]())

        out_qos = QoSProfile(
            depth=p("output_depth"), reliability=RELIABILITY[p("output_reliability")]
        )
        in_qos = QoSProfile(
            depth=1,
            reliability=RELIABILITY[p("input_reliability")],
            durability=qos_profile_sensor_data.durability,
        )
        self.labels_pub = self.create_publisher(CloudLabels, "~/labels", out_qos)
        self.caption_pub = self.create_publisher(CloudCaption, "~/caption", out_qos)
        self.objects_pub = self.create_publisher(DescribedObjectArray, "~/objects", out_qos)
        self.markers_pub = self.create_publisher(MarkerArray, "~/markers", out_qos)
        # For trackers and other ROS perception tools: one Detection3D per object.
        self.detections_pub = (
            self.create_publisher(Detection3DArray, "~/detections", out_qos)
            if Detection3DArray is not None
            else None
        )
        if self.detections_pub is None:
            self.get_logger().warning("vision_msgs is not installed: no ~/detections")
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_subscription(PointCloud2, "points", self._on_cloud, in_qos)
        self.create_service(AskCloud, "~/ask", self._on_ask)
        self.create_timer(p("diagnostics_period"), self._publish_diagnostics)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._worker = threading.Thread(target=self._work, name="pointlang-inference", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"pointlang ready: bundle {self.pipeline.bundle.path}, backend {options.name}, "
            f"mode {p('mode')}, {len(self.pipeline.vocabulary)} labels, "
            f"captions {'on' if self.pipeline.can_generate else 'off (bundle has none)'}"
        )

    # -- parameters -------------------------------------------------------------------------

    def _value(self, name: str) -> Any:
        return self.get_parameter(name).value

    def _declare_parameters(self, read_only: bool) -> None:
        """Declare the table's start-up (or run-time) parameters and check their values."""
        for spec in PARAMETERS:
            if spec.read_only != read_only:
                continue
            descriptor = ParameterDescriptor(description=spec.description, read_only=read_only)
            if spec.range is not None:
                low, high = spec.range
                if isinstance(low, int) and isinstance(high, int):
                    descriptor.integer_range = [IntegerRange(from_value=low, to_value=high, step=1)]
                else:
                    descriptor.floating_point_range = [
                        FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)
                    ]
            default = spec.default
            if spec.name == "unknown_threshold":
                default = self.pipeline.unknown_threshold
            if spec.name == "labels":
                self.declare_parameter(spec.name, Parameter.Type.STRING_ARRAY, descriptor)
                try:
                    self.get_parameter(spec.name)
                except ParameterUninitializedException:  # not in the params file: the bundle's
                    self.set_parameters([Parameter(spec.name, Parameter.Type.STRING_ARRAY, [])])
                continue
            self.declare_parameter(spec.name, default, descriptor)
            if spec.choices is not None or spec.length is not None:
                spec.check(self._value(spec.name))

    def _describe_settings(self) -> DescribeSettings:
        names = DESCRIBE_PARAMETERS - {"labels", "labels_preset", "unknown_threshold"}
        return settings_from_parameters({name: self._value(name) for name in names})

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        """All or nothing: every change is checked first (choices, then new labels embedded,
        which can fail), and only then are all applied, so a refused change leaves the node as
        it was and it keeps working. Ranges and read-only are checked by rclpy before this."""
        changes = {parameter.name: parameter.value for parameter in parameters}
        vocabulary: list[str] | None = None
        try:
            for name, value in changes.items():
                spec = BY_NAME.get(name)
                if spec is not None and (spec.choices is not None or spec.length is not None):
                    spec.check(value)
            if "labels" in changes or "labels_preset" in changes:
                words = requested_vocabulary(
                    changes.get("labels", self._value("labels")),
                    changes.get("labels_preset", self._value("labels_preset")),
                )
                with self._pipeline_lock:
                    if words is None:
                        words = self.pipeline.bundle_vocabulary
                    self.pipeline.label_embeddings(words)  # embedded and cached, or raises
                vocabulary = words
        except ValueError as error:
            return SetParametersResult(successful=False, reason=str(error))
        with self._pipeline_lock:
            if vocabulary is not None:
                self.pipeline.set_vocabulary(vocabulary)  # cached above: cannot fail now
                self.get_logger().info(f"labels now {self.pipeline.vocabulary}")
                if "labels_preset" in changes and changes.get("labels", self._value("labels")):
                    self.get_logger().info("labels is set: it wins over labels_preset")
            if "top_k" in changes:
                self.describer.settings = replace(self.describer.settings, top_k=changes["top_k"])
            if "unknown_threshold" in changes:
                self.pipeline.unknown_threshold = float(changes["unknown_threshold"])
            schedule_changes = {
                name: changes[name]
                for name in ("caption_period", "caption_budget", "caption_steps")
                if name in changes
            }
            if schedule_changes:
                settings = self.describer.settings
                schedule = replace(settings.schedule, **schedule_changes)
                self.describer.settings = replace(settings, schedule=schedule)
        return SetParametersResult(successful=True)

    # -- input ------------------------------------------------------------------------------

    def _on_cloud(self, cloud: PointCloud2) -> None:
        with self._lock:
            self.counts["received"] += 1
            if cloud.width * cloud.height > self._value("max_points"):
                self._drop(
                    "too_large",
                    f"cloud of {cloud.width * cloud.height} points exceeds "
                    f"max_points {self._value('max_points')}",
                )
                return
            if self._pending is not None:
                self.counts["dropped_stale"] += 1
            self._pending = cloud
        self._wake.set()

    def _drop(self, reason: str, detail: str) -> None:
        self.counts[f"dropped_{reason}"] += 1
        self.get_logger().warning(
            f"dropped a cloud ({reason}): {detail}", throttle_duration_sec=5.0
        )

    def _work(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(timeout=0.2):
                continue
            with self._lock:
                cloud, self._pending = self._pending, None
                self._wake.clear()
            if cloud is None:
                continue
            try:
                self._process(cloud)
            except Exception as error:  # a bug must not kill the node: log it, count it
                with self._lock:
                    self._drop("error", f"{type(error).__name__}: {error}")

    def _process(self, cloud: PointCloud2) -> None:
        start = time.perf_counter()
        try:
            xyz, image = self.describer.read(cloud)
        except ValueError as error:
            with self._lock:
                self._drop("malformed", str(error))
            return
        decode_s = time.perf_counter() - start
        header = Header(
            stamp=cloud.header.stamp, frame_id=self._value("frame_id") or cloud.header.frame_id
        )
        if not header.frame_id:
            with self._lock:
                self._drop("no_frame", "the cloud has no frame_id and parameter frame_id is empty")
            return
        if len(xyz) == 0:
            with self._lock:
                self._drop("empty", "no valid point (all NaN, Inf or zero returns)")
            self._publish(header, [])
            return
        with self._pipeline_lock:
            self._latest_header, self._latest_xyz, self._latest_described = header, xyz, False
            self._latest_image = image
        if self._value("lazy") and not self._has_subscribers():
            with self._lock:
                self.counts["skipped_no_subscribers"] += 1
            return
        # The schedule runs on sensor time, as offline evaluation does on the same stamps, so a
        # bag replayed at any rate gets the same schedule; unstamped clouds use the node clock.
        stamp = cloud.header.stamp.sec + cloud.header.stamp.nanosec / 1e9
        now = stamp if stamp > 0 else self.get_clock().now().nanoseconds / 1e9
        with self._pipeline_lock:
            objects = self.describer.describe(xyz, now=now, image=image)
            self._latest_described = True
            timings = {**self.describer.timings, "decode": decode_s}
            work = self.describer.counts
        self._publish(header, objects)
        with self._lock:
            self.counts["processed"] += 1
            self.counts["objects_encoded"] += work["encoded"]
            self.counts["objects_reused"] += work["objects"] - work["encoded"]
            self.counts["objects_captioned"] += work["captioned"]
            timings["total"] = time.perf_counter() - start
            for stage, seconds in timings.items():
                self._latency.setdefault(stage, deque(maxlen=200)).append(seconds * 1e3)

    def _has_subscribers(self) -> bool:
        publishers = [self.labels_pub, self.caption_pub, self.objects_pub, self.markers_pub]
        publishers += [self.detections_pub] if self.detections_pub is not None else []
        return any(p.get_subscription_count() > 0 for p in publishers)

    # -- output -----------------------------------------------------------------------------

    def _publish(self, header: Header, objects: list[ObjectDescription]) -> None:
        described = DescribedObjectArray(header=header)
        for obj in objects:
            described.objects.append(
                DescribedObject(
                    id=obj.id,
                    pose=_pose(obj.box.centre, obj.box.yaw),
                    size=Vector3(
                        x=float(obj.box.size[0]), y=float(obj.box.size[1]), z=float(obj.box.size[2])
                    ),
                    num_points=obj.num_points,
                    labels=_label_scores(obj),
                    caption=obj.caption.text if obj.caption else "",
                )
            )
        self.objects_pub.publish(described)
        if self.detections_pub is not None:
            self.detections_pub.publish(_detections(header, objects))
        self.markers_pub.publish(_markers(header, objects))
        if self._value("mode") == "object" and objects:
            self.labels_pub.publish(CloudLabels(header=header, labels=_label_scores(objects[0])))
        if objects and objects[0].captioned and objects[0].caption is not None:
            first = objects[0].caption
            self.caption_pub.publish(
                CloudCaption(header=header, caption=first.text, confidence=first.confidence)
            )

    # -- service ----------------------------------------------------------------------------

    def _on_ask(self, request: Any, response: Any) -> Any:
        start = time.perf_counter()
        response.success = False
        if not request.question.strip():
            response.message = "the question is empty"
            return response
        if not self.pipeline.can_generate:
            response.message = "the loaded model bundle has no question answering stage"
            return response
        with self._pipeline_lock:
            if self._latest_xyz is None or self._latest_header is None:
                response.message = "no cloud has arrived yet"
                return response
            if not self._latest_described:  # lazy mode skipped it: describe it now
                self.describer.describe(self._latest_xyz, image=self._latest_image)
                self._latest_described = True
            response.cloud_stamp = self._latest_header.stamp
            try:
                answer = self.describer.answer(request.question, int(request.object_id))
            except ValueError as error:
                response.message = str(error)
                return response
        response.success, response.answer = True, answer.text
        response.confidence = float(answer.confidence)
        with self._lock:
            self.counts["questions"] += 1
            self._latency.setdefault("answer", deque(maxlen=200)).append(
                (time.perf_counter() - start) * 1e3
            )
        return response

    # -- diagnostics ------------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        now = self.get_clock().now()
        with self._lock:
            counts = Counter(self.counts)
            latency = {k: list(v) for k, v in self._latency.items()}
        since, before = self._last_diag
        self._last_diag = (now, counts)
        elapsed = max((now - since).nanoseconds / 1e9, 1e-9)
        dropped_now = sum(v for k, v in counts.items() if k.startswith("dropped_")) - sum(
            v for k, v in before.items() if k.startswith("dropped_")
        )
        values = {
            "input_rate_hz": (counts["received"] - before["received"]) / elapsed,
            "processed_rate_hz": (counts["processed"] - before["processed"]) / elapsed,
        }
        status = DiagnosticStatus(
            name="pointlang: inference",
            hardware_id=self.pipeline.bundle.name,
            level=DiagnosticStatus.WARN if dropped_now else DiagnosticStatus.OK,
            message=f"{dropped_now} clouds dropped in the last period" if dropped_now else "ok",
        )
        items = [f"{k}={v:.2f}" for k, v in values.items()]
        items += [f"{k}={v}" for k, v in sorted(counts.items())]
        for stage, samples in sorted(latency.items()):
            items.append(f"latency_{stage}_ms_p50={np.percentile(samples, 50):.2f}")
            items.append(f"latency_{stage}_ms_p95={np.percentile(samples, 95):.2f}")
        status.values = [KeyValue(key=k, value=v) for k, v in (i.split("=", 1) for i in items)]
        self.diagnostics_pub.publish(
            DiagnosticArray(header=Header(stamp=now.to_msg()), status=[status])
        )

    def shutdown(self) -> None:
        self._stop.set()
        self._worker.join(timeout=5.0)


def _pose(centre: np.ndarray, yaw: float) -> Pose:
    return Pose(
        position=Point(x=float(centre[0]), y=float(centre[1]), z=float(centre[2])),
        orientation=Quaternion(z=math.sin(yaw / 2), w=math.cos(yaw / 2)),
    )


def _label_scores(obj: ObjectDescription) -> list[Any]:
    return [LabelScore(label=label.label, score=float(label.score)) for label in obj.labels]


def _detections(header: Header, objects: list[ObjectDescription]) -> Any:
    """vision_msgs/Detection3DArray: per object its box and one hypothesis per label (class_id
    the label text, score its probability), best first; `id` is the object's track id."""
    detections = []
    for obj in objects:
        pose = _pose(obj.box.centre, obj.box.yaw)
        size = Vector3(x=float(obj.box.size[0]), y=float(obj.box.size[1]), z=float(obj.box.size[2]))
        results = [
            ObjectHypothesisWithPose(
                hypothesis=ObjectHypothesis(class_id=label.label, score=float(label.score)),
                pose=PoseWithCovariance(pose=pose),
            )
            for label in obj.labels
        ]
        detections.append(
            Detection3D(
                header=header,
                results=results,
                bbox=BoundingBox3D(center=pose, size=size),
                id=str(obj.id),
            )
        )
    return Detection3DArray(header=header, detections=detections)


def label_colour(label: str, alpha: float = 1.0) -> ColorRGBA:
    """A colour per label text, the same in every run and node (grey for "unknown")."""
    if label == "unknown":
        return ColorRGBA(r=0.6, g=0.6, b=0.6, a=alpha)
    hue = (zlib.crc32(label.encode()) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.95)
    return ColorRGBA(r=r, g=g, b=b, a=alpha)


def _markers(header: Header, objects: list[ObjectDescription]) -> MarkerArray:
    """A box coloured by its label and a text (id, label, score, caption when there is one)
    per object; DELETEALL first, so objects that went away disappear."""
    markers = [Marker(header=header, action=Marker.DELETEALL)]
    lifetime = Duration(sec=0)
    for obj in objects:
        best = obj.labels[0] if obj.labels else None
        box = Marker(
            header=header,
            ns="pointlang/boxes",
            id=obj.id,
            type=Marker.CUBE,
            action=Marker.ADD,
            pose=_pose(obj.box.centre, obj.box.yaw),
            lifetime=lifetime,
        )
        box.scale = Vector3(
            x=max(float(obj.box.size[0]), 0.01),
            y=max(float(obj.box.size[1]), 0.01),
            z=max(float(obj.box.size[2]), 0.01),
        )
        box.color = label_colour(best.label if best else "unknown", alpha=0.4)
        text = Marker(
            header=header,
            ns="pointlang/labels",
            id=obj.id,
            type=Marker.TEXT_VIEW_FACING,
            action=Marker.ADD,
            lifetime=lifetime,
        )
        text.pose = _pose(obj.box.centre + np.array([0.0, 0.0, obj.box.size[2] / 2 + 0.15]), 0.0)
        text.scale.z = 0.15
        text.color = ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
        text.text = f"{obj.id}: {best.label} {best.score:.2f}" if best else str(obj.id)
        if obj.caption is not None:
            text.text += f"\n{obj.caption.text}"
        markers += [box, text]
    return MarkerArray(markers=markers)


def main(argv: list[str] | None = None) -> int:
    """Run the node until Ctrl-C. Whatever stops it starting (a bundle, a parameter, a backend
    without its GPU) is one fatal line and exit code 1, never a traceback."""
    rclpy.init(args=argv)
    try:
        node = PointLangNode()
    except Exception as error:  # any start-up failure is one line, not a traceback
        reason = str(error)
        if not isinstance(error, BundleError | BackendUnavailable | ValueError):  # a bug
            reason = f"{type(error).__name__}: {reason}"
        rclpy.logging.get_logger("pointlang").fatal(f"pointlang cannot start: {reason}")
        rclpy.try_shutdown()
        return 1
    # One executor thread: inference has its own worker thread, and a multi-threaded executor
    # here made the threads fight over the GIL (measured: 68 of 5,000 clouds received, encode
    # p95 2.5 s; single-threaded: 4,989 received, encode p95 8 ms; tests/test_soak.py).
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except rclpy_implementation.RCLError:
        # A signal can shut the context down between two waits of the executor; then the next
        # wait set fails to initialise. That is a shutdown, not a failure.
        if rclpy.ok():
            raise
    finally:
        node.shutdown()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
