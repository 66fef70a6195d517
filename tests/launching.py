"""Running the package as a ROS user does: a colcon install, the real launch system, `ros2 …`.

The launch system and the `ros2` command are not on PyPI; tools/setup_env.sh installs them
from ../shared/ros2 where that folder exists (CI has it). Elsewhere these tests skip with
that reason. Launch files run in this process with `launch.LaunchService` (launch_testing
breaks pytest 9); every started process's exit code and output are recorded.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)


def _have_launch() -> bool:
    # Probe a submodule: the checkout's launch/ folder alone imports as a namespace package.
    try:
        import launch.actions  # noqa: F401
        import launch_ros.actions  # noqa: F401
        import ros2cli  # noqa: F401
    except ImportError:
        return False
    return True


requires_launch = pytest.mark.skipif(
    not _have_launch(),
    reason="the ROS 2 launch system and ros2 command are not installed: tools/setup_env.sh "
    "installs them from ../shared/ros2 where that folder exists",
)


@dataclass(frozen=True)
class ColconInstall:
    """The install folder `make colcon` wrote, and the environment of a sourced workspace."""

    base: Path

    @property
    def prefix(self) -> Path:
        return self.base / "install" / "ros_pointlang"

    @property
    def site_packages(self) -> Path:
        return next(self.prefix.glob("lib/python3*/site-packages"))

    def environment(self, log_dir: Path) -> dict[str, str]:
        """What `source install/setup.bash` gives, over the venv's ROS, plus a log folder.

        ROS_DOMAIN_ID comes from conftest.py (private to this test session)."""
        return {
            "AMENT_PREFIX_PATH": f"{self.prefix}:{VENV}",
            "CMAKE_PREFIX_PATH": f"{self.prefix}:{VENV}",
            "PYTHONPATH": str(self.site_packages),
            "LD_LIBRARY_PATH": f"{self.prefix / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
            "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}",
            "ROS_LOG_DIR": str(log_dir),
            "PYTHONUNBUFFERED": "1",
        }


def make_colcon(base: Path) -> ColconInstall:
    """`make colcon` in the checkout itself (the venv inside the source tree, as a developer
    has it), with its build, install and log folders under `base`. The set-up it depends on
    has run already (this is its venv)."""
    subprocess.run(
        ["make", "-o", "setup", "colcon", f"COLCON_BASE={base}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return ColconInstall(base)


@dataclass
class LaunchRun:
    """What a launch did: its return code, and per process its exit code and output, by
    executable name ("pointlang_node"; launch itself numbers them on, across launches)."""

    return_code: int | None = None
    exits: dict[str, int] = field(default_factory=dict)
    output: dict[str, str] = field(default_factory=lambda: defaultdict(str))

    def text(self) -> str:
        return "".join(f"--- {name}\n{text}" for name, text in self.output.items())


def run_launch(
    launch_file: Path,
    arguments: dict[str, str],
    while_running: Callable[[LaunchRun], Awaitable[None]] | None = None,
    ready_line: str | None = None,
    timeout: float = 120.0,
) -> LaunchRun:
    """Run `launch_file` with `arguments` until it ends by itself or, with `while_running`,
    until a process printed `ready_line` and `while_running(run)` returned (then Ctrl-C)."""
    from launch import LaunchDescription, LaunchService
    from launch.actions import IncludeLaunchDescription, RegisterEventHandler
    from launch.event_handlers import OnProcessExit, OnProcessIO
    from launch.launch_description_sources import PythonLaunchDescriptionSource

    run = LaunchRun()

    def name(event) -> str:
        return event.action.process_details["name"].rsplit("-", 1)[0]

    def on_exit(event, context):
        run.exits[name(event)] = event.returncode

    def on_output(event):
        run.output[name(event)] += event.text.decode(errors="replace")

    service = LaunchService(noninteractive=True)
    service.include_launch_description(
        LaunchDescription(
            [
                RegisterEventHandler(OnProcessExit(on_exit=on_exit)),
                RegisterEventHandler(OnProcessIO(on_stdout=on_output, on_stderr=on_output)),
                IncludeLaunchDescription(
                    PythonLaunchDescriptionSource(str(launch_file)),
                    launch_arguments=list(arguments.items()),
                ),
            ]
        )
    )

    async def scenario() -> int:
        launched = asyncio.ensure_future(service.run_async())
        try:
            if while_running is not None:
                async with asyncio.timeout(timeout):
                    while ready_line and not any(ready_line in t for t in run.output.values()):
                        if launched.done():
                            raise RuntimeError(
                                f"the launch ended (code {launched.result()}) before a process "
                                f"printed {ready_line!r}:\n{run.text()}"
                            )
                        await asyncio.sleep(0.1)
                    await while_running(run)
        finally:
            if not launched.done():
                stopping = service.shutdown()  # Ctrl-C; inside the loop it is a coroutine
                if stopping is not None:
                    await stopping
        async with asyncio.timeout(timeout):
            return await launched

    run.return_code = asyncio.run(scenario())
    return run


async def ros2(*args: str, timeout: float = 60.0) -> tuple[int, str]:
    """Run the real `ros2` command (no daemon: nothing outlives the test) without blocking the
    launch; returns its exit code and output. Without a daemon each call discovers the graph
    afresh, which on a busy machine can miss a node that is there: "Node not found" is retried
    until `timeout`."""
    command = [str(VENV / "bin" / "ros2"), *args]
    if args[0] in {"param", "topic", "node"} or args[:2] == ("service", "list"):
        command.append("--no-daemon")  # `service call` starts no daemon and has no such flag
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        code, out = await _run(command, deadline - loop.time())
        if "Node not found" not in out or loop.time() > deadline - 5:
            return code, out
        await asyncio.sleep(1.0)


async def ros2_until(
    done: Callable[[tuple[int, str]], bool], *args: str, timeout: float = 60.0
) -> tuple[int, str]:
    """`ros2 *args` again until `done(result)` (discovery of a subscription takes a moment)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await ros2(*args, timeout=max(deadline - loop.time(), 5.0))
        if done(result) or loop.time() > deadline:
            return result
        await asyncio.sleep(1.0)


async def _run(command: list[str], timeout: float) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        async with asyncio.timeout(max(timeout, 5.0)):
            out, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        out, _ = await process.communicate()
        return -9, out.decode(errors="replace")
    return process.returncode or 0, out.decode(errors="replace")
