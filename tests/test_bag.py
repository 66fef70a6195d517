"""rosbag2 reading and replay into ROS 2 (ros_pointlang/bag.py)."""

from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from ros_pointlang.bag import (
    BagPlayer,
    TruncatedBagWarning,
    bag_topics,
    message_class,
    message_count,
    read_bag,
)
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


def write_strings(path, count, size=0, storage=StoragePlugin.MCAP):
    """A bag of `count` std_msgs/String on /chatter, one a second, each padded to `size`."""
    store = get_typestore(Stores.ROS2_KILTED)
    String = store.types["std_msgs/msg/String"]
    with Writer(path, version=9, storage_plugin=storage) as writer:
        conn = writer.add_connection("/chatter", String.__msgtype__, typestore=store)
        for i in range(count):
            text = f"{i:04d}" + "x" * size
            writer.write(
                conn, 10**9 * i, store.serialize_cdr(String(data=text), String.__msgtype__)
            )


def test_a_recording_cut_short_is_read_up_to_the_cut_with_a_warning(tmp_path):
    # As a killed recorder leaves it: the mcap stops mid-record, no footer, no metadata.yaml.
    path = tmp_path / "killed"
    write_strings(path, 40, size=200_000)
    (mcap,) = path.glob("*.mcap")
    with open(mcap, "r+b") as f:
        f.truncate(int(mcap.stat().st_size * 0.6))
    (path / "metadata.yaml").unlink()

    with pytest.warns(TruncatedBagWarning, match=r"cut short.* (\d+) messages over [\d.]+ s"):
        messages = list(read_bag(path))
    assert 10 < len(messages) < 40  # what the chunks before the cut hold, not nothing
    stamps = [m.stamp_ns for m in messages]
    assert stamps == [10**9 * i for i in range(len(messages))]  # a prefix, in order
    from rclpy.serialization import deserialize_message
    from std_msgs.msg import String as RosString

    assert deserialize_message(messages[-1].data, RosString).data.startswith(
        f"{len(stamps) - 1:04d}"
    )
    with pytest.warns(TruncatedBagWarning):
        assert bag_topics(path) == {"/chatter": "std_msgs/msg/String"}
    with pytest.warns(TruncatedBagWarning):
        assert message_count(mcap, "/chatter") == len(messages)  # the file alone reads too


def test_a_whole_bag_reads_without_a_warning_and_a_non_bag_is_still_refused(tmp_path, recwarn):
    write_strings(tmp_path / "whole", 3)
    assert message_count(tmp_path / "whole", "/chatter") == 3
    assert message_count(tmp_path / "whole", "/other") == 0
    assert not [w for w in recwarn if issubclass(w.category, TruncatedBagWarning)]
    junk = tmp_path / "junk.mcap"
    junk.write_bytes(b"not an mcap at all")
    with pytest.raises(ValueError, match="not a readable rosbag2"):
        list(read_bag(junk))


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
