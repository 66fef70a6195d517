"""`pointlang-eval dataset DIR [DIR ...] --bundle PATH [--json OUT]`: alignment metrics.

On the test split of `pointlang-data objects` folders: zero-shot top-1/top-5 for seen categories
(held-out instances) and unseen ones, broken down by sensor, rig, range band and point-count
band; few-shot accuracy at k = 1, 4, 16 with a residual adapter; retrieval R@1/R@5 both ways;
the "unknown" threshold calibrated on the validation split and how often it answers "unknown";
a confusion-matrix plot; a printed summary table. A bundle with a caption stage adds caption and
QA scores on the seen test objects (`qa.exact_match`, `caption.sbert`, ...,
training/evaluate_language.py) and a page of sample clouds.

JSON keys are flat and dotted. Zero-shot (the vocabulary: every labelled category of the data
plus the manifests' unseen categories, `num_categories` names; "by name" is each category's
spoken name, "described" gives each unseen name its one-line description, "name: description",
from the data engine's family records, `training.data.categories.DESCRIPTIONS`):
- `zero_shot.{seen,unseen,all}.top{1,5}`: by name, among all names (unseen objects compete with
  every seen name too); `zero_shot.{unseen,seen}_described.top{1,5}`: the same objects with the
  described vocabulary; `zero_shot.unseen_among_unseen.top1` and
  `zero_shot.unseen_described_among_unseen.top1`: the easier variant among unseen names only;
  `zero_shot.num_seen`, `zero_shot.num_unseen` (test objects), `zero_shot.num_unseen_categories`,
  `zero_shot.num_described` and `zero_shot.description.<category>` (the descriptions used).
- Breakdowns `zero_shot.<breakdown>.<cell>.…`, each cell with `num_seen`, `num_unseen` and, for
  groups with objects, `{seen,unseen,unseen_described,all}.top{1,5}`:
  `by_sensor.<sensor>`; `by_rig.<rig>` (a surface sample's rig is "surface"; a view without a
  record, its sensor); `by_range_m.<sensor>.<band>` (views with a range only; bands
  `training.data.views.RANGE_BANDS_M`: `lidar.0-10`, `lidar.10-25`, `lidar.25-50`,
  `lidar.50+`); `by_points.<sensor>.<band>` (returns in the cloud; `POINT_BANDS`: `0-50`,
  `50-200`, `200-1000`, `1000+`).
Open set (only the seen names offered, as the robot's default vocabulary; calibration as
`training.labels.UNKNOWN_ACCEPT` documents): `open_set.threshold`, `open_set.accept`,
`open_set.calibration.method` ("quantile per sensor" or "balanced accuracy"),
`open_set.calibration.split`, `open_set.calibration.<sensor>.num` and `.accepted` (its held-out
objects kept); `open_set.seen_accepted`, `open_set.unseen_rejected` and their complements
`open_set.seen_unknown` (seen test objects answered "unknown": wrongly) and
`open_set.unseen_unknown` (unseen ones: rightly), also per cell as
`open_set.<breakdown>.<cell>.{seen,unseen}_unknown`.
Others: `few_shot.k<k>.{all,unseen}`, `retrieval.{point_to_text,text_to_point}.r{1,5}` (and
`retrieval.by_sensor.<sensor>.…`), `num_test`, `num_categories`.

A runtime bundle is measured through its ONNX encoder on ONNX Runtime (what the robot runs);
a training bundle (`point_encoder.pt`) through torch. `pointlang-eval` (ros_pointlang/
evaluation/cli.py) dispatches here; its `bag` subcommand scores rosbag replays without torch.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from ros_pointlang.bundle import read_manifest, write_manifest
from ros_pointlang.decode import DECODING_OPTIONS, parse_decoding
from training.common import ENCODER_NAME
from training.data.categories import DESCRIPTIONS, category_names, described_label, labels_an_object
from training.data.views import RANGE_BANDS_M, band, points_band
from training.dataset import embed_objects, load_objects
from training.evaluate_language import evaluate_language, generation_objects, page_samples
from training.labels import UNKNOWN_ACCEPT, calibrate_threshold, fit_adapter, label_embeddings
from training.models.encoder import load_encoder
from training.text import TextEncoder

FEW_SHOT_K = (1, 4, 16)
SAMPLES_IN_MANIFEST = 6
# Where the zero-shot figures are broken down (`object_cells`), in the report's order.
BREAKDOWNS = ("by_sensor", "by_rig", "by_range_m", "by_points")
GROUPS = ("seen", "unseen", "unseen_described", "all")
Metrics = dict[str, float | int | str]


def topk_accuracy(similarity: torch.Tensor, targets: torch.Tensor, k: int) -> float:
    """Fraction of rows of similarity (n, C) whose target column is among the k largest."""
    if len(similarity) == 0:
        return float("nan")
    top = similarity.topk(min(k, similarity.shape[1]), dim=-1).indices  # (n, k)
    return (top == targets.unsqueeze(-1)).any(-1).float().mean().item()


def retrieval_recall(similarity: torch.Tensor, k: int) -> float:
    """Recall@k for square similarity (n, n) whose true pairs are on the diagonal."""
    if similarity.shape[0] != similarity.shape[1]:
        raise ValueError(
            f"retrieval needs a square similarity matrix, got {tuple(similarity.shape)}"
        )
    return topk_accuracy(similarity, torch.arange(len(similarity)), k)


def confusion_matrix(
    predicted: torch.Tensor, targets: torch.Tensor, num_classes: int
) -> np.ndarray:
    """Counts (C, C): row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (targets.numpy(), predicted.numpy()), 1)
    return matrix


