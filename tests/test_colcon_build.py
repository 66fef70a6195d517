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
    # What a clone holds (tracked files and new ones not yet committed, never ignored or
    # generated ones), copied: colcon must build from that, not from our build/ trees.
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (ws / "src" / "ros_pointlang" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, ws / "src" / "ros_pointlang" / name)
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

    # With only the runtime (torch unimportable): the shipped bundle loads from share/ and
    # embeds new label words with its own text encoder.
    probe = (
        "import sys; sys.modules['torch'] = None;"
        "import ros_pointlang.msg as m, ros_pointlang.srv as s, ros_pointlang.cloud as c;"
        "print(m.__file__); print(c.__file__); print(s.AskCloud.Request().object_id);"
        "import ros_pointlang.kernels as k; print(k.LIBRARY is not None);"
        "from ros_pointlang.pipeline import Pipeline; p = Pipeline.from_bundle();"
        "p.set_vocabulary(['car', 'mug', 'cordless drill']); print(p.bundle.path);"
        "print(','.join(p.vocabulary))"
    )
    run_env = {
        **env,
        "AMENT_PREFIX_PATH": f"{install}:{VENV}",  # as `source install/setup.bash` sets it
        "PYTHONPATH": str(site),
        "LD_LIBRARY_PATH": f"{install / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
    }
    out = subprocess.run(  # not from the checkout: python -c puts the cwd first on sys.path
        [sys.executable, "-c", probe], env=run_env, cwd=tmp_path, check=True,
        capture_output=True, text=True,
    ).stdout.splitlines()  # fmt: skip
    assert out[0].startswith(str(site)) and out[1].startswith(str(site)), out
    assert out[2] == "0"
    assert out[3] == "True", "the compiled kernels were not installed beside the modules"
    assert out[4] == str(install / "share" / "ros_pointlang" / "models" / "pointlang-small")
    assert out[5] == "car,mug,cordless drill"


def test_make_colcon_builds_in_place_with_the_venv_inside_the_source_tree(colcon_install):
    # The developer's layout: .venv/ (numpy's headers among it) under the package's source
    # directory, which CMake refuses in an exported target unless CMakeLists.txt keeps it out.
    install = colcon_install.prefix
    share = install / "share" / "ros_pointlang"
    for path in ("launch/pointlang.launch.py", "config/pointlang.rviz", "package.xml"):
        assert (share / path).is_file(), path
    assert (install / "lib" / "ros_pointlang" / "pointlang_node").is_file()
    exported = (share / "cmake").glob("*rosidl_generator_py*Export.cmake")
    for cmake in exported:
        assert str(ROOT / ".venv") not in cmake.read_text(), cmake.name
