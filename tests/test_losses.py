"""Stage 1's contrastive loss (training/losses.py)."""

import math

import pytest
import torch
import torch.nn.functional as F

from training.losses import contrastive_loss

torch.set_num_threads(1)


def test_loss_is_clip_loss_without_label_sharing():
    torch.manual_seed(0)
    points, texts = F.normalize(torch.randn(6, 8), dim=-1), F.normalize(torch.randn(6, 8), dim=-1)
    scale = torch.tensor(math.log(10.0))
    logits = 10.0 * points @ texts.t()
    labels = torch.arange(6)
    expected = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
    got = contrastive_loss(points, texts, scale, torch.arange(6), same_category_weight=0.0)
    assert torch.allclose(got, expected)


def test_loss_is_low_when_aligned_and_near_log_b_when_random():
    torch.manual_seed(0)
    emb = F.normalize(torch.randn(16, 32), dim=-1)
    scale = torch.tensor(math.log(100.0))
    aligned = contrastive_loss(emb, emb, scale, torch.arange(16), 0.0)
    random = contrastive_loss(
        emb, F.normalize(torch.randn(16, 32), dim=-1), torch.tensor(0.0), torch.arange(16), 0.0
    )
    assert aligned < 0.1
    assert abs(random.item() - math.log(16)) < 0.2


def test_same_category_pairs_are_not_hard_negatives():
    # Two chairs whose captions are swapped: the label-aware loss punishes this less.
    emb = torch.eye(4)
    texts = emb[[1, 0, 2, 3]]
    scale, category = torch.tensor(math.log(20.0)), torch.tensor([0, 0, 1, 2])
    plain = contrastive_loss(emb, texts, scale, category, 0.0)
    shared = contrastive_loss(emb, texts, scale, category, 0.5)
    assert shared < plain
    with pytest.raises(ValueError, match="same_category_weight"):
        contrastive_loss(emb, texts, scale, category, 1.0)
