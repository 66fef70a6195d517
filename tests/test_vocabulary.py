"""Label ranking with "unknown", names, presets and the runtime text embedder
(ros_pointlang/vocabulary.py)."""

import numpy as np
import pytest

from ros_pointlang.vocabulary import (
    MODELNET40,
    UNKNOWN,
    clean_vocabulary,
    normalise_label,
    rank_labels,
)
from training.data import categories


def test_rank_labels_ranks_and_says_unknown_below_threshold():
    sims = np.array([[0.9, 0.2, 0.5], [0.3, 0.25, 0.1]])
    labels = ["chair", "table", "sofa"]
    ranked = rank_labels(sims, labels, top_k=2, unknown_threshold=0.4, logit_scale=1.0)
    assert [label.label for label in ranked[0]] == ["chair", "sofa"]
    assert (ranked[1][0].label, ranked[1][0].similarity) == (UNKNOWN, pytest.approx(0.3))
    assert ranked[1][1].label == "chair"
    with pytest.raises(ValueError, match="top_k"):
        rank_labels(sims, labels, top_k=0, unknown_threshold=0.4, logit_scale=1.0)


def test_scores_are_a_softmax_over_the_whole_vocabulary():
    ranked = rank_labels(np.array([[0.5, 0.1, 0.3]]), ["a", "b", "c"], 2, -1.0, logit_scale=10.0)
    logits = 10.0 * np.array([0.5, 0.1, 0.3])
    probs = np.exp(logits) / np.exp(logits).sum()
    assert [label.score for label in ranked[0]] == pytest.approx([probs[0], probs[2]])


def test_names_and_vocabularies():
    assert normalise_label("  Flower_Pot ") == "flower pot"
    assert normalise_label("night  stand") == "night stand"
    assert clean_vocabulary([" mug ", "drill"]) == ["mug", "drill"]
    for bad in ("mug", [], ["mug", " "], ["mug", "mug"]):
        with pytest.raises(ValueError, match="vocabulary"):
            clean_vocabulary(bad)


def test_the_modelnet40_preset_is_the_data_engines_categories_as_spoken():
    assert tuple(categories.display_name(c) for c in categories.MODELNET40) == MODELNET40
