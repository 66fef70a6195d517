"""Which objects of a sweep run the encoder and the captioner: cost that follows the work.

A 10 Hz LiDAR sees mostly the same objects sweep after sweep; running the encoder on every
object every sweep spends the frame budget on answers already known, and captioning every object
at once (~10x a label) costs whole sweeps. The schedule, per sweep, given what the describer
remembers of each track:

* labels: a new track is encoded at once. Beyond the new ones, at most `encode_budget` objects
  per sweep among those whose points changed since their labels were computed (point count
  grown by more than `change_points`, extent along an axis changed by more than `change_size`
  metres) and those whose labels are older than `label_refresh` seconds: oldest labels first,
  a changed object's counted `label_refresh` older. So a changed object goes first unless
  labels have waited longer than that, and objects whose real segmentation swings from sweep
  to sweep cannot keep the others from their refresh. Every other object keeps its embedding:
  every sweep has labels for every object, the encoder runs on what changed, and a sweep
  costs new objects plus `encode_budget` encodes at most.
* captions: a batch of at most `caption_budget` objects, those without a caption first, then
  those whose points changed since their caption and those whose caption is older than
  `caption_period` seconds, oldest first, a changed one's counted `caption_period` older;
  decoded `caption_steps` decoder runs per sweep (a caption is ~25 runs) until done, then the
  next batch: captions never cost a whole sweep.
  `caption_period` 0 captions every object every sweep in full, -1 never.

Pure functions of (what the sweep has, what is remembered, settings); `describe.Describer` keeps
the memory and runs the stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class ScheduleSettings:
    """When labels and captions are computed again. Defaults suit a 10 Hz LiDAR."""

    label_refresh: float = 1.0  # seconds; unchanged objects are re-encoded at least this often
    encode_budget: int = 4  # known objects (changed or stale) encoded per sweep; new ones always
    change_points: float = 0.25  # relative growth in point count that counts as changed
    change_size: float = 0.15  # metres an axis of its extent may change and still be unchanged
    caption_period: float = 1.0  # seconds between captions of one object; 0 every sweep, -1 never
    caption_budget: int = 8  # objects per caption batch
    caption_steps: int = 4  # decoder runs per sweep for the batch in progress; 0 = all at once

    def __post_init__(self) -> None:
        if self.label_refresh < 0:
            raise ValueError(f"label_refresh must be >= 0 seconds, got {self.label_refresh}")
        if min(self.encode_budget, self.caption_budget, self.caption_steps) < 0:
            raise ValueError(
                f"budgets must be >= 0, got encode_budget {self.encode_budget}, "
                f"caption_budget {self.caption_budget}, caption_steps {self.caption_steps}"
            )
        if self.change_points < 0 or self.change_size < 0:
            raise ValueError(
                f"change thresholds must be >= 0, got change_points {self.change_points}, "
                f"change_size {self.change_size}"
            )


@dataclass(frozen=True)
class Seen:
    """What an object of this sweep looks like, as far as the schedule cares."""

    num_points: int
    size: npt.NDArray[np.float64]  # extent of its points along x, y, z, metres


@dataclass(frozen=True)
class Remembered:
    """What was true of a track when its labels (and its caption) were last computed."""

    labels_at: float  # seconds
    labels_seen: Seen
    caption_at: float | None = None
    caption_seen: Seen | None = None


def changed(now: Seen, then: Seen, settings: ScheduleSettings) -> bool:
    """Whether an object's points differ enough from `then` to need the encoder again.

    Only a grown point count counts: a view with fewer points (farther, half hidden, a sparser
    sweep) tells the encoder less than the one it has. Real segmentations swing an object's
    count from sweep to sweep, and re-encoding on every swing spent the budget on worse views.
    """
    if now.num_points / max(then.num_points, 1) - 1.0 > settings.change_points:
        return True
    return bool(np.max(np.abs(np.asarray(now.size) - np.asarray(then.size))) > settings.change_size)


def to_encode(
    now: float,
    objects: Sequence[tuple[int, Seen]],
    memory: dict[int, Remembered],
    settings: ScheduleSettings,
) -> list[int]:
    """Indices into `objects` ((track id, what it looks like)) whose labels are computed now."""
    new, waiting = [], []  # waiting: (labels time, changed ones label_refresh earlier; index)
    for index, (track, seen) in enumerate(objects):
        known = memory.get(track)
        if known is None:
            new.append(index)
        elif changed(seen, known.labels_seen, settings):
            waiting.append((known.labels_at - settings.label_refresh, index))
        elif _due(now, known.labels_at, settings.label_refresh):
            waiting.append((known.labels_at, index))
    return sorted(new + [index for _, index in sorted(waiting)[: settings.encode_budget]])


def to_caption(
    now: float,
    objects: Sequence[tuple[int, Seen]],
    memory: dict[int, Remembered],
    settings: ScheduleSettings,
) -> list[int]:
    """Indices into `objects` for the next caption batch, at most `caption_budget` (all of them
    with `caption_period` 0)."""
    if settings.caption_period < 0:
        return []
    if settings.caption_period == 0:
        return list(range(len(objects)))
    # (0 uncaptioned / 1 captioned, caption time (a changed one's caption_period earlier), index)
    ranked: list[tuple[int, float, int]] = []
    for index, (track, seen) in enumerate(objects):
        known = memory.get(track)
        if known is None or known.caption_at is None or known.caption_seen is None:
            ranked.append((0, 0.0, index))
        elif changed(seen, known.caption_seen, settings):
            ranked.append((1, known.caption_at - settings.caption_period, index))
        elif _due(now, known.caption_at, settings.caption_period):
            ranked.append((1, known.caption_at, index))
    return sorted(index for _, _, index in sorted(ranked)[: settings.caption_budget])


def _due(now: float, then: float, period: float) -> bool:
    # A clock that went back (a bag started again) makes everything due, not nothing.
    return now - then >= period or now < then
