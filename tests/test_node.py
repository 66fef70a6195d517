"""The pointlang node in its own process, over real DDS: topics, service, parameters, bad input."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rcl_interfaces.msg import Parameter as ParameterMsg  # noqa: E402
from rcl_interfaces.msg import ParameterType, ParameterValue  # noqa: E402
from rcl_interfaces.srv import SetParameters, SetParametersAtomically  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from ros_pointlang.msg import CloudLabels, DescribedObjectArray  # noqa: E402
from ros_pointlang.srv import AskCloud  # noqa: E402
from sensor_msgs.msg import PointCloud2, PointField  # noqa: E402
from std_msgs.msg import Header  # noqa: E402
from visualization_msgs.msg import Marker, MarkerArray  # noqa: E402

from ros_pointlang.bag import read_bag  # noqa: E402
from ros_pointlang.cloud import create_cloud_xyz32  # noqa: E402
from tests.rosproc import TESTS, node_process, spin_until  # noqa: E402


def node_args(bundle, *params):
    args = ["-m", "ros_pointlang.node", "--ros-args", "-p", f"bundle:={bundle}"]
    for p in params:
        args += ["-p", p]
    return args


def box_cloud(stamp_sec, frame="base_link", n=2000, seed=0):
    rng = np.random.default_rng(seed)
    xyz = rng.uniform(-0.5, 0.5, (n, 3)) * [0.5, 0.4, 0.9] + [2.0, 0.0, 0.45]
    header = Header(frame_id=frame)
    header.stamp.sec = stamp_sec
    return create_cloud_xyz32(header, xyz.astype(np.float32))


class Listener:
    """A test-side node that records every output of the pointlang node."""

    def __init__(self):
        self.node = rclpy.create_node("pointlang_test_listener")
        self.labels, self.objects, self.markers, self.diagnostics = [], [], [], []
        self.node.create_subscription(CloudLabels, "/pointlang/labels", self.labels.append, 10)
        self.node.create_subscription(
            DescribedObjectArray, "/pointlang/objects", self.objects.append, 10
        )
        self.node.create_subscription(MarkerArray, "/pointlang/markers", self.markers.append, 10)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 10)
        self.points = self.node.create_publisher(PointCloud2, "points", qos_profile_sensor_data)

    def send(self, cloud, wait_for, timeout=20.0):
        """Publish `cloud` every half second until `wait_for()` holds.

        Best-effort clouds sent right after discovery can be lost, and the node may not yet
        see our subscriptions (it skips inference without subscribers), so one send is not
        enough; repeats are harmless to every check here.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.points.publish(cloud)
            if spin_until(self.node, wait_for, timeout=0.5):
                return True
        return False

    def counts(self):
        """Counters from the newest /diagnostics report."""
        if not self.diagnostics:
            return {}
        values = {v.key: v.value for v in self.diagnostics[-1].status[0].values}
        return {k: int(v) for k, v in values.items() if v.isdigit()}


@pytest.fixture
def ros():
    rclpy.init()
    yield
    rclpy.shutdown()


def test_detections_carry_box_labels_and_scores_and_markers_are_coloured_by_label(tiny_bundle, ros):
    vision_msgs = pytest.importorskip(
        "vision_msgs.msg", reason="vision_msgs is built by tools/setup_env.sh from ../shared/ros2"
    )
    from ros_pointlang.node import label_colour

    listener = Listener()
    detections = []
    listener.node.create_subscription(
        vision_msgs.Detection3DArray, "/pointlang/detections", detections.append, 10
    )
    with node_process(node_args(tiny_bundle), "pointlang ready"):
        assert listener.send(
            box_cloud(42), lambda: detections and listener.objects and listener.markers
        )
    (detection,) = detections[0].detections
    obj = next(o for o in listener.objects if o.header.stamp == detections[0].header.stamp)
    assert (detections[0].header.stamp.sec, detections[0].header.frame_id) == (42, "base_link")
    assert detection.header == detections[0].header and detection.id == str(obj.objects[0].id)
    box = detection.bbox
    assert (box.size.x, box.size.y, box.size.z) == (
        obj.objects[0].size.x, obj.objects[0].size.y, obj.objects[0].size.z
    )  # fmt: skip
    assert box.center.position.x == pytest.approx(2.0, abs=0.02)
    hypotheses = [(r.hypothesis.class_id, r.hypothesis.score) for r in detection.results]
    expected = [(label.label, label.score) for label in obj.objects[0].labels]
    assert [h[0] for h in hypotheses] == [e[0] for e in expected]
    assert [h[1] for h in hypotheses] == pytest.approx([e[1] for e in expected], abs=1e-6)
    cube = next(m for m in listener.markers[0].markers if m.type == Marker.CUBE)
    text = next(m for m in listener.markers[0].markers if m.type == Marker.TEXT_VIEW_FACING)
    best = obj.objects[0].labels[0]
    assert (cube.color.r, cube.color.g, cube.color.b) == pytest.approx(
        (label_colour(best.label).r, label_colour(best.label).g, label_colour(best.label).b)
    )
    assert text.text.startswith(f"{obj.objects[0].id}: {best.label} {best.score:.2f}")
    assert label_colour("mug") != label_colour("chair")


