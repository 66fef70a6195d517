"""Launch files and params files agree with the node; the real launch system runs them."""

import ast
import asyncio
import json
import os
from pathlib import Path

import pytest
import yaml

from tests.launching import requires_launch, ros2, ros2_until, run_launch
from tests.rosproc import node_process

ROOT = Path(__file__).resolve().parent.parent
LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.py"))
PARAMS_FILES = sorted((ROOT / "config").glob("*.yaml"))


def calls(tree, name):
    return [
        n for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == name
    ]  # fmt: skip


def launch_arguments(path):
    tree = ast.parse(path.read_text())
    return {c.args[0].value for c in calls(tree, "DeclareLaunchArgument")}


def used_configurations(path):
    tree = ast.parse(path.read_text())
    return {c.args[0].value for c in calls(tree, "LaunchConfiguration")}


@pytest.fixture(scope="module")
def declared_parameters(tiny_bundle):
    import rclpy
    from rclpy.parameter import Parameter

    from ros_pointlang.node import PointLangNode

    rclpy.init()
    try:
        node = PointLangNode(parameter_overrides=[Parameter("bundle", value=str(tiny_bundle))])
        names = set(node._parameters)
        node.shutdown()
        node.destroy_node()
    finally:
        rclpy.shutdown()
    return names


def test_there_are_the_two_launch_files_and_two_params_files():
    assert [p.name for p in LAUNCH_FILES] == ["pointlang.launch.py", "replay_eval.launch.py"]
    assert {p.name for p in PARAMS_FILES} == {"lidar.yaml", "depth_camera.yaml"}


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_every_configuration_a_launch_file_uses_is_declared(path):
    assert used_configurations(path) <= launch_arguments(path)


def test_the_node_launch_passes_only_parameters_the_node_declares(declared_parameters):
    tree = ast.parse((ROOT / "launch" / "pointlang.launch.py").read_text())
    (node,) = calls(tree, "Node")
    keywords = {k.arg: k.value for k in node.keywords}
    assert keywords["executable"].value == "pointlang_node"
    assert keywords["name"].value == "pointlang"
    passed = {
        key.value
        for d in ast.walk(keywords["parameters"])
        if isinstance(d, ast.Dict)
        for key in d.keys
    }
    assert passed and passed <= declared_parameters
    setup = (ROOT / "setup.py").read_text()
    assert "pointlang-node=ros_pointlang.node:main" in setup


@pytest.mark.parametrize("path", PARAMS_FILES, ids=lambda p: p.name)
def test_params_files_name_only_declared_parameters(path, declared_parameters):
    params = yaml.safe_load(path.read_text())["/**"]["ros__parameters"]
    assert set(params) <= declared_parameters


@pytest.mark.parametrize("path", PARAMS_FILES, ids=lambda p: p.name)
def test_the_node_starts_with_each_params_file_as_the_launch_file_starts_it(path, tiny_bundle):
    args = ["-m", "ros_pointlang.node", "--ros-args", "--params-file", str(path)]
    args += ["-p", f"bundle:={tiny_bundle}", "-r", "points:=/lidar/points"]
    with node_process(args, "pointlang ready") as proc:
        assert proc.poll() is None


# -- the real launch system, from a colcon install (skipped where ../shared/ros2 is absent) ---


def started(run):
    """The pointlang node process of a run: its exit code and output."""
    assert "pointlang_node" in run.exits, run.text()
    return run.exits["pointlang_node"], run.output["pointlang_node"]


@requires_launch
@pytest.mark.parametrize("params_file", ["lidar.yaml", "depth_camera.yaml"])
def test_the_node_launch_applies_params_file_namespace_remap_and_bundle(
    params_file, installed, tiny_bundle
):
    path = installed / "config" / params_file
    mode = yaml.safe_load(path.read_text())["/**"]["ros__parameters"]["mode"]
    seen = {}

    async def check(run):
        seen["mode"] = await ros2("param", "get", "/robot1/pointlang", "mode")
        seen["bundle"] = await ros2("param", "get", "/robot1/pointlang", "bundle")
        seen["points"] = await ros2_until(
            lambda r: "Subscription count: 1" in r[1], "topic", "info", "/test/points"
        )

    run = run_launch(
        installed / "launch" / "pointlang.launch.py",
        {
            "params_file": str(path),
            "namespace": "robot1",
            "points": "/test/points",
            "bundle": str(tiny_bundle),
        },
        check,
        ready_line="pointlang ready",
    )
    assert run.return_code == 0, run.text()
    code, output = started(run)
    assert code == 0, output  # stopped by Ctrl-C, cleanly
    assert f"bundle {tiny_bundle}" in output
    assert seen["mode"] == (0, f"String value is: {mode}\n")
    assert seen["bundle"] == (0, f"String value is: {tiny_bundle}\n")
    assert seen["points"][0] == 0 and "Subscription count: 1" in seen["points"][1], seen


