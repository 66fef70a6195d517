"""Start the pointlang node on a robot.

    ros2 launch ros_pointlang pointlang.launch.py points:=/lidar/points
    ros2 launch ros_pointlang pointlang.launch.py points:=/camera/points \
        params_file:=$(ros2 pkg prefix ros_pointlang)/share/ros_pointlang/config/depth_camera.yaml
    ros2 launch ros_pointlang pointlang.launch.py points:=/lidar/points rviz:=true

If the node exits (a fatal start-up error, exit code 1) the launch stops and `ros2 launch`
exits 1 as well.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from ros_pointlang.launching import exit_reporter, rviz_action


def _rviz(context):
    if not IfCondition(LaunchConfiguration("rviz")).evaluate(context):
        return []
    namespace = LaunchConfiguration("namespace").perform(context).strip("/")
    node = f"/{namespace}/pointlang" if namespace else "/pointlang"
    return rviz_action(
        os.path.join(get_package_share_directory("ros_pointlang"), "config", "pointlang.rviz"),
        points=LaunchConfiguration("points").perform(context),
        markers=f"{node}/markers",
        fixed_frame=LaunchConfiguration("fixed_frame").perform(context),
    )


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
        DeclareLaunchArgument("rviz", default_value="false",
                              description="also start RViz (where installed) with "
                                          "config/pointlang.rviz: the cloud and the markers"),
        DeclareLaunchArgument("fixed_frame", default_value="lidar",
                              description="RViz fixed frame: the cloud's frame (the demo's is "
                                          "lidar)"),
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
    return LaunchDescription(
        [*arguments, profile, node, exit_reporter(node), OpaqueFunction(function=_rviz)]
    )
