"""Helpers for tests that run ROS 2 nodes in processes of their own, talking over real DDS."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent


@contextlib.contextmanager
def node_process(
    args: list[str], ready_line: str, timeout: float = 30.0
) -> Iterator[subprocess.Popen]:
    """Start `python args...` and wait until it prints `ready_line`; stop it with SIGINT after.

    The child inherits this process's ROS_DOMAIN_ID (set in conftest.py).
    """
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line and proc.poll() is not None:
                raise RuntimeError(f"node exited with {proc.returncode}: {''.join(seen)}")
            seen.append(line)
            if ready_line in line:
                break
        else:
            raise TimeoutError(f"node never printed {ready_line!r}: {''.join(seen)}")
        # Keep reading, or a chatty node blocks on a full pipe; the lines stay in proc.lines.
        proc.lines = seen  # type: ignore[attr-defined]
        threading.Thread(target=_drain, args=(proc, seen), daemon=True).start()
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(2)  # SIGINT, as Ctrl-C would
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _drain(proc: subprocess.Popen, into: list[str]) -> None:
    for line in proc.stdout or ():
        into.append(line)


def spin_until(node, done: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Spin `node` until `done()` is true or `timeout` seconds pass; return `done()`."""
    import rclpy

    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    return done()
