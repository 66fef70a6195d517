"""Caption and QA metrics of a bundle (PointBLIP stage 2), and a page of sample clouds.

`pointlang-eval dataset` calls this on the test objects of seen categories: unseen names never
entered the decoder's training text, so no caption could name them. A runtime bundle generates
through ONNX Runtime with the decoding options in its manifest, exactly as the node does; a
training bundle (captioner.pt beside point_encoder.pt) through torch greedy decoding. Scores
come from `training.caption_metrics.score_samples`, pooled over all objects and per sensor
(`qa.by_sensor.lidar.exact_match`, `caption.by_sensor.lidar.category_named`, ...), with
`caption.repeated_ngram_rate`: the share of captions that say a phrase of two or more words
twice (`ros_pointlang.decode.repeated_phrase`; `caption.references_repeated_ngram_rate` is the
same for the reference captions, the rate a fluent writer has). A runtime bundle may decode
with other options than its manifest's (`decoding`, `caption_decoding`) to measure them.
"""

from __future__ import annotations

import html
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ros_pointlang.decode import DESCRIBE, LabelPrompt, repeated_phrase
from training.caption_metrics import names_category, normalise_answer, score_samples
from training.config import AugmentConfig
from training.data.categories import category_names
from training.dataset import cloud_inputs, load_cloud
from training.models.captioner import (
    PointCaptioner,
    decoder_prompts,
    load_captioner,
    stored_label_prompt,
)
from training.tokenizer import TextTokenizer

if TYPE_CHECKING:
    from ros_pointlang.pipeline import Pipeline

CAPTIONER_FILE = "captioner.pt"


def generation_objects(
    objects: Sequence[dict], unseen: set[str], limit: int = 0, seed: int = 0
) -> list[dict]:
    """Test objects of seen categories, at most `limit` per sensor (a seeded sample; 0 = all)."""
    chosen = []
    for sensor in sorted({o["sensor"] for o in objects}):
        rows = [
            o
            for o in objects
            if o["split"] == "test" and o["sensor"] == sensor and o["category"] not in unseen
        ]
        if limit and len(rows) > limit:
            pick = np.random.default_rng(seed).choice(len(rows), limit, replace=False)
            rows = [rows[i] for i in sorted(pick)]
        chosen += rows
    return chosen


def _record(obj: dict, caption: str) -> dict:
    return {
        "id": obj["id"],
        "category": obj["category"],
        "sensor": obj["sensor"],
        "data_seed": obj.get("data_seed"),  # with id and sensor: `generate_object` remakes it
        "caption": caption,
        "references": list(obj.get("captions", [])),
        "qa": [None] * len(obj.get("qa", [])),
    }