@requires_launch
@pytest.mark.parametrize(
    ("arguments", "fatal"),
    [
        ({"backend": "onnxruntime-cuda"}, "CUDAExecutionProvider"),
        ({"bundle": "/no/such/bundle"}, "/no/such/bundle does not exist"),
    ],
    ids=["cuda-without-gpu", "missing-bundle"],
)
def test_a_node_that_cannot_start_fails_the_launch_with_one_fatal_line(
    arguments, fatal, installed, tiny_bundle
):
    if "cuda" in arguments.get("backend", ""):
        import onnxruntime

        if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
            pytest.skip("this machine has CUDA: the CUDA backend starts here")
    run = run_launch(
        installed / "launch" / "pointlang.launch.py", {"bundle": str(tiny_bundle), **arguments}
    )
    code, output = started(run)
    assert code == 1, output
    assert run.return_code == 1, "ros2 launch must not exit 0 when the node failed"
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "[FATAL]" in lines[0] and fatal in lines[0], output
    assert "Traceback" not in output


@requires_launch
def test_rviz_true_opens_the_package_config_on_the_launch_topics(installed, tiny_bundle, tmp_path):
    """RViz is not on PyPI: a stand-in `rviz2` package (an ament index entry and an executable
    that saves its arguments and the config it was given) shows what the launch starts where
    RViz is installed."""
    prefix = tmp_path / "rviz_prefix"
    (prefix / "share" / "ament_index" / "resource_index" / "packages").mkdir(parents=True)
    (prefix / "share" / "ament_index" / "resource_index" / "packages" / "rviz2").touch()
    executable = prefix / "lib" / "rviz2" / "rviz2"
    executable.parent.mkdir(parents=True)
    record = tmp_path / "rviz_config.yaml"
    executable.write_text(
        f'#!/bin/sh\n[ "$1" = -d ] && cp "$2" {record}\necho rviz2 started with "$@"\n'
    )
    executable.chmod(0o755)
    os.environ["AMENT_PREFIX_PATH"] = f"{prefix}:{os.environ['AMENT_PREFIX_PATH']}"

    async def until_rviz_ran(run):
        while not record.exists():
            await asyncio.sleep(0.1)

    run = run_launch(
        installed / "launch" / "pointlang.launch.py",
        {"bundle": str(tiny_bundle), "rviz": "true", "points": "/lidar/points",
         "namespace": "robot1", "fixed_frame": "os_sensor"},
        until_rviz_ran,
        ready_line="pointlang ready",
    )  # fmt: skip
    assert run.return_code == 0, run.text()
    assert run.exits.get("rviz2") == 0, run.text()
    config = yaml.safe_load(record.read_text())
    displays = {d["Class"]: d for d in config["Visualization Manager"]["Displays"]}
    assert displays["rviz_default_plugins/PointCloud2"]["Topic"]["Value"] == "/lidar/points"
    markers = displays["rviz_default_plugins/MarkerArray"]["Topic"]
    assert markers["Value"] == "/robot1/pointlang/markers"
    assert markers["Reliability Policy"] == "Reliable"  # the node's outputs are reliable
    assert config["Visualization Manager"]["Global Options"]["Fixed Frame"] == "os_sensor"


@requires_launch
def test_replay_eval_with_the_default_bundle_runs_the_live_evaluation(
    installed, scene_bag, tmp_path
):
    report = tmp_path / "report"
    run = run_launch(
        installed / "launch" / "replay_eval.launch.py",
        {"bag": str(scene_bag), "report": str(report), "rate": "2.0"},
        timeout=300,
    )
    assert run.exits == {"pointlang_eval": 0}, run.text()
    assert run.return_code == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["frames"] == 4 and metrics["mode"] == "live", metrics
    assert (report / "report.html").is_file()  # with the shipped bundle: no `--bundle ''`


@requires_launch
def test_replay_eval_fails_the_launch_when_the_evaluation_fails(installed, tmp_path):
    run = run_launch(
        installed / "launch" / "replay_eval.launch.py",
        {"bag": str(tmp_path / "missing.mcap"), "report": str(tmp_path / "report")},
    )
    assert run.exits == {"pointlang_eval": 2}, run.text()
    assert run.return_code == 1
    assert "does not exist" in run.output["pointlang_eval"]