def cloud_points(obj: dict) -> int:
    """The returns in an object's cloud: its manifest's `num_points`, else the cloud file's."""
    if obj.get("num_points") is not None:
        return int(obj["num_points"])
    return int(np.load(obj["cloud_path"], mmap_mode="r").shape[0])


def object_cells(obj: dict) -> dict[str, str]:
    """The cell of each breakdown an object falls in (a breakdown it has no value for is left
    out: a surface sample has no range)."""
    view = obj.get("view") or {}
    sensor = obj["sensor"]
    cells = {"by_sensor": sensor, "by_rig": str(view.get("rig") or sensor)}
    if view.get("range_m") is not None:
        cells["by_range_m"] = f"{sensor}.{band(float(view['range_m']), RANGE_BANDS_M)}"
    cells["by_points"] = f"{sensor}.{points_band(cloud_points(obj))}"
    return cells


def _cell_order(cell: str) -> tuple[str, float, str]:
    """Sensor (or rig) name, then a band's lower edge: "lidar.10-25" follows "lidar.0-10"."""
    head, _, tail = cell.partition(".")
    edge = tail.split("-")[0].rstrip("+")
    try:
        return head, float(edge), tail
    except ValueError:
        return head, 0.0, tail


def zero_shot_cell(
    similarity: dict[str, torch.Tensor],
    targets: torch.Tensor,
    is_unseen: torch.Tensor,
    rows: torch.Tensor,
    keep_empty: bool = False,
) -> Metrics:
    """Counts and top-1/top-5 of the test rows `rows` (bool (n,)), per group of GROUPS.

    `similarity` holds the (n, C) cosines against the vocabulary "by name" and "described".
    Groups without objects are left out unless `keep_empty` (then NaN)."""
    masks = {
        "seen": rows & ~is_unseen,
        "unseen": rows & is_unseen,
        "unseen_described": rows & is_unseen,
        "all": rows,
    }
    out: Metrics = {
        "num_seen": int(masks["seen"].sum()),
        "num_unseen": int(masks["unseen"].sum()),
    }
    for group in GROUPS:
        mask = masks[group]
        if not mask.any() and not keep_empty:
            continue
        sim = similarity["described" if group.endswith("_described") else "name"][mask]
        for k in (1, 5):
            out[f"{group}.top{k}"] = topk_accuracy(sim, targets[mask], k)
    return out


