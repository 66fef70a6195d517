"""Replay a rosbag with ground truth into the node and write an evaluation report.

    ros2 launch ros_pointlang replay_eval.launch.py bag:=scene.mcap report:=reports/scene

Runs the package's `pointlang_eval bag --live` (its installed console script, no `ros2 run`),
which starts the node as its own process (with `params_file`), plays the bag at `rate`, matches
outputs to ground truth by stamp and writes JSON + a report with plots. If the evaluation
fails, `ros2 launch` exits 1 and names its exit code.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    OpaqueFunction,
    SetEnvironmentVariable,
)
from launch.substitutions import LaunchConfiguration

from ros_pointlang.launching import exit_reporter, package_executable


def _evaluate(context):
    report = LaunchConfiguration("report").perform(context)
    bundle = LaunchConfiguration("bundle").perform(context)
    cmd = [
        package_executable("pointlang_eval"), "bag", LaunchConfiguration("bag").perform(context),
        "--live", "--rate", LaunchConfiguration("rate").perform(context),
        "--params-file", LaunchConfiguration("params_file").perform(context),
        "--report", report, "--json", os.path.join(report, "metrics.json"),
    ]  # fmt: skip
    if bundle:  # empty: the evaluator's own default, the shipped bundle
        cmd += ["--bundle", bundle]
    evaluate = ExecuteProcess(cmd=cmd, name="pointlang_eval", output="screen")
    return [evaluate, exit_reporter(evaluate)]


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
                              description="folder for report.md, report.html, plots and "
                                          "metrics.json"),
        DeclareLaunchArgument("fastdds_profile",
                              default_value=os.path.join(share, "config", "fastdds_large_data.xml"),
                              description="Fast DDS profile that carries whole clouds best-effort"),
    ]  # fmt: skip
    profile = SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE",
                                     LaunchConfiguration("fastdds_profile"))  # fmt: skip
    return LaunchDescription([*arguments, profile, OpaqueFunction(function=_evaluate)])
