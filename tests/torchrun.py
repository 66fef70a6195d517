"""Training modules run as two torchrun processes on gloo, the way a multi-GPU user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_two_processes(module: str, args: list[str], out_dir: Path) -> list[float]:
    """Run `python -m module args` on 2 ranks; return every rank's final weight checksum."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        module,
        *args,
    ]
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise AssertionError(f"torchrun {module} failed:\n{result.stderr[-3000:]}")
    return json.loads((out_dir / "ddp_checksums.json").read_text())
