"""Caption and QA scores in `pointlang-eval dataset`, through ONNX Runtime and through torch,
and the decoding options they are measured with (the manifest's, or overrides)."""

import json
import math
import shutil

import pytest
import torch

from export.cli import CAPTION_DECODING
from export.cli import main as export_main
from ros_pointlang.bundle import BundleError
from ros_pointlang.decode import DESCRIBE, box_prompt, finish, generate_text
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
    repetition_scores,
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
    "caption.repeated_ngram_rate",
    "caption.references_repeated_ngram_rate",
    "qa.by_sensor.surface.exact_match",
    "caption.by_sensor.surface.sbert",
    "caption.by_sensor.surface.repeated_ngram_rate",
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
    runtime = shutil.copytree(runtime, tmp_path / "bundle")  # --update-bundle rewrites it
    argv = ["dataset", str(data), "--bundle", str(runtime), "--json", str(out)]
    overrides = ["--caption-decoding", "no_repeat_ngram=3", "repetition_penalty=1.2"]
    assert eval_main([*argv, "--few-shot-seeds", "1", *overrides, "--update-bundle"]) == 0
    metrics = json.loads(out.read_text())
    manifest = json.loads((runtime / "manifest.json").read_text())
    assert manifest["metrics"] == metrics
    # What the captions and answers were decoded with, and how to measure it again.
    assert metrics["generation.caption_decoding"] == (
        "max_new_tokens=40 no_repeat_ngram=3 repetition_penalty=1.2"
    )
    assert metrics["generation.answer_decoding"] == "max_new_tokens=40"
    assert manifest["metrics_command"].endswith(" ".join(overrides))
    # The bundle's own options are unchanged: the export's defaults.
    assert manifest["generation"]["caption_decoding"] == CAPTION_DECODING
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


def _with_generation(bundle, where, **changes):
    """A copy of bundle whose manifest's generation entry has changes (None: key removed)."""
    copy = shutil.copytree(bundle, where)
    manifest = json.loads((copy / "manifest.json").read_text())
    for key, value in changes.items():
        if value is None:
            manifest["generation"].pop(key, None)
        else:
            manifest["generation"][key] = value
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def _decoded(pipeline, encoded, prompt, **options):
    """Texts as `generate_text` gives them with exactly these options (the box prompt on)."""
    language = pipeline._require_language()
    prefix = language.generator.prefix(encoded.tokens, encoded.size, encoded.size_known)
    assert language.box_prompt  # caption_tiny.yaml turns it on
    sizes = zip(encoded.size, encoded.size_known, strict=True)
    prompts = [box_prompt(prompt, s, bool(k)) for s, k in sizes]
    return [
        t
        for t, _ in generate_text(
            language.generator, language.tokenizer, prefix, prompts, **options
        )
    ]


def test_caption_decoding_applies_to_captions_only(bundles, tmp_path):
    data, _, runtime = bundles
    objects, unseen = load_objects([str(data)])
    clouds = [load_cloud(o) for o in generation_objects(objects, set(unseen))[:4]]
    caption_options = {"max_new_tokens": 3, "no_repeat_ngram": 2}
    bundle = _with_generation(runtime, tmp_path / "b", caption_decoding=caption_options)
    pipeline = Pipeline.from_bundle(bundle)
    assert pipeline.decoding_for(DESCRIBE) == {"max_new_tokens": 3, "no_repeat_ngram": 2}
    assert pipeline.decoding_for("what is it?") == {"max_new_tokens": 40}
    encoded = pipeline.encode(clouds)
    captions = [c.text for c in pipeline.caption_encoded(encoded)]
    assert captions == _decoded(pipeline, encoded, DESCRIBE, **caption_options)
    # The node's path: a caption a few decoder runs at a time, with the same options.
    assert [c.text for c in finish(pipeline.caption_steps(encoded))] == captions
    for question in ("what is it?", "how tall is it?"):
        answers = [a.text for a in pipeline.answer_encoded(encoded, question)]
        assert answers == _decoded(pipeline, encoded, question, max_new_tokens=40)
    long = _decoded(pipeline, encoded, DESCRIBE, max_new_tokens=40)
    assert captions != long  # the caption options changed something (three tokens at most)
    # Repetition control leaves digits and punctuation alone: sizes may repeat.
    language = pipeline._require_language()
    free = language.generator.free_tokens
    assert {language.tokenizer.token_to_id(t) for t in ("0", "5", ".")} <= free
    assert language.tokenizer.encode(" m", add_special_tokens=False).ids[-1] not in free


