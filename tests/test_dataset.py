"""Training data: augmentations, prepared samples and the stage-1 dataset (training/dataset.py)."""

import numpy as np
import pytest
import torch

from ros_pointlang.vocabulary import PROMPT_TEMPLATES
from tests.tiny_objects import SEEN, sample_shape, shared_dataset
from training.config import AugmentConfig
from training.dataset import AlignDataset, augment_cloud, load_objects, prepare_sample

torch.set_num_threads(1)


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
        t.format(train[2]["category"]) for t in PROMPT_TEMPLATES
    ]


def test_objects_of_a_category_that_labels_nothing_train_on_their_captions_alone():
    objects, _ = load_objects(str(shared_dataset()))
    train = [o for o in objects if o["split"] == "train"][:4]
    generic = [
        dict(train[k], category="primitive_shape", captions=[f"a tall box {k}"]) for k in (0, 1)
    ]
    aug = AugmentConfig(label_caption_prob=1.0)
    dataset = AlignDataset(train + generic, sorted(SEEN), 256, aug, 0)
    items = [dataset[i] for i in range(len(dataset))]
    # At probability 1 labelled objects always take a label prompt; the generic ones never do.
    texts = [dataset.texts[int(items[4 + k]["text"])] for k in (0, 1)]
    assert texts == ["a tall box 0", "a tall box 1"]
    # Each generic object is its own class, outside the label range, so the label-aware loss
    # never treats two of them as the same kind of thing.
    classes = [int(items[4 + k]["category"]) for k in (0, 1)]
    assert min(classes) >= len(SEEN) and classes[0] != classes[1]
    with pytest.raises(ValueError, match="no captions"):
        AlignDataset([dict(generic[0], captions=[])], sorted(SEEN), 256, AugmentConfig(), 0)
