"""Frames and metrics of a bag evaluation: what each cloud's ground truth was, what the
pipeline said, and the scores over a run (pure functions, checked on hand-made cases).

Predicted objects are matched to the ground-truth objects of the same cloud by box-centre
distance (Hungarian assignment, at most `max_distance` metres). Metric keys are flat and dotted,
as in `pointlang-eval dataset`: `labels.top1` and `labels.top5` over matched ground-truth
objects, `detection.recall` (matched / ground truth), `detection.precision` (matched /
predicted), `caption.sbert` (MiniLM cosine between generated and reference captions of matched
objects), `latency_ms.p50/p95` (with per-stage keys), `drop_rate`, `frames`, `mode`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ros_pointlang.vocabulary import normalise_label

MATCH_DISTANCE_M = 0.5


@dataclass(frozen=True)
class TruthObject:
    """One ground-truth object of a cloud, in that cloud's frame."""

    category: str  # normalised spoken name ("flower pot")
    centre: npt.NDArray[np.float64]  # (3,) box centre, metres
    caption: str = ""
    id: int = 0
    num_points: int = 0


@dataclass(frozen=True)
class PredictedObject:
    """One object the pipeline described: box centre, labels best first, caption ("" if none)."""

    id: int
    centre: npt.NDArray[np.float64]
    labels: tuple[str, ...]
    caption: str = ""


@dataclass
class Frame:
    """One input cloud and what became of it.

    `truth` is None when the cloud has no ground truth; `predicted` is None when no output
    arrived for it (a live drop). `matches` pairs (truth index, predicted index).
    """

    index: int
    stamp_ns: int
    truth: list[TruthObject] | None
    predicted: list[PredictedObject] | None
    latency_ms: float | None = None
    stages_ms: dict[str, float] = field(default_factory=dict)
    matches: list[tuple[int, int]] = field(default_factory=list)

    @property
    def correct(self) -> int:
        """Matched objects whose first label is the true category."""
        if self.truth is None or self.predicted is None:
            return 0
        return sum(
            topk_hit(self.truth[t].category, self.predicted[p].labels, 1) for t, p in self.matches
        )


@dataclass
class BagEvaluation:
    """Everything a report needs: the flat metrics, the frames and how the run was set up."""

    mode: str
    metrics: dict[str, Any]
    frames: list[Frame]
    settings: dict[str, Any]


# -- metrics -------------------------------------------------------------------------------


def match_objects(
    truth_centres: npt.ArrayLike,
    predicted_centres: npt.ArrayLike,
    max_distance: float = MATCH_DISTANCE_M,
) -> list[tuple[int, int]]:
    """Pairs (truth index, predicted index) with the least total centre distance, none longer
    than `max_distance` metres; each object is in at most one pair. Sorted by truth index."""
    from scipy.optimize import linear_sum_assignment

    if max_distance <= 0:
        raise ValueError(f"max_distance must be > 0 metres, got {max_distance}")
    truth = np.asarray(truth_centres, np.float64).reshape(-1, 3)
    predicted = np.asarray(predicted_centres, np.float64).reshape(-1, 3)
    if len(truth) == 0 or len(predicted) == 0:
        return []
    distance = np.linalg.norm(truth[:, None, :] - predicted[None, :, :], axis=-1)  # (G, P)
    # Pairs beyond reach cost more than any set of reachable pairs, so the assignment never
    # trades a good pair for one that is thrown away afterwards.
    big = 1.0 + max_distance * (min(len(truth), len(predicted)) + 1)
    cost = np.where(distance <= max_distance, distance, big)
    rows, cols = linear_sum_assignment(cost)
    return sorted(
        (int(r), int(c)) for r, c in zip(rows, cols, strict=True) if distance[r, c] <= max_distance
    )