def summary_table(metrics: Metrics) -> str:
    """The zero-shot and "unknown" figures of a report as a table: overall, then every cell of
    every breakdown (read back from the flat keys, so a stored report prints the same)."""

    def cell(prefix: str, open_prefix: str, name: str) -> str:
        def value(key: str, fmt: str = "{:6.3f}") -> str:
            v = metrics.get(key)
            return fmt.format(v) if isinstance(v, (int, float)) and v == v else f"{'-':>6s}"

        columns = [
            value(f"{prefix}.num_seen", "{:6d}"),
            value(f"{prefix}.seen.top1"),
            value(f"{prefix}.seen.top5"),
            value(f"{prefix}.num_unseen", "{:6d}"),
            value(f"{prefix}.unseen.top1"),
            value(f"{prefix}.unseen.top5"),
            value(f"{prefix}.unseen_described.top1"),
            value(f"{prefix}.unseen_described.top5"),
            value(f"{open_prefix}.seen_unknown"),
            value(f"{open_prefix}.unseen_unknown"),
        ]
        return f"{name:28s} " + " ".join(columns)

    header = (
        f"{'':28s} {' seen ':-^20s} {' unseen by name ':-^20s} "
        f"{' described ':-^13s} {' unknown ':-^13s}\n"
        f"{'group':28s} {'n':>6s} {'top1':>6s} {'top5':>6s} {'n':>6s} {'top1':>6s} "
        f"{'top5':>6s} {'top1':>6s} {'top5':>6s} {'seen':>6s} {'unseen':>6s}"
    )
    lines = [header, cell("zero_shot", "open_set", "all")]
    titles = {"by_sensor": "sensor", "by_rig": "rig", "by_range_m": "range", "by_points": "points"}
    for breakdown in BREAKDOWNS:
        start, end = f"zero_shot.{breakdown}.", ".num_seen"
        for key in metrics:
            if key.startswith(start) and key.endswith(end):
                name = key[len(start) : -len(end)]
                unit = {"by_range_m": " m", "by_points": " pts"}.get(breakdown, "")
                label = f"{titles[breakdown]} {name.replace('.', ' ')}{unit}"
                lines.append(cell(key[: -len(end)], f"open_set.{breakdown}.{name}", label))
    return "\n".join(lines)


def is_breakdown_key(key: str) -> bool:
    """Keys the summary table shows (and descriptions), left out of the plain key listing."""
    heads = [f"{part}.{b}." for part in ("zero_shot", "open_set") for b in BREAKDOWNS]
    return key.startswith((*heads, "zero_shot.description."))


def few_shot_accuracy(
    features: torch.Tensor,
    targets: torch.Tensor,
    label_emb: torch.Tensor,
    k: int,
    seed: int,
    instances: list[str] | None = None,
) -> tuple[float, torch.Tensor]:
    """Fit an adapter on k random instances per class, score on the other instances.

    `instances` names the object of each row: the surface and LiDAR views of one object are
    then support or query together, never split. Classes with no more than k instances take no
    part as queries (they still give support). Returns the accuracy and a per-row correctness
    mask (NaN for support rows).
    """
    names = instances if instances is not None else [str(i) for i in range(len(targets))]
    generator = torch.Generator().manual_seed(seed)
    support = torch.zeros(len(targets), dtype=torch.bool)
    for c in targets.unique().tolist():
        members = sorted({names[i] for i in torch.nonzero(targets == c).squeeze(1).tolist()})
        order = torch.randperm(len(members), generator=generator)[:k].tolist()
        chosen = {members[i] for i in order}
        support |= torch.tensor([n in chosen for n in names]) & (targets == c)
    query = ~support
    adapter = fit_adapter(features[support], targets[support], label_emb, seed=seed)
    with torch.no_grad():
        correct = adapter(features[query]).argmax(-1) == targets[query]
    mask = torch.full((len(targets),), float("nan"))
    mask[query] = correct.float()
    return (correct.float().mean().item() if len(correct) else float("nan")), mask