def test_object_mode_publishes_labels_objects_and_markers_with_the_input_header(tiny_bundle, ros):
    listener = Listener()
    with node_process(node_args(tiny_bundle), "pointlang ready"):
        assert listener.send(
            box_cloud(42), lambda: listener.labels and listener.objects and listener.markers
        )
    labels, objects, markers = listener.labels[0], listener.objects[0], listener.markers[0]
    for header in (labels.header, objects.header):
        assert (header.stamp.sec, header.frame_id) == (42, "base_link")
    assert 1 <= len(labels.labels) <= 3 and labels.labels[0].label in {"chair", "table", "mug"}
    assert [o.id for o in objects.objects] == [1]
    obj = objects.objects[0]
    assert obj.num_points == 2000
    assert obj.size.z == pytest.approx(0.9, abs=0.02)
    assert obj.pose.position.x == pytest.approx(2.0, abs=0.02)
    assert markers.markers[0].action == Marker.DELETEALL
    assert {m.type for m in markers.markers[1:]} == {Marker.CUBE, Marker.TEXT_VIEW_FACING}


def test_scene_mode_on_the_real_ouster_scan(tiny_bundle, ros):
    listener = Listener()
    raw = next(read_bag(TESTS / "data" / "ouster-os1-64", ["/os1_cloud_node/points"]))
    from rclpy.serialization import deserialize_message

    scan = deserialize_message(raw.data, PointCloud2)
    with node_process(node_args(tiny_bundle, "mode:=scene"), "pointlang ready"):
        assert listener.send(scan, lambda: listener.objects)
    found = listener.objects[0]
    assert found.header.frame_id == scan.header.frame_id
    assert len(found.objects) >= 1
    assert len({o.id for o in found.objects}) == len(found.objects) and 0 not in {
        o.id for o in found.objects
    }


def set_parameter(listener, name, kind, **value):
    client = listener.node.create_client(SetParameters, "/pointlang/set_parameters")
    assert client.wait_for_service(timeout_sec=10.0)
    request = SetParameters.Request(
        parameters=[ParameterMsg(name=name, value=ParameterValue(type=kind, **value))]
    )
    future = client.call_async(request)
    assert spin_until(listener.node, future.done)
    return future.result().results[0]


def set_atomically(listener, *parameters):
    """One SetParametersAtomically call: the node's callback sees every change at once."""
    client = listener.node.create_client(
        SetParametersAtomically, "/pointlang/set_parameters_atomically"
    )
    assert client.wait_for_service(timeout_sec=10.0)
    future = client.call_async(SetParametersAtomically.Request(parameters=list(parameters)))
    assert spin_until(listener.node, future.done)
    return future.result().result


def parameter(name, kind, **value):
    return ParameterMsg(name=name, value=ParameterValue(type=kind, **value))


def test_a_refused_change_applies_nothing_and_the_node_keeps_working(tiny_bundle, ros, tmp_path):
    # The case: new words cannot be embedded (here the bundle's text encoder is
    # corrupt, its hash updated so the bundle still loads). Before, the failed `labels` set
    # half-applied and the node dropped every cloud from then on.
    import shutil

    from ros_pointlang.bundle import sha256_file, write_manifest

    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    (bundle / "text_encoder.onnx").write_bytes(b"not an onnx model")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["text_encoder.onnx"]["sha256"] = sha256_file(bundle / "text_encoder.onnx")
    write_manifest(bundle, manifest)

    listener = Listener()
    with node_process(node_args(bundle), "pointlang ready") as proc:
        good = parameter("top_k", ParameterType.PARAMETER_INTEGER, integer_value=1)
        bad = parameter(
            "labels", ParameterType.PARAMETER_STRING_ARRAY, string_array_value=["car", "drill"]
        )
        result = set_atomically(listener, good, bad)
        assert not result.successful and "text_encoder.onnx" in result.reason, result.reason
        duplicate = parameter(
            "labels", ParameterType.PARAMETER_STRING_ARRAY, string_array_value=["mug", "mug"]
        )
        result = set_atomically(listener, good, duplicate)
        assert not result.successful and "duplicate" in result.reason, result.reason

        assert listener.send(box_cloud(7), lambda: listener.labels)
        labels = listener.labels[-1].labels
        assert len(labels) == 3  # top_k stayed at its default (3 labels in this bundle)
        assert {s.label for s in labels} == {"chair", "table", "mug"}  # the old vocabulary
        assert not any("dropped a cloud (error)" in line for line in proc.lines)

        assert set_atomically(listener, good).successful  # the good change alone applies
        listener.labels.clear()
        assert listener.send(box_cloud(8), lambda: listener.labels)
        assert len(listener.labels[-1].labels) == 1