def topk_hit(truth: str, labels: Sequence[str], k: int) -> bool:
    """Whether the true category is among the first `k` labels (names normalised)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    wanted = normalise_label(truth)
    return any(normalise_label(label) == wanted for label in labels[:k])


def percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    """(p50, p95) of `values`, or (None, None) when there are none."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None, None
    p50, p95 = np.percentile(finite, [50, 95])
    return float(p50), float(p95)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def match_frames(frames: Sequence[Frame], max_distance: float = MATCH_DISTANCE_M) -> None:
    """Fill in `matches` of every frame that has both ground truth and an output."""
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            frame.matches = []
            continue
        frame.matches = match_objects(
            [t.centre for t in frame.truth], [p.centre for p in frame.predicted], max_distance
        )


def score_frames(frames: Sequence[Frame], min_truth_points: int = 0) -> dict[str, Any]:
    """Accuracy over the frames that have ground truth and an output (matches already filled).

    Ground-truth objects with fewer than `min_truth_points` returns are left out of the
    counts (and so are the predictions matched to them): nobody can label three points.
    """
    truth_total = predicted_total = matched = top1 = top5 = 0
    scored = 0
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            continue
        scored += 1
        ignored = {i for i, t in enumerate(frame.truth) if t.num_points < min_truth_points}
        ignored_predictions = {p for t, p in frame.matches if t in ignored}
        truth_total += len(frame.truth) - len(ignored)
        predicted_total += len(frame.predicted) - len(ignored_predictions)
        for t, p in frame.matches:
            if t in ignored:
                continue
            matched += 1
            top1 += topk_hit(frame.truth[t].category, frame.predicted[p].labels, 1)
            top5 += topk_hit(frame.truth[t].category, frame.predicted[p].labels, 5)
    return {
        "labels.top1": _ratio(top1, matched),
        "labels.top5": _ratio(top5, matched),
        "labels.matched": matched if scored else None,
        "detection.recall": _ratio(matched, truth_total),
        "detection.precision": _ratio(matched, predicted_total),
        "objects.truth": truth_total if scored else None,
        "objects.predicted": predicted_total if scored else None,
        "frames_scored": scored,
    }


def track_metrics(frames: Sequence[Frame], min_truth_points: int = 0) -> dict[str, Any]:
    """What the labels of tracked objects do over time (matches already filled).

    `labels.flicker_rate`: of consecutive processed sweeps in which one predicted track (the
    node's object id) is present in both, the fraction whose first label changed; needs no
    ground truth. `labels.track_top1`: of the ground-truth objects matched at least once, the
    fraction whose most frequent first label over the sweeps is the true category (per-sweep
    accuracy is `labels.top1`). Also objects and distinct labels per processed sweep and the
    first-label histogram (`labels.histogram.<label>`), which bags without ground truth get too.
    """
    processed = [f for f in frames if f.predicted is not None]
    previous: dict[int, str] = {}
    pairs = changes = 0
    histogram: Counter[str] = Counter()
    for frame in processed:
        current = {p.id: p.labels[0] for p in frame.predicted or () if p.labels}
        for track, label in current.items():
            if track in previous:
                pairs += 1
                changes += normalise_label(previous[track]) != normalise_label(label)
        previous = current
        histogram.update(normalise_label(label) for label in current.values())
    votes: dict[int, Counter[str]] = {}
    truth_of: dict[int, str] = {}
    for frame in processed:
        if frame.truth is None or frame.predicted is None:
            continue
        for t, p in frame.matches:
            truth = frame.truth[t]
            if truth.num_points < min_truth_points or not frame.predicted[p].labels:
                continue
            truth_of[truth.id] = normalise_label(truth.category)
            votes.setdefault(truth.id, Counter())[
                normalise_label(frame.predicted[p].labels[0])
            ] += 1
    right = sum(votes[i].most_common(1)[0][0] == truth_of[i] for i in votes)
    sweeps = len(processed)
    metrics: dict[str, Any] = {
        "labels.flicker_rate": _ratio(changes, pairs),
        "labels.flicker_pairs": pairs,
        "labels.track_top1": _ratio(right, len(votes)),
        "labels.tracks": len(votes) if votes else None,
        "objects.per_sweep": _ratio(sum(len(f.predicted or ()) for f in processed), sweeps),
        "labels.distinct_per_sweep": _ratio(
            sum(len({p.labels[0] for p in f.predicted or () if p.labels}) for f in processed),
            sweeps,
        ),
    }
    metrics.update({f"labels.histogram.{k}": v for k, v in sorted(histogram.items())})
    return metrics


