"""`pointlang-eval dataset DIR [DIR ...] --bundle PATH [--json OUT]`: alignment metrics.

On the test split of `pointlang-data objects` folders, with the vocabulary of all categories:
zero-shot top-1/top-5 for seen categories (held-out instances), the unseen ones and all, also
per sensor (surface samples vs LiDAR partial views); few-shot accuracy at k = 1, 4, 16 with a
residual adapter; retrieval R@1/R@5 both ways; the "unknown" threshold calibrated on the
validation split and how it separates unseen objects when only seen names are offered; and a
confusion-matrix plot. JSON keys are flat and dotted (`zero_shot.seen.top1`). A bundle with a
caption stage adds caption and QA scores on the seen test objects (`qa.exact_match`,
`caption.sbert`, ..., training/evaluate_language.py) and a page of sample clouds.

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
from training.common import ENCODER_NAME
from training.data.categories import category_names, labels_an_object
from training.dataset import embed_objects, load_objects
from training.evaluate_language import evaluate_language, generation_objects, page_samples
from training.labels import calibrate_threshold, fit_adapter, label_embeddings
from training.models.encoder import load_encoder
from training.text import TextEncoder

FEW_SHOT_K = (1, 4, 16)
SAMPLES_IN_MANIFEST = 6


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
) -> tuple[dict[str, float], list[dict]]:
    """Alignment metrics (and caption/QA metrics unless `generation` is off) of a bundle, and
    the generated caption/answer samples (none without a caption stage).

    generation_limit: at most this many test objects per sensor for captions and answers (a
    seeded sample; 0 = all). samples_dir: where the sample page goes (none if not given).
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
    label_emb = label_embeddings(text, [category_names(c)[0] for c in categories])  # (C, 384)
    features = embed_objects(model, test, metric=metric)  # (n, 384)
    targets = torch.tensor([index[o["category"]] for o in test])  # (n,)
    similarity = features @ label_emb.t()  # (n, C)
    is_unseen = torch.tensor([o["category"] in unseen for o in test])
    sensors = np.array([o["sensor"] for o in test])
    instances = [f"{o['category']}/{o['id']}" for o in test]

    metrics: dict[str, float] = {"num_test": len(test), "num_categories": len(categories)}
    groups = {"seen": ~is_unseen, "unseen": is_unseen, "all": torch.ones_like(is_unseen)}
    for sensor in [None, *sorted(set(sensors))]:
        in_sensor = (
            torch.ones_like(is_unseen) if sensor is None else torch.from_numpy(sensors == sensor)
        )
        prefix = "zero_shot" if sensor is None else f"zero_shot.by_sensor.{sensor}"
        for group, mask in groups.items():
            rows = mask & in_sensor
            metrics[f"{prefix}.{group}.top1"] = topk_accuracy(similarity[rows], targets[rows], 1)
            metrics[f"{prefix}.{group}.top5"] = topk_accuracy(similarity[rows], targets[rows], 5)
    # The easier, commonly reported variant: unseen objects among the unseen names only.
    unseen_cols = torch.tensor([c in unseen for c in categories])
    if is_unseen.any():
        sub = similarity[is_unseen][:, unseen_cols]
        remap = torch.cumsum(unseen_cols.long(), 0) - 1
        metrics["zero_shot.unseen_among_unseen.top1"] = topk_accuracy(
            sub, remap[targets[is_unseen]], 1
        )

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

    # Open set: offer only the seen names; unseen objects should fall below the threshold.
    seen_cols = ~unseen_cols
    calibration = embed_objects(model, val, metric=metric) if val else features[~is_unseen]
    known_top = (calibration @ label_emb[seen_cols].t()).max(-1).values.numpy()
    threshold = calibrate_threshold(known_top, accept=0.95)
    test_top = similarity[:, seen_cols].max(-1).values
    metrics["open_set.threshold"] = threshold
    metrics["open_set.seen_accepted"] = (test_top[~is_unseen] >= threshold).float().mean().item()
    metrics["open_set.unseen_rejected"] = (test_top[is_unseen] < threshold).float().mean().item()

    if confusion_path is not None:
        matrix = confusion_matrix(similarity.argmax(-1), targets, len(categories))
        title = f"zero-shot, {len(test)} test objects, top-1 {metrics['zero_shot.all.top1']:.3f}"
        plot_confusion(matrix, categories, confusion_path, title)

    samples: list[dict] = []
    if generation:
        pipeline = model.pipeline if isinstance(model, OnnxEncoder) else None
        chosen = generation_objects(objects, unseen, generation_limit)
        scores, samples = evaluate_language(Path(bundle), pipeline, chosen, text, samples_dir)
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
    )
    for key, value in metrics.items():
        print(f"{key:50s} {value:.4f}" if isinstance(value, float) else f"{key:50s} {value}")
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
        manifest["metrics_command"] = "pointlang-eval dataset " + " ".join(
            [*args.dirs, "--bundle", str(args.bundle), *limit]
        )
        write_manifest(args.bundle, manifest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
