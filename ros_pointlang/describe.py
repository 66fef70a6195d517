"""One cloud in, the described objects out: what the node does per cloud, without ROS.

The node and offline bag evaluation both call `Describer.describe`, so live and offline
results can only differ by what arrived in time, never by how a cloud was processed.

    object mode: the whole cloud is one object (id 1)
    scene mode:  crop → voxel → ground removal → clusters, one object per cluster, with ids
                 kept stable across clouds by matching box centres
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ros_pointlang.decode import Generated
from ros_pointlang.pipeline import Encoded, Pipeline
from ros_pointlang.preprocess import Box, SceneConfig, crop_box, segment_scene
from ros_pointlang.vocabulary import Label

MODES = ("object", "scene")


@dataclass(frozen=True)
class DescribeSettings:
    """Per-cloud behaviour; the node maps its ROS parameters onto these fields."""

    mode: str = "object"
    top_k: int = 5
    scene: SceneConfig = field(default_factory=SceneConfig)
    max_objects: int = 32  # the largest clusters win; more would starve the frame budget
    track_distance: float = 0.5  # metres a box centre may move between clouds and keep its id
    metric: bool = True
    # Scene mode: label each tracked object from its views so far, not only the newest one.
    stable_labels: bool = True
    label_memory: float = 0.8  # weight of the earlier views' evidence at each new sweep

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is unknown; expected one of {MODES}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        if self.max_objects < 1:
            raise ValueError(f"max_objects must be >= 1, got {self.max_objects}")
        if not 0.0 <= self.label_memory < 1.0:
            raise ValueError(f"label_memory must be in [0, 1), got {self.label_memory}")


def settings_from_parameters(
    params: Mapping[str, Any], default_mode: str = "object"
) -> DescribeSettings:
    """The settings for node parameters named after the fields of DescribeSettings and
    SceneConfig; absent ones keep the dataclass defaults, which are also the node's defaults.

    The node and offline evaluation both build their settings here, so the two cannot drift.
    """

    def taken(kind: Any, skip: set[str]) -> dict[str, Any]:
        defaults = kind()
        values = {}
        for f in dataclasses.fields(kind):
            if f.name in params and f.name not in skip:
                default = getattr(defaults, f.name)
                value = params[f.name]
                values[f.name] = (
                    tuple(value) if isinstance(default, tuple) else type(default)(value)
                )
        return values

    return DescribeSettings(
        **taken(DescribeSettings, {"scene", "mode"}),
        mode=str(params.get("mode", default_mode)),
        scene=SceneConfig(**taken(SceneConfig, set())),
    )


def should_caption(period_s: float, now_ns: int, last_ns: int | None) -> bool:
    """The caption schedule (captions cost more than labels): -1 never, 0 every cloud, else
    once `period_s` seconds have passed since the last caption. The node passes its clock,
    offline evaluation the cloud stamps (equal to wall time at replay rate 1)."""
    if period_s < 0:
        return False
    return last_ns is None or now_ns - last_ns >= period_s * 1e9


@dataclass(frozen=True)
class ObjectDescription:
    id: int
    box: Box
    num_points: int
    labels: list[Label]
    caption: Generated | None = None


@dataclass
class Describer:
    """Stateful only in its tracker (object ids) and the latest objects' encoder tokens."""

    pipeline: Pipeline
    settings: DescribeSettings = field(default_factory=DescribeSettings)
    _tracks: dict[int, npt.NDArray[np.float64]] = field(default_factory=dict)
    _next_id: int = 1
    # Per track id: the decayed, point-weighted sum of its views' unit embeddings.
    _evidence: dict[int, npt.NDArray[np.float32]] = field(default_factory=dict)
    latest: dict[int, Encoded] = field(default_factory=dict)  # per object id, for questions
    _timings: dict[str, float] = field(default_factory=dict)

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent per stage on the latest cloud: segment, encode (with labels), caption."""
        return dict(self._timings)

    def segment(self, xyz: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
        """The points of each object in the cloud, largest first."""
        s = self.settings
        if s.mode == "object":
            cropped = crop_box(xyz, s.scene.crop_min, s.scene.crop_max)
            return [cropped] if len(cropped) else []
        return segment_scene(xyz, s.scene)[: s.max_objects]

    def describe(
        self, xyz: npt.NDArray[np.float32], caption: bool = False
    ) -> list[ObjectDescription]:
        """Labels (and captions when asked) of every object in one cloud."""
        start = time.perf_counter()
        objects = self.segment(xyz)
        self._timings = {"segment": time.perf_counter() - start}
        if not objects:
            self.latest = {}
            return []
        start = time.perf_counter()
        prepared = [self.pipeline.prepare(points) for points in objects]
        boxes = [p.box for p in prepared]
        ids = self._assign_ids(boxes)
        encoded = self.pipeline.encode_objects(prepared, metric=self.settings.metric)
        evidence = self._accumulate(ids, encoded.embeddings, [len(p) for p in objects])
        labels = self.pipeline.labels_from_embeddings(evidence, self.settings.top_k)
        self._timings["encode"] = time.perf_counter() - start
        captions: list[Generated | None] = [None] * len(objects)
        if caption and self.pipeline.can_generate:
            start = time.perf_counter()
            captions = list(self.pipeline.caption_encoded(encoded))
            self._timings["caption"] = time.perf_counter() - start
        self.latest = {i: encoded.select(k) for k, i in enumerate(ids)}
        return [
            ObjectDescription(i, box, len(points), object_labels, object_caption)
            for i, box, points, object_labels, object_caption in zip(
                ids, boxes, objects, labels, captions, strict=True
            )
        ]

    def answer(self, question: str, object_id: int = 0) -> Generated:
        """Answer about an object of the latest described cloud (0: the largest / only one)."""
        if not self.latest:
            raise ValueError("no cloud has been described yet; nothing to answer about")
        if object_id == 0:
            object_id = next(iter(self.latest))
        if object_id not in self.latest:
            raise ValueError(
                f"object {object_id} is not in the latest cloud; it has objects "
                f"{sorted(self.latest)}"
            )
        return self.pipeline.answer_encoded(self.latest[object_id], question)[0]

    def _accumulate(
        self, ids: list[int], embeddings: npt.NDArray[np.float32], num_points: list[int]
    ) -> npt.NDArray[np.float32]:
        """The embeddings to label each object by: in scene mode with stable_labels, per track
        the running evidence of all its views (earlier ones decayed by label_memory, each
        weighted by how many of the encoder's points it filled), renormalised. A car seen
        from behind at 40 m and then from the side stays a car instead of flickering with each
        sweep's partial view. Embeddings, not labels, are accumulated, so a vocabulary change
        at run time applies to the evidence at once. Tracks that left the view are dropped."""
        s = self.settings
        if s.mode != "scene" or not s.stable_labels:
            self._evidence = {}
            return embeddings
        full = self.pipeline.bundle.encoder["num_points"]
        evidence = {}
        for i, embedding, points in zip(ids, embeddings, num_points, strict=True):
            earlier = s.label_memory * self._evidence.get(i, np.zeros_like(embedding))
            evidence[i] = (earlier + min(points, full) / full * embedding).astype(np.float32)
        self._evidence = evidence
        stacked = np.stack([evidence[i] for i in ids])
        return (stacked / np.linalg.norm(stacked, axis=1, keepdims=True)).astype(np.float32)

    def _assign_ids(self, boxes: list[Box]) -> list[int]:
        if self.settings.mode == "object":
            self._tracks = {1: boxes[0].centre}
            return [1]
        # Greedy nearest matching, closest pairs first: enough for objects that barely move
        # between sweeps, and never gives one id to two objects.
        previous = list(self._tracks.items())
        pairs = sorted(
            (float(np.linalg.norm(box.centre - centre)), b, i)
            for b, box in enumerate(boxes)
            for i, centre in previous
        )
        assigned: dict[int, int] = {}
        used: set[int] = set()
        for distance, b, i in pairs:
            if distance > self.settings.track_distance:
                break
            if b not in assigned and i not in used:
                assigned[b] = i
                used.add(i)
        ids = []
        for b in range(len(boxes)):
            if b not in assigned:
                assigned[b] = self._next_id
                self._next_id += 1
            ids.append(assigned[b])
        self._tracks = {i: boxes[b].centre for b, i in enumerate(ids)}
        return ids
