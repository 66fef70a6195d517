"""The label vocabulary: prompt templates, "unknown", the text embedder and label ranking.

A label becomes a text embedding as the mean over `PROMPT_TEMPLATES` (CLIP's prompt
ensembling); a cloud's labels are the vocabulary ranked by cosine similarity to its embedding,
with "unknown" first when even the best is below the calibrated threshold. Training embeds the
default vocabulary with the same templates at export time (the bundle stores them), and labels
the operator adds at run time are embedded here through the bundle's MiniLM ONNX, without torch.

A label is a name, optionally with a description ("mug: a small cylinder with a handle"): the
embedding uses the whole text (`label_prompts`), the published label is the name alone. Named
presets (`LABEL_PRESETS`) stand in for a list of labels: the node's `labels_preset` parameter and
`pointlang-eval bag --vocabulary` choose among them; "bundle" (or "") is the bundle's own labels,
the categories its encoder trained on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ros_pointlang.backends import BackendOptions, open_session
from ros_pointlang.bundle import Bundle

FloatArray = npt.NDArray[np.float32]
UNKNOWN = "unknown"

# Prompt wording shared by training ("label captions"), export and zero-shot labels.
PROMPT_TEMPLATES: tuple[str, ...] = (
    "a point cloud of a {}.",
    "a 3D scan of a {}.",
    "a {}.",
    "a LiDAR scan of a {}.",
    "a 3D model of a {}.",
    "there is a {} here.",
)

# A named preset for benchmark users (`labels_preset: modelnet40`): the 40 ModelNet40
# categories as people write them, in ModelNet's order. The data engine's
# training/data/categories.py holds the same names with ModelNet's underscores (a test ties them).
MODELNET40: tuple[str, ...] = (
    "airplane",
    "bathtub",
    "bed",
    "bench",
    "bookshelf",
    "bottle",
    "bowl",
    "car",
    "chair",
    "cone",
    "cup",
    "curtain",
    "desk",
    "door",
    "dresser",
    "flower pot",
    "glass box",
    "guitar",
    "keyboard",
    "lamp",
    "laptop",
    "mantel",
    "monitor",
    "night stand",
    "person",
    "piano",
    "plant",
    "radio",
    "range hood",
    "sink",
    "sofa",
    "stairs",
    "stool",
    "table",
    "tent",
    "toilet",
    "tv stand",
    "vase",
    "wardrobe",
    "xbox",
)

# The preset that means "the bundle's own labels" (its label_embeddings.npz); "" means it too.
BUNDLE_PRESET = "bundle"
# Named vocabularies for the node's `labels_preset` and `pointlang-eval bag --vocabulary`.
LABEL_PRESETS: dict[str, tuple[str, ...]] = {"modelnet40": MODELNET40}
# Every value `labels_preset` takes.
PRESET_CHOICES: tuple[str, ...] = (BUNDLE_PRESET, *LABEL_PRESETS, "")


@dataclass(frozen=True)
class Label:
    """One label for a cloud: `score` is its probability over the vocabulary, `similarity`
    the cosine between cloud and label embeddings (what the unknown threshold applies to)."""

    label: str
    score: float
    similarity: float


def normalise_label(text: str) -> str:
    """A category in the words labels use: underscores become spaces ("flower_pot" →
    "flower pot"), white space is folded, everything is lower case."""
    return " ".join(str(text).strip().lower().replace("_", " ").split())


def split_label(text: str) -> tuple[str, str]:
    """(name, description) of a label as an operator writes it: "mug: a small cylinder with a
    handle" → ("mug", "a small cylinder with a handle"); "drill" → ("drill", "")."""
    name, _, description = str(text).partition(":")
    name = " ".join(name.split())
    if not name:
        raise ValueError(f"label {text!r} has no name; expected 'name' or 'name: description'")
    return name, " ".join(description.split())


def label_prompts(label: str, templates: Sequence[str] = PROMPT_TEMPLATES) -> list[str]:
    """The sentences one label's embedding is the mean of: every template with its name, and
    for a described label every template again with "name, description" (how an operator tells
    the model what a word it never trained on looks like)."""
    name, description = split_label(label)
    prompts = [t.format(name) for t in templates]
    if description:
        prompts += [t.format(f"{name}, {description}") for t in templates]
    return prompts


def label_name(text: str) -> str:
    """The name a label is published as: "mug: a small cylinder with a handle" → "mug"."""
    return split_label(text)[0]


def clean_vocabulary(labels: Sequence[str]) -> list[str]:
    """Each label as "name" or "name: description", white space folded; raises unless `labels`
    is a non-empty list of labels with distinct names. Names are compared case-folded (the
    text encoder is uncased, so "Mug" and "mug" would be one embedding published twice), and a
    description never makes a second label of the same name."""
    if isinstance(labels, str):
        raise ValueError(f"vocabulary must be a list of labels, got the string {labels!r}")
    if not labels:
        raise ValueError(f"vocabulary must be non-empty labels, got {list(labels)!r}")
    cleaned, names = [], []
    for text in labels:
        try:
            name, description = split_label(text)
        except ValueError:
            raise ValueError(
                f"vocabulary label {str(text)!r} has no name; expected 'name' or "
                "'name: description' (non-empty labels)"
            ) from None
        cleaned.append(f"{name}: {description}" if description else name)
        names.append(name)
    counts = Counter(name.casefold() for name in names)
    duplicates = sorted({name for name in names if counts[name.casefold()] > 1})
    if duplicates:
        raise ValueError(
            f"vocabulary has duplicate label names {duplicates}; expected each name once "
            "(a description does not make another label)"
        )
    return cleaned


