"""Caption and QA scores in `pointlang-eval dataset`, through ONNX Runtime and through torch."""

import json

import pytest
import torch

from export.cli import main as export_main
from ros_pointlang.evaluation.cli import main as eval_main
from ros_pointlang.pipeline import Pipeline
from tests.bundles import add_text_encoder, tiny_caption_args
from tests.tiny_objects import make_manifest
from training.caption import main as caption_main
from training.dataset import load_cloud, load_objects
from training.evaluate_language import (
    evaluate_language,
    generation_objects,
    page_samples,
    runtime_samples,
)
from training.models.encoder import PointEncoder, PointEncoderConfig

torch.set_num_threads(1)

GENERATION_KEYS = (
    "qa.exact_match",
    "qa.exact_match.category",
    "caption.bleu4",
    "caption.rouge_l",
    "caption.sbert",
    "caption.category_named",
    "qa.by_sensor.surface.exact_match",
    "caption.by_sensor.surface.sbert",
)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """A tiny dataset, a training bundle (point_encoder.pt + captioner.pt) and its ONNX export."""
    root = tmp_path_factory.mktemp("language")
    data = make_manifest(root / "data", per_category=6, points=300)
    training = root / "training"
    training.mkdir()
    torch.manual_seed(0)
    encoder = PointEncoder(PointEncoderConfig.named("tiny"))
    torch.save(
        {"model_config": encoder.config.to_dict(), "model": encoder.state_dict()},
        training / "point_encoder.pt",
    )
    args = tiny_caption_args(data, root / "run", training, steps=20)
    assert caption_main(args) == 0
    runtime = root / "runtime"
    exported = [
        "bundle",
        "--encoder",
        str(training / "point_encoder.pt"),
        "--captioner",
        str(training / "captioner.pt"),
        "--out",
        str(runtime),
    ]
    assert export_main(exported) == 0
    return data, training, add_text_encoder(runtime)


def test_dataset_eval_of_a_runtime_bundle_scores_captions_and_answers(bundles, tmp_path):
    data, _, runtime = bundles
    out = tmp_path / "metrics.json"
    argv = ["dataset", str(data), "--bundle", str(runtime), "--json", str(out)]
    assert eval_main([*argv, "--few-shot-seeds", "1", "--update-bundle"]) == 0
    metrics = json.loads(out.read_text())
    manifest = json.loads((runtime / "manifest.json").read_text())
    assert manifest["metrics"] == metrics
    assert 0 < len(manifest["metrics_samples"]) <= 6
    assert {"id", "sensor", "data_seed", "caption", "qa"} <= set(manifest["metrics_samples"][0])
    for key in GENERATION_KEYS:
        assert key in metrics, key
        assert -1.0 <= metrics[key] <= 1.0, key
    assert "zero_shot.seen.top1" in metrics  # the alignment scores are still there
    objects, unseen = load_objects([str(data)])
    seen_test = generation_objects(objects, set(unseen))
    assert metrics["generation.num_objects"] == len(seen_test) > 0

    page = out.with_suffix(".samples")
    html = (page / "index.html").read_text()
    shown = min(24, len(seen_test))
    assert html.count("class=card") == shown
    assert all((page / f"cloud_{n:02d}.png").stat().st_size > 1000 for n in range(shown))
    samples = json.loads((page / "samples.json").read_text())
    assert len(samples) == len(seen_test)
    assert all(q["predicted"] is not None for s in samples for q in s["qa"])


def test_batched_answers_equal_answers_one_object_at_a_time(bundles):
    data, _, runtime = bundles
    pipeline = Pipeline.from_bundle(runtime)
    objects, unseen = load_objects([str(data)])
    chosen = generation_objects(objects, set(unseen))[:5]
    samples = runtime_samples(pipeline, chosen, batch_size=2)  # answers span several batches
    for obj, sample in zip(chosen, samples, strict=True):
        cloud = load_cloud(obj)
        assert sample["caption"] == pipeline.caption(cloud).text
        for pair, record in zip(obj["qa"], sample["qa"], strict=True):
            assert record["question"] == pair["question"]
            assert record["predicted"] == pipeline.answer(cloud, pair["question"]).text


def test_training_bundle_is_scored_through_torch(bundles):
    data, training, _ = bundles
    objects, unseen = load_objects([str(data)])
    chosen = generation_objects(objects, set(unseen))
    metrics, samples = evaluate_language(training, None, chosen)
    assert {"qa.exact_match", "caption.bleu4", "qa.by_sensor.surface.exact_match"} <= set(metrics)
    assert "caption.sbert" not in metrics  # no text encoder given
    assert [s["id"] for s in samples] == [o["id"] for o in chosen]
    assert all(len(s["qa"]) == len(o["qa"]) for s, o in zip(samples, chosen, strict=True))


def test_bundle_without_a_caption_stage_gives_no_generation_scores(tiny_bundle, bundles):
    data, _, _ = bundles
    objects, unseen = load_objects([str(data)])
    chosen = generation_objects(objects, set(unseen))
    assert evaluate_language(tiny_bundle, Pipeline.from_bundle(tiny_bundle), chosen) == ({}, [])


def test_generation_objects_are_seen_test_objects_sampled_per_sensor():
    objects = [
        {"id": f"{c}{i}", "category": c, "split": s, "sensor": sensor}
        for sensor in ("lidar", "surface")
        for c, s in (("chair", "test"), ("cone", "test"), ("chair", "train"))
        for i in range(10)
    ]
    everything = generation_objects(objects, {"cone"})
    assert len(everything) == 20
    assert {(o["category"], o["split"]) for o in everything} == {("chair", "test")}
    sample = generation_objects(objects, {"cone"}, limit=4, seed=3)
    assert [o["sensor"] for o in sample] == ["lidar"] * 4 + ["surface"] * 4
    assert sample == generation_objects(objects, {"cone"}, limit=4, seed=3)


def test_page_samples_spread_over_categories():
    samples = [{"id": str(i), "category": c, "sensor": "lidar"} for c in "abcd" for i in range(10)]
    picked = page_samples(samples, 4)
    assert [s["category"] for s in picked] == list("abcd")
    assert page_samples(samples[:3], 4) == sorted(samples[:3], key=lambda s: s["id"])


def test_bad_generation_limit_is_refused(bundles):
    data, _, runtime = bundles
    with pytest.raises(SystemExit):
        eval_main(["dataset", str(data), "--bundle", str(runtime), "--generation-limit", "-1"])
