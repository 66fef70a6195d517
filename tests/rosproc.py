"""Helpers for tests that run ROS 2 nodes in processes of their own, talking over real DDS."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ros_pointlang.evaluation.process import NodeProcess

TESTS = Path(__file__).resolve().parent


def node_process(args: list[str], ready_line: str, timeout: float = 30.0) -> NodeProcess:
    """`python args...` as a context manager that waits until it prints `ready_line` and stops
    it with SIGINT after: the evaluator's own process helper (the child inherits this process's
    ROS_DOMAIN_ID, set in conftest.py)."""
    return NodeProcess(args, ready_line, timeout)


def spin_until(node, done: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Spin `node` until `done()` is true or `timeout` seconds pass; return `done()`."""
    import rclpy

    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    return done()
