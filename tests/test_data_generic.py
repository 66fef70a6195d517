"""The generic family: random assemblies of primitives captioned by their geometry alone."""

import re

import numpy as np

from training.data.categories import SYNONYMS
from training.data.families import build_shape
from training.data.families.generic import BASES, BODIES, BODY_NAMES, TOPS
from training.data.language import captions_for, questions_for


def _shapes(n):
    return [build_shape("primitive_shape", np.random.default_rng(seed)) for seed in range(n)]


def test_every_body_base_and_top_occurs():
    shapes = _shapes(120)
    assert {s.params["body"] for s in shapes} == set(BODIES)
    assert {s.params["base"] for s in shapes} == set(BASES)
    assert {s.params["top"] for s in shapes} == set(TOPS)


def test_captions_name_the_primitives_and_no_category():
    category_words = {w for words in SYNONYMS.values() for w in words}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, category_words)) + r")\b", re.I)
    for seed, shape in enumerate(_shapes(40)):
        captions = captions_for(shape, None, np.random.default_rng(seed))
        body_words = BODY_NAMES[shape.params["body"]]
        for caption in captions:
            assert pattern.search(caption) is None, caption
        # Name-free templates say "object"/"thing"; every other caption names the body.
        named = [c for c in captions if not re.search(r"\b(object|thing|item)\b", c)]
        assert all(any(w in c.lower() for w in body_words) for c in named), captions


def test_parts_become_counts_and_features():
    for shape in _shapes(60):
        p = shape.params
        assert shape.counts.get("legs", 0) == p["legs"] == (0 if p["base"] != "legs" else p["legs"])
        assert shape.counts.get("side arms", 0) == p["side_arms"]
        assert shape.features["a ball on top"] == (p["top"] == "ball")
        assert shape.features["a ring handle"] == p["ring_handle"]
        if p["body"] == "tube":
            assert [a.value for a in shape.attributes if a.part == "top"] == ["open"]


def test_questions_about_a_generic_shape_answer_from_its_parts():
    shape = next(s for s in _shapes(80) if s.params["legs"] == 4)
    qa = questions_for(shape, None, ["chair", "table"], np.random.default_rng(0))
    legs = [q for q in qa if q["question"] in ("how many legs does it have?", "count the legs.")]
    legs += [q for q in qa if q["question"] == "how many legs are there?"]
    assert legs and legs[0]["answer"] == "four"


def test_a_generic_shape_is_named_by_its_main_primitive_and_never_called_another_category():
    for seed, shape in enumerate(_shapes(30)):
        qa = questions_for(shape, None, ["chair", "table", "bottle"], np.random.default_rng(seed))
        category = [q["answer"] for q in qa if q["type"] == "category"]
        assert category == [BODY_NAMES[shape.params["body"]][0]]
        asks = [q for q in qa if q["question"].startswith("is this")]
        assert [q["answer"] for q in asks] == ["yes"]
        assert all(w not in q["question"] for q in qa for w in ("chair", "table", "bottle"))
