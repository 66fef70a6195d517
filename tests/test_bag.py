"""rosbag2 reading and replay into ROS 2 (ros_pointlang/bag.py)."""

from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from ros_pointlang.bag import BagPlayer, bag_topics, message_class, read_bag
from tests.rosproc import node_process, spin_until

OUSTER = Path(__file__).parent / "data" / "ouster-os1-64"
POINTS = "/os1_cloud_node/points"


def test_reads_topics_and_messages_of_the_real_ouster_bag():
    assert bag_topics(OUSTER) == {
        "/os1_cloud_node/imu": "sensor_msgs/msg/Imu",
        POINTS: "sensor_msgs/msg/PointCloud2",
    }
    clouds = list(read_bag(OUSTER, [POINTS]))
    assert len(clouds) == 2
    assert all(m.msgtype == "sensor_msgs/msg/PointCloud2" for m in clouds)
    assert clouds[0].stamp_ns < clouds[1].stamp_ns
    assert len(list(read_bag(OUSTER))) == 19


@pytest.mark.parametrize("storage", [StoragePlugin.SQLITE3, StoragePlugin.MCAP])
def test_reads_bags_in_both_storage_formats_in_time_order(tmp_path, storage):
    store = get_typestore(Stores.ROS2_KILTED)
    String = store.types["std_msgs/msg/String"]
    path = tmp_path / "bag"
    with Writer(path, version=9, storage_plugin=storage) as writer:
        conn = writer.add_connection("/chatter", String.__msgtype__, typestore=store)
        for i in range(5):
            data = store.serialize_cdr(String(data=f"hello {i}"), String.__msgtype__)
            writer.write(conn, 1000 + i, data)
    messages = list(read_bag(path))
    assert [m.stamp_ns for m in messages] == [1000, 1001, 1002, 1003, 1004]
    from rclpy.serialization import deserialize_message
    from std_msgs.msg import String as RosString

    assert deserialize_message(messages[3].data, RosString).data == "hello 3"


def test_bad_bags_and_topics_raise_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        list(read_bag(tmp_path / "nope"))
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "metadata.yaml").write_text("rosbag2_bagfile_information: [not, a, bag")
    with pytest.raises(ValueError, match="not a readable rosbag2"):
        list(read_bag(corrupt))
    with pytest.raises(ValueError, match="no topic"):
        list(read_bag(OUSTER, ["/lidar/points"]))
    with pytest.raises(ValueError, match="package/msg/Name"):
        message_class("PointCloud2")
    with pytest.raises(ValueError, match="not installed"):
        message_class("no_such_msgs/msg/Thing")


def test_player_rejects_a_negative_rate():
    with pytest.raises(ValueError, match="rate"):
        BagPlayer(None, OUSTER, [POINTS], rate=-1.0)


def test_player_process_publishes_stored_clouds_to_a_subscriber():
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import PointCloud2

    rclpy.init()
    node = rclpy.create_node("bag_test_listener")
    clouds: list[PointCloud2] = []
    node.create_subscription(PointCloud2, "points", clouds.append, qos_profile_sensor_data)
    try:
        args = ["-m", "ros_pointlang.bag", "play", str(OUSTER), "--topics", POINTS]
        args += ["--remap", f"{POINTS}:=points", "--rate", "0", "--loop", "3"]
        with node_process(args, "playing"):
            assert spin_until(node, lambda: len(clouds) >= 4, timeout=20.0)
    finally:
        node.destroy_node()
        rclpy.shutdown()
    cloud = clouds[0]
    assert (cloud.height, cloud.width, cloud.point_step) == (64, 2048, 48)
    assert len(cloud.data) == 64 * 2048 * 48
    stored = next(read_bag(OUSTER, [POINTS]))
    from rclpy.serialization import deserialize_message

    assert cloud == deserialize_message(stored.data, PointCloud2)
    assert np.frombuffer(cloud.data, np.uint8).any()
