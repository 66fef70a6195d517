"""`make demo` replays the real Ouster bag across two processes and decodes every scan."""

import subprocess
import sys


def test_demo_receives_and_decodes_every_replayed_scan():
    result = subprocess.run(
        [sys.executable, "-m", "ros_pointlang.demo", "--loops", "2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # The bag holds two scans; 131,072 points each, of which 45,716 and 45,809 are returns.
    assert "received 4 clouds" in result.stdout
    assert "45716 returns" in result.stdout and "45809 returns" in result.stdout
