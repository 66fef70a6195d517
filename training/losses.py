"""The two training objectives: stage 1's contrastive alignment, stage 2's next-token loss."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def contrastive_loss(
    point_emb: torch.Tensor,
    text_emb: torch.Tensor,
    logit_scale: torch.Tensor,
    category: torch.Tensor,
    same_category_weight: float,
) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of (cloud, caption) pairs with label-aware targets.

    point_emb, text_emb (B, E) unit vectors; category (B,). Same-category pairs share
    `same_category_weight` of the target mass, so another chair's caption is not pushed away
    as hard as a table's. With weight 0 this is CLIP's loss.
    """
    if not 0.0 <= same_category_weight < 1.0:
        raise ValueError(f"same_category_weight {same_category_weight} must be in [0, 1)")
    scale = logit_scale.clamp(max=np.log(100.0)).exp()
    logits = scale * point_emb @ text_emb.t()  # (B, B)
    same = (category.unsqueeze(0) == category.unsqueeze(1)).to(logits.dtype)  # (B, B)
    eye = torch.eye(len(logits), dtype=logits.dtype, device=logits.device)
    # Symmetric: rows i and j share a category iff columns do, so the column sums match too.
    targets = (1 - same_category_weight) * eye + same_category_weight * same / same.sum(
        1, keepdim=True
    )
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets.t())) / 2


def label_loss(
    point_emb: torch.Tensor,
    label_emb: torch.Tensor,
    logit_scale: torch.Tensor,
    category: torch.Tensor,
) -> torch.Tensor:
    """Cross-entropy of each cloud against every label embedding, as the runtime labels.

    point_emb (B, E) and label_emb (C, E) unit vectors; category (B,) indexes label_emb, and
    entries of C or more (objects whose category labels nothing) are left out.
    """
    scale = logit_scale.clamp(max=np.log(100.0)).exp()
    labelled = category < len(label_emb)
    if not bool(labelled.any()):
        return point_emb.sum() * 0.0  # keeps the graph (and DDP's reducer) whole
    logits = scale * point_emb[labelled] @ label_emb.t()  # (B', C)
    return F.cross_entropy(logits, category[labelled])


def next_token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of logits (B, T, V) against labels (B, T), ignoring -100."""
    return F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100)
