"""Zero-shot prompt ensembles, the "unknown" threshold and the few-shot adapter."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ros_pointlang.vocabulary import rank_labels
from training.labels import (
    ResidualAdapter,
    calibrate_threshold,
    fit_adapter,
    label_embeddings,
)

torch.set_num_threads(1)


class FakeTextEncoder:
    """Deterministic 'embeddings': a one-hot of the label word plus a small template offset."""

    def __init__(self, words):
        self.words = words

    def encode(self, texts):
        out = torch.zeros(len(texts), 8)
        for i, text in enumerate(texts):
            out[i, next(j for j, w in enumerate(self.words) if w in text)] = 1.0
            out[i, 7] = 0.1 * (len(text) % 3)
        return F.normalize(out, dim=-1)


def test_label_embeddings_are_unit_means_over_templates():
    encoder = FakeTextEncoder(["chair", "table"])
    emb = label_embeddings(
        encoder, ["chair", "table"], templates=("a {}.", "a point cloud of a {}.")
    )
    assert emb.shape == (2, 8)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(2))
    assert emb[0, 0] > 0.9 and emb[1, 1] > 0.9
    with pytest.raises(ValueError, match="empty"):
        label_embeddings(encoder, [])


def test_threshold_keeps_the_requested_share_of_known_objects():
    known = np.linspace(0.3, 0.8, 101)
    threshold = calibrate_threshold(known, accept=0.9)
    assert np.mean(known >= threshold) == pytest.approx(0.9, abs=0.02)


def test_threshold_keeps_the_requested_share_of_every_group():
    # Surface samples score high, sparse LiDAR views low: the LiDAR views set the cut.
    surface, lidar = np.linspace(0.6, 0.9, 101), np.linspace(0.2, 0.5, 101)
    known = np.concatenate([surface, lidar])
    groups = np.array(["surface"] * 101 + ["lidar"] * 101)
    threshold = calibrate_threshold(known, accept=0.9, groups=groups)
    assert np.mean(lidar >= threshold) == pytest.approx(0.9, abs=0.02)
    assert np.mean(surface >= threshold) == 1.0
    assert threshold < calibrate_threshold(known, accept=0.9)  # pooled: LiDAR rejected more
    with pytest.raises(ValueError, match="one group per score"):
        calibrate_threshold(known, groups=groups[:5])


def test_threshold_separates_known_from_unknown_when_both_are_given():
    known, unknown = np.array([0.6, 0.7, 0.8]), np.array([0.2, 0.3, 0.45])
    threshold = calibrate_threshold(known, unknown)
    assert 0.45 < threshold <= 0.6
    with pytest.raises(ValueError, match="accept"):
        calibrate_threshold(known, accept=0.0)


def test_adapter_starts_as_zero_shot_and_learns_from_few_examples():
    torch.manual_seed(0)
    label_emb = F.normalize(torch.randn(4, 16), dim=-1)
    # Each class's point features sit at a rotated spot that zero-shot gets wrong.
    centres = F.normalize(torch.randn(4, 16), dim=-1)
    targets = torch.arange(4).repeat_interleave(4)  # k = 4 per class
    features = F.normalize(centres[targets] + 0.05 * torch.randn(16, 16), dim=-1)
    untrained = ResidualAdapter(label_emb)
    assert torch.equal(untrained(features).argmax(-1), (features @ label_emb.t()).argmax(-1))
    adapter = fit_adapter(features, targets, label_emb, steps=200)
    test = F.normalize(centres[targets] + 0.05 * torch.randn(16, 16), dim=-1)
    assert (adapter(test).argmax(-1) == targets).float().mean() == 1.0


def test_unknown_threshold_rejects_out_of_vocabulary_scores():
    known = np.array([0.62, 0.7, 0.75, 0.8, 0.9])
    threshold = calibrate_threshold(known, accept=0.8)
    ranked = rank_labels(
        np.array([[0.72, 0.1], [0.5, 0.4]]), ["mug", "drill"], 5, threshold, logit_scale=1.0
    )
    assert ranked[0][0].label == "mug" and ranked[1][0].label == "unknown"
