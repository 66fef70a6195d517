"""Start the pointlang node on a robot.

    ros2 launch ros_pointlang pointlang.launch.py points:=/lidar/points
    ros2 launch ros_pointlang pointlang.launch.py points:=/camera/points \
        params_file:=$(ros2 pkg prefix ros_pointlang)/share/ros_pointlang/config/depth_camera.yaml
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("ros_pointlang")
    arguments = [
        DeclareLaunchArgument("points", default_value="/points",
                              description="PointCloud2 topic to describe"),
        DeclareLaunchArgument("params_file",
                              default_value=os.path.join(share, "config", "lidar.yaml"),
                              description="node parameters (config/lidar.yaml, depth_camera.yaml)"),
        DeclareLaunchArgument("bundle", default_value="",
                              description="model bundle folder; empty = the shipped default"),
        DeclareLaunchArgument("backend", default_value="onnxruntime",
                              description="onnxruntime, onnxruntime-cuda, onnxruntime-tensorrt, "
                                          "tensorrt"),
        DeclareLaunchArgument("namespace", default_value="", description="node namespace"),
        DeclareLaunchArgument("fastdds_profile",
                              default_value=os.path.join(share, "config", "fastdds_large_data.xml"),
                              description="Fast DDS profile that carries whole clouds best-effort"),
    ]  # fmt: skip
    node = Node(
        package="ros_pointlang",
        executable="pointlang_node",
        name="pointlang",
        namespace=LaunchConfiguration("namespace"),
        parameters=[
            LaunchConfiguration("params_file"),
            {"bundle": LaunchConfiguration("bundle"), "backend": LaunchConfiguration("backend")},
        ],
        remappings=[("points", LaunchConfiguration("points"))],
        output="screen",
        emulate_tty=True,
    )
    profile = SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE",
                                     LaunchConfiguration("fastdds_profile"))  # fmt: skip
    return LaunchDescription([*arguments, profile, node])
