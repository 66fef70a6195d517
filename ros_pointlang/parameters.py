"""The `pointlang` node's parameters: one table the node declares and offline evaluation reads.

Each entry has the name, default, description and allowed values or range the node declares
with; `describes` marks the parameters that change what the node outputs for a cloud (the
fields of `DescribeSettings`, `SceneConfig` and `ScheduleSettings`, the vocabulary, its preset
and the unknown threshold), which `pointlang-eval bag` resolves once and hands to both of its modes.
Defaults of the describe parameters are the dataclasses' own, so there is nothing to keep in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ros_pointlang.backends import BACKENDS
from ros_pointlang.describe import MODES, DescribeSettings
from ros_pointlang.preprocess import SEGMENTATIONS, SceneConfig
from ros_pointlang.vocabulary import BUNDLE_PRESET, LABEL_PRESETS, PRESET_CHOICES

NODE_NAME = "pointlang"
RELIABILITIES = ("best_effort", "reliable")
FROM_BUNDLE = None  # the default of parameters whose value the loaded bundle supplies

_SCENE, _DESCRIBE = SceneConfig(), DescribeSettings()
_SCHEDULE = _DESCRIBE.schedule


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    default: Any  # FROM_BUNDLE: the loaded bundle's value (labels, unknown_threshold)
    description: str
    read_only: bool = True  # False: the operator may change it while the node runs
    range: tuple[float, float] | None = None  # inclusive, for numbers
    choices: tuple[str, ...] | None = None  # for strings
    length: int | None = None  # for arrays of a fixed length
    describes: bool = False  # changes what the node outputs for a cloud (see the module doc)

    def check(self, value: Any) -> None:
        """Raise ValueError naming the parameter unless `value` is allowed."""
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"parameter {self.name}={value!r}; expected one of {self.choices}")
        if self.length is not None and len(value) != self.length:
            raise ValueError(f"parameter {self.name} must have {self.length} values, got {value}")
        if self.range is not None and not self.range[0] <= value <= self.range[1]:
            raise ValueError(f"parameter {self.name}={value!r}; expected a value in {self.range}")


def _scene(name: str, description: str, low: float, high: float) -> ParameterSpec:
    return ParameterSpec(
        name, getattr(_SCENE, name), f"scene mode: {description}", range=(low, high), describes=True
    )


PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("bundle", "", "model bundle folder; empty = the shipped default model"),
    ParameterSpec(
        "backend", "onnxruntime", f"inference backend, one of {BACKENDS}", choices=BACKENDS
    ),
    ParameterSpec("backend_fallback", False, "run on the CPU if the GPU backend is unavailable"),
    ParameterSpec("threads", 0, "inference threads; 0 = automatic", range=(0, 64)),
    ParameterSpec(
        "mode",
        "object",
        f"one of {MODES}: the cloud is one object, or a scene of several",
        choices=MODES,
        describes=True,
    ),
    ParameterSpec(
        "metric",
        _DESCRIBE.metric,
        "clouds are in metres (false: arbitrary units, size unknown)",
        describes=True,
    ),
    ParameterSpec(
        "crop_min",
        list(_SCENE.crop_min),
        "crop box lower corner (x, y, z) in metres",
        length=3,
        describes=True,
    ),
    ParameterSpec(
        "crop_max",
        list(_SCENE.crop_max),
        "crop box upper corner (x, y, z) in metres",
        length=3,
        describes=True,
    ),
    _scene("voxel_size", "voxel grid size in metres; 0 keeps every point", 0.0, 1.0),
    _scene("ground_threshold", "distance from the ground plane in metres", 0.0, 1.0),
    _scene("cluster_tolerance", "gap in metres that separates two objects", 0.01, 2.0),
    _scene("min_cluster_points", "fewer points are noise, not an object", 1, 1_000_000),
    _scene(
        "max_object_size",
        "longer (footprint seen from above) or taller clusters (walls) are not objects, metres",
        0.1,
        100.0,
    ),
    _scene(
        "min_object_height",
        "flatter clusters are floor the plane fit missed, not objects",
        0.0,
        10.0,
    ),
    ParameterSpec(
        "segmentation",
        _SCENE.segmentation,
        "scene mode: auto = organised clouds (height > 1, Ouster, Velodyne...) on their range "
        "image, unorganised ones by euclidean clustering; range_image = organised ones on it even "
        "where their layout looks unlike a spinning LiDAR's; euclidean = always clustering",
        choices=SEGMENTATIONS,
        describes=True,
    ),
    _scene(
        "ground_angle",
        "range image: steepest rise in degrees from a column's last ground return still ground",
        1.0,
        60.0,
    ),
    _scene(
        "segment_angle",
        "range image: side-by-side returns more than 2 x cluster_tolerance apart are one "
        "object when the line between them makes at least this angle (degrees) with the "
        "farther return's beam",
        0.5,
        60.0,
    ),
    ParameterSpec(
        "max_objects",
        _DESCRIBE.max_objects,
        "scene mode: describe at most this many (largest) objects",
        range=(1, 256),
        describes=True,
    ),
    ParameterSpec(
        "label_refresh",
        _SCHEDULE.label_refresh,
        "seconds after which an unchanged object's labels are computed again",
        range=(0.0, 3600.0),
        describes=True,
    ),
    ParameterSpec(
        "encode_budget",
        _SCHEDULE.encode_budget,
        "known objects encoded per cloud at most, changed ones first, then stale labels; "
        "new objects are always encoded",
        range=(0, 256),
        describes=True,
    ),
    ParameterSpec(
        "track_timeout",
        _DESCRIBE.track_timeout,
        "scene mode: seconds an object may go unseen and keep its id, labels and caption "
        "(a segmentation that loses it for a sweep does not make it new)",
        range=(0.0, 60.0),
        describes=True,
    ),
    ParameterSpec(
        "stable_labels",
        _DESCRIBE.stable_labels,
        "scene mode: label each tracked object from its views so far, so labels do not "
        "flicker from sweep to sweep (false: from the newest view alone)",
        describes=True,
    ),
    ParameterSpec(
        "max_points",
        2_000_000,
        "clouds with more points are dropped (counted)",
        range=(1, 100_000_000),
    ),
    ParameterSpec("frame_id", "", "frame for the outputs; empty = the input cloud's frame"),
    ParameterSpec(
        "input_reliability",
        "best_effort",
        "QoS reliability of `points`: best_effort (sensor drivers) or reliable",
        choices=RELIABILITIES,
    ),
    ParameterSpec(
        "output_reliability",
        "reliable",
        "QoS reliability of outputs; RViz subscribes reliable by default, so keep reliable",
        choices=RELIABILITIES,
    ),
    ParameterSpec("output_depth", 10, "QoS history depth of outputs", range=(1, 1000)),
    ParameterSpec("lazy", True, "skip inference while nobody subscribes to an output"),
    ParameterSpec(
        "diagnostics_period", 1.0, "seconds between /diagnostics reports", range=(0.1, 60.0)
    ),
    # Changeable at run time:
    ParameterSpec(
        "labels",
        FROM_BUNDLE,
        "label vocabulary, each 'name' or 'name: description' (the name is published, the "
        "description tells the model what a new word looks like); new words work without "
        "retraining; empty = the labels_preset's",
        read_only=False,
        describes=True,
    ),
    ParameterSpec(
        "labels_preset",
        BUNDLE_PRESET,
        f"named vocabulary used while labels is empty: {BUNDLE_PRESET} (or empty) = the "
        f"bundle's own, the categories its encoder trained on; "
        f"{', '.join(LABEL_PRESETS)} for benchmarks",
        read_only=False,
        choices=PRESET_CHOICES,
        describes=True,
    ),
    ParameterSpec(
        "top_k",
        _DESCRIBE.top_k,
        "labels per object",
        read_only=False,
        range=(1, 20),
        describes=True,
    ),
    ParameterSpec(
        "unknown_threshold",
        FROM_BUNDLE,
        "cosine similarity below which the first label is 'unknown' (the bundle's calibrated "
        "value by default)",
        read_only=False,
        range=(-1.0, 1.0),
        describes=True,
    ),
    ParameterSpec(
        "caption_period",
        _SCHEDULE.caption_period,
        "seconds between captions of one object (they cost ~10x labels); 0 = every object "
        "every cloud, -1 = never",
        read_only=False,
        range=(-1.0, 3600.0),
        describes=True,
    ),
    ParameterSpec(
        "caption_budget",
        _SCHEDULE.caption_budget,
        "objects per caption batch (uncaptioned ones first, then changed, then the oldest)",
        read_only=False,
        range=(0, 256),
        describes=True,
    ),
    ParameterSpec(
        "caption_steps",
        _SCHEDULE.caption_steps,
        "decoder runs per cloud for the caption batch in progress (a caption is ~25), so "
        "captions never cost a sweep; 0 = the whole batch in one cloud",
        read_only=False,
        range=(0, 1000),
        describes=True,
    ),
)
BY_NAME: dict[str, ParameterSpec] = {spec.name: spec for spec in PARAMETERS}
DESCRIBE_PARAMETERS: frozenset[str] = frozenset(s.name for s in PARAMETERS if s.describes)


def read_params_file(path: str | Path, node: str = NODE_NAME) -> dict[str, Any]:
    """The `ros__parameters` a ROS 2 params file gives node `node` (wildcards included)."""
    import yaml

    path = Path(path)
    try:
        content = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"params file {path} is not readable YAML ({error})") from error
    if not isinstance(content, dict):
        raise ValueError(f"params file {path} is not a mapping of node names to parameters")
    sections = {str(key).strip("/").split("/")[-1]: value for key, value in content.items()}
    merged: dict[str, Any] = {}
    # Wildcard sections first, so the node's own section wins where both set a parameter.
    for name in ("**", "*", node):
        section = sections.get(name)
        if isinstance(section, dict):
            merged.update(section.get("ros__parameters") or {})
    return merged
