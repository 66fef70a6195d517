"""Caption and QA metrics on hand-made cases."""

import math

import numpy as np
import pytest

from training.caption_metrics import (
    bleu4,
    category_named_rate,
    exact_match,
    mean_rouge_l,
    names_category,
    rouge_l,
    sbert_similarity,
    score_samples,
    words,
)


def test_words_split_numbers_and_punctuation():
    assert words("A Chair, 0.45 m tall.") == ["a", "chair", ",", "0.45", "m", "tall", "."]
    assert words("a T-tail") == ["a", "t-tail"]


def test_bleu4_identical_disjoint_and_brevity():
    ref = ["a wooden chair with four legs and a tall back"]
    assert bleu4([ref[0]], [ref]) == pytest.approx(1.0)
    assert bleu4(["red green blue yellow"], [ref]) == 0.0
    # Candidate = first 6 of 10 words: every n-gram precision is 1, so BLEU is the brevity
    # penalty exp(1 - 10/6).
    assert bleu4(["a wooden chair with four legs"], [ref]) == pytest.approx(math.exp(1 - 10 / 6))
    # Clipping: "the the the the" against "the cat" keeps one unigram match, no 2-grams.
    assert bleu4(["the the the the"], [["the cat sat on the mat"]]) == 0.0
    with pytest.raises(ValueError, match="reference lists"):
        bleu4(["a"], [])


def test_rouge_l_by_hand():
    # LCS("a b c d", "a c d e") = 3; P = 3/4, R = 3/4 → F = 0.75 for any beta.
    assert rouge_l("a b c d", ["a c d e"]) == pytest.approx(0.75)
    assert rouge_l("x y", ["a b"]) == 0.0
    # Best reference wins.
    assert rouge_l("a b", ["x", "a b"]) == pytest.approx(1.0)
    assert mean_rouge_l(["a b", "x"], [["a b"], ["y"]]) == pytest.approx(0.5)


class FakeEncoder:
    """Unit vectors by first word: captions starting alike are identical embeddings."""

    def encode(self, texts):
        table = {"chair": [1.0, 0.0], "table": [0.0, 1.0], "stool": [0.6, 0.8]}
        return np.array([table[t.split()[0]] for t in texts], np.float32)


def test_sbert_similarity_means_over_references():
    score = sbert_similarity(
        ["chair a", "table b"], [["chair x"], ["table y", "chair z"]], FakeEncoder()
    )
    assert score == pytest.approx((1.0 + 0.5) / 2)
    assert sbert_similarity(["stool"], [["chair"]], FakeEncoder()) == pytest.approx(0.6)


def test_exact_match_overall_and_per_type():
    scores = exact_match(
        ["Four", "yes.", "0.45 m", "chair"],
        ["four", "yes", "0.5 m", "table"],
        ["count", "yes/no", "size", "category"],
    )
    assert scores == {"all": 0.5, "count": 1.0, "yes/no": 1.0, "size": 0.0, "category": 0.0}
    with pytest.raises(ValueError, match="equal lengths"):
        exact_match(["a"], [], [])


def test_category_named():
    assert names_category("A Flower Pot with a plant.", ["flower pot", "planter"])
    assert names_category("an aeroplane, 3.8 m tall", ["airplane", "aeroplane"])
    assert not names_category("a planet", ["plane"])  # whole words only
    assert not names_category("a tv-stand", ["stand"])
    rate = category_named_rate(["a chair", "a sofa", "a desk"], [["chair"], ["couch"], ["desk"]])
    assert rate == pytest.approx(2 / 3)


def test_score_samples_pools_every_score():
    samples = [
        {
            "caption": "a red chair.",
            "references": ["a red chair."],
            "qa": [
                {"question": "what is it?", "answer": "chair", "predicted": "Chair.", "type": "c"},
                {"question": "how tall?", "answer": "1.0 m", "predicted": "0.9 m", "type": "s"},
            ],
        },
        {"caption": "a table", "references": [], "qa": []},
    ]
    scores = score_samples(samples, [["chair"], ["desk"]])
    assert scores["qa.exact_match"] == 0.5
    assert scores["qa.exact_match.c"] == 1.0 and scores["qa.exact_match.s"] == 0.0
    assert scores["caption.bleu4"] == pytest.approx(1.0)  # only the sample with references
    assert scores["caption.rouge_l"] == pytest.approx(1.0)
    assert scores["caption.category_named"] == 0.5  # "table" is not "desk"
    assert "caption.sbert" not in scores  # no text encoder
    with pytest.raises(ValueError, match="name lists"):
        score_samples(samples, [["chair"]])
