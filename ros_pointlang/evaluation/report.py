"""The report of a bag evaluation: `report.md`, a self-contained `report.html` and the plots.

    write_report(evaluation, "out/report")   # → {"md": ..., "html": ..., "confusion": ...}

Plots (matplotlib, Agg): the confusion matrix of matched objects' top-1 labels, the latency
histogram with p50/p95 (offline: per stage too), and a per-frame timeline of objects in the
ground truth vs detected vs correctly labelled, with each frame's latency and the drops. The
PNGs sit next to the Markdown; the HTML embeds them as base64 so it can be mailed or archived
as one file. `frames.csv` holds the per-frame numbers behind the timeline.
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ros_pointlang.evaluation.frames import BagEvaluation, Frame, iter_frames_csv, topk_hit
from ros_pointlang.vocabulary import normalise_label

# The numbers a reader looks for first, in this order, with their names in the report.
HEADLINE = (
    ("labels.top1", "label top-1 accuracy (matched objects)"),
    ("labels.top5", "label top-5 accuracy (matched objects)"),
    ("labels.track_top1", "per-track top-1 accuracy (each object's most frequent label)"),
    ("labels.flicker_rate", "label flicker rate (first label changed, same track, next sweep)"),
    ("objects.per_sweep", "objects per sweep"),
    ("labels.distinct_per_sweep", "distinct labels per sweep"),
    ("detection.recall", "detection recall (matched / ground truth)"),
    ("detection.precision", "detection precision (matched / predicted)"),
    ("caption.sbert", "caption SBERT similarity"),
    ("latency_ms.p50", "latency p50 (ms)"),
    ("latency_ms.p95", "latency p95 (ms)"),
    ("drop_rate", "drop rate"),
    ("frames", "clouds in the bag"),
    ("frames_processed", "clouds with an output"),
    ("objects.truth", "ground-truth objects"),
    ("objects.predicted", "predicted objects"),
    ("labels.matched", "matched objects"),
)
LATENCY_MEANING = {
    "offline": "per cloud: decode + segment + encode/labels (+ caption) in this process",
    "live": "end to end: cloud published by the player → objects received from the node",
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_counts(frames: Sequence[Frame]) -> tuple[list[str], list[str], np.ndarray]:
    """(true names, predicted names, counts[true, predicted]) over matched objects' top-1."""
    pairs: Counter[tuple[str, str]] = Counter()
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            continue
        for t, p in frame.matches:
            labels = frame.predicted[p].labels
            predicted = normalise_label(labels[0]) if labels else "(none)"
            pairs[(frame.truth[t].category, predicted)] += 1
    rows = sorted({t for t, _ in pairs})
    # Columns: the true names first, in the same order, so the diagonal reads as "correct".
    cols = rows + sorted({p for _, p in pairs} - set(rows))
    counts = np.zeros((len(rows), len(cols)), np.int64)
    for (true_name, predicted_name), n in pairs.items():
        counts[rows.index(true_name), cols.index(predicted_name)] = n
    return rows, cols, counts


def per_category(frames: Sequence[Frame]) -> list[tuple[str, int, float, float]]:
    """(category, matched objects, top-1, top-5) for each true category that was matched."""
    hits: dict[str, list[tuple[bool, bool]]] = {}
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            continue
        for t, p in frame.matches:
            category, labels = frame.truth[t].category, frame.predicted[p].labels
            hits.setdefault(category, []).append(
                (topk_hit(category, labels, 1), topk_hit(category, labels, 5))
            )
    return [
        (c, len(h), float(np.mean([a for a, _ in h])), float(np.mean([b for _, b in h])))
        for c, h in sorted(hits.items())
    ]


