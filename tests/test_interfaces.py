"""The generated interfaces round-trip between two processes over real DDS."""

import pytest

rclpy = pytest.importorskip("rclpy")

from geometry_msgs.msg import Point, Pose, Quaternion, Vector3  # noqa: E402
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from ros_pointlang import msg, srv  # noqa: E402
from tests.rosproc import TESTS, node_process, spin_until  # noqa: E402


def header() -> Header:
    h = Header(frame_id="os_sensor")
    h.stamp.sec, h.stamp.nanosec = 1592833242, 635193041
    return h


def labels() -> list:
    return [msg.LabelScore(label="chair", score=0.875), msg.LabelScore(label="stool", score=0.0625)]


def described_object(object_id: int) -> msg.DescribedObject:
    return msg.DescribedObject(
        id=object_id,
        pose=Pose(position=Point(x=1.5, y=-0.25, z=0.45), orientation=Quaternion(w=1.0)),
        size=Vector3(x=0.5, y=0.55, z=0.9),
        num_points=812,
        labels=labels(),
        caption="a four-legged chair with a tall back, about 0.9 m high",
    )


SAMPLES = {
    "LabelScore": msg.LabelScore(label="mug", score=0.5),
    "CloudLabels": msg.CloudLabels(header=header(), labels=labels()),
    "CloudCaption": msg.CloudCaption(header=header(), caption="a wooden table", confidence=0.75),
    "DescribedObject": described_object(7),
    "DescribedObjectArray": msg.DescribedObjectArray(
        header=header(), objects=[described_object(1), described_object(2)]
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_message_serialises_and_restores_every_field(name):
    sample = SAMPLES[name]
    assert deserialize_message(serialize_message(sample), type(sample)) == sample


def test_messages_and_service_cross_process_boundary():
    rclpy.init()
    node = rclpy.create_node("interfaces_test")
    received: dict[str, object] = {}
    try:
        with node_process([str(TESTS / "nodes" / "echo_interfaces.py")], "ready"):
            publishers = {}
            for name, sample in SAMPLES.items():
                kind = type(sample)
                publishers[name] = node.create_publisher(kind, f"echo_in/{name}", 10)
                node.create_subscription(
                    kind, f"echo_out/{name}", lambda m, n=name: received.__setitem__(n, m), 10
                )
            # Publish until every echo is back: discovery between processes takes a moment.
            for _ in range(100):
                for name, publisher in publishers.items():
                    if name not in received:
                        publisher.publish(SAMPLES[name])
                if spin_until(node, lambda: len(received) == len(SAMPLES), timeout=0.2):
                    break
            assert received == SAMPLES

            client = node.create_client(srv.AskCloud, "ask")
            assert client.wait_for_service(timeout_sec=10.0)
            future = client.call_async(srv.AskCloud.Request(question="how many legs?", object_id=3))
            assert spin_until(node, future.done, timeout=10.0)
            answer = future.result()
            assert answer.success
            assert answer.answer == "you asked: how many legs?"
            assert answer.cloud_stamp.sec == 3
            assert answer.message == "object 3"
    finally:
        node.destroy_node()
        rclpy.shutdown()
