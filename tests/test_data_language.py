import re

import numpy as np
import pytest

from training.data.categories import CATEGORIES
from training.data.families import build_shape
from training.data.language import (
    captions_for,
    format_metres,
    number_word,
    orientation_from_yaw,
    questions_for,
)


def test_number_words_and_metres():
    assert [number_word(n) for n in (0, 4, 12, 21)] == ["zero", "four", "twelve", "twenty-one"]
    assert format_metres(0.123) == "0.12 m" and format_metres(1.26) == "1.3 m"


def test_orientation_relative_to_sensor_on_minus_x():
    assert orientation_from_yaw(np.pi) == "towards the sensor"
    assert orientation_from_yaw(0.0) == "away from the sensor"
    assert orientation_from_yaw(np.pi / 2) == "left"
    assert orientation_from_yaw(-np.pi / 2) == "right"


@pytest.mark.parametrize("category", CATEGORIES)
def test_captions_state_the_true_height_and_vary(category):
    rng = np.random.default_rng(3)
    shape = build_shape(category, rng)
    captions = captions_for(shape, "left", rng)
    assert len(captions) >= 3 and len(set(captions)) == len(captions)
    height = shape.dimensions()[2]
    for caption in captions:
        sizes = [float(x) for x in re.findall(r"(\d+\.\d+) m\b", caption)]
        assert any(abs(s - height) <= 0.051 for s in sizes), caption


def test_answers_agree_with_parameters():
    for seed in range(10):
        rng = np.random.default_rng(seed)
        shape = build_shape("chair", rng)
        qa = questions_for(shape, None, CATEGORIES, rng)
        by_type = {}
        for item in qa:
            by_type.setdefault(item["type"], []).append(item)
        legs = [q for q in by_type["count"] if "legs" in q["question"]]
        assert legs[0]["answer"] == number_word(shape.counts["legs"])
        assert by_type["category"][0]["answer"] == "chair"
        assert by_type["size"][0]["answer"] == format_metres(shape.dimensions()[2])
        shape_answers = {q["answer"] for q in by_type["shape"]}
        assert shape.params["seat_shape"] in shape_answers
        arms = [q for q in by_type["yes/no"] if q["question"] == "does it have armrests?"]
        assert arms[0]["answer"] == ("yes" if shape.params["arms"] else "no")
        assert {"category", "count", "size", "shape", "yes/no"} <= set(by_type)


def test_flower_pot_answer_uses_spaces():
    rng = np.random.default_rng(0)
    qa = questions_for(build_shape("flower_pot", rng), None, CATEGORIES, rng)
    assert qa[0]["answer"] == "flower pot"