def plot_confusion(frames: Sequence[Frame], path: Path) -> bool:
    """Confusion matrix PNG; False (and no file) when nothing was matched."""
    rows, cols, counts = confusion_counts(frames)
    if counts.size == 0:
        return False
    plt = _pyplot()
    shares = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    width = min(4 + 0.45 * len(cols), 18)
    height = min(3 + 0.4 * len(rows), 14)
    fig, ax = plt.subplots(figsize=(width, height))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for r in range(len(rows)):
        for c in range(len(cols)):
            if counts[r, c]:
                dark = shares[r, c] > 0.6
                ax.text(
                    c,
                    r,
                    str(counts[r, c]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel("predicted top-1 label")
    ax.set_ylabel("true category")
    total, correct = int(counts.sum()), int(sum(counts[r, r] for r in range(len(rows))))
    ax.set_title(f"matched objects: {correct}/{total} correct (cell = count, colour = row share)")
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true category")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_latency(evaluation: BagEvaluation, path: Path) -> bool:
    """Latency histogram with p50/p95 lines (offline: each stage as an outline too)."""
    processed = [f for f in evaluation.frames if f.latency_ms is not None]
    if not processed:
        return False
    plt = _pyplot()
    total = np.array([f.latency_ms for f in processed], np.float64)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    bins = np.linspace(0, max(float(total.max()) * 1.05, 1e-3), 40)
    ax.hist(total, bins=bins, color="tab:blue", alpha=0.6, label="total per cloud")
    stages = [
        s for s in ("segment", "encode", "caption") if any(s in f.stages_ms for f in processed)
    ]
    for stage, colour in zip(stages, ("tab:orange", "tab:green", "tab:red"), strict=False):
        values = [f.stages_ms[stage] for f in processed if stage in f.stages_ms]
        ax.hist(values, bins=bins, histtype="step", linewidth=1.5, color=colour, label=stage)
    p50, p95 = np.percentile(total, [50, 95])
    ax.axvline(p50, color="black", linestyle="--", label=f"p50 {p50:.1f} ms")
    ax.axvline(p95, color="black", linestyle=":", label=f"p95 {p95:.1f} ms")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("clouds")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{evaluation.mode} latency, {LATENCY_MEANING[evaluation.mode]}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_timeline(evaluation: BagEvaluation, path: Path) -> bool:
    """Per frame: objects in the ground truth, detected and correctly labelled; latency; drops."""
    frames = evaluation.frames
    if not frames:
        return False
    plt = _pyplot()
    index = np.array([f.index for f in frames])

    def series(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], np.float64)

    truth = series([None if f.truth is None else len(f.truth) for f in frames])
    detected = series([None if f.predicted is None else len(f.predicted) for f in frames])
    correct = series(
        [None if f.predicted is None or f.truth is None else f.correct for f in frames]
    )
    latency = series([f.latency_ms for f in frames])
    dropped = index[[f.predicted is None for f in frames]]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    # Markers as well as steps: in live runs drops cut the lines into single-frame pieces.
    top.plot(index, truth, drawstyle="steps-mid", color="black", label="ground truth", linewidth=2)
    top.plot(
        index, detected, "o", drawstyle="steps-mid", linestyle="-", color="tab:blue",
        markersize=4, label="detected",
    )  # fmt: skip
    top.plot(
        index, correct, "s", drawstyle="steps-mid", linestyle="--", color="tab:green",
        markersize=4, label="correct top-1",
    )  # fmt: skip
    if len(dropped):
        top.plot(dropped, np.full(len(dropped), -0.6), "x", color="tab:red", label="dropped cloud")
    top.set_ylabel("objects")
    highest = np.nanmax(np.concatenate([truth, detected, [1.0]]))
    top.set_ylim(-1.0, highest * 1.3 + 1)  # headroom: the legend must not hide the data
    top.yaxis.get_major_locator().set_params(integer=True)
    top.legend(fontsize=8, loc="upper left", ncol=4)
    top.set_title(f"{evaluation.mode} replay, per cloud")
    bottom.plot(index, latency, "o-", color="tab:purple", markersize=4)
    for x in dropped:
        bottom.axvline(x, color="tab:red", alpha=0.25, linewidth=1)
    bottom.set_ylabel("latency (ms)")
    bottom.set_xlabel("cloud index in the bag")
    bottom.xaxis.get_major_locator().set_params(integer=True)
    if np.isfinite(latency).any():
        bottom.set_ylim(0, np.nanmax(latency) * 1.1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_label_histogram(evaluation: BagEvaluation, path: Path) -> bool:
    """How often each first label was given, over every object of every processed sweep."""
    counts = {
        k[len("labels.histogram.") :]: v
        for k, v in evaluation.metrics.items()
        if k.startswith("labels.histogram.")
    }
    if not counts:
        return False
    plt = _pyplot()
    names = sorted(counts, key=lambda k: -counts[k])
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.28 * len(names) + 1)))
    ax.barh(names[::-1], [counts[n] for n in names[::-1]], color="tab:blue")
    ax.set_xlabel("objects labelled so (all sweeps)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_birds_eye(evaluation: BagEvaluation, path: Path) -> bool:
    """The labelled objects from above: each sweep's object centres in the sensor frame,
    coloured by first label (ground-truth centres as black crosses where the bag has them)."""
    predicted = [p for f in evaluation.frames for p in f.predicted or () if p.labels]
    if not predicted:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 7))
    truth = [t.centre for f in evaluation.frames for t in f.truth or ()]
    if truth:
        xy = np.array(truth)
        ax.scatter(xy[:, 0], xy[:, 1], marker="x", color="black", s=30, label="ground truth")
    labels = sorted({p.labels[0] for p in predicted})
    colours = plt.get_cmap("tab20")
    for k, label in enumerate(labels):
        xy = np.array([p.centre for p in predicted if p.labels[0] == label])
        ax.scatter(xy[:, 0], xy[:, 1], s=14, alpha=0.6, color=colours(k % 20), label=label)
    ax.scatter([0], [0], marker="^", color="red", s=60, label="sensor")
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def format_value(value: Any, digits: int = 3) -> str:
    """A metric as text: floats to `digits` decimals, None (nothing to count) as "n/a"."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _summary_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(name, key, format_value(metrics.get(key))) for key, name in HEADLINE if key in metrics]


def _stage_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str]]:
    stages = sorted(
        k[len("latency_ms.") : -len(".p50")]
        for k in metrics
        if k.startswith("latency_ms.") and k.endswith(".p50") and k.count(".") == 2
    )
    return [
        (
            s,
            format_value(metrics[f"latency_ms.{s}.p50"]),
            format_value(metrics[f"latency_ms.{s}.p95"]),
        )
        for s in stages
    ]


def _caption_examples(frames: Sequence[Frame], limit: int = 5) -> list[tuple[str, str, str]]:
    examples = []
    for frame in frames:
        if frame.truth is None or frame.predicted is None:
            continue
        for t, p in frame.matches:
            if frame.predicted[p].caption:
                truth = frame.truth[t]
                examples.append((truth.category, frame.predicted[p].caption, truth.caption))
                if len(examples) == limit:
                    return examples
    return examples


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


Section = tuple[str, list[str], Sequence[Sequence[Any]], str]


def _sections(evaluation: BagEvaluation) -> list[Section]:
    """(heading, table header, table rows, note) blocks shared by the Markdown and the HTML."""
    metrics = evaluation.metrics
    sections: list[Section] = [
        (
            "Summary",
            ["metric", "key", "value"],
            [list(r) for r in _summary_rows(metrics)],
            f"Latency is {LATENCY_MEANING[evaluation.mode]}. Accuracy counts ground-truth "
            "objects matched to a prediction by box centre; n/a means there was nothing to "
            "count (no ground truth, no match, or no caption).",
        )
    ]
    stages = _stage_rows(metrics)
    if stages:
        sections.append(("Latency per stage (ms)", ["stage", "p50", "p95"], stages, ""))
    categories = per_category(evaluation.frames)
    if categories:
        sections.append(
            (
                "Per category",
                ["category", "matched", "top-1", "top-5"],
                [[c, n, f"{a:.3f}", f"{b:.3f}"] for c, n, a, b in categories],
                "",
            )
        )
    examples = _caption_examples(evaluation.frames)
    if examples:
        sections.append(("Caption examples", ["category", "generated", "reference"], examples, ""))
    qa = {k[3:]: v for k, v in metrics.items() if k.startswith("qa.")}
    if qa:
        sections.append(
            ("Question", ["field", "value"], [[k, format_value(v)] for k, v in qa.items()], "")
        )
    setup = [[k, format_value(v)] for k, v in evaluation.settings.items() if k != "parameters"]
    setup += [
        [f"parameter {k}", format_value(v)] for k, v in evaluation.settings["parameters"].items()
    ]
    sections.append(("Set-up", ["setting", "value"], setup, ""))
    return sections


FIGURES = (
    ("timeline", "Per-frame timeline", plot_timeline),
    ("latency", "Latency", plot_latency),
    ("confusion", "Confusion matrix of matched objects", plot_confusion),
    ("birds_eye", "Labelled objects from above", plot_birds_eye),
    ("labels", "Label histogram", plot_label_histogram),
)


def write_report(evaluation: BagEvaluation, out_dir: str | Path) -> dict[str, Path]:
    """Write report.md, report.html, the PNGs and frames.csv into `out_dir`; return paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, _title, plot in FIGURES:
        path = out / f"{name}.png"
        target: Any = evaluation.frames if plot is plot_confusion else evaluation
        if plot(target, path):
            paths[name] = path
        elif path.exists():
            path.unlink()  # a stale plot from an earlier run would contradict this report
    csv = out / "frames.csv"
    csv.write_text("\n".join(iter_frames_csv(evaluation.frames)) + "\n")
    paths["csv"] = csv

    title = f"pointlang bag evaluation ({evaluation.mode}): {evaluation.settings['bag']}"
    sections = _sections(evaluation)
    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, header, rows, note in sections[:1]:
        md += [f"## {heading}", "", _markdown_table(header, rows), "", note, ""]
        body += [f"<h2>{heading}</h2>", _html_table(header, rows), f"<p>{html.escape(note)}</p>"]
    for name, figure_title, _ in FIGURES:
        md += [f"## {figure_title}", ""]
        body.append(f"<h2>{figure_title}</h2>")
        if name in paths:
            md += [f"![{figure_title}]({name}.png)", ""]
            data = base64.b64encode(paths[name].read_bytes()).decode("ascii")
            body.append(
                f'<img alt="{name}.png" title="{name}.png" src="data:image/png;base64,{data}">'
            )
        else:
            md += ["(nothing to plot)", ""]
            body.append("<p>(nothing to plot)</p>")
    for heading, header, rows, note in sections[1:]:
        md += [f"## {heading}", "", _markdown_table(header, rows), ""]
        body += [f"<h2>{html.escape(heading)}</h2>", _html_table(header, rows)]
        if note:
            md += [note, ""]
            body.append(f"<p>{html.escape(note)}</p>")
    md += ["Per-frame numbers: [frames.csv](frames.csv)", ""]
    body.append("<p>Per-frame numbers: frames.csv next to this file.</p>")
    paths["md"] = out / "report.md"
    paths["md"].write_text("\n".join(md))
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:left;vertical-align:top}img{max-width:100%}"
    )
    paths["html"] = out / "report.html"
    paths["html"].write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    return paths
