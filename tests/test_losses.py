"""Stage 1's contrastive and label losses (training/losses.py)."""

import math

import pytest
import torch
import torch.nn.functional as F

from training.losses import contrastive_loss, label_loss

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


def test_label_loss_is_cross_entropy_over_every_label_and_skips_unlabelled_objects():
    torch.manual_seed(0)
    points, labels = F.normalize(torch.randn(5, 8), dim=-1), F.normalize(torch.randn(3, 8), dim=-1)
    scale = torch.tensor(math.log(10.0))
    # Objects 1 and 4 belong to no label (their category index is past the 3 labels).
    category = torch.tensor([2, 3, 0, 1, 7])
    expected = F.cross_entropy(10.0 * points[[0, 2, 3]] @ labels.t(), torch.tensor([2, 0, 1]))
    assert torch.allclose(label_loss(points, labels, scale, category), expected)
    # Right labels cost less than wrong ones.
    assert label_loss(labels, labels, scale, torch.arange(3)) < label_loss(
        labels, labels, scale, torch.tensor([1, 2, 0])
    )


def test_label_loss_of_a_batch_without_labels_is_zero_and_keeps_the_graph():
    points = F.normalize(torch.randn(2, 8), dim=-1).requires_grad_()
    loss = label_loss(points, torch.eye(8)[:3], torch.tensor(1.0), torch.tensor([3, 4]))
    assert loss.item() == 0.0
    loss.backward()
    assert points.grad is not None
