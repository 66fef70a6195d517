"""Label ranking with "unknown", names, presets and the runtime text embedder
(ros_pointlang/vocabulary.py)."""

import numpy as np
import pytest

from ros_pointlang.parameters import BY_NAME
from ros_pointlang.vocabulary import (
    LABEL_PRESETS,
    MODELNET40,
    PRESET_CHOICES,
    UNKNOWN,
    clean_vocabulary,
    label_name,
    normalise_label,
    preset_vocabulary,
    rank_labels,
    requested_vocabulary,
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


def test_labels_with_descriptions_are_cleaned_and_named_by_their_name():
    given = [" mug :  a small  cylinder with a handle ", "drill", "box:", "fire  extinguisher"]
    cleaned = clean_vocabulary(given)
    assert cleaned == ["mug: a small cylinder with a handle", "drill", "box", "fire extinguisher"]
    assert [label_name(label) for label in cleaned] == ["mug", "drill", "box", "fire extinguisher"]
    assert clean_vocabulary(cleaned) == cleaned  # cleaning is idempotent: one cache key per label


@pytest.mark.parametrize(
    "labels, message",
    [
        ([": a small cylinder", "drill"], "label ': a small cylinder' has no name"),
        (["mug", "  :"], "has no name"),
        (["mug", "mug: a cup with a handle"], r"duplicate label names \['mug'\]"),
        (["Mug", "mug"], "duplicate"),  # the text encoder is uncased: one embedding twice
    ],
)
def test_labels_without_a_name_or_with_a_name_twice_are_refused(labels, message):
    with pytest.raises(ValueError, match=message):
        clean_vocabulary(labels)


def test_presets_and_which_vocabulary_the_parameters_ask_for():
    assert preset_vocabulary("modelnet40") == list(MODELNET40) == list(LABEL_PRESETS["modelnet40"])
    assert preset_vocabulary("bundle") is None and preset_vocabulary("") is None
    assert requested_vocabulary([], "modelnet40") == list(MODELNET40)
    assert requested_vocabulary(["mug", "drill"], "modelnet40") == ["mug", "drill"]  # labels win
    assert requested_vocabulary(None, "bundle") is None
    with pytest.raises(ValueError, match=r"preset 'coco' is unknown; expected one of .*modelnet40"):
        preset_vocabulary("coco")
    with pytest.raises(ValueError, match="coco"):  # even when labels win: a typo never waits
        requested_vocabulary(["mug"], "coco")


def test_the_nodes_labels_preset_parameter_takes_every_preset_and_nothing_else():
    spec = BY_NAME["labels_preset"]
    assert spec.choices == PRESET_CHOICES and set(LABEL_PRESETS) < set(PRESET_CHOICES)
    assert not spec.read_only and spec.describes and spec.default == "bundle"
    for name in PRESET_CHOICES:
        spec.check(name)
    with pytest.raises(ValueError, match=r"labels_preset='coco'; expected one of .*modelnet40"):
        spec.check("coco")
