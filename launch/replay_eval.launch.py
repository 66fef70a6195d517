"""Replay a rosbag with ground truth into the node and write an evaluation report.

    ros2 launch ros_pointlang replay_eval.launch.py bag:=scene.mcap report:=reports/scene

`pointlang-eval bag --live` starts the node as its own process (with `params_file`), plays the
bag at `rate`, matches outputs to ground truth by stamp and writes JSON + a report with plots.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, ExecuteProcess, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration

from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("ros_pointlang")
    arguments = [
        DeclareLaunchArgument("bag", description="rosbag2 with /lidar/points and ground truth"),
        DeclareLaunchArgument("params_file",
                              default_value=os.path.join(share, "config", "lidar.yaml"),
                              description="node parameters"),
        DeclareLaunchArgument("bundle", default_value="",
                              description="model bundle folder; empty = the shipped default"),
        DeclareLaunchArgument("rate", default_value="1.0", description="replay speed factor"),
        DeclareLaunchArgument("report", default_value="pointlang_report",
                              description="folder for report.md, report.html and plots"),
        DeclareLaunchArgument("fastdds_profile",
                              default_value=os.path.join(share, "config", "fastdds_large_data.xml"),
                              description="Fast DDS profile that carries whole clouds best-effort"),
    ]  # fmt: skip
    evaluate = ExecuteProcess(
        cmd=[
            "ros2", "run", "ros_pointlang", "pointlang_eval",
            "bag", LaunchConfiguration("bag"), "--live",
            "--rate", LaunchConfiguration("rate"),
            "--params-file", LaunchConfiguration("params_file"),
            "--bundle", LaunchConfiguration("bundle"),
            "--report", LaunchConfiguration("report"),
        ],
        output="screen",
    )  # fmt: skip
    profile = SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE",
                                     LaunchConfiguration("fastdds_profile"))  # fmt: skip
    return LaunchDescription([*arguments, profile, evaluate])
