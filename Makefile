# The README's two commands: `make demo` and `make test`. Both set up .venv/ first (idempotent).
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup test lint pytest demo bench data model eval colcon clean

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
	$(VENV)/bin/pointlang-bench runtime

# The v2 recipe of the default model, end to end. Measured parts (2 AVX-512 cores, 2026-12-08):
# data 3 min, caption cache 11 min, stage 1's label leg 25 min at 65-75 clouds/s, stage 2 on a
# warm start 3,000 steps 24 min at ~135 samples/s (+ 4 min token cache), export 4 min, evaluation
# 17 min, text check 4 min; the 5,600 contrastive steps at that rate would be ~85 min (36-47
# clouds/s, 2 h 20 min, on 2026-12-02's AVX2 machine) and the 4,000 cold stage-2 steps ~32 min,
# so ~3 h 10 min in all here, just over issue 12's 3 h:
# data → stage 1 (alignment) → stage 2 (captions, QA) → ONNX bundle, its point encoder, bridge
# and decoder int8 (static, calibrated on the training data) → metrics and the "unknown" threshold.
# LiDAR views (the realistic rig mix and ranges) are the bulk; surface and depth-camera views of
# the same instances train beside them.
DATA := build/data/objects_lidar build/data/objects_surface build/data/objects_depth
# Stage 1's second leg: the label loss (each cloud against every label name's embedding, the
# runtime's classifier) fine-tunes the contrastive encoder with a fresh, gentler schedule.
LABEL_LEG := optim.label_loss_weight=2.0 optim.lr=3e-4 optim.warmup_steps=50 \
  optim.max_steps=1500 eval_every=500
CHECKPOINTS := models/checkpoints/pointlang-small
data: setup
	$(VENV)/bin/pointlang-data objects --out build/data/objects_lidar --per-category 300 --seed 0 --sensor lidar
	$(VENV)/bin/pointlang-data objects --out build/data/objects_surface --per-category 200 --seed 0 --sensor surface
	$(VENV)/bin/pointlang-data objects --out build/data/objects_depth --per-category 100 --seed 0 --sensor depth

# The final evaluation calibrates the "unknown" threshold into the bundle with the other figures;
# then the int8 text encoder's zero-shot agreement with the float one goes into the manifest too.
model: data
	$(VENV)/bin/pointlang-train --config training/configs/align_small.yaml \
	  bundle_dir=build/stage1_contrastive
	$(VENV)/bin/pointlang-train --config training/configs/align_small.yaml out_dir=build/align_label \
	  init_from=build/align_small/last.pt $(LABEL_LEG) bundle_dir=$(CHECKPOINTS)
	$(VENV)/bin/pointlang-train caption --config training/configs/caption_small.yaml \
	  encoder_checkpoint=$(CHECKPOINTS)/point_encoder.pt bundle_dir=$(CHECKPOINTS)
	$(VENV)/bin/pointlang-export bundle --encoder $(CHECKPOINTS)/point_encoder.pt \
	  --captioner $(CHECKPOINTS)/captioner.pt --out models/pointlang-small --with-text-encoder \
	  --quantize int8 --calibration $(DATA)
	$(VENV)/bin/pointlang-eval dataset $(DATA) --bundle models/pointlang-small --update-bundle
	$(VENV)/bin/pointlang-data objects --out build/data/text_check_lidar --per-category 50 --seed 7 --sensor lidar
	$(VENV)/bin/pointlang-data objects --out build/data/text_check_surface --per-category 50 --seed 7 --sensor surface
	$(VENV)/bin/pointlang-export text-encoder --bundle models/pointlang-small \
	  --zero-shot-data build/data/text_check_lidar build/data/text_check_surface

# The shipped model's figures again (its manifest's "metrics"), with the confusion plot and the
# page of sample captions and answers beside build/eval/metrics.json.
eval: data
	$(VENV)/bin/pointlang-eval dataset $(DATA) --bundle models/pointlang-small --json build/eval/metrics.json

# What a ROS 2 user runs in a workspace, against the venv's ROS, in place (the venv inside the
# source tree; CMakeLists.txt keeps its numpy path out of the exported targets). COLCON_BASE
# moves the build, install and log folders (tests/test_colcon_build.py builds into a temp dir).
COLCON_BASE ?= build/colcon
colcon: setup
	CMAKE_PREFIX_PATH=$(CURDIR)/$(VENV) AMENT_PREFIX_PATH=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH \
	  $(VENV)/bin/colcon --log-base $(COLCON_BASE)/log build --base-paths $(CURDIR) \
	  --build-base $(COLCON_BASE)/build --install-base $(COLCON_BASE)/install \
	  --cmake-args -DPython3_EXECUTABLE=$(CURDIR)/$(PY) -DBUILD_TESTING=OFF

clean:
	rm -rf build
