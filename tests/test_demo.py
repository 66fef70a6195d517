"""`make demo` end to end: scene bag → node process → live replay → question (tools/demo.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_replays_a_scene_into_the_node_and_prints_what_it_sees(tiny_bundle, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "demo.py"),
            "--bundle",
            str(tiny_bundle),
            "--sweeps",
            "8",
            "--out",
            str(tmp_path),
            "--no-report",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "scene-7.mcap").exists()
    lines = [line for line in result.stdout.splitlines() if line.startswith("t=")]
    assert len(lines) >= 3 and all("objects:" in line for line in lines)
    assert "the node described" in result.stdout
    assert "ask: 'what is this object?'" in result.stdout
