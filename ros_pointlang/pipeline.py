"""Points in, language out: preprocess → encode → labels / caption / answer, without torch.

    pipeline = Pipeline.from_bundle()              # the shipped default model, ONNX Runtime CPU
    pipeline.labels(xyz, top_k=5)                  # [Label("chair", 0.91, 0.42), ...]
    pipeline.labels(xyz, vocabulary=["mug: a small cylinder with a handle", "drill"])
    pipeline.caption(xyz).text, pipeline.answer(xyz, "how many legs does it have?").text

`xyz` is one object's (N, 3) points in metres, sensor frame, z up. With `metric=False` (CAD
data in arbitrary units) the encoder is told the size is unknown. A label with a description
("mug: a small cylinder with a handle") is embedded with it and answered as its name ("mug").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ros_pointlang.backends import PROFILED_BACKENDS, BackendOptions, open_session
from ros_pointlang.bundle import Bundle, BundleError, load_bundle
from ros_pointlang.decode import DESCRIBE, Generated, Language
from ros_pointlang.preprocess import PreparedObject, prepare_objects
from ros_pointlang.profiles import bundle_profiles
from ros_pointlang.vocabulary import (
    Label,
    TextEmbedder,
    clean_vocabulary,
    label_name,
    rank_labels,
)

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Encoded:
    """The encoder's outputs for a batch of objects, with the sizes the bridge also needs."""

    embeddings: FloatArray  # (B, E) unit vectors
    tokens: FloatArray  # (B, G+1, D) for the bridge
    size: FloatArray  # (B, 3) box size in metres
    size_known: npt.NDArray[np.bool_]  # (B,)

    def select(self, index: int) -> Encoded:
        """Object `index` as a batch of one."""
        return self.take([index])

    @staticmethod
    def concatenate(parts: Sequence[Encoded]) -> Encoded:
        """One batch of every object of `parts`, in order."""
        if not parts:
            raise ValueError("nothing to concatenate; expected at least one Encoded batch")
        return Encoded(
            np.concatenate([p.embeddings for p in parts]),
            np.concatenate([p.tokens for p in parts]),
            np.concatenate([p.size for p in parts]),
            np.concatenate([p.size_known for p in parts]),
        )

    def take(self, indices: Sequence[int]) -> Encoded:
        """The objects at `indices`, in that order, as one batch."""
        rows = np.asarray(indices, dtype=np.int64)
        return Encoded(
            self.embeddings[rows], self.tokens[rows], self.size[rows], self.size_known[rows]
        )


def _bundle_vocabulary(bundle: Bundle) -> tuple[list[str], FloatArray]:
    """The bundle's labels, cleaned as run-time labels are (the cache's keys), and embeddings."""
    labels, embeddings = bundle.label_embeddings()
    try:
        return clean_vocabulary(labels), embeddings
    except ValueError as error:
        path = bundle.file(bundle.labels["embeddings_file"])
        raise BundleError(f"label embeddings {path} hold no usable vocabulary ({error})") from error


