"""Every category name, the words we use for them, and the fixed zero-shot split.

Names, synonyms, the split and the unseen categories' descriptions live with each family
(``training.data.families``); this module is the one place that reads them. The split is fixed in
code (not sampled) so every dataset, model and benchmark agrees on it. Unseen categories must never
appear in training text, not even by name or synonym, so that the zero-shot benchmark measures what
the text encoder brings and not what our captions leaked.
"""

from __future__ import annotations

import re

from training.data.families import DOMAINS, FAMILIES
from training.data.families import modelnet as _modelnet

# Every category id, ModelNet40 first (in its label order), then each domain's.
CATEGORIES: tuple[str, ...] = tuple(FAMILIES)
# ModelNet40's own names in its own order: the index is the ModelNet label (readers, benchmarks).
MODELNET40: tuple[str, ...] = _modelnet.NAMES
DOMAIN: dict[str, str] = {name: family.domain for name, family in FAMILIES.items()}
UNSEEN_CATEGORIES: tuple[str, ...] = tuple(n for n, f in FAMILIES.items() if f.unseen)
SEEN_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c not in UNSEEN_CATEGORIES)


def labels_an_object(category: str) -> bool:
    """False for the generic family, whose name labels nothing a robot would look for ("made of
    primitives"): it is no word in a label vocabulary and no target of label scores, and its
    objects train on their captions alone. Names from imported datasets label objects."""
    return DOMAIN.get(category) != "generic"


# Every category but the generic family: label vocabularies and zero-shot scoring use these.
LABEL_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if labels_an_object(c))
# Words a caption may use for the object itself; the first is the canonical spoken name.
SYNONYMS: dict[str, tuple[str, ...]] = {name: f.synonyms for name, f in FAMILIES.items()}
HEIGHT_RANGE_M: dict[str, tuple[float, float]] = {
    name: f.height_range_m for name, f in FAMILIES.items()
}
# One line of geometry per category that has one (every unseen category): how an operator tells
# the model about a word it never trained on. Only evaluation reads them (``described_label``).
DESCRIPTIONS: dict[str, str] = {
    name: f.description for name, f in FAMILIES.items() if f.description
}

__all__ = [
    "CATEGORIES",
    "DESCRIPTIONS",
    "DOMAIN",
    "DOMAINS",
    "HEIGHT_RANGE_M",
    "LABEL_CATEGORIES",
    "MODELNET40",
    "SEEN_CATEGORIES",
    "SYNONYMS",
    "UNSEEN_CATEGORIES",
]


def display_name(category: str) -> str:
    """The canonical spoken name of a category ("flower pot" for ``flower_pot``)."""
    if category not in SYNONYMS:
        raise ValueError(
            f"unknown category {category!r}; expected one of {len(CATEGORIES)} category names"
        )
    return SYNONYMS[category][0]


def category_names(category: str) -> tuple[str, ...]:
    """Every word a caption may use for a category (imported names: the name with spaces)."""
    return SYNONYMS.get(category, (category.replace("_", " "),))


def category_index(category: str) -> int:
    """Registry index of a category (its ModelNet label for the 40 ModelNet names); seeds data."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; expected one of {len(CATEGORIES)} names")
    return CATEGORIES.index(category)


def unseen_words() -> tuple[str, ...]:
    """Every word or phrase that names an unseen category (names and synonyms, lower case)."""
    words = set()
    for category in UNSEEN_CATEGORIES:
        words.add(category.replace("_", " "))
        words.update(SYNONYMS[category])
    return tuple(sorted(words))


_UNSEEN_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in unseen_words()) + r")\b", re.IGNORECASE
)


def find_unseen_words(text: str) -> list[str]:
    """Whole-word mentions of unseen category names or synonyms in ``text`` (empty if clean)."""
    return [m.group(0) for m in _UNSEEN_PATTERN.finditer(text)]


def described_label(category: str) -> str:
    """The label an operator would write for a category: "name: description" where the category
    has a description (``DESCRIPTIONS``), else its name alone."""
    name = category_names(category)[0]
    description = DESCRIPTIONS.get(category)
    return f"{name}: {description}" if description else name


_FUNCTION_WORDS = frozenset({"a", "an", "and", "of", "the"})
_UNSEEN_PLURAL_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in unseen_words()) + r")(?:e?s)?\b", re.IGNORECASE
)


def description_leaks(category: str, description: str | None = None) -> list[str]:
    """Words of a description (default: the category's own) that would give its answer away:
    any word of the category's own names (plurals too) and any unseen category's name or synonym.
    Empty for a fair description."""
    text = DESCRIPTIONS.get(category, "") if description is None else description
    own = {
        word
        for name in (category.replace("_", " "), *category_names(category))
        for word in re.findall(r"[a-z]+", name.lower())
    } - _FUNCTION_WORDS
    leaks = [
        word
        for word in re.findall(r"[a-z]+", text.lower())
        if {word, word.removesuffix("s"), word.removesuffix("es")} & own
    ]
    leaks += [m.group(0).lower() for m in _UNSEEN_PLURAL_PATTERN.finditer(text)]
    return list(dict.fromkeys(leaks))