def test_labels_and_thresholds_change_at_run_time_and_bad_values_are_refused(tiny_bundle, ros):
    listener = Listener()
    with node_process(node_args(tiny_bundle), "pointlang ready"):
        result = set_parameter(
            listener,
            "labels",
            ParameterType.PARAMETER_STRING_ARRAY,
            string_array_value=["drill", "fire extinguisher"],
        )
        assert result.successful, result.reason
        assert listener.send(box_cloud(1), lambda: listener.labels)
        assert {s.label for s in listener.labels[-1].labels} == {"drill", "fire extinguisher"}

        refused = set_parameter(listener, "top_k", ParameterType.PARAMETER_INTEGER, integer_value=0)
        assert not refused.successful
        read_only = set_parameter(
            listener, "mode", ParameterType.PARAMETER_STRING, string_value="scene"
        )
        assert not read_only.successful

        assert set_parameter(
            listener, "top_k", ParameterType.PARAMETER_INTEGER, integer_value=1
        ).successful
        before = len(listener.labels)
        assert listener.send(box_cloud(2), lambda: len(listener.labels) > before)
        assert len(listener.labels[-1].labels) == 1


def test_labels_with_descriptions_and_presets_at_start_and_at_run_time(tiny_bundle, ros):
    from ros_pointlang.vocabulary import MODELNET40

    listener = Listener()
    string, strings = ParameterType.PARAMETER_STRING, ParameterType.PARAMETER_STRING_ARRAY
    start = node_args(tiny_bundle, 'labels:=["mug: a small cylinder with a handle", "drill"]')
    with node_process(start, "pointlang ready"):

        def published(stamp):
            listener.labels.clear()
            listener.objects.clear()
            assert listener.send(box_cloud(stamp), lambda: listener.labels and listener.objects)
            names = {s.label for s in listener.labels[-1].labels}
            assert names == {s.label for s in listener.objects[-1].objects[0].labels}
            return names

        assert published(1) == {"mug", "drill"}  # the names; the descriptions are not published
        preset = set_parameter(listener, "labels_preset", string, string_value="coco")
        assert not preset.successful
        assert "labels_preset='coco'" in preset.reason and "modelnet40" in preset.reason
        for bad, reason in (
            ([": a cup", "drill"], "no name"),
            (["mug", "Mug: a cup"], "duplicate"),
        ):
            result = set_parameter(listener, "labels", strings, string_array_value=bad)
            assert not result.successful and reason in result.reason, result.reason
        assert published(2) == {"mug", "drill"}  # every refused change applied nothing

        switched = set_atomically(
            listener,
            parameter("labels", strings, string_array_value=[]),
            parameter("labels_preset", string, string_value="modelnet40"),
        )
        assert switched.successful, switched.reason
        names = published(3)
        assert len(names) == 5 and names <= set(MODELNET40)
        back = set_parameter(listener, "labels_preset", string, string_value="bundle")
        assert back.successful and published(4) == {"chair", "table", "mug"}


def fatal_start_stderr(args: list[str]) -> str:
    """What the node prints when it refuses to start: exit code 1, one line, no traceback."""
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "pointlang cannot start" in result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_an_unknown_labels_preset_is_one_fatal_line_at_start(tiny_bundle):
    stderr = fatal_start_stderr(node_args(tiny_bundle, "labels_preset:=coco"))
    assert "labels_preset='coco'" in stderr


