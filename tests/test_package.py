"""The package metadata agrees with itself: package.xml, setup.py and CMakeLists.txt."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_py_console_scripts() -> list[str]:
    text = (ROOT / "setup.py").read_text()
    block = re.search(r"CONSOLE_SCRIPTS = \[(.*?)\]", text, re.S)
    return re.findall(r'"([^"]+=[^"]+)"', block.group(1)) if block else []


def cmake_console_scripts() -> list[str]:
    text = (ROOT / "CMakeLists.txt").read_text()
    block = re.search(r"set\(_console_scripts(.*?)\)", text, re.S)
    return re.findall(r'"([^"]+=[^"]+)"', block.group(1)) if block else []


def test_console_scripts_are_the_same_for_pip_and_ros():
    scripts = setup_py_console_scripts()
    assert scripts, "setup.py lists no console scripts"
    assert cmake_console_scripts() == scripts


def test_console_scripts_point_at_real_functions():
    import importlib

    for entry in setup_py_console_scripts():
        _, target = entry.split("=")
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function)), entry


def test_versions_agree():
    xml_version = ET.parse(ROOT / "package.xml").getroot().findtext("version")
    setup_version = re.search(r'version="([^"]+)"', (ROOT / "setup.py").read_text()).group(1)
    import ros_pointlang

    assert xml_version == setup_version == ros_pointlang.__version__


def test_every_interface_file_is_generated():
    cmake = (ROOT / "CMakeLists.txt").read_text()
    files = sorted(
        p.relative_to(ROOT).as_posix() for p in [*ROOT.glob("msg/*.msg"), *ROOT.glob("srv/*.srv")]
    )
    assert files
    for name in files:
        assert f'"{name}"' in cmake, f"{name} is not in rosidl_generate_interfaces"