def caption_pairs(frames: Sequence[Frame]) -> list[tuple[str, str]]:
    """(generated, reference) for every matched object that has both captions."""
    pairs = []
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            continue
        for t, p in frame.matches:
            generated, reference = frame.predicted[p].caption, frame.truth[t].caption
            if generated.strip() and reference.strip():
                pairs.append((generated, reference))
    return pairs


def caption_similarity(pairs: Sequence[tuple[str, str]], encoder: Any = None) -> float | None:
    """Mean Sentence-BERT cosine between generated and reference captions (None if no pair).

    `encoder` has `encode(list[str]) -> (n, 384)` unit vectors: the bundle's MiniLM
    (`ros_pointlang.vocabulary.TextEmbedder`, the PointLLM protocol's SBERT similarity).
    """
    if not pairs:
        return None
    if encoder is None:
        raise ValueError(f"{len(pairs)} caption pairs to score but no text encoder to embed them")
    generated = np.asarray(encoder.encode([g for g, _ in pairs]), np.float64)
    reference = np.asarray(encoder.encode([r for _, r in pairs]), np.float64)
    return float(np.mean(np.sum(generated * reference, axis=1)))


def choose_question_object(
    truth: list[TruthObject] | None,
    predicted_centres: npt.ArrayLike,
    predicted_ids: Sequence[int],
    max_distance: float = MATCH_DISTANCE_M,
) -> tuple[int, str | None]:
    """The id of the first predicted object that matches ground truth, and its true category;
    (0, None) when none does (0 asks the node about its largest object)."""
    if truth and np.size(predicted_centres):
        pairs = match_objects([t.centre for t in truth], predicted_centres, max_distance)
        if pairs:
            t, p = pairs[0]
            return int(predicted_ids[p]), truth[t].category
    return 0, None


def summarise(
    frames: list[Frame],
    mode: str,
    min_truth_points: int = 0,
    caption_encoder: Any = None,
    can_caption: bool = True,
) -> dict[str, Any]:
    """The flat metrics of one run (matches must be filled in already)."""
    metrics: dict[str, Any] = {"mode": mode, "frames": len(frames)}
    processed = [f for f in frames if f.predicted is not None]
    metrics["frames_processed"] = len(processed)
    metrics["frames_with_truth"] = sum(f.truth is not None for f in frames)
    metrics["drop_rate"] = _ratio(len(frames) - len(processed), len(frames))
    metrics.update(score_frames(frames, min_truth_points))
    metrics.update(track_metrics(frames, min_truth_points))
    pairs = caption_pairs(frames) if can_caption else []
    metrics["caption.count"] = len(pairs)
    metrics["caption.sbert"] = caption_similarity(pairs, caption_encoder)
    latency = [f.latency_ms for f in processed if f.latency_ms is not None]
    metrics["latency_ms.p50"], metrics["latency_ms.p95"] = percentiles(latency)
    stages = sorted({s for f in processed for s in f.stages_ms})
    for stage in stages:
        values = [f.stages_ms[stage] for f in processed if stage in f.stages_ms]
        p50, p95 = percentiles(values)
        metrics[f"latency_ms.{stage}.p50"], metrics[f"latency_ms.{stage}.p95"] = p50, p95
    return metrics


def iter_frames_csv(frames: Sequence[Frame]) -> Iterator[str]:
    """Per-frame rows for a CSV file: index, stamp, counts and latency."""
    yield "index,stamp_ns,truth,predicted,matched,correct,latency_ms"
    for f in frames:
        truth = "" if f.truth is None else len(f.truth)
        predicted = "" if f.predicted is None else len(f.predicted)
        latency = "" if f.latency_ms is None else f"{f.latency_ms:.3f}"
        yield f"{f.index},{f.stamp_ns},{truth},{predicted},{len(f.matches)},{f.correct},{latency}"