def malformed_clouds():
    good = box_cloud(7)
    short = box_cloud(7)
    short.data = bytes(short.data)[:-5]  # shorter than width x point_step
    no_xyz = box_cloud(7)
    no_xyz.fields = [PointField(name="intensity", offset=0, datatype=PointField.FLOAT32, count=1)]
    nans = create_cloud_xyz32(good.header, np.full((100, 3), np.nan, np.float32))
    empty = create_cloud_xyz32(good.header, np.empty((0, 3), np.float32))
    bad_type = box_cloud(7)
    bad_type.fields[0].datatype = 99
    no_frame = box_cloud(7, frame="")
    big = create_cloud_xyz32(good.header, np.ones((60_000, 3), np.float32))
    return {
        "malformed": [short, no_xyz, bad_type],
        "empty": [nans, empty],
        "no_frame": [no_frame],
        "too_large": [big],
    }


def test_bad_clouds_are_logged_counted_and_dropped_and_the_node_stays_up(tiny_bundle, ros):
    listener = Listener()
    args = node_args(tiny_bundle, "max_points:=50000", "diagnostics_period:=0.2")
    with node_process(args, "pointlang ready") as proc:
        for reason, clouds in malformed_clouds().items():
            for i, cloud in enumerate(clouds, 1):
                key = f"dropped_{reason}"
                assert listener.send(cloud, lambda k=key, i=i: listener.counts().get(k, 0) >= i), (
                    reason,
                    listener.counts(),
                )
        assert proc.poll() is None
        before = len(listener.labels)
        assert listener.send(box_cloud(8), lambda: len(listener.labels) > before)


def test_ask_answers_or_says_why_not(tiny_bundle, ros):
    listener = Listener()
    with node_process(node_args(tiny_bundle), "pointlang ready"):
        client = listener.node.create_client(AskCloud, "/pointlang/ask")
        assert client.wait_for_service(timeout_sec=10.0)
        future = client.call_async(AskCloud.Request(question="what is it?"))
        assert spin_until(listener.node, future.done)
        response = future.result()
        assert not response.success and "no question answering" in response.message
        shell = subprocess.run(
            [sys.executable, "-m", "ros_pointlang.ask", "what is it?", "--object", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shell.returncode == 1 and "no question answering" in shell.stderr


def test_without_subscribers_inference_is_skipped(tiny_bundle, ros):
    node = rclpy.create_node("pointlang_test_lazy")
    diagnostics = []
    node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
    points = node.create_publisher(PointCloud2, "points", qos_profile_sensor_data)

    def count(key):
        if not diagnostics:
            return 0
        return int({v.key: v.value for v in diagnostics[-1].status[0].values}.get(key, "0"))

    with node_process(node_args(tiny_bundle, "diagnostics_period:=0.2"), "pointlang ready"):
        deadline = time.monotonic() + 20
        while count("skipped_no_subscribers") < 1 and time.monotonic() < deadline:
            points.publish(box_cloud(3))
            spin_until(node, lambda: count("skipped_no_subscribers") >= 1, timeout=0.5)
        assert count("skipped_no_subscribers") >= 1
        assert count("processed") == 0


def test_ctrl_c_shuts_down_cleanly(tiny_bundle):
    with node_process(node_args(tiny_bundle), "pointlang ready") as proc:
        time.sleep(0.5)
        proc.send_signal(2)
        proc.wait(timeout=15)
        time.sleep(0.2)  # the reader thread takes the last lines
        out = "".join(proc.lines)
    assert proc.returncode == 0
    assert "Traceback" not in out


def test_a_missing_bundle_is_one_fatal_line_and_exit_code_1(tmp_path):
    assert "does not exist" in fatal_start_stderr(node_args(tmp_path / "nowhere"))


def test_the_default_model_captions_and_answers_over_dds(ros):
    from ros_pointlang.msg import CloudCaption

    from training.data.objects import generate_object

    listener = Listener()
    captions = []
    listener.node.create_subscription(CloudCaption, "/pointlang/caption", captions.append, 10)
    chair = generate_object("chair", 3, seed=5, sensor="lidar")
    header = Header(frame_id="lidar")
    header.stamp.sec = 77
    cloud = create_cloud_xyz32(header, chair.cloud)
    args = ["-m", "ros_pointlang.node", "--ros-args", "-p", "caption_period:=0.0"]
    with node_process(args, "pointlang ready"):
        assert listener.send(cloud, lambda: captions and listener.labels)
        client = listener.node.create_client(AskCloud, "/pointlang/ask")
        assert client.wait_for_service(timeout_sec=10.0)
        future = client.call_async(AskCloud.Request(question="what is this?", object_id=0))
        assert spin_until(listener.node, future.done, timeout=20.0)
    caption = captions[0]
    assert caption.header.stamp.sec == 77 and caption.header.frame_id == "lidar"
    assert caption.caption and 0.0 < caption.confidence <= 1.0
    answer = future.result()
    assert answer.success and answer.answer and answer.cloud_stamp.sec == 77
