"""Test-session settings and fixtures shared by every test module."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# POINTLANG_NO_TORCH=1: torch is unimportable in this test session, as on a robot without it
# (tests/no_torch.py); runtime tests then prove by running that they never need it.
NO_TORCH = os.environ.get("POINTLANG_NO_TORCH") == "1"
if NO_TORCH:
    from tests.no_torch import install

    install()

CHECKOUT = Path(__file__).resolve().parent.parent

# Keep this suite's DDS traffic to itself: other test runs may share the machine.
os.environ.setdefault("ROS_DOMAIN_ID", str(1 + os.getpid() % 100))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
# Whole point clouds over best-effort DDS need large shared-memory segments (see the file).
os.environ.setdefault(
    "FASTDDS_DEFAULT_PROFILES_FILE",
    os.path.join(os.path.dirname(__file__), "..", "config", "fastdds_large_data.xml"),
)


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    """A complete bundle (encoder, labels, text encoder) around an untrained tiny encoder.

    Built by the real export path; for tests of mechanics, not of accuracy (the committed
    default bundle is there for that).
    """
    out = tmp_path_factory.mktemp("bundle") / "pointlang-tiny"
    if NO_TORCH:  # export needs torch: build it in a child process that may import it
        code = (
            "from pathlib import Path; from tests.bundles import make_tiny_bundle; "
            f"make_tiny_bundle(Path({str(out)!r}))"
        )
        env = {k: v for k, v in os.environ.items() if k != "POINTLANG_NO_TORCH"}
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=CHECKOUT)
        return out
    from tests.bundles import make_tiny_bundle

    return make_tiny_bundle(out)


@pytest.fixture(scope="session")
def colcon_install(tmp_path_factory):
    """The checkout built in place by `make colcon` (once per session), as a ROS user's
    workspace install: share/, lib/ros_pointlang scripts, interfaces and sources together."""
    import shutil

    from tests.launching import VENV, make_colcon

    if shutil.which("colcon", path=str(VENV / "bin")) is None:
        pytest.skip("colcon is not installed in the venv (requirements/dev.txt has it)")
    return make_colcon(tmp_path_factory.mktemp("colcon"))


@pytest.fixture
def installed(colcon_install, tmp_path, monkeypatch):
    """This process and its children as in a shell that sourced the colcon install; returns
    the package's share folder (launch files, config, the default bundle)."""
    for key, value in colcon_install.environment(tmp_path / "ros_log").items():
        monkeypatch.setenv(key, value)
    return colcon_install.prefix / "share" / "ros_pointlang"


@pytest.fixture(scope="session")
def scene_bag(tmp_path_factory):
    """A `pointlang-data scene` bag: four sweeps past three objects, with ground truth (a few
    seconds to simulate; the data engine needs no torch)."""
    from training.data.scenes import SceneConfig, write_scene_bag

    path = tmp_path_factory.mktemp("scene") / "bag"
    write_scene_bag(path, seed=0, config=SceneConfig(min_objects=3, max_objects=3, sweeps=4))
    return path
