"""Contrastive loss, augmentations, the training dataset and the cached text encoder."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.tiny_objects import SEEN, sample_shape, shared_dataset
from training.align import (
    AlignDataset,
    augment_cloud,
    contrastive_loss,
    load_objects,
    prepare_sample,
)
from training.config import AugmentConfig
from training.text import TextEncoder

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


def test_rotation_keeps_height_and_horizontal_radius():
    rng = np.random.default_rng(0)
    cloud = sample_shape("dresser", rng, 500)
    aug = AugmentConfig(scale_min=1, scale_max=1, stretch=0, partial_prob=0, dropout_max=0)
    out = augment_cloud(cloud, aug, rng)
    np.testing.assert_allclose(out[:, 2], cloud[:, 2], atol=1e-5)  # z never tilts
    radius = np.linalg.norm(cloud[:, :2] - cloud[:, :2].mean(0), axis=1)
    np.testing.assert_allclose(
        np.linalg.norm(out[:, :2] - out[:, :2].mean(0), axis=1), radius, atol=1e-5
    )


def test_prepared_sample_is_in_the_unit_sphere_with_metric_size():
    rng = np.random.default_rng(1)
    cloud = sample_shape("door", rng, 800)
    plain = prepare_sample(cloud, 256, None, None)
    assert plain.points.shape == (256, 3) and plain.size_known
    assert np.linalg.norm(plain.points, axis=1).max() <= 1 + 1e-5
    assert 1.8 < plain.size[2] < 2.2  # a door is about 2 m high
    dropped = prepare_sample(cloud, 256, AugmentConfig(size_dropout=1.0), rng)
    assert not dropped.size_known
    assert np.linalg.norm(dropped.points, axis=1).max() <= 1 + 0.05  # + jitter


def test_dataset_items_depend_only_on_seed_epoch_and_index():
    objects, unseen = load_objects(str(shared_dataset()))
    assert unseen == ["cone"] and {o["sensor"] for o in objects} == {"surface"}
    train = [o for o in objects if o["split"] == "train"]
    dataset = AlignDataset(train, sorted(SEEN), 256, AugmentConfig(), seed=3)
    first, again = dataset[2], dataset[2]
    assert torch.equal(first["points"], again["points"]) and first["text"] == again["text"]
    dataset.epoch = 1
    assert not torch.equal(first["points"], dataset[2]["points"])
    assert dataset.texts[int(first["text"])] in train[2]["captions"] + [
        t.format(train[2]["category"])
        for t in (
            "a point cloud of a {}.",
            "a 3D scan of a {}.",
            "a {}.",
            "a LiDAR scan of a {}.",
            "a 3D model of a {}.",
            "there is a {} here.",
        )
    ]


def test_text_encoder_is_cached_on_disk_and_semantic(tmp_path):
    cache = tmp_path / "text.npz"
    texts = ["a chair", "a point cloud of a chair.", "a bathtub full of water"]
    emb = TextEncoder(cache).encode(texts)
    assert emb.shape == (3, 384)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]
    reloaded = TextEncoder(cache)
    assert torch.allclose(reloaded.encode(texts), emb)
    assert reloaded._model is None  # answered from the cache without loading the model
    with pytest.raises(ValueError, match="list of texts"):
        reloaded.encode("a chair")