def plot_confusion(matrix: np.ndarray, names: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(11, 10))
    image = ax.imshow(rows, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


class OnnxEncoder:
    """A runtime bundle's ONNX encoder behind the torch interface `embed_objects` uses, so the
    metrics are measured on exactly what the robot runs."""

    training = False

    def __init__(self, bundle: Path):
        from types import SimpleNamespace

        from ros_pointlang.pipeline import Pipeline

        self.pipeline = Pipeline.from_bundle(bundle)
        encoder = self.pipeline.bundle.encoder
        self.config = SimpleNamespace(
            num_points=encoder["num_points"], embed_dim=encoder["embed_dim"]
        )

    def eval(self) -> OnnxEncoder:
        return self

    def train(self, mode: bool = True) -> OnnxEncoder:
        return self

    def __call__(self, points: torch.Tensor, size: torch.Tensor, known: torch.Tensor):
        encoded = self.pipeline.encode_prepared(points.numpy(), size.numpy(), bool(known.all()))
        return torch.from_numpy(encoded.embeddings), torch.from_numpy(encoded.tokens)


def load_bundle_encoder(bundle: Path):
    """The ONNX encoder of a runtime bundle, or the torch encoder of a training bundle."""
    if (bundle / "point_encoder.onnx").is_file():
        return OnnxEncoder(bundle)
    encoder_path = bundle / ENCODER_NAME
    if not encoder_path.is_file():
        raise ValueError(
            f"no point_encoder.onnx or {ENCODER_NAME} in bundle {bundle}; expected a model bundle"
        )
    return load_encoder(encoder_path)[0]


def evaluate_dataset(
    roots: list[str],
    bundle: Path,
    metric: bool = True,
    few_shot_seeds: int = 3,
    confusion_path: Path | None = None,
    text_cache: str | None = None,
    generation: bool = True,
    generation_limit: int = 0,
    samples_dir: Path | None = None,
    decoding: dict[str, int | float] | None = None,
    caption_decoding: dict[str, int | float] | None = None,
) -> tuple[Metrics, list[dict]]:
    """Alignment metrics (and caption/QA metrics unless `generation` is off) of a bundle, and
    the generated caption/answer samples (none without a caption stage).

    generation_limit: at most this many test objects per sensor for captions and answers (a
    seeded sample; 0 = all). samples_dir: where the sample page goes (none if not given).
    decoding, caption_decoding: decoding options on top of a runtime bundle's manifest, for
    every prompt and for captions only (see `evaluate_language`).
    """
    model = load_bundle_encoder(Path(bundle))
    objects, unseen_list = load_objects(roots)
    unseen = set(unseen_list)
    # Label scores leave out the generic family (its name labels nothing); captions keep it.
    labelled = [o for o in objects if labels_an_object(o["category"])]
    categories = sorted({o["category"] for o in labelled} | unseen)
    index = {c: i for i, c in enumerate(categories)}
    test = [o for o in labelled if o["split"] == "test"]
    val = [o for o in labelled if o["split"] == "val" and o["category"] not in unseen]
    if not test:
        raise ValueError(f"{roots} hold no objects with split 'test'")

    text = TextEncoder(text_cache or Path(roots[0]) / "text_cache.npz")
    names = [category_names(c)[0] for c in categories]
    described = [described_label(c) if c in unseen else category_names(c)[0] for c in categories]
    label_emb = label_embeddings(text, names)  # (C, 384)
    described_emb = label_embeddings(text, described)  # (C, 384): unseen names described
    features = embed_objects(model, test, metric=metric)  # (n, 384)
    targets = torch.tensor([index[o["category"]] for o in test])  # (n,)
    similarity = features @ label_emb.t()  # (n, C)
    similarities = {"name": similarity, "described": features @ described_emb.t()}
    is_unseen = torch.tensor([o["category"] in unseen for o in test])
    sensors = np.array([o["sensor"] for o in test])
    instances = [f"{o['category']}/{o['id']}" for o in test]
    cells = [object_cells(o) for o in test]

    metrics: Metrics = {"num_test": len(test), "num_categories": len(categories)}
    everything = torch.ones_like(is_unseen)
    overall = zero_shot_cell(similarities, targets, is_unseen, everything, keep_empty=True)
    metrics |= {f"zero_shot.{key}": value for key, value in overall.items()}
    seen_rows = ~is_unseen
    for k in (1, 5):  # how the unseen descriptions change the seen objects' figures
        metrics[f"zero_shot.seen_described.top{k}"] = topk_accuracy(
            similarities["described"][seen_rows], targets[seen_rows], k
        )
    # The easier, commonly reported variant: unseen objects among the unseen names only.
    unseen_cols = torch.tensor([c in unseen for c in categories])
    if is_unseen.any():
        remap = torch.cumsum(unseen_cols.long(), 0) - 1
        for kind, key in (("name", "unseen"), ("described", "unseen_described")):
            sub = similarities[kind][is_unseen][:, unseen_cols]
            metrics[f"zero_shot.{key}_among_unseen.top1"] = topk_accuracy(
                sub, remap[targets[is_unseen]], 1
            )
    used = {c: DESCRIPTIONS[c] for c in categories if c in unseen and c in DESCRIPTIONS}
    metrics["zero_shot.num_unseen_categories"] = int(unseen_cols.sum())
    metrics["zero_shot.num_described"] = len(used)
    metrics |= {f"zero_shot.description.{c}": d for c, d in used.items()}
    breakdown_rows = {
        (breakdown, cell): torch.tensor([c.get(breakdown) == cell for c in cells])
        for breakdown in BREAKDOWNS
        for cell in sorted({c[breakdown] for c in cells if breakdown in c}, key=_cell_order)
    }
    for (breakdown, cell), rows in breakdown_rows.items():
        scores = zero_shot_cell(similarities, targets, is_unseen, rows)
        metrics |= {f"zero_shot.{breakdown}.{cell}.{key}": v for key, v in scores.items()}

    for k in FEW_SHOT_K:
        runs = [
            few_shot_accuracy(features, targets, label_emb, k, seed, instances)
            for seed in range(few_shot_seeds)
        ]
        metrics[f"few_shot.k{k}.all"] = float(np.mean([acc for acc, _ in runs]))
        unseen_hits = torch.stack([mask for _, mask in runs])[:, is_unseen]  # (seeds, m)
        scored = unseen_hits[~torch.isnan(unseen_hits)]  # classes with > k objects only
        metrics[f"few_shot.k{k}.unseen"] = scored.mean().item() if len(scored) else float("nan")

    # Retrieval per sensor: the surface and LiDAR views of one instance share its captions.
    for direction in ("point_to_text", "text_to_point"):
        for k in (1, 5):
            metrics[f"retrieval.{direction}.r{k}"] = 0.0
    first_captions = [o["captions"][0] if o["captions"] else "" for o in test]
    caption_emb = text.encode(first_captions)  # (n, 384)
    for sensor in sorted(set(sensors)):
        rows = torch.from_numpy(sensors == sensor)
        pair_sim = features[rows] @ caption_emb[rows].t()  # (m, m)
        weight = rows.float().mean().item()
        for k in (1, 5):
            p2t, t2p = retrieval_recall(pair_sim, k), retrieval_recall(pair_sim.t(), k)
            metrics[f"retrieval.by_sensor.{sensor}.point_to_text.r{k}"] = p2t
            metrics[f"retrieval.by_sensor.{sensor}.text_to_point.r{k}"] = t2p
            metrics[f"retrieval.point_to_text.r{k}"] += weight * p2t
            metrics[f"retrieval.text_to_point.r{k}"] += weight * t2p

    # Open set: offer only the seen names (the robot's default vocabulary); unseen objects should
    # fall below the threshold, seen ones above it. Calibrated on held-out seen objects of every
    # sensor (training.labels.UNKNOWN_ACCEPT), or against held-out objects outside the names.
    seen_cols = ~unseen_cols
    unknown_val = [o for o in labelled if o["split"] == "val" and o["category"] in unseen]
    if val:
        calibration = embed_objects(model, val, metric=metric)
        calibration_sensors = np.array([o["sensor"] for o in val])
        metrics["open_set.calibration.split"] = "val"
    else:  # no validation split: the seen test objects themselves (the report says so)
        calibration = features[seen_rows]
        calibration_sensors = sensors[seen_rows.numpy()]
        metrics["open_set.calibration.split"] = "test"
    known_top = (calibration @ label_emb[seen_cols].t()).max(-1).values.numpy()
    unknown_top = None
    if unknown_val:
        unknown_emb = embed_objects(model, unknown_val, metric=metric)
        unknown_top = (unknown_emb @ label_emb[seen_cols].t()).max(-1).values.numpy()
    threshold = calibrate_threshold(
        known_top, unknown_top, accept=UNKNOWN_ACCEPT, groups=calibration_sensors
    )
    metrics["open_set.threshold"] = threshold
    metrics["open_set.accept"] = UNKNOWN_ACCEPT
    metrics["open_set.calibration.method"] = (
        "balanced accuracy" if unknown_val else "quantile per sensor"
    )
    for sensor in sorted(set(calibration_sensors)):
        in_sensor = calibration_sensors == sensor
        metrics[f"open_set.calibration.{sensor}.num"] = int(in_sensor.sum())
        metrics[f"open_set.calibration.{sensor}.accepted"] = float(
            (known_top[in_sensor] >= threshold).mean()
        )
    answered_unknown = similarity[:, seen_cols].max(-1).values < threshold  # (n,)
    metrics["open_set.seen_accepted"] = 1.0 - answered_unknown[seen_rows].float().mean().item()
    metrics["open_set.unseen_rejected"] = answered_unknown[is_unseen].float().mean().item()
    cell_rows = {("", ""): everything, **breakdown_rows}
    for (breakdown, cell), rows in cell_rows.items():
        prefix = f"open_set.{breakdown}.{cell}" if breakdown else "open_set"
        for group, mask in (("seen", rows & seen_rows), ("unseen", rows & is_unseen)):
            if mask.any() or not breakdown:
                metrics[f"{prefix}.{group}_unknown"] = answered_unknown[mask].float().mean().item()

    if confusion_path is not None:
        matrix = confusion_matrix(similarity.argmax(-1), targets, len(categories))
        # Most test objects are of the unseen categories (every instance of each), so the
        # overall top-1 alone reads as if the seen ones failed too: name both.
        top1 = ", ".join(
            f"{group} {metrics[f'zero_shot.{group}.top1']:.3f}"
            for group in ("seen", "unseen", "all")
            if f"zero_shot.{group}.top1" in metrics
        )
        title = f"zero-shot, {len(test)} test objects: top-1 {top1}"
        plot_confusion(matrix, categories, confusion_path, title)

    samples: list[dict] = []
    if generation:
        pipeline = model.pipeline if isinstance(model, OnnxEncoder) else None
        chosen = generation_objects(objects, unseen, generation_limit)
        scores, samples = evaluate_language(
            Path(bundle), pipeline, chosen, text, samples_dir, decoding, caption_decoding
        )
        metrics |= scores
    return metrics, samples


def main(argv: list[str] | None = None) -> int:
    """`pointlang-eval dataset ...` (argv without the word `dataset`)."""
    data = argparse.ArgumentParser(
        prog="pointlang-eval dataset", description=__doc__.split("\n")[0]
    )
    data.add_argument(
        "dirs", nargs="+", help="dataset folders (surface and LiDAR sets may be mixed)"
    )
    data.add_argument("--bundle", required=True, type=Path, help="model bundle folder")
    data.add_argument("--json", type=Path, help="write the metrics here")
    data.add_argument(
        "--confusion", type=Path, help="confusion-matrix PNG (default: beside --json)"
    )
    data.add_argument("--no-metric", action="store_true", help="treat sizes as unknown (CAD data)")
    data.add_argument("--few-shot-seeds", type=int, default=3)
    data.add_argument("--no-generation", action="store_true", help="skip the caption and QA scores")
    data.add_argument(
        "--generation-limit",
        type=int,
        default=0,
        metavar="N",
        help="captions and answers for at most N seen test objects per sensor (0 = all)",
    )
    for flag, what in (("--decoding", "every prompt"), ("--caption-decoding", "captions only")):
        data.add_argument(
            flag,
            nargs="+",
            action="extend",
            default=[],
            metavar="NAME=VALUE",
            help=f"decoding options on top of the bundle's, for {what} (e.g. no_repeat_ngram=3; "
            f"{', '.join(DECODING_OPTIONS)})",
        )
    data.add_argument(
        "--samples",
        type=Path,
        help="folder for the sample-caption page (default: beside --json, <name>.samples)",
    )
    data.add_argument("--update-bundle", action="store_true", help="store metrics in its manifest")
    args = data.parse_args(argv)
    torch.manual_seed(0)
    if args.generation_limit < 0:
        data.error(f"--generation-limit {args.generation_limit} must be 0 (all) or more")
    try:
        decoding = parse_decoding(args.decoding, "--decoding")
        caption_decoding = parse_decoding(args.caption_decoding, "--caption-decoding")
    except ValueError as error:
        data.error(str(error))
    confusion = args.confusion or (args.json.with_suffix(".confusion.png") if args.json else None)
    samples_dir = args.samples or (args.json.with_suffix(".samples") if args.json else None)
    metrics, samples = evaluate_dataset(
        args.dirs,
        args.bundle,
        not args.no_metric,
        args.few_shot_seeds,
        confusion,
        generation=not args.no_generation,
        generation_limit=args.generation_limit,
        samples_dir=samples_dir,
        decoding=decoding,
        caption_decoding=caption_decoding,
    )
    for key, value in metrics.items():
        if not is_breakdown_key(key):
            print(f"{key:50s} {value:.4f}" if isinstance(value, float) else f"{key:50s} {value}")
    print()
    print(summary_table(metrics))
    descriptions = {k: v for k, v in metrics.items() if k.startswith("zero_shot.description.")}
    if descriptions:
        print("\ndescriptions of the unseen names (zero_shot.*_described):")
        for key, text in descriptions.items():
            print(f"  {key.removeprefix('zero_shot.description.')}: {text}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(metrics, indent=2) + "\n")
    if args.update_bundle:
        manifest = read_manifest(args.bundle)
        manifest["metrics"] = metrics
        # A few generated outputs with what remakes their clouds: tests/test_default_model.py
        # regenerates those objects and checks the bundle still says exactly this.
        manifest.pop("metrics_samples", None)
        if samples:
            manifest["metrics_samples"] = page_samples(samples, SAMPLES_IN_MANIFEST)
        # The runtime's "unknown" cut-off (export/cli.py carries it into the ONNX bundle).
        manifest.setdefault("labels", {})["unknown_threshold"] = metrics["open_set.threshold"]
        limit = ["--generation-limit", str(args.generation_limit)] if args.generation_limit else []
        for flag, words in (
            ("--decoding", args.decoding),
            ("--caption-decoding", args.caption_decoding),
        ):
            limit += [flag, *words] if words else []
        manifest["metrics_command"] = "pointlang-eval dataset " + " ".join(
            [*args.dirs, "--bundle", str(args.bundle), *limit]
        )
        write_manifest(args.bundle, manifest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
