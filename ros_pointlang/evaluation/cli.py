"""`pointlang-eval`: how well the model does, on a rosbag (`bag`) or a dataset (`dataset`).

    pointlang-eval bag BAG [--live] [--rate N] [--bundle PATH] [--json OUT] [--report DIR]
    pointlang-eval dataset DIR [DIR ...] --bundle PATH   # training/evaluate_dataset.py (torch)

`bag` needs only the runtime (no torch); `dataset` imports training when it is asked for.

Scores the point-cloud-to-language pipeline on a rosbag2, the way it runs on a robot:

- offline (default): every PointCloud2 in the bag, in order, goes through
  `ros_pointlang.describe.Describer.describe`, the very call the node makes per cloud; results
  are deterministic (latencies aside) and nothing is dropped.
- live (`--live`): the `pointlang` node runs as its own process, the bag is played into ROS 2 at
  `--rate` times its recorded speed, and the node's `/pointlang/objects` are matched back to the
  played clouds by header stamp. Clouds the node skipped (it always works on the newest cloud)
  count as drops.

Predicted objects are matched to the ground-truth objects of the same cloud by box-centre
distance (Hungarian assignment, at most `--match-distance` metres). Ground truth comes from
`/pointlang/ground_truth` (`pointlang-data scene` bags) or from `--labels FILE`; without either,
predictions and latency are still reported and the accuracy fields are null.

`--labels FILE` is JSON: an object mapping a key to a list of `{"category": str, "centre":
[x, y, z]}` (optional `"caption"`), in the cloud's own frame. A key below 10**15 is the cloud's
index in the bag (0-based, in order); a larger one is its header stamp in nanoseconds.

Metrics (JSON keys are flat and dotted, as in `pointlang-eval dataset`): `labels.top1` and
`labels.top5` over matched ground-truth objects, `detection.recall` (matched / ground truth),
`detection.precision` (matched / predicted), `caption.sbert` (MiniLM cosine between generated
and reference captions of matched objects, when the bundle can caption), `latency_ms.p50/p95`
(offline: decode + describe per cloud, with per-stage keys; live: node output received minus
cloud published), `drop_rate`, `frames`, `mode`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ros_pointlang.describe import Describer, DescribeSettings, settings_from_parameters
from ros_pointlang.evaluation.frames import (
    MATCH_DISTANCE_M,
    BagEvaluation,
    caption_pairs,
    choose_question_object,
    match_frames,
    summarise,
)
from ros_pointlang.evaluation.live import LiveEvaluationError, evaluate_live, ros_environment
from ros_pointlang.evaluation.offline import ask_offline, evaluate_offline
from ros_pointlang.evaluation.process import NodeProcessError
from ros_pointlang.evaluation.report import format_value, write_report
from ros_pointlang.evaluation.truth import GroundTruth, load_ground_truth, points_topic_of
from ros_pointlang.parameters import BY_NAME, DESCRIBE_PARAMETERS, read_params_file
from ros_pointlang.pipeline import Pipeline
from ros_pointlang.vocabulary import BUNDLE_PRESET, LABEL_PRESETS, requested_vocabulary


def describe_settings(params: dict[str, Any]) -> DescribeSettings:
    """The DescribeSettings the node builds from these parameters (the same function the node
    uses); `mode` defaults to "scene": scene bags are what this evaluator is for."""
    return settings_from_parameters(params, default_mode="scene")


def resolve_vocabulary(choice: str | None, truth: GroundTruth) -> list[str] | None:
    """None (the bundle's own labels, or what the params file asks for), the ground truth's
    categories, a named preset's labels (`LABEL_PRESETS`, the node's `labels_preset`), or a
    comma-separated list."""
    if choice is None or choice == BUNDLE_PRESET:
        return None
    if choice == "truth":
        if not truth or not truth.categories:
            raise ValueError("--vocabulary truth needs ground truth; the bag has none")
        return truth.categories
    if choice in LABEL_PRESETS:
        return list(LABEL_PRESETS[choice])
    words = [w.strip() for w in choice.split(",") if w.strip()]
    if not words:
        raise ValueError(f"--vocabulary {choice!r} names no label")
    return words


def add_bag_parser(subparsers: Any) -> None:
    """Add the `bag` subcommand to `pointlang-eval`'s subparsers (dispatch with `run_bag`)."""
    bag = subparsers.add_parser(
        "bag",
        help="offline or live rosbag replay evaluation with a report",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    bag.add_argument("bag", type=Path, help="rosbag2 folder (mcap or sqlite3)")
    bag.add_argument("--live", action="store_true", help="replay into the node (its own process)")
    bag.add_argument("--rate", type=float, default=1.0, help="live replay speed; 0 = unpaced")
    bag.add_argument("--bundle", type=Path, help="model bundle (default: the shipped one)")
    bag.add_argument("--json", type=Path, help="write the metrics here")
    bag.add_argument("--report", type=Path, help="folder for report.md, report.html and plots")
    bag.add_argument("--topic", help="PointCloud2 topic (default: the bag's only one)")
    bag.add_argument("--labels", type=Path, help="ground-truth JSON for bags without it")
    bag.add_argument(
        "--params-file", type=Path, help="node params YAML (both modes apply it the same way)"
    )
    bag.add_argument(
        "--mode", choices=("scene", "object"), help="describe mode (default: params file, scene)"
    )
    bag.add_argument("--top-k", type=int, help="labels per object (default: params file, 5)")
    bag.add_argument(
        "--vocabulary",
        help="labels to choose from: bundle (default), truth (the bag's categories), "
        f"a preset ({', '.join(LABEL_PRESETS)}), or a comma-separated list",
    )
    bag.add_argument(
        "--caption-period",
        type=float,
        help="seconds between captions, 0 = every cloud, -1 = never (default: params file, 1)",
    )
    bag.add_argument(
        "--match-distance",
        type=float,
        default=MATCH_DISTANCE_M,
        help="metres between box centres for a prediction to match ground truth",
    )
    bag.add_argument(
        "--min-truth-points",
        type=int,
        default=0,
        help="ignore ground-truth objects with fewer LiDAR returns",
    )
    bag.add_argument("--question", help="ask the node (or offline describer) this at the end")
    bag.add_argument("--drain", type=float, default=5.0, help="live: seconds to wait for outputs")
    bag.add_argument("--no-progress", action="store_true", help="no progress bar")


def effective_parameters(args: argparse.Namespace, truth: GroundTruth) -> dict[str, Any]:
    """Node parameters of the run: the params file's, then the command line's on top."""
    params = read_params_file(args.params_file) if args.params_file else {}
    params = {k: v for k, v in params.items() if k in DESCRIBE_PARAMETERS}
    params["mode"] = args.mode or params.get("mode", "scene")
    if args.top_k is not None:
        params["top_k"] = args.top_k
    if args.caption_period is not None:
        params["caption_period"] = args.caption_period
    params.setdefault("caption_period", BY_NAME["caption_period"].default)
    vocabulary = resolve_vocabulary(args.vocabulary, truth)
    if vocabulary is not None:
        params["labels"] = vocabulary
    # An unknown labels_preset from the params file fails here, before anything starts.
    requested_vocabulary(params.get("labels"), params.get("labels_preset", BUNDLE_PRESET))
    return params


def evaluate_bag(args: argparse.Namespace, caption_encoder: Any = None) -> BagEvaluation:
    """Run one evaluation as the command line describes it."""
    if args.rate < 0:
        raise ValueError(f"--rate must be >= 0 (0 = unpaced), got {args.rate}")
    points_topic = points_topic_of(args.bag, args.topic)
    truth = load_ground_truth(args.bag, args.labels)
    params = effective_parameters(args, truth)
    settings = describe_settings(params)  # validates mode and top_k before anything starts
    pipeline = Pipeline.from_bundle(args.bundle)
    vocabulary = requested_vocabulary(
        params.get("labels"), params.get("labels_preset", BUNDLE_PRESET)
    )  # as the node resolves its labels and labels_preset parameters
    if vocabulary is not None:
        pipeline.set_vocabulary(vocabulary)
    if "unknown_threshold" in params:
        pipeline.unknown_threshold = float(params["unknown_threshold"])
    progress = not args.no_progress
    qa: dict[str, Any] | None = None
    if args.live:
        frames, qa = evaluate_live(
            args.bag,
            points_topic,
            truth,
            params,
            bundle=args.bundle,
            params_file=args.params_file,
            rate=args.rate,
            drain_s=args.drain,
            question=args.question,
            max_distance=args.match_distance,
            progress=progress,
        )
    else:
        describer = Describer(pipeline, settings)
        frames = evaluate_offline(args.bag, describer, points_topic, truth, progress)
        if args.question:
            last = frames[-1] if frames else None
            object_id, category = 0, None
            if last is not None and last.predicted:
                object_id, category = choose_question_object(
                    last.truth,
                    [p.centre for p in last.predicted],
                    [p.id for p in last.predicted],
                    args.match_distance,
                )
            qa = {
                **ask_offline(describer, args.question, object_id),
                "object_id": object_id,
                "true_category": category,
            }
    match_frames(frames, args.match_distance)
    if caption_encoder is None and pipeline.can_generate and caption_pairs(frames):
        caption_encoder = pipeline.text_embedder  # the bundle's MiniLM, as the labels use
    mode = "live" if args.live else "offline"
    metrics = summarise(frames, mode, args.min_truth_points, caption_encoder, pipeline.can_generate)
    metrics["bag"] = str(args.bag)
    metrics["bundle"] = str(pipeline.bundle.path)
    metrics["truth"] = truth.source
    metrics["vocabulary_size"] = len(pipeline.vocabulary)
    metrics["labels.top_k"] = settings.top_k
    if args.live:
        metrics["rate"] = args.rate
    if qa is not None:
        metrics["qa.question"] = args.question
        for key, value in qa.items():
            metrics[f"qa.{key}"] = value
    run_settings = {
        "bag": str(args.bag),
        "points_topic": points_topic,
        "bundle": str(pipeline.bundle.path),
        "ground truth": truth.source,
        "parameters": params,
        "vocabulary": pipeline.vocabulary,
        "match distance (m)": args.match_distance,
        "min truth points": args.min_truth_points,
        "rate": args.rate if args.live else None,
    }
    return BagEvaluation(mode, metrics, frames, run_settings)


def run_bag(args: argparse.Namespace) -> int:
    """The `bag` subcommand: evaluate, print the metrics, write the JSON and the report."""
    ros_environment()
    try:
        evaluation = evaluate_bag(args)
    except (ValueError, LiveEvaluationError, NodeProcessError) as error:
        print(f"pointlang-eval bag: error: {error}", file=sys.stderr)
        return 2
    for key, value in evaluation.metrics.items():
        print(f"{key:32s} {format_value(value, 4)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(evaluation.metrics, indent=2) + "\n")
    if args.report:
        paths = write_report(evaluation, args.report)
        print(f"report: {paths['html']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["dataset"]:
        from training.evaluate_dataset import main as dataset_main  # torch: only for datasets

        return dataset_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="pointlang-eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "dataset",
        help="alignment, caption and QA metrics on `pointlang-data objects` folders (torch)",
        add_help=False,
    )
    add_bag_parser(sub)
    return run_bag(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
