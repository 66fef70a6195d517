"""`tools/gpu_check.sh` on a machine without a GPU: every path SKIPs with its reason, and the
comparison harness itself (every model, prefill with an empty cache, decode steps) gives
|Δ| = 0 when both sides run on the CPU."""

import subprocess
import sys
from pathlib import Path

from ros_pointlang.backends import BackendOptions
from ros_pointlang.bundle import load_bundle
from ros_pointlang.gpu_check import _model_deltas

ROOT = Path(__file__).resolve().parent.parent


def test_the_harness_compares_every_model_and_decode_step_exactly_on_the_cpu():
    assert _model_deltas(load_bundle(), BackendOptions(threads=1)) == 0.0


def test_gpu_check_runs_every_path_and_says_why_it_skips(tmp_path):
    import onnxruntime as ort

    result = subprocess.run(
        ["bash", str(ROOT / "tools" / "gpu_check.sh"), "--keep-cache", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    lines = [line for line in result.stdout.splitlines() if line[:4] in {"PASS", "FAIL", "SKIP"}]
    assert len(lines) == 10, result.stdout + result.stderr
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert all(line.startswith("SKIP") for line in lines[:5])
        assert "pip install onnxruntime-gpu" in lines[0]
    assert result.returncode == (1 if any(line.startswith("FAIL") for line in lines) else 0)