def test_a_bundle_without_caption_decoding_decodes_captions_as_before(bundles, tmp_path):
    data, _, runtime = bundles
    objects, unseen = load_objects([str(data)])
    clouds = [load_cloud(o) for o in generation_objects(objects, set(unseen))[:4]]
    old = Pipeline.from_bundle(_with_generation(runtime, tmp_path / "old", caption_decoding=None))
    assert old.decoding_for(DESCRIBE) == old.decoding_for("what?") == {"max_new_tokens": 40}
    encoded = old.encode(clouds)
    captions = old.caption_encoded(encoded)
    assert [c.text for c in captions] == _decoded(old, encoded, DESCRIBE, max_new_tokens=40)
    # Overrides (what `pointlang-eval dataset --caption-decoding` sets) reach captions alone.
    old.override_decoding(caption={"max_new_tokens": 2})
    assert old.decoding_for(DESCRIBE) == {"max_new_tokens": 2}
    assert old.decoding_for("what?") == {"max_new_tokens": 40}
    old.override_decoding(decoding={"repetition_penalty": 1.5})
    assert old.decoding_for("what?") == {"max_new_tokens": 40, "repetition_penalty": 1.5}
    assert old.decoding_for(DESCRIBE) == {"max_new_tokens": 2, "repetition_penalty": 1.5}
    with pytest.raises(ValueError, match="caption decoding override has the unknown decoding"):
        old.override_decoding(caption={"beam": 4})


def test_a_bad_decoding_option_in_a_manifest_is_refused_with_one_sentence(bundles, tmp_path):
    _, _, runtime = bundles
    bad = _with_generation(runtime, tmp_path / "bad", caption_decoding={"no_repeat_ngram": -3})
    with pytest.raises(
        BundleError,
        match=r"generation.caption_decoding of .* has no_repeat_ngram=-3; expected an n-gram",
    ):
        Pipeline.from_bundle(bad)


def test_bad_decoding_overrides_are_refused_with_one_sentence(bundles, capsys):
    data, training, runtime = bundles
    argv = ["dataset", str(data), "--bundle", str(runtime)]
    for words, message in (
        (
            ["--caption-decoding", "no_repeat=3"],
            "--caption-decoding 'no_repeat=3' is not name=value",
        ),
        (["--decoding", "max_new_tokens=many"], "--decoding 'max_new_tokens=many' gives"),
    ):
        with pytest.raises(SystemExit):
            eval_main([*argv, *words])
        assert message in capsys.readouterr().err
    objects, unseen = load_objects([str(data)])
    chosen = generation_objects(objects, set(unseen))[:2]
    with pytest.raises(ValueError, match="need a runtime bundle with a caption stage"):
        evaluate_language(training, None, chosen, caption_decoding={"no_repeat_ngram": 3})


def test_repetition_scores_count_captions_that_say_a_phrase_twice():
    samples = [
        {
            "caption": "a box with three compartments and three compartments",
            "references": ["a box"],
        },
        {
            "caption": "a round table, 0.5 m by 0.5 m",  # sizes may repeat
            "references": ["0.5 m by 0.5 m", "it is as tall as it is wide", "a table"],
        },
        {"caption": "a tall lamp", "references": []},
        {"caption": "a lamp, a lamp", "references": []},
    ]
    assert repetition_scores(samples) == {
        "caption.repeated_ngram_rate": 0.5,
        "caption.references_repeated_ngram_rate": 0.25,
    }
    no_references = repetition_scores([{"caption": "a lamp"}])
    assert math.isnan(no_references["caption.references_repeated_ngram_rate"])


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
