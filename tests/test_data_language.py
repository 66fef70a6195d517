import re

import numpy as np
import pytest

from training.data.categories import CATEGORIES, SEEN_CATEGORIES, find_unseen_words
from training.data.families import build_shape
from training.data.language import (
    body_size_words,
    captions_for,
    footprint_word,
    form_word,
    format_metres,
    geometry_of,
    number_word,
    orientation_from_yaw,
    proportion_words,
    questions_for,
    ratio_phrase,
)
from training.data.mesh import box, cone, cylinder, ellipsoid, lathe, merge, rod


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


def test_proportion_words_compare_height_with_the_larger_side():
    assert proportion_words(0.3, 0.4, 1.2) == ("tall", "narrow")
    assert proportion_words(0.5, 0.5, 0.8) == ("tall",)
    assert proportion_words(0.5, 0.5, 0.5) == ()
    assert proportion_words(1.2, 0.8, 0.15) == ("flat",)
    assert proportion_words(1.0, 0.8, 0.4) == ("low", "wide")
    assert proportion_words(1.4, 0.4, 0.8) == ("long",)


def test_ratio_phrase_only_near_whole_ratios():
    assert ratio_phrase(0.5, 1.0) == "about twice as tall as it is wide"
    assert ratio_phrase(0.3, 0.9) == "about three times as tall as it is wide"
    assert ratio_phrase(1.5, 1.0) == "about one and a half times as wide as it is tall"
    assert ratio_phrase(1.0, 1.05) == "about as tall as it is wide"
    assert ratio_phrase(1.0, 1.25) is None  # between bands: no words rather than false ones
    assert ratio_phrase(0.1, 0.9) == "more than six times as tall as it is wide"


def test_body_size_words_by_height():
    assert body_size_words(0.2, 0.15, 0.25) == "hand-sized"
    assert body_size_words(0.4, 0.4, 0.45) == "knee-high"
    assert body_size_words(0.6, 0.6, 0.9) == "waist-high"
    assert body_size_words(0.6, 0.6, 1.7) == "about head height"
    assert body_size_words(1.0, 2.0, 3.0) == "well above head height"
    assert body_size_words(0.6, 0.6, 0.68) is None


def test_footprint_word_from_the_outline_seen_from_above():
    def word(mesh):
        lo, hi = mesh.bounds()
        return footprint_word(mesh.vertices[:, :2], hi[0] - lo[0], hi[1] - lo[1])

    assert word(cylinder(0.3, 1.0, segments=24)) == "round"
    assert word(cylinder((0.5, 0.25), 1.0, segments=24)) == "oval"
    assert word(box((0.5, 0.5, 0.2))) == "square"
    assert word(box((1.0, 0.5, 0.2))) == "rectangular"
    star = [rod((0, 0, 0.1), (0.3 * np.cos(a), 0.3 * np.sin(a), 0.0), 0.01) for a in (0, 2.1, 4.2)]
    assert word(merge(star)) is None  # a tripod's triangle is neither round nor rectangular


_RATIO = re.compile(
    r"about (twice|one and a half times|(\w+) times|as) as (tall|wide) as it is (wide|tall)"
)
_TIMES = {"twice": 2.0, "one and a half times": 1.5, "as": 1.0}
_BANDS = {
    "knee-high": (0.3, 0.6),
    "waist-high": (0.75, 1.15),
    "about head height": (1.5, 1.95),
    "well above head height": (2.1, 99.0),
}


@pytest.mark.parametrize("category", CATEGORIES)
def test_geometry_words_in_captions_agree_with_the_dimensions(category):
    for seed in range(4):
        rng = np.random.default_rng(seed)
        shape = build_shape(category, rng)
        depth, width, height = shape.dimensions()
        across = max(depth, width)
        text = " ".join(captions_for(shape, None, rng, count=20))
        if "tall and narrow" in text:
            assert height >= 2.5 * across, text
        if "low and wide" in text or "low, wide" in text:
            assert height <= 0.5 * across, text
        for match in _RATIO.finditer(text):
            words = match.group(1)
            claimed = _TIMES.get(words) or float(
                [number_word(n) for n in range(20)].index(match.group(2))
            )
            base = width if shape.has_front else across
            measured = height / base if match.group(3) == "tall" else base / height
            assert abs(measured - claimed) <= 0.14 * claimed, (match.group(0), measured)
        for words, (low, high) in _BANDS.items():
            if words in text:
                assert low <= height < high, (words, height)
        if "hand-sized" in text:
            assert max(depth, width, height) < 0.3
        for match in re.finditer(
            r"(round|oval|square|rectangular) (footprint|when seen from)", text
        ):
            aspect = across / min(depth, width)
            expected = {"round": aspect <= 1.08, "square": aspect <= 1.08}
            assert expected.get(match.group(1), aspect >= 1.2), (match.group(0), aspect)