@torch.no_grad()
def evaluate_generation(
    model: PointCaptioner,
    tokenizer: TextTokenizer,
    objects: list[dict],
    features: dict[str, torch.Tensor] | None = None,
    text_encoder: object | None = None,
    max_qa_per_object: int = 0,
    batch_size: int = 32,
    label_prompt: LabelPrompt | None = None,
) -> tuple[dict[str, float], list[dict]]:
    """Greedy captions and answers for objects, scored against their references.

    features: precomputed clean-view "tokens", "embeddings", "size", "size_known" (as
    `token_cache` rows, one per object), else the encoder runs on the clouds. label_prompt:
    the labels a decoder with `label_prompt` reads its label from (`stored_label_prompt`).
    Returns the metrics (`qa.exact_match`, `qa.exact_match.<type>`, `caption.bleu4`,
    `caption.rouge_l`, `caption.sbert` when text_encoder is given, `caption.category_named`)
    and one sample record per object.
    """
    model.eval()
    device = next(model.parameters()).device
    if features is None:
        chunks = []
        for start in range(0, len(objects), batch_size):
            chunk = objects[start : start + batch_size]
            inputs = cloud_inputs(
                chunk, model.config.encoder.num_points, [0] * len(chunk), AugmentConfig(), 0
            )
            embeddings, tokens = model.encoder(*(x.to(device) for x in inputs))
            chunks.append(
                {
                    "tokens": tokens.cpu(),
                    "embeddings": embeddings.cpu(),
                    "size": inputs[1],
                    "size_known": inputs[2],
                }
            )
        features = {k: torch.cat([c[k] for c in chunks]) for k in chunks[0]}
    labels = None
    if model.config.decoder.label_prompt:
        if label_prompt is None:
            raise ValueError(
                "this decoder reads the encoder's label before its prompt; pass label_prompt "
                "(the captioner's stored_label_prompt)"
            )
        labels = label_prompt.choose(features["embeddings"].float().numpy())

    def run(indices: list[int], prompts: list[str]) -> list[str]:
        # The box text comes from the same size rows the bridge reads below.
        which = torch.tensor(indices, dtype=torch.long)
        prompts = decoder_prompts(
            model.config.decoder,
            prompts,
            features["size"][which],
            features["size_known"][which],
            None if labels is None else [labels[i] for i in indices],
        )
        # One prompt length per call: group equal-length prompts so no padding is needed.
        out = [""] * len(prompts)
        groups: dict[int, list[int]] = {}
        for j, p in enumerate(prompts):
            groups.setdefault(len(tokenizer.prompt(p)), []).append(j)
        for members in groups.values():
            for start in range(0, len(members), batch_size):
                part = members[start : start + batch_size]
                ids = torch.tensor([tokenizer.prompt(prompts[j]) for j in part], device=device)
                rows = [indices[j] for j in part]
                feats = [features[k][rows].to(device) for k in ("tokens", "size", "size_known")]
                feats[0] = feats[0].float()
                max_new = (
                    model.config.decoder.max_positions
                    - model.config.decoder.prefix_length
                    - ids.shape[1]
                )
                for j, gen in zip(
                    part, model.generate(*feats, ids, tokenizer.eos_id, max_new), strict=True
                ):
                    out[j] = tokenizer.decode(gen)
        return out

    captions = run(list(range(len(objects))), [DESCRIBE] * len(objects))
    qa_index, questions, answers, types = [], [], [], []
    for i, obj in enumerate(objects):
        pairs = obj.get("qa", [])
        if max_qa_per_object:
            pairs = pairs[:max_qa_per_object]
        for pair in pairs:
            qa_index.append(i)
            questions.append(pair["question"])
            answers.append(pair["answer"])
            types.append(pair["type"])
    predictions = run(qa_index, questions)
    samples = [
        {
            "id": o.get("id"),
            "category": o["category"],
            "caption": c,
            "references": o.get("captions", []),
            "qa": [],
        }
        for o, c in zip(objects, captions, strict=True)
    ]
    for j, i in enumerate(qa_index):
        samples[i]["qa"].append(
            {
                "question": questions[j],
                "answer": answers[j],
                "predicted": predictions[j],
                "type": types[j],
            }
        )
    names = [category_names(o["category"]) for o in objects]
    metrics = score_samples(samples, names, text_encoder)
    return metrics, samples


def runtime_samples(
    pipeline: Pipeline, objects: Sequence[dict], batch_size: int = 64
) -> list[dict]:
    """Captions and answers for objects from a runtime pipeline, one record per object.

    Each object is encoded once; the objects asked one question are answered in one batch.
    """
    from tqdm import tqdm

    from ros_pointlang.pipeline import Encoded

    parts, records = [], []
    for start in tqdm(range(0, len(objects), batch_size), desc="describe", mininterval=10):
        chunk = objects[start : start + batch_size]
        part = pipeline.encode([load_cloud(o) for o in chunk])
        parts.append(part)
        captions = pipeline.caption_encoded(part)
        records += [_record(o, c.text) for o, c in zip(chunk, captions, strict=True)]
    encoded = Encoded.concatenate(parts)
    asked: dict[str, list[tuple[int, int]]] = {}  # question -> (object, pair) indices
    for i, obj in enumerate(objects):
        for j, pair in enumerate(obj.get("qa", [])):
            asked.setdefault(pair["question"], []).append((i, j))
    for question, members in tqdm(asked.items(), desc="answer", mininterval=10):
        for start in range(0, len(members), batch_size):
            group = members[start : start + batch_size]
            answers = pipeline.answer_encoded(encoded.take([i for i, _ in group]), question)
            for (i, j), answer in zip(group, answers, strict=True):
                pair = objects[i]["qa"][j]
                records[i]["qa"][j] = {
                    "question": question,
                    "answer": pair["answer"],
                    "predicted": answer.text,
                    "type": pair["type"],
                }
    return records


