# The README's two commands: `make demo` and `make test`. Both set up .venv/ first (idempotent).
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup test lint pytest demo bench colcon clean

setup:
	@bash tools/setup_env.sh

test: setup lint pytest

lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy ros_pointlang

# pytest exits 5 when it collects nothing; for the full suite that means it is broken.
pytest: setup
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: the test suite is broken" >&2; exit 1; fi; \
	exit $$rc

demo: setup
	$(PY) tools/demo.py

bench: setup
	$(VENV)/bin/pointlang-bench cloud

# What a ROS 2 user runs in a workspace, against the venv's ROS: builds into build/colcon/.
colcon: setup
	CMAKE_PREFIX_PATH=$(CURDIR)/$(VENV) AMENT_PREFIX_PATH=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH \
	  $(VENV)/bin/colcon --log-base build/colcon/log build --base-paths . \
	  --build-base build/colcon/build --install-base build/colcon/install \
	  --cmake-args -DPython3_EXECUTABLE=$(CURDIR)/$(PY) -DBUILD_TESTING=OFF

clean:
	rm -rf build
