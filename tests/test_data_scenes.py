import numpy as np
import pytest

from training.data.categories import DOMAIN
from training.data.scenes import (
    GROUND_TRUTH_TOPIC,
    POINTS_TOPIC,
    SceneConfig,
    build_scene,
    pointlang_typestore,
    write_scene_bag,
)


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_scene_bag_round_trips_through_rosbags_and_rclpy(tmp_path, storage):
    from rosbags.rosbag2 import Reader

    config = SceneConfig(sweeps=4, rig="robot-16", min_objects=3, max_objects=5)
    result = write_scene_bag(tmp_path / "bag", 1, config, storage)
    assert 3 <= len(result["objects"]) <= 5
    typestore = pointlang_typestore()
    stamps = {POINTS_TOPIC: [], GROUND_TRUTH_TOPIC: []}
    raw_clouds = []
    with Reader(tmp_path / "bag") as reader:
        for connection, timestamp, raw in reader.messages():
            message = typestore.deserialize_cdr(raw, connection.msgtype)
            stamps[connection.topic].append(timestamp)
            assert message.header.frame_id == "lidar"
            if connection.topic == POINTS_TOPIC:
                raw_clouds.append(bytes(raw))
                assert message.width * message.point_step == len(message.data)
            else:
                assert message.objects, "every sweep sees at least one object"
                for obj in message.objects:
                    assert obj.id != 0 and obj.num_points > 0
                    assert obj.labels[0].score == 1.0 and obj.caption
                    assert min(obj.size.x, obj.size.y, obj.size.z) > 0
    for topic_stamps in stamps.values():
        assert len(topic_stamps) == 4
        assert np.allclose(np.diff(topic_stamps), 1e8)  # 10 Hz

    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import PointCloud2

    cloud = deserialize_message(raw_clouds[0], PointCloud2)
    assert [f.name for f in cloud.fields] == ["x", "y", "z", "intensity", "ring"]
    xyz = np.frombuffer(bytes(cloud.data), dtype=np.float32).reshape(cloud.width, 5)[:, :3]
    assert np.isfinite(xyz).all() and len(xyz) > 100


def test_a_street_seen_from_a_car_roof(tmp_path):
    from rosbags.rosbag2 import Reader

    config = SceneConfig(kind="street", sweeps=3, min_objects=8, max_objects=8)
    result = write_scene_bag(tmp_path / "street", 2, config, "mcap")
    assert result["rig"] == "car-64" and len(result["objects"]) == 8
    placed, _, path = build_scene(2, config)
    assert path["rate_hz"] == 10.0 and path["start"][2] == pytest.approx(1.73)
    assert all(DOMAIN[p.category] in ("outdoor", "modelnet") for p in placed)
    typestore = pointlang_typestore()
    ranges = []
    with Reader(tmp_path / "street") as reader:
        for connection, _, raw in reader.messages():
            if connection.topic == GROUND_TRUTH_TOPIC:
                message = typestore.deserialize_cdr(raw, connection.msgtype)
                ranges += [np.hypot(o.pose.position.x, o.pose.position.y) for o in message.objects]
    assert max(ranges) > 15.0  # a street is seen far down the road


def test_a_room_uses_indoor_things_and_a_robot(tmp_path):
    placed, _, path = build_scene(0, SceneConfig(min_objects=6, max_objects=6))
    assert path["start"][2] == pytest.approx(0.65)  # robot-32's mount, 0.3-1.0 m
    assert all(DOMAIN[p.category] != "outdoor" for p in placed)
    with pytest.raises(ValueError, match="depth camera"):
        write_scene_bag(tmp_path / "bag", 0, SceneConfig(rig="robot-d435"))


def test_existing_output_is_refused(tmp_path):
    with pytest.raises(ValueError, match="already exists"):
        write_scene_bag(tmp_path, 0, SceneConfig(sweeps=1))
