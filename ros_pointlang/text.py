"""Sentence embeddings at run time: MiniLM as ONNX + the `tokenizers` library, no torch.

Labels the operator adds at run time become text embeddings here, with the same prompt
ensemble the default vocabulary was embedded with at export time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from ros_pointlang.backends import BackendOptions, open_session

FloatArray = npt.NDArray[np.float32]


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
        if not texts:
            raise ValueError("no texts to embed; expected at least one")
        encoded = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encoded], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], np.int64),
        }
        (embedding,) = self._session.run(["embedding"], feeds)
        return np.asarray(embedding, np.float32)

    def embed_labels(self, labels: list[str], templates: list[str]) -> FloatArray:
        """One unit embedding per label: the normalised mean over the prompt templates."""
        prompts = [t.format(label) for label in labels for t in templates]
        emb = self.embed(prompts).reshape(len(labels), len(templates), -1).mean(axis=1)
        return (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