def test_some_captions_describe_the_geometry_without_a_name():
    unnamed = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        shape = build_shape("refrigerator", rng)
        for caption in captions_for(shape, None, rng):
            if not any(name in caption.lower() for name in ("refrigerator", "fridge")):
                unnamed += 1
                assert re.search(r"\b(object|thing|item)\b", caption), caption
                assert re.search(r"\d+\.\d+ m\b", caption)
    assert unnamed >= 5


def test_seen_text_never_names_an_unseen_category_in_any_domain():
    for category in SEEN_CATEGORIES:
        for seed in range(3):
            rng = np.random.default_rng(seed)
            shape = build_shape(category, rng)
            text = " ".join(captions_for(shape, "left", rng, count=20))
            text += " ".join(
                q["question"] + " " + q["answer"]
                for q in questions_for(shape, "left", SEEN_CATEGORIES, rng)
            )
            assert find_unseen_words(text) == [], (category, find_unseen_words(text))


def test_geometry_answers_agree_with_the_mesh():
    for seed in range(30):
        rng = np.random.default_rng(seed)
        shape = build_shape(CATEGORIES[seed % len(CATEGORIES)], rng)
        depth, width, height = shape.dimensions()
        geometry = geometry_of(shape)
        for item in questions_for(shape, None, SEEN_CATEGORIES, rng):
            question, answer = item["question"], item["answer"]
            if question in ("how deep is it?", "what is its depth?"):
                assert answer == format_metres(depth)
            if question in (
                "is it taller than it is wide?",
                "is its height greater than its width?",
            ):
                assert answer == ("yes" if height > max(depth, width) else "no")
            if "footprint" in question or "seen from above" in question:
                assert answer == geometry.footprint and item["type"] == "shape"
            if "proportion" in question:
                assert answer == geometry.proportion_phrase
            if question in ("what shape is it?", "what is its overall form?"):
                assert answer == geometry.form
            if question.startswith("is this"):
                assert "primitive shape" not in question


def test_form_word_reads_the_body_from_horizontal_slices():
    assert form_word(box((0.5, 0.6, 1.0))) == "boxy"
    assert form_word(cylinder(0.3, 1.0, segments=24)) == "cylindrical"
    assert form_word(lathe([0.3, 0.3], [0.0, 1.0], 24)) == "cylindrical"  # an open tube too
    assert form_word(cone(0.3, 1.0, segments=24)) == "tapering"
    assert form_word(ellipsoid(0.4, resolution=12)) == "ball-shaped"
    # Legs, a pole on a wide base, a flat disc: no closed wall filling the footprint.
    table = merge(
        [box((1.0, 0.6, 0.04), (0, 0, 0.73))]
        + [rod((x, y, 0.71), (x, y, 0.0), 0.02) for x in (-0.45, 0.45) for y in (-0.25, 0.25)]
    )
    assert form_word(table) is None
    pole = merge([cylinder(0.3, 0.03, (0, 0, 0.015)), cylinder(0.02, 1.5, (0, 0, 0.78))])
    assert form_word(pole) is None
    assert form_word(cylinder(0.4, 0.05, segments=24)) is None


def test_form_word_names_the_generic_bodies_it_is_sure_of():
    expected = {"box": "boxy", "cylinder": "cylindrical", "tube": "cylindrical"}
    expected |= {"sphere": "ball-shaped", "tapered column": "tapering"}
    checked = 0
    for seed in range(400):
        shape = build_shape("primitive_shape", np.random.default_rng(seed))
        p = shape.params
        plain = p["base"] == "none" and p["top"] == "none" and not p["side_arms"]
        if not plain or p["ring_handle"]:
            continue
        word = form_word(shape.mesh)
        assert word in (expected.get(p["body"]), None, "tapering" if p["body"] == "dome" else None)
        checked += word is not None
    assert checked >= 3