def preset_vocabulary(preset: str) -> list[str] | None:
    """The labels of a named preset; None for the bundle's own ("bundle" or "")."""
    if preset in (BUNDLE_PRESET, ""):
        return None
    if preset not in LABEL_PRESETS:
        raise ValueError(
            f"labels preset {preset!r} is unknown; expected one of {list(PRESET_CHOICES)}"
        )
    return list(LABEL_PRESETS[preset])


def requested_vocabulary(labels: Sequence[str] | None, preset: str = "") -> list[str] | None:
    """The vocabulary the node's `labels` and `labels_preset` parameters ask for: `labels` when
    non-empty (it wins over the preset), else the preset's labels; None: the bundle's own.
    Raises on an unknown preset even when `labels` wins, so a typo never waits to bite."""
    from_preset = preset_vocabulary(preset)
    return list(labels) if labels else from_preset


def rank_labels(
    similarity: npt.ArrayLike,
    words: Sequence[str],
    top_k: int,
    unknown_threshold: float,
    logit_scale: float,
) -> list[list[Label]]:
    """Top-k labels per row of cosine similarities (B, C) against `words` (the published
    names, not descriptions), best first; `score` is the softmax
    of `logit_scale * similarity` over the whole vocabulary. A row whose best cosine is below
    `unknown_threshold` gets "unknown" first (its score: 1 - the best label's)."""
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    similarity = np.atleast_2d(np.asarray(similarity))
    logits = logit_scale * similarity
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    results = []
    for sim_row, prob_row in zip(similarity, probs, strict=True):
        order = np.argsort(-sim_row, kind="stable")[:top_k]
        ranked = [Label(words[i], float(prob_row[i]), float(sim_row[i])) for i in order]
        if ranked[0].similarity < unknown_threshold:
            unknown = Label(UNKNOWN, 1.0 - ranked[0].score, ranked[0].similarity)
            ranked = [unknown, *ranked[: top_k - 1]]
        results.append(ranked)
    return results


class TextEmbedder:
    """Unit sentence embeddings (B, D) from the bundle's text_encoder.onnx."""

    def __init__(
        self, model: Path, tokenizer: Path, options: BackendOptions, max_tokens: int = 128
    ) -> None:
        from tokenizers import Tokenizer

        if not model.is_file() or not tokenizer.is_file():
            raise ValueError(
                f"the text encoder ({model.name}, {tokenizer.name}) is not in {model.parent}; "
                f"new labels need it: run `pointlang-export text-encoder --bundle {model.parent}`"
            )
        self._session = open_session(model, options)
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer))
        except Exception as error:
            raise ValueError(f"tokenizer {tokenizer} cannot be read ({error})") from error
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.enable_padding()

    def embed(self, texts: list[str]) -> FloatArray:
        """One embedding per text, each run on its own: the int8 encoder quantises activations
        with one scale per run, so in a batch a text's embedding would depend on its neighbours
        and their padding, and a word would rank differently in another vocabulary."""
        if not texts:
            raise ValueError("no texts to embed; expected at least one")
        rows = []
        for encoding in self._tokenizer.encode_batch(texts):
            feeds = {
                "input_ids": np.array([encoding.ids], np.int64),
                "attention_mask": np.array([encoding.attention_mask], np.int64),
            }
            (embedding,) = self._session.run(["embedding"], feeds)
            rows.append(np.asarray(embedding, np.float32)[0])
        return np.stack(rows)

    def encode(self, texts: list[str]) -> FloatArray:
        """The same as `embed`: the `encode(texts)` call the caption similarity expects."""
        return self.embed(texts)

    def embed_labels(
        self, labels: list[str], templates: Sequence[str] = PROMPT_TEMPLATES
    ) -> FloatArray:
        """One unit embedding per label: the normalised mean over its `label_prompts`."""
        per_label = [label_prompts(label, templates) for label in labels]
        emb = self.embed([p for prompts in per_label for p in prompts])
        ends = np.cumsum([len(prompts) for prompts in per_label])
        means = np.stack([part.mean(axis=0) for part in np.split(emb, ends[:-1])])  # (C, D)
        return (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)

    @classmethod
    def from_bundle(cls, bundle: Bundle, options: BackendOptions | None = None) -> TextEmbedder:
        """The embedder of a loaded bundle (its text_encoder entry)."""
        text = bundle.text_encoder
        return cls(
            bundle.file(text["file"]),
            bundle.file(text["tokenizer_file"]),
            options or BackendOptions(),
            int(text.get("max_tokens", 128)),
        )
