"""Open-vocabulary labels: zero-shot prompt ensembles, an "unknown" threshold, few-shot adapters.

Zero-shot: each label becomes the mean of its prompt embeddings (CLIP's prompt ensembling),
and a cloud takes the label of highest cosine similarity, or "unknown" if even that is below a
threshold calibrated on held-out objects (the ranking the robot runs:
`ros_pointlang.vocabulary.rank_labels`). Few-shot (PointCLIP / CLIP-Adapter): a small residual
MLP on the frozen point embeddings, with the label embeddings as the classifier, fitted on k
examples per class; it starts as the zero-shot classifier and only learns the correction.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ros_pointlang.vocabulary import PROMPT_TEMPLATES, label_prompts
from training.text import TextEncoder


def label_embeddings(
    text_encoder: TextEncoder, labels: list[str], templates: tuple[str, ...] = PROMPT_TEMPLATES
) -> torch.Tensor:
    """Unit embeddings (C, 384), one per label ("name" or "name: description"), each the
    normalised mean over its `label_prompts`, as the runtime embeds labels."""
    if not labels:
        raise ValueError("the label vocabulary is empty; expected at least one label")
    per_label = [label_prompts(label, templates) for label in labels]
    emb = text_encoder.encode([p for prompts in per_label for p in prompts])  # (P, 384)
    means = torch.stack([part.mean(0) for part in emb.split([len(p) for p in per_label])])
    return F.normalize(means, dim=-1)  # (C, 384)


def calibrate_threshold(
    known_scores: np.ndarray, unknown_scores: np.ndarray | None = None, accept: float = 0.95
) -> float:
    """The "unknown" cut-off on the top cosine score.

    With only in-vocabulary objects, keep `accept` of them (a quantile). With objects outside
    the vocabulary as well, pick the cut that maximises balanced accuracy between the two.
    """
    known = np.asarray(known_scores, dtype=np.float64)
    if known.size == 0:
        raise ValueError("no known scores to calibrate on; expected at least one held-out object")
    if not 0.0 < accept <= 1.0:
        raise ValueError(f"accept {accept} must be in (0, 1]")
    if unknown_scores is None or len(unknown_scores) == 0:
        return float(np.quantile(known, 1.0 - accept))
    unknown = np.asarray(unknown_scores, dtype=np.float64)
    candidates = np.unique(np.concatenate([known, unknown]))
    known_kept = (known[None, :] >= candidates[:, None]).mean(1)  # (M,)
    unknown_rejected = (unknown[None, :] < candidates[:, None]).mean(1)  # (M,)
    return float(candidates[np.argmax(known_kept + unknown_rejected)])


class ResidualAdapter(nn.Module):
    """x + ratio * MLP(x), renormalised, then cosine logits against fixed label embeddings."""

    def __init__(self, label_emb: torch.Tensor, hidden: int = 64, ratio: float = 0.2):
        super().__init__()
        dim = label_emb.shape[1]
        self.register_buffer("label_emb", F.normalize(label_emb, dim=-1))  # (C, E)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        nn.init.zeros_(self.mlp[2].weight)  # start exactly at the zero-shot classifier
        nn.init.zeros_(self.mlp[2].bias)
        self.ratio = ratio
        self.logit_scale = nn.Parameter(torch.tensor(np.log(50.0), dtype=torch.float32))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        adapted = F.normalize(features + self.ratio * self.mlp(features), dim=-1)  # (B, E)
        return self.logit_scale.exp() * adapted @ self.label_emb.t()  # (B, C)


def fit_adapter(
    features: torch.Tensor,
    targets: torch.Tensor,
    label_emb: torch.Tensor,
    steps: int = 200,
    lr: float = 1e-2,
    seed: int = 0,
) -> ResidualAdapter:
    """Fit a ResidualAdapter on frozen features (n, E) with class indices (n,), full batch."""
    if len(features) != len(targets) or len(features) == 0:
        raise ValueError(
            f"features ({len(features)}) and targets ({len(targets)}) must be equal and non-empty"
        )
    torch.manual_seed(seed)
    adapter = ResidualAdapter(label_emb)
    optimizer = torch.optim.AdamW(adapter.parameters(), lr=lr, weight_decay=1e-2)
    for _ in range(steps):
        loss = F.cross_entropy(adapter(features), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return adapter.eval()
