"""Test-session settings and fixtures shared by every test module."""

import os

import pytest

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
    from tests.bundles import make_tiny_bundle

    return make_tiny_bundle(tmp_path_factory.mktemp("bundle") / "pointlang-tiny")
