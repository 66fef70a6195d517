"""Launch files and params files agree with the node (launch itself is not on PyPI)."""

import ast
from pathlib import Path

import pytest
import yaml

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