def torch_samples(captioner: Path, objects: Sequence[dict]) -> list[dict]:
    """Captions and answers for objects from a training bundle's captioner.pt (torch greedy)."""
    from tokenizers import Tokenizer

    model, state = load_captioner(str(captioner))
    tokenizer = TextTokenizer(Tokenizer.from_str(state["tokenizer"]))
    _, samples = evaluate_generation(
        model, tokenizer, list(objects), label_prompt=stored_label_prompt(state)
    )
    return [
        _record(o, s["caption"]) | {"qa": s["qa"]} for s, o in zip(samples, objects, strict=True)
    ]


def repetition_scores(samples: Sequence[dict]) -> dict[str, float]:
    """`caption.repeated_ngram_rate`: the share of samples whose caption says a phrase of two
    or more words twice; `caption.references_repeated_ngram_rate`: the share of their
    reference captions that do (NaN without references)."""
    references = [r for s in samples for r in s.get("references", [])]
    repeated = [repeated_phrase(s["caption"]) is not None for s in samples]
    return {
        "caption.repeated_ngram_rate": float(np.mean(repeated)) if repeated else float("nan"),
        "caption.references_repeated_ngram_rate": (
            float(np.mean([repeated_phrase(r) is not None for r in references]))
            if references
            else float("nan")
        ),
    }


def language_metrics(
    samples: Sequence[dict], text_encoder: object | None = None
) -> dict[str, float]:
    """Scores pooled over all samples, then per sensor (`qa.by_sensor.<sensor>.exact_match`)."""
    names = [category_names(s["category"]) for s in samples]
    metrics: dict[str, float] = {"generation.num_objects": len(samples)}
    metrics |= score_samples(samples, names, text_encoder) | repetition_scores(samples)
    for sensor in sorted({s["sensor"] for s in samples}):
        rows = [i for i, s in enumerate(samples) if s["sensor"] == sensor]
        chosen = [samples[i] for i in rows]
        scores = score_samples(chosen, [names[i] for i in rows], text_encoder)
        scores |= repetition_scores(chosen)
        for key, value in scores.items():
            kind, rest = key.split(".", 1)
            metrics[f"{kind}.by_sensor.{sensor}.{rest}"] = value
    return metrics


def _correct(pair: dict) -> bool:
    return normalise_answer(pair["predicted"]) == normalise_answer(pair["answer"])


def page_samples(samples: Sequence[dict], count: int) -> list[dict]:
    """`count` samples spread evenly over categories and sensors (sorted by both)."""
    ordered = sorted(samples, key=lambda s: (s["category"], s["sensor"], s["id"]))
    if len(ordered) <= count:
        return ordered
    return [ordered[int(i)] for i in np.linspace(0, len(ordered) - 1, count).round()]


