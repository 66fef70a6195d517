"""The README's operator commands, run for real: the real `ros2` command against the node started
by `ros2 launch`'s launch file from a colcon install, with the shipped default bundle (a robot
without torch: new label words use the bundle's own text encoder)."""

import asyncio
import re
import sys

from tests.launching import requires_launch, ros2, run_launch

pytestmark = requires_launch


async def play(bag, topic):
    """The bag's clouds into `topic`, a few times over (python -m ros_pointlang.bag play)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ros_pointlang.bag", "play", str(bag), "--topics", "/lidar/points",
        "--remap", f"/lidar/points:={topic}", "--loop", "20",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return process


def test_param_describe_set_get_topic_echo_and_service_call(installed, scene_bag):
    results = {}

    async def operator(run):
        results["describe"] = await ros2("param", "describe", "/pointlang", "cluster_tolerance")
        results["set"] = await ros2("param", "set", "/pointlang", "labels", "[car, mug, drill]")
        results["get"] = await ros2("param", "get", "/pointlang", "labels")
        echo = asyncio.ensure_future(
            ros2(
                "topic",
                "echo",
                "--once",
                "/pointlang/objects",
                "ros_pointlang/msg/DescribedObjectArray",
            )
        )
        await asyncio.sleep(3.0)  # let the echo subscribe: the node skips work unwatched
        player = await play(scene_bag, "/test/points")
        try:
            results["echo"] = await echo
        finally:
            player.kill()
            await player.wait()
        results["ask"] = await ros2(
            "service", "call", "/pointlang/ask", "ros_pointlang/srv/AskCloud",
            "{question: 'how tall is it?', object_id: 0}",
        )  # fmt: skip

    run = run_launch(
        installed / "launch" / "pointlang.launch.py",
        {"points": "/test/points"},
        operator,
        ready_line="pointlang ready",
        timeout=240,
    )
    assert run.return_code == 0, run.text()
    code, describe = results["describe"]
    assert code == 0 and "gap in metres that separates two objects" in describe, describe
    assert "Min value: 0.01" in describe and "Max value: 2.0" in describe, describe
    assert results["set"] == (0, "Set parameter successful\n"), results["set"]
    assert results["get"] == (0, "String values are: ['car', 'mug', 'drill']\n")
    code, echo = results["echo"]
    labels = set(re.findall(r"label: (\S+)", echo))
    assert code == 0 and labels and labels <= {"car", "mug", "drill", "unknown"}, echo
    code, answer = results["ask"]
    assert code == 0 and "success=True" in answer, answer
