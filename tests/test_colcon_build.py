"""What a ROS 2 user gets from `colcon build` in a workspace, built against the venv's ROS."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)

pytestmark = pytest.mark.skipif(
    shutil.which("colcon", path=str(VENV / "bin")) is None, reason="colcon is not installed"
)


def test_colcon_build_installs_interfaces_sources_scripts_and_share(tmp_path):
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    # A copy, not a link: colcon must build from what is tracked, not from our build/ trees.
    shutil.copytree(
        ROOT,
        ws / "src" / "ros_pointlang",
        ignore=shutil.ignore_patterns(
            ".venv", "build", "install", "log", ".git", "__pycache__", "*_cache", "out", "reports"
        ),
    )
    env = {
        **os.environ,
        "CMAKE_PREFIX_PATH": str(VENV),
        "AMENT_PREFIX_PATH": str(VENV),
        "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}",
    }
    subprocess.run(
        [
            str(VENV / "bin" / "colcon"),
            "build",
            "--cmake-args",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DBUILD_TESTING=OFF",
        ],
        cwd=ws,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    install = ws / "install" / "ros_pointlang"
    site = next(install.glob("lib/python3*/site-packages"))
    assert (install / "lib" / "ros_pointlang" / "pointlang_bench").exists()
    assert (install / "share" / "ros_pointlang" / "package.xml").exists()
    assert (install / "share" / "ros_pointlang" / "config").is_dir()
    assert (install / "share" / "ros_pointlang" / "launch").is_dir()

    probe = (
        "import ros_pointlang.msg as m, ros_pointlang.srv as s, ros_pointlang.cloud as c;"
        "print(m.__file__); print(c.__file__); print(s.AskCloud.Request().object_id);"
        "import ros_pointlang.kernels as k; print(k.LIBRARY is not None)"
    )
    run_env = {
        **env,
        "PYTHONPATH": str(site),
        "LD_LIBRARY_PATH": f"{install / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
    }
    out = subprocess.run(  # not from the checkout: python -c puts the cwd first on sys.path
        [sys.executable, "-c", probe], env=run_env, cwd=tmp_path, check=True,
        capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert out[0].startswith(str(site)) and out[1].startswith(str(site)), out
    assert out[2] == "0"
    assert out[3] == "True", "the compiled kernels were not installed beside the modules"
