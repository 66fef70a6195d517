"""Test-session settings shared by every test module."""

import os

# Keep this suite's DDS traffic to itself: other test runs may share the machine.
os.environ.setdefault("ROS_DOMAIN_ID", str(1 + os.getpid() % 100))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
# Whole point clouds over best-effort DDS need large shared-memory segments (see the file).
os.environ.setdefault(
    "FASTDDS_DEFAULT_PROFILES_FILE",
    os.path.join(os.path.dirname(__file__), "..", "config", "fastdds_large_data.xml"),
)
