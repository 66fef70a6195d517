"""A Python program (the `pointlang` node, the bag player, a test node) in a process of its own.

    with NodeProcess(["-m", "ros_pointlang.node", "--ros-args", ...], "pointlang ready") as node:
        ...  # node.poll(), node.lines, node.tail()

Entering starts `python ARGS...` and returns once it prints the ready line; leaving stops it
with SIGINT, as Ctrl-C would, and kills it if it does not end within 10 s. A thread drains its
output (a full pipe would block the child) into `lines`
(and prints it too with `echo`). The child inherits the environment
(ROS_DOMAIN_ID and the Fast DDS profile included). Live bag evaluation, the tests and the demo
all start their processes through this class.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time


class NodeProcessError(RuntimeError):
    """The process exited, or never printed its ready line, before it was ready."""


class NodeProcess:
    def __init__(
        self, args: list[str], ready_line: str, timeout: float = 90.0, echo: bool = False
    ) -> None:
        self.command = [sys.executable, *args]
        self.echo = echo  # also print the process's output here (the demo shows the node's log)
        self.ready_line = ready_line
        self.timeout = timeout
        self.lines: list[str] = []  # everything the process printed so far
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> NodeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> NodeProcess:
        """Start the process and wait for its ready line (raises NodeProcessError)."""
        self.proc = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait()
                raise NodeProcessError(
                    f"{self.command[1:]} exited with {self.proc.returncode} before it was "
                    f"ready: {self.tail()}"
                )
            if self.ready_line in line:
                return self
        self.stop()
        raise NodeProcessError(
            f"{self.command[1:]} never printed {self.ready_line!r}: {self.tail()}"
        )

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        for line in proc.stdout or ():
            self.lines.append(line)
            if self.echo:
                print(line, end="", flush=True)
            self._queue.put(line)
        self._queue.put(None)

    def tail(self, lines: int = 20) -> str:
        """The last `lines` lines the process printed, for error messages."""
        return "".join(self.lines[-lines:]).strip()

    def poll(self) -> int | None:
        """The exit status, or None while it runs."""
        return None if self.proc is None else self.proc.poll()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    def send_signal(self, sig: int) -> None:
        if self.proc is not None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float | None = None) -> int:
        if self.proc is None:
            raise NodeProcessError(f"{self.command[1:]} was never started")
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGINT, then SIGKILL after 10 s; nothing if it has ended already."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)  # the node shuts down cleanly, as on Ctrl-C
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
