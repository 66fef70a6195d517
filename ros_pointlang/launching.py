"""What the package's launch files share: exit codes that reach `ros2 launch`, and RViz.

`ros2 launch` exits 0 even when a process it started failed. `exit_reporter` makes a non-zero
exit of a process the launch's own failure: the launch stops, names the process and its code,
and `ros2 launch` exits 1. Used by launch files only; the ROS launch system is imported when a
function runs, so the module itself imports anywhere (as every runtime module must).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

PACKAGE = "ros_pointlang"


class ProcessFailed(RuntimeError):
    """A process the launch depends on exited with a non-zero code."""


def exit_reporter(process: Any) -> Any:
    """A RegisterEventHandler: when `process` ends the launch ends, with an error naming its
    exit code if non-zero. An exit while the launch is already shutting down (Ctrl-C) is not a
    failure.
    """
    from launch.actions import EmitEvent, OpaqueFunction, RegisterEventHandler
    from launch.event import Event
    from launch.event_handler import EventHandler
    from launch.event_handlers import OnProcessExit
    from launch.events import Shutdown

    def fail(context: Any, message: str) -> None:
        # An exception from an action is how a launch fails: LaunchService logs it as one
        # error line and returns 1, which `ros2 launch` exits with.
        raise ProcessFailed(message)

    def on_exit(event: Any, context: Any) -> list[Any] | None:
        if context.is_shutdown:
            return None
        name = event.action.process_details["name"]
        if event.returncode == 0:
            return [EmitEvent(event=Shutdown(reason=f"{name} finished"))]
        # Fail from an event of our own, handled after this exit event has reached every other
        # handler (raising here would hide the exit from handlers registered before this one).
        message = f"{name} exited with code {event.returncode}"
        failed = Event()
        handler = EventHandler(
            matcher=lambda e: e is failed, entities=OpaqueFunction(function=fail, args=[message])
        )
        return [RegisterEventHandler(handler), EmitEvent(event=failed)]

    return RegisterEventHandler(OnProcessExit(target_action=process, on_exit=on_exit))


def package_executable(name: str) -> str:
    """Path of a console script the package installs into lib/ros_pointlang (no `ros2 run`)."""
    from ament_index_python.packages import get_package_prefix

    return os.path.join(get_package_prefix(PACKAGE), "lib", PACKAGE, name)


def rviz_action(template: str, points: str, markers: str, fixed_frame: str) -> list[Any]:
    """RViz with the package's display config pointed at these topics, where RViz is installed.

    The config is a template (config/pointlang.rviz); the copy RViz opens names the topics
    after remapping and namespacing, so `points:=/lidar/points namespace:=robot1` shows the
    right cloud and markers without editing the file.
    """
    import yaml
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix
    from launch.actions import LogInfo
    from launch_ros.actions import Node

    try:
        get_package_prefix("rviz2")
    except PackageNotFoundError:
        return [LogInfo(msg="rviz:=true, but RViz (package rviz2) is not installed; not started")]
    with open(template, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    manager = config["Visualization Manager"]
    manager["Global Options"]["Fixed Frame"] = fixed_frame
    topics = {
        "rviz_default_plugins/PointCloud2": points,
        "rviz_default_plugins/MarkerArray": markers,
    }
    for display in manager["Displays"]:
        if display.get("Class") in topics:
            display["Topic"]["Value"] = topics[display["Class"]]
    with tempfile.NamedTemporaryFile(
        "w", prefix="pointlang-", suffix=".rviz", delete=False, encoding="utf-8"
    ) as copy:
        yaml.safe_dump(config, copy, sort_keys=False)
    return [
        Node(
            package="rviz2",
            executable="rviz2",
            name="rviz2",
            arguments=["-d", copy.name],
            output="screen",
        )
    ]
