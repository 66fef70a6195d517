from collections import Counter

from training.data.categories import (
    CATEGORIES,
    DESCRIPTIONS,
    DOMAIN,
    LABEL_CATEGORIES,
    MODELNET40,
    SEEN_CATEGORIES,
    SYNONYMS,
    UNSEEN_CATEGORIES,
    category_names,
    described_label,
    description_leaks,
    display_name,
    find_unseen_words,
    labels_an_object,
)


def test_modelnet40_first_then_the_other_domains_split_seen_and_unseen():
    assert CATEGORIES[:40] == MODELNET40 and len(set(CATEGORIES)) == len(CATEGORIES)
    assert set(SEEN_CATEGORIES) | set(UNSEEN_CATEGORIES) == set(CATEGORIES)
    assert not set(SEEN_CATEGORIES) & set(UNSEEN_CATEGORIES)
    total, unseen = Counter(DOMAIN.values()), Counter(DOMAIN[c] for c in UNSEEN_CATEGORIES)
    assert (total["modelnet"], unseen["modelnet"]) == (40, 10)
    assert total["outdoor"] >= 42 and unseen["outdoor"] >= 10
    assert total["indoor"] >= 38 and unseen["indoor"] >= 10
    # The generic family is trained on (its captions are geometry only) and labels nothing.
    assert (total["generic"], unseen["generic"]) == (1, 0)
    assert len(UNSEEN_CATEGORIES) >= 30


def test_label_categories_are_every_category_but_the_generic_family():
    assert set(CATEGORIES) - set(LABEL_CATEGORIES) == {"primitive_shape"}
    assert not labels_an_object("primitive_shape")
    assert labels_an_object("chair") and labels_an_object("coffee_machine")  # imported names too


def test_display_names_use_spaces():
    assert display_name("flower_pot") == "flower pot"
    assert display_name("night_stand") == "night stand"


def test_seen_synonyms_never_name_an_unseen_category():
    for category in SEEN_CATEGORIES:
        for word in SYNONYMS[category]:
            assert find_unseen_words(word) == [], (category, word)


def test_unseen_word_matching_is_whole_word():
    assert find_unseen_words("a cupboard and a bathroom") == []
    assert find_unseen_words("a Mug on a table") == ["Mug"]


def test_category_names_cover_synonyms_and_imported_names():
    assert category_names("flower_pot")[0] == "flower pot"
    assert "aeroplane" in category_names("airplane")
    assert category_names("coffee_machine") == ("coffee machine",)  # not one of the 40


def test_every_unseen_category_has_a_fair_one_line_description():
    # How an operator tells the model about a new word: geometry, never the answer itself.
    assert set(UNSEEN_CATEGORIES) <= set(DESCRIPTIONS)
    for category in UNSEEN_CATEGORIES:
        description = DESCRIPTIONS[category]
        assert 20 <= len(description) <= 90 and "\n" not in description and ":" not in description
        assert description_leaks(category) == [], (category, description)
        assert described_label(category) == f"{display_name(category)}: {description}"
    assert described_label("chair") == "chair"  # a seen name without a description: its name


def test_description_leaks_catch_own_words_and_unseen_names_plurals_too():
    assert description_leaks("cup", "a small mug-like cylinder") == ["mug"]
    assert description_leaks("watering_can", "a can with a spout") == ["can"]
    assert description_leaks("hedge", "hedges beside Lamps") == ["hedges", "lamps"]
    assert description_leaks("dog", "an animal on four legs near a fire hydrant") == [
        "fire hydrant"
    ]
    assert description_leaks("cup", "a small open cylinder with a handle on one side") == []