class Pipeline:
    """A loaded bundle on one backend. Not thread-safe: give each thread its own."""

    def __init__(self, bundle: Bundle, options: BackendOptions) -> None:
        if options.name in PROFILED_BACKENDS and not options.profiles:
            options = replace(options, profiles=bundle_profiles(bundle))
        self.bundle = bundle
        self.options = options
        encoder = bundle.encoder
        self.num_points = int(encoder["num_points"])
        self.logit_scale = float(encoder["logit_scale"])
        self._encoder = open_session(bundle.file(encoder["file"]), options)
        missing = {"points", "size", "size_known"} - set(self._encoder.input_names)
        if missing:
            raise BundleError(
                f"{encoder['file']} lacks the inputs {sorted(missing)}; it is not a point encoder"
            )
        self._unknown_threshold = float(bundle.labels["unknown_threshold"])
        self._templates = list(bundle.labels["prompt_templates"])
        default_labels, default_embeddings = _bundle_vocabulary(bundle)
        self._label_cache = dict(zip(default_labels, default_embeddings, strict=True))
        self._vocabulary = default_labels
        self._text: TextEmbedder | None = None
        self._language = Language(bundle, options) if bundle.generation else None

    @classmethod
    def from_bundle(
        cls,
        path: str | Path | None = None,
        backend: str | BackendOptions = "onnxruntime",
        threads: int = 0,
        fallback: bool = False,
    ) -> Pipeline:
        """Load and validate a bundle (the shipped default when `path` is None)."""
        options = (
            backend
            if isinstance(backend, BackendOptions)
            else BackendOptions(name=backend, threads=threads, fallback=fallback)
        )
        return cls(load_bundle(path), options)

    # -- vocabulary -------------------------------------------------------------------------

    @property
    def unknown_threshold(self) -> float:
        """Cosine similarity below which the first label is "unknown" (the bundle's calibrated
        value until set)."""
        return self._unknown_threshold

    @unknown_threshold.setter
    def unknown_threshold(self, threshold: float) -> None:
        if not np.isfinite(threshold):
            raise ValueError(f"unknown_threshold must be a finite cosine, got {threshold}")
        self._unknown_threshold = float(threshold)

    def reset_vocabulary(self) -> None:
        """Back to the bundle's default vocabulary."""
        self.set_vocabulary(self.bundle_vocabulary)

    @property
    def bundle_vocabulary(self) -> list[str]:
        """The bundle's own labels (its label_embeddings.npz), as `clean_vocabulary` writes them."""
        return _bundle_vocabulary(self.bundle)[0]

    @property
    def vocabulary(self) -> list[str]:
        """The labels as given, descriptions included ("mug: a small cylinder with a handle")."""
        return list(self._vocabulary)

    @property
    def label_names(self) -> list[str]:
        """The names the labels are published as ("mug"), in vocabulary order."""
        return [label_name(label) for label in self._vocabulary]

    def set_vocabulary(self, labels: Sequence[str]) -> None:
        """Make `labels` ("name" or "name: description", names distinct) the default
        vocabulary; new labels are embedded once and cached."""
        words = clean_vocabulary(labels)
        self.label_embeddings(words)  # first: if it fails the vocabulary stays as it was
        self._vocabulary = words

    @property
    def text_embedder(self) -> TextEmbedder:
        """The bundle's MiniLM (ONNX), loaded when first needed: new label words and caption
        similarity use it."""
        if self._text is None:
            self._text = TextEmbedder.from_bundle(self.bundle, self.options)
        return self._text

    def label_embeddings(self, labels: Sequence[str]) -> FloatArray:
        """Unit text embeddings (C, E) of `labels`, computed once per label text (a name with
        a description is another text than the name alone)."""
        labels = clean_vocabulary(labels)
        new = [w for w in labels if w not in self._label_cache]
        if new:
            embedded = self.text_embedder.embed_labels(new, self._templates)
            for word, emb in zip(new, embedded, strict=True):
                self._label_cache[word] = emb
        return np.stack([self._label_cache[w] for w in labels])

    # -- encoding ---------------------------------------------------------------------------

    def encode(self, clouds: Sequence[npt.ArrayLike], metric: bool = True) -> Encoded:
        """Run the encoder on several objects in one call."""
        if len(clouds) == 0:
            raise ValueError("no clouds to encode; expected at least one")
        return self.encode_objects(self.prepare_all(clouds), metric)

    def prepare(self, cloud: npt.ArrayLike) -> PreparedObject:
        """One object's points checked and prepared for the encoder (its box included)."""
        return self.prepare_all([cloud])[0]

    def prepare_all(self, clouds: Sequence[npt.ArrayLike]) -> list[PreparedObject]:
        """`prepare` of several objects, their farthest point sampling run together."""
        return prepare_objects([_as_points(c) for c in clouds], self.num_points)

    def encode_objects(self, prepared: Sequence[PreparedObject], metric: bool = True) -> Encoded:
        """Run the encoder on objects `prepare` made (so a caller that needs the boxes too
        computes each box once)."""
        if len(prepared) == 0:
            raise ValueError("no objects to encode; expected at least one")
        points = np.stack([p.points for p in prepared])
        return self.encode_prepared(points, np.stack([p.size for p in prepared]), metric)

    def encode_prepared(self, points: FloatArray, size: FloatArray, metric: bool) -> Encoded:
        """Run the encoder on clouds already prepared (B, N, 3) with their sizes (B, 3)."""
        feeds = {
            "points": np.ascontiguousarray(points, np.float32),
            "size": np.ascontiguousarray(size, np.float32),
            "size_known": np.full(len(points), bool(metric)),
        }
        embeddings, tokens = self._encoder.run(["embedding", "tokens"], feeds)
        return Encoded(
            np.asarray(embeddings, np.float32),
            np.asarray(tokens, np.float32),
            feeds["size"],
            feeds["size_known"],
        )

    def embed(self, points: npt.ArrayLike, metric: bool = True) -> FloatArray:
        """The unit point embedding (E,) of one object."""
        return self.encode([points], metric).embeddings[0]

    # -- labels -----------------------------------------------------------------------------

    def labels(
        self,
        points: npt.ArrayLike,
        top_k: int = 5,
        vocabulary: Sequence[str] | None = None,
        metric: bool = True,
    ) -> list[Label]:
        """Top-k labels of one object, best first; "unknown" first if nothing fits."""
        return self.labels_batch([points], top_k, vocabulary, metric)[0]

    def labels_batch(
        self,
        clouds: Sequence[npt.ArrayLike],
        top_k: int = 5,
        vocabulary: Sequence[str] | None = None,
        metric: bool = True,
    ) -> list[list[Label]]:
        return self.labels_from_embeddings(
            self.encode(clouds, metric).embeddings, top_k, vocabulary
        )

    def labels_from_embeddings(
        self, embeddings: FloatArray, top_k: int = 5, vocabulary: Sequence[str] | None = None
    ) -> list[list[Label]]:
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        words = clean_vocabulary(vocabulary) if vocabulary is not None else self._vocabulary
        similarity = embeddings @ self.label_embeddings(words).T  # (B, C)
        names = [label_name(w) for w in words]  # published without their descriptions
        return rank_labels(similarity, names, top_k, self._unknown_threshold, self.logit_scale)

    # -- language ---------------------------------------------------------------------------

    def caption(self, points: npt.ArrayLike, metric: bool = True, beam: int = 1) -> Generated:
        """Describe one object."""
        return self.caption_encoded(self.encode([points], metric), beam)[0]

    def answer(
        self, points: npt.ArrayLike, question: str, metric: bool = True, beam: int = 1
    ) -> Generated:
        """Answer a question about one object."""
        return self.answer_encoded(self.encode([points], metric), question, beam)[0]

    def caption_encoded(self, encoded: Encoded, beam: int = 1) -> list[Generated]:
        """Captions of already encoded objects (the encoder runs once for labels and words)."""
        return self._generate(encoded, DESCRIBE, beam)

    def caption_steps(self, encoded: Encoded, beam: int = 1) -> Iterator[list[Generated] | None]:
        """`caption_encoded` one decoder run per `next()`: None until the captions are done."""
        return self._require_language().generate_steps(
            encoded.tokens, encoded.size, encoded.size_known, DESCRIBE, beam, encoded.embeddings
        )

    def answer_encoded(self, encoded: Encoded, question: str, beam: int = 1) -> list[Generated]:
        if not question or not question.strip():
            raise ValueError("the question is empty; expected a sentence such as 'what is this?'")
        return self._generate(encoded, question.strip(), beam)

    @property
    def can_generate(self) -> bool:
        return self._language is not None

    def override_decoding(
        self,
        decoding: Mapping[str, int | float] | None = None,
        caption: Mapping[str, int | float] | None = None,
    ) -> None:
        """Decode with these options on top of the manifest's generation.decoding (every
        prompt) and generation.caption_decoding (captions only); see `Language.override`."""
        self._require_language().override(decoding, caption)

    def decoding_for(self, prompt: str) -> dict[str, int | float]:
        """The decoding options a prompt gets (DESCRIBE: the caption's)."""
        return self._require_language().options_for(prompt)

    def _generate(self, encoded: Encoded, prompt: str, beam: int) -> list[Generated]:
        return self._require_language().generate(
            encoded.tokens, encoded.size, encoded.size_known, prompt, beam, encoded.embeddings
        )

    def _require_language(self) -> Language:
        if self._language is None:
            raise BundleError(
                f"bundle {self.bundle.path} has no caption/answer stage (no 'generation' in "
                "its manifest); export it with --captioner"
            )
        return self._language


def _as_points(cloud: npt.ArrayLike) -> FloatArray:
    points = np.asarray(cloud, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points must be an (N, 3) array in metres, got shape {points.shape}")
    if len(points) == 0:
        raise ValueError("the cloud is empty; expected at least one point")
    if not np.isfinite(points).all():
        raise ValueError("the cloud has NaN or infinite coordinates; drop them first")
    return points
