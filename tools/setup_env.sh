#!/usr/bin/env bash
# Creates or reuses .venv/, installs what is missing and builds the ROS interfaces into it.
# Idempotent: a second run only checks stamps and lets CMake see that nothing changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
log() { echo "[setup] $*"; }

# --- system packages: only what pip cannot provide --------------------------------------------
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
# open3d's wheel links libusb but does not ship it.
ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0' || missing+=(libusb-1.0-0)
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
  sudo=""
  [[ "$(id -u)" != 0 ]] && sudo="sudo"
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- the venv and its pinned packages ---------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  [[ "$version" == "3.11" ]] || log "warning: tested with Python 3.11, found $version"
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.pointlang-requirements"
wanted="$(cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
  log "installing pinned requirements (requirements/dev.txt)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements/dev.txt"
  # compat mode: a plain .pth with the checkout, so edits take effect without reinstalling.
  "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation \
    --config-settings editable_mode=compat -e "$ROOT"
  echo "$wanted" >"$stamp"
fi

# --- the real launch system, the ros2 command and vision_msgs (not on PyPI) ----------------------
# From ../shared/ros2 beside the checkout where it exists (CI has it; POINTLANG_SHARED_ROS2
# names another copy). Its install.sh is idempotent (a stamp in the venv). Without it the launch
# and ros2 CLI tests skip with a reason, and the node publishes no ~/detections.
shared_ros2="${POINTLANG_SHARED_ROS2:-$ROOT/../shared/ros2}"
if [[ -x "$shared_ros2/install.sh" ]]; then
  mkdir -p "$ROOT/build"
  bash "$shared_ros2/install.sh" "$VENV" >"$ROOT/build/shared-ros2.log" 2>&1 \
    || { tail -40 "$ROOT/build/shared-ros2.log"; exit 1; }
  log "$(tail -1 "$ROOT/build/shared-ros2.log")"
else
  log "no $shared_ros2: ros2 launch, the ros2 command and vision_msgs are not installed"
fi

# --- ROS interfaces (msg/, srv/) built by the same CMakeLists.txt that colcon uses -------------
# Only the generated code is installed into the venv (apart from site-packages, so the checkout's
# ros_pointlang/ stays the one imported); ros_pointlang/__init__.py joins the two directories.
export CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH"
build="$ROOT/build/ros"
mkdir -p "$build"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  log "configuring the interface build in build/ros"
  cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DCMAKE_INSTALL_PREFIX="$VENV" -DPython3_EXECUTABLE="$VENV/bin/python" \
    -DPOINTLANG_INSTALL_PYTHON_SOURCES=OFF -DPYTHON_INSTALL_DIR=ros_pointlang_interfaces \
    >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" -j"$(nproc)" >"$build.build.log" 2>&1 || { tail -50 "$build.build.log"; exit 1; }
cmake --install "$build" >/dev/null
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
printf '%s\n%s\n' "$ROOT" "$VENV/ros_pointlang_interfaces" >"$site/zz_ros_pointlang_dev.pth"
log "ready: $VENV (ROS 2 Kilted, ros_pointlang interfaces built)"