def write_sample_page(
    samples: Sequence[dict],
    objects: Sequence[dict],
    out_dir: str | Path,
    metrics: dict[str, float | str],
    count: int = 24,
) -> Path:
    """index.html with a picture, the generated and reference captions and the answers of
    `count` sample clouds, the scores on top; samples.json holds every sample."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from training.data.contact_sheet import draw_cloud

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "samples.json").write_text(json.dumps(list(samples), indent=1) + "\n")
    clouds = {(o["sensor"], o["id"]): o for o in objects}
    cards = []
    for n, sample in enumerate(page_samples(samples, count)):
        image = f"cloud_{n:02d}.png"
        cloud = load_cloud(clouds[(sample["sensor"], sample["id"])])
        fig = plt.figure(figsize=(3.2, 3.0), dpi=80)
        draw_cloud(fig.add_subplot(projection="3d"), cloud)
        fig.subplots_adjust(0, 0, 1, 1)
        fig.savefig(out / image)
        plt.close(fig)
        named = names_category(sample["caption"], category_names(sample["category"]))
        rows = "".join(
            f"<tr class={'ok' if _correct(q) else 'bad'}>"
            f"<td>{html.escape(q['question'])}</td><td>{html.escape(q['predicted'])}</td>"
            f"<td>{html.escape(q['answer'])}</td></tr>"
            for q in sample["qa"]
        )
        references = "".join(f"<li>{html.escape(r)}</li>" for r in sample["references"][:3])
        cards.append(
            f'<div class=card><img src="{image}" alt="{html.escape(sample["id"])}">'
            f"<h3>{html.escape(sample['category'])} · {html.escape(sample['sensor'])} · "
            f"{len(cloud)} points</h3>"
            f"<p class={'ok' if named else 'bad'}><b>generated:</b> "
            f"{html.escape(sample['caption'])}</p><p><b>references:</b></p><ul>{references}</ul>"
            f"<table><tr><th>question</th><th>answer</th><th>truth</th></tr>{rows}</table></div>"
        )
    scores = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v:.3f}</td></tr>"
        for k, v in metrics.items()
        if k.startswith(("qa.", "caption.")) and not isinstance(v, str)
    )
    style = (
        "body{font-family:sans-serif;margin:1em 2em}.card{display:inline-block;width:430px;"
        "vertical-align:top;margin:8px;padding:8px;border:1px solid #ccc}table{border-collapse:"
        "collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 5px;text-align:left}"
        ".ok{background:#e7f6e7}.bad{background:#fbe3e3}h3{margin:4px 0;font-size:14px}"
    )
    note = textwrap.dedent(
        f"""\
        <p>{len(samples)} test objects of seen categories; {len(cards)} shown. A green caption
        names the object's category; green answers match the truth exactly (the score is
        <code>qa.exact_match</code>). Every sample is in samples.json.</p>"""
    )
    page = out / "index.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>pointlang samples</title>'
        f"<style>{style}</style></head><body><h1>Captions and answers</h1>{note}"
        f"<table>{scores}</table>\n" + "\n".join(cards) + "\n</body></html>\n"
    )
    return page


def evaluate_language(
    bundle: Path,
    pipeline: Pipeline | None,
    objects: Sequence[dict],
    text_encoder: object | None = None,
    samples_dir: Path | None = None,
    decoding: dict[str, int | float] | None = None,
    caption_decoding: dict[str, int | float] | None = None,
) -> tuple[dict[str, float | str], list[dict]]:
    """Caption and QA metrics of a bundle on objects (see `generation_objects`) and the
    generated samples; nothing when the bundle has no caption stage. With samples_dir, the
    sample page goes there.

    pipeline: the runtime bundle's, or None for a training bundle (captioner.pt, torch).
    decoding, caption_decoding: options on top of the runtime bundle's manifest, for every
    prompt and for captions only (`Pipeline.override_decoding`); the metrics record what the
    captions and the answers were decoded with (`generation.caption_decoding`, ...).
    """
    metrics: dict[str, float | str] = {}
    if pipeline is not None and pipeline.can_generate:
        pipeline.override_decoding(decoding, caption_decoding)
        samples = runtime_samples(pipeline, objects)
        # Every question gets the answer options; "what is it?" stands for them all.
        for key, prompt in (("caption_decoding", DESCRIBE), ("answer_decoding", "what is it?")):
            options = pipeline.decoding_for(prompt)
            metrics[f"generation.{key}"] = " ".join(f"{k}={v}" for k, v in options.items())
    elif decoding or caption_decoding:
        raise ValueError(
            f"decoding overrides {decoding or caption_decoding} need a runtime bundle with a "
            f"caption stage; {bundle} is decoded by torch greedy search or has no decoder"
        )
    elif pipeline is None and (Path(bundle) / CAPTIONER_FILE).is_file():
        samples = torch_samples(Path(bundle) / CAPTIONER_FILE, objects)
    else:
        return {}, []
    metrics |= language_metrics(samples, text_encoder)
    if samples_dir is not None:
        write_sample_page(samples, objects, samples_dir, metrics)
    return metrics, samples
