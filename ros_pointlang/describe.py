"""One cloud in, the described objects out: what the node does per cloud, without ROS.

The node and offline bag evaluation both call `Describer.describe`, so live and offline
results can only differ by what arrived in time, never by how a cloud was processed.

    object mode: the whole cloud is one object (id 1)
    scene mode:  crop → voxel → ground removal → clusters, one object per cluster, with ids
                 kept stable across clouds by matching box centres; organised sweeps are cut
                 on their range image (`range_image`, read with `Describer.read`)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ros_pointlang import range_image
from ros_pointlang.decode import Generated
from ros_pointlang.pipeline import Encoded, Pipeline
from ros_pointlang.preprocess import Box, SceneConfig, crop_box, segment_scene, upright_box
from ros_pointlang.range_image import RangeImage
from ros_pointlang.schedule import Remembered, ScheduleSettings, Seen, to_caption, to_encode
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
    # Seconds a track may go unseen and keep its id and what is remembered of it: real
    # segmentations lose an object for a sweep now and then, and it is not new when it is back.
    track_timeout: float = 1.0
    metric: bool = True
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
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
        if self.track_timeout < 0:
            raise ValueError(f"track_timeout must be >= 0 seconds, got {self.track_timeout}")
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
        **taken(DescribeSettings, {"scene", "mode", "schedule"}),
        mode=str(params.get("mode", default_mode)),
        scene=SceneConfig(**taken(SceneConfig, set())),
        schedule=ScheduleSettings(**taken(ScheduleSettings, set())),
    )


@dataclass(frozen=True)
class ObjectDescription:
    id: int
    box: Box
    num_points: int
    labels: list[Label]
    caption: Generated | None = None  # the track's latest caption, maybe from an earlier cloud
    captioned: bool = False  # the caption was generated for this cloud


@dataclass
class _Track:
    """What the describer remembers of one track between clouds."""

    encoded: Encoded  # batch of one: embedding and tokens for labels, captions, answers
    remembered: Remembered
    caption: Generated | None = None


@dataclass(frozen=True)
class _Sighting:
    """Where a track's box was last seen, when (None: a cloud without a time), and whether
    that was in the latest cloud."""

    centre: npt.NDArray[np.float64]
    at: float | None
    in_latest: bool = True

    def current(self, now: float | None, timeout: float) -> bool:
        """Whether the track may still be matched: seen in the latest cloud, or within
        `timeout` seconds before `now`."""
        if self.in_latest:
            return True
        return now is not None and self.at is not None and 0.0 <= now - self.at <= timeout


@dataclass
class _CaptionJob:
    """A batch of captions being decoded a few decoder runs per cloud."""

    tracks: list[tuple[int, Seen]]  # track ids and how each looked when the batch started
    steps: Iterator[list[Generated] | None]


@dataclass
class Describer:
    """Stateful in its tracker (object ids) and what it remembers of each track."""

    pipeline: Pipeline
    settings: DescribeSettings = field(default_factory=DescribeSettings)
    _tracks: dict[int, _Sighting] = field(default_factory=dict)
    _next_id: int = 1
    _memory: dict[int, _Track] = field(default_factory=dict)
    _caption_job: _CaptionJob | None = None
    # Per track id: the decayed, point-weighted sum of its views' unit embeddings.
    _evidence: dict[int, npt.NDArray[np.float32]] = field(default_factory=dict)
    latest: dict[int, Encoded] = field(default_factory=dict)  # per object id, for questions
    _timings: dict[str, float] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent per stage on the latest cloud: segment, encode (with labels), caption."""
        return dict(self._timings)

    @property
    def counts(self) -> dict[str, int]:
        """Objects of the latest cloud: found, through the encoder, captions finished."""
        return dict(self._counts)

    def read(self, cloud: Any) -> tuple[npt.NDArray[np.float32], RangeImage | None]:
        """A PointCloud2's valid points and, where scene mode may cut it on its range image
        (an organised sweep), that image: what `describe` takes. Raises ValueError for a
        malformed message."""
        s = self.settings
        organised = s.mode == "scene" and s.scene.segmentation != "euclidean"
        return range_image.read_sweep(cloud, organised)

    def segment(
        self, xyz: npt.NDArray[np.float32], image: RangeImage | None = None
    ) -> list[npt.NDArray[np.float32]]:
        """The points of each object in the cloud, largest first."""
        s = self.settings
        if s.mode == "object":
            cropped = crop_box(xyz, s.scene.crop_min, s.scene.crop_max)
            return [cropped] if len(cropped) else []
        return segment_scene(xyz, s.scene, image=image)[: s.max_objects]

    def describe(
        self,
        xyz: npt.NDArray[np.float32],
        now: float | None = None,
        image: RangeImage | None = None,
    ) -> list[ObjectDescription]:
        """Labels of every object in one cloud, and captions on the schedule.

        `now` is the cloud's time in seconds (sensor stamp or node clock). Without it the cloud
        stands alone: every object is encoded, none is captioned, nothing is remembered.
        `image`: the cloud's range image where it is an organised sweep (see `read`).
        """
        start = time.perf_counter()
        objects = self.segment(xyz, image)
        self._timings = {"segment": time.perf_counter() - start}
        self._counts = {"objects": len(objects), "encoded": 0, "captioned": 0}
        if not objects:
            self.latest = {}
            scene = self.settings.mode == "scene"
            if scene:
                self._assign_ids([], now)  # tracks out of view are kept for track_timeout
            self._memory = {i: t for i, t in self._memory.items() if scene and i in self._tracks}
            self._evidence = {i: e for i, e in self._evidence.items() if i in self._memory}
            return []
        boxes = [upright_box(points) for points in objects]
        ids = self._assign_ids(boxes, now)
        # The extent along the cloud's axes, not the box: a box fit can turn between two sweeps
        # of the same points (an L-shaped view), which would read as a changed object.
        seen = [Seen(len(p), np.ptp(p, axis=0).astype(np.float64)) for p in objects]
        sweep = list(zip(ids, seen, strict=True))
        remembered = {i: t.remembered for i, t in self._memory.items()}
        schedule = self.settings.schedule
        fresh = (
            list(range(len(objects)))
            if now is None
            else to_encode(now, sweep, remembered, schedule)
        )

        start = time.perf_counter()
        # Tracks out of view but within track_timeout keep their memory (see _assign_ids).
        memory = {i: t for i, t in self._memory.items() if i in self._tracks and now is not None}
        if fresh:
            encoded = self.pipeline.encode([objects[k] for k in fresh], metric=self.settings.metric)
            for row, k in enumerate(fresh):
                before = memory.get(ids[k])
                memory[ids[k]] = _Track(
                    encoded.select(row),
                    replace(before.remembered, labels_at=now, labels_seen=seen[k])
                    if before is not None and now is not None
                    else Remembered(labels_at=now or 0.0, labels_seen=seen[k]),
                    before.caption if before is not None else None,
                )
        embeddings = np.concatenate([memory[i].encoded.embeddings for i in ids])
        new_views = {ids[k]: len(objects[k]) for k in fresh}
        evidence = self._accumulate(ids, embeddings, new_views)
        labels = self.pipeline.labels_from_embeddings(evidence, self.settings.top_k)
        self._timings["encode"] = time.perf_counter() - start
        self._counts["encoded"] = len(fresh)

        captioned = self._caption(now, sweep, memory) if now is not None else set()
        if now is not None:
            self._memory = memory
        self.latest = {i: memory[i].encoded for i in ids}
        return [
            ObjectDescription(i, box, len(points), object_labels, memory[i].caption, i in captioned)
            for i, box, points, object_labels in zip(ids, boxes, objects, labels, strict=True)
        ]

    def _caption(
        self, now: float, sweep: list[tuple[int, Seen]], memory: dict[int, _Track]
    ) -> set[int]:
        """Advance the caption batch in progress (or start one); the ids it finished now."""
        if not self.pipeline.can_generate:
            return set()
        schedule = self.settings.schedule
        if self._caption_job is None:
            remembered = {i: t.remembered for i, t in memory.items()}
            chosen = [sweep[k] for k in to_caption(now, sweep, remembered, schedule)]
            if not chosen:
                return set()
            batch = Encoded.concatenate([memory[i].encoded for i, _ in chosen])
            self._caption_job = _CaptionJob(chosen, self.pipeline.caption_steps(batch))
        job = self._caption_job
        start = time.perf_counter()
        steps = schedule.caption_steps if schedule.caption_period != 0 else 0
        result = None
        for run, result in enumerate(job.steps, start=1):
            if result is not None or run == steps:
                break
        self._timings["caption"] = time.perf_counter() - start
        if result is None:
            return set()
        self._caption_job = None
        done = set()
        for (track_id, seen), text in zip(job.tracks, result, strict=True):
            track = memory.get(track_id)
            if track is None:  # it left the view while its caption was decoded
                continue
            track.caption = text
            track.remembered = replace(track.remembered, caption_at=now, caption_seen=seen)
            done.add(track_id)
        self._counts["captioned"] = len(done)
        return done

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
        self, ids: list[int], embeddings: npt.NDArray[np.float32], new_views: dict[int, int]
    ) -> npt.NDArray[np.float32]:
        """The embeddings to label each object by: in scene mode with stable_labels, per track
        the running evidence of all its encoded views (earlier ones decayed by label_memory,
        each weighted by how many of the encoder's points it filled), renormalised. A car seen
        from behind at 40 m and then from the side stays a car instead of flickering with each
        sweep's partial view. ``new_views`` maps the tracks encoded this cloud to their point
        counts; a remembered embedding that was not encoded again adds no evidence. Embeddings,
        not labels, are accumulated, so a vocabulary change at run time applies to the evidence
        at once. Tracks that left the view are dropped."""
        s = self.settings
        if s.mode != "scene" or not s.stable_labels:
            self._evidence = {}
            return embeddings
        full = self.pipeline.bundle.encoder["num_points"]
        evidence = {i: e for i, e in self._evidence.items() if i in self._tracks}
        for i, embedding in zip(ids, embeddings, strict=True):
            earlier = self._evidence.get(i)
            if i not in new_views and earlier is not None:
                evidence[i] = earlier
                continue
            weight = min(new_views.get(i, full), full) / full
            decayed = s.label_memory * earlier if earlier is not None else 0.0
            evidence[i] = (decayed + weight * embedding).astype(np.float32)
        self._evidence = evidence
        stacked = np.stack([evidence[i] for i in ids])
        return (stacked / np.linalg.norm(stacked, axis=1, keepdims=True)).astype(np.float32)

    def _assign_ids(self, boxes: list[Box], now: float | None) -> list[int]:
        """Track ids of this cloud's boxes; `_tracks` then holds them and the tracks unseen
        for at most `track_timeout` seconds of cloud time (none for a cloud without a time)."""
        if self.settings.mode == "object":
            self._tracks = {1: _Sighting(boxes[0].centre, now)}
            return [1]
        # Greedy nearest matching, closest pairs first: enough for objects that barely move
        # between sweeps, and never gives one id to two objects.
        timeout = self.settings.track_timeout
        previous = [(i, seen) for i, seen in self._tracks.items() if seen.current(now, timeout)]
        pairs = sorted(
            (float(np.linalg.norm(box.centre - seen.centre)), b, i)
            for b, box in enumerate(boxes)
            for i, seen in previous
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
        missed = ((i, replace(seen, in_latest=False)) for i, seen in previous if i not in used)
        self._tracks = {i: seen for i, seen in missed if seen.current(now, timeout)}
        self._tracks.update((i, _Sighting(boxes[b].centre, now)) for b, i in enumerate(ids))
        return ids
