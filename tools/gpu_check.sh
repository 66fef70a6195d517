#!/usr/bin/env bash
# Exercise every GPU path (ONNX Runtime CUDA and TensorRT EP, native TensorRT cold build, cache
# hit, FP16, decoder prefill and decode steps, full captions) against the CPU and print
# PASS/FAIL/SKIP per path with timings and max |Δ|. Exit status 1 if any path fails.
#
#   pip install -e '.[tensorrt,gpu]'     # or JetPack's TensorRT + cuda-python on a Jetson
#   tools/gpu_check.sh [--bundle DIR] [--keep-cache DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=${PYTHON:-python3}; fi
exec "$PYTHON" -m ros_pointlang.gpu_check "$@"
