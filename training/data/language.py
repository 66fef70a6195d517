"""Captions and question-answer pairs written from a shape's true facts.

Several templates and the category's synonyms are mixed per object so a model has to read the
geometry rather than memorise one sentence. Answers are short and canonical so exact match is a
fair QA metric: counts as words ("four"), "yes"/"no", the category's spoken name ("flower pot"),
sizes as "0.45 m" (two decimals below 0.3 m, see ``ros_pointlang.decode.format_metres``), single
attribute words.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# The runtime's definition: a box prompt (ros_pointlang/decode.py) spells sizes as answers do.
from ros_pointlang.decode import format_metres
from training.data.categories import SYNONYMS, display_name
from training.data.families import Shape

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

# Irregular singulars of the part nouns the builders count.
_SINGULAR = {
    "shelves": "shelf",
    "feet": "foot",
    "rows of keys": "row of keys",
    "rows of drawers": "row of drawers",
    "seat cushions": "seat cushion",
    "raised arms": "raised arm",
    "tuning pegs": "tuning peg",
    "basins": "basin",
    "compartments": "compartment",
}

ORIENTATION_ANSWERS = ("towards the sensor", "away from the sensor", "left", "right")


def number_word(n: int) -> str:
    """0..99 as English words ("four", "twenty-one"); larger numbers as digits."""
    if n < 0 or n >= 100:
        return str(n)
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + ("" if ones == 0 else "-" + _ONES[ones])


def singular(noun: str) -> str:
    if noun in _SINGULAR:
        return _SINGULAR[noun]
    return noun[:-1] if noun.endswith("s") else noun


def count_phrase(noun: str, n: int) -> str:
    return f"{number_word(n)} {singular(noun) if n == 1 else noun}"


def orientation_from_yaw(yaw: float) -> str:
    """Where the object's front points, seen from a sensor on the -x side looking along +x.

    ``yaw`` is the object's rotation about z; at yaw 0 its front points along +x, i.e. away.
    """
    a = (yaw + np.pi) % (2 * np.pi) - np.pi
    if abs(a) <= np.pi / 4:
        return "away from the sensor"
    if abs(a) >= 3 * np.pi / 4:
        return "towards the sensor"
    return "left" if a > 0 else "right"


def _article(phrase: str) -> str:
    return "an" if phrase[0].lower() in "aeiou" else "a"


def _join(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _detail_phrases(shape: Shape) -> list[str]:
    """Everything true about the parts, as noun phrases ("four legs", "a round seat")."""
    out = [count_phrase(noun, n) for noun, n in shape.counts.items() if n > 0]
    category_words = {shape.category.replace("_", " "), *SYNONYMS[shape.category]}
    adjectives_by_part: dict[str, list[str]] = {}
    for attr in shape.attributes:
        if attr.part in category_words or attr.part in ("stand", "console", "person"):
            continue  # whole-object adjectives go in front of the name instead
        if attr.value in ("open", "closed"):
            out.append(f"the {attr.part} {attr.value}")
        else:
            adjectives_by_part.setdefault(attr.part, []).append(attr.value)
    for part, values in adjectives_by_part.items():
        words = " ".join(values)
        out.append(
            f"{_article(words)} {words} {part}" if not part.endswith("s") else f"{words} {part}"
        )
    for phrase, present in shape.features.items():
        if present and phrase not in out and not any(phrase.endswith(p) for p in out):
            out.append(phrase)
    return out


def _object_adjectives(shape: Shape) -> list[str]:
    category_words = {shape.category.replace("_", " "), *SYNONYMS[shape.category]}
    return [
        a.value
        for a in shape.attributes
        if a.part in category_words or a.part in ("stand", "console", "person")
    ]


_CAPTION_TEMPLATES = (
    "{A} {adj}{name} with {details}, about {height} tall.",
    "This is {a} {adj}{name}. It is {height} high, {width} wide and {depth} deep{facing}.",
    "{A} {name} {height} tall{facing}: {details}.",
    "{Adj}{name} with {details}; roughly {height} in height and {width} across.",
    "A point cloud of {a} {adj}{name}, {height} tall, with {details}.",
    "{A} {adj}{name}{facing}, {height} tall. It has {details}.",
    "Scan of {a} {name}: {details}. Height about {height}.",
)


def captions_for(
    shape: Shape, orientation: str | None, rng: np.random.Generator, count: int = 4
) -> list[str]:
    """``count`` distinct captions for one object, each stating its height in metres."""
    depth, width, height = shape.dimensions()
    names = shape.names or SYNONYMS[shape.category]
    adjectives = _object_adjectives(shape)
    details = _detail_phrases(shape)
    facing = ""
    if orientation is not None and shape.has_front:
        facing = (
            f", facing {orientation}"
            if orientation != "left" and orientation != "right"
            else (f", turned to the {orientation}")
        )
    chosen = rng.permutation(len(_CAPTION_TEMPLATES))
    captions = []
    for i in chosen:
        template = _CAPTION_TEMPLATES[i]
        name = names[int(rng.integers(len(names)))]
        adj = (adjectives[int(rng.integers(len(adjectives)))] + " ") if adjectives else ""
        picked = (
            list(rng.permutation(details)[: int(rng.integers(1, min(4, len(details)) + 1))])
            if details
            else []
        )
        detail = _join(picked) if picked else "a plain shape"
        lead = adj + name if "{adj}" in template.lower() else name
        text = template.format(
            A=_article(lead).capitalize(),
            a=_article(lead),
            Adj=adj,
            adj=adj,
            name=name,
            details=detail,
            height=format_metres(height),
            width=format_metres(width),
            depth=format_metres(depth),
            facing=facing,
        )
        text = text[0].upper() + text[1:]
        captions.append(text)
        if len(captions) == count:
            break
    return captions


def _be(part: str) -> str:
    return "are" if part.endswith("s") and part not in ("glass",) else "is"


def _qa(question: str, answer: str, kind: str) -> dict[str, str]:
    return {"question": question, "answer": answer, "type": kind}


def questions_for(
    shape: Shape,
    orientation: str | None,
    distractors: Sequence[str],
    rng: np.random.Generator,
) -> list[dict[str, str]]:
    """QA pairs of types category, count, size, shape, yes/no and orientation.

    ``distractors`` are the category names a "is this a ...?" question may use for a "no"
    answer; pass only seen categories for training objects so unseen names never leak.
    """
    _depth, width, height = shape.dimensions()
    name = display_name(shape.category)
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    qa = [
        _qa(
            pick(
                (
                    "what is this?",
                    "what kind of object is this?",
                    "what object is shown?",
                    "name this object.",
                    "what is in the point cloud?",
                )
            ),
            name,
            "category",
        ),
        _qa(
            pick(("how tall is it?", "what is its height?", "how high is the object?")),
            format_metres(height),
            "size",
        ),
        _qa(pick(("how wide is it?", "what is its width?")), format_metres(width), "size"),
    ]
    for noun, n in shape.counts.items():
        qa.append(
            _qa(
                pick(
                    (
                        f"how many {noun} does it have?",
                        f"how many {noun} are there?",
                        f"count the {noun}.",
                    )
                ),
                number_word(n),
                "count",
            )
        )
    for attr in shape.attributes:
        if len(attr.options) == 2:
            a, b = attr.options if rng.random() < 0.5 else attr.options[::-1]
            question = f"{_be(attr.part)} the {attr.part} {a} or {b}?"
        else:
            question = f"which kind of {attr.part} is it: {', '.join(attr.options)}?"
        qa.append(_qa(question, attr.value, "shape"))
        other = pick([o for o in attr.options if o != attr.value])
        probe = attr.value if rng.random() < 0.5 else other
        qa.append(
            _qa(
                f"{_be(attr.part)} the {attr.part} {probe}?",
                "yes" if probe == attr.value else "no",
                "yes/no",
            )
        )
    for phrase, present in shape.features.items():
        qa.append(_qa(f"does it have {phrase}?", "yes" if present else "no", "yes/no"))
    for noun, n in shape.counts.items():
        probe = n if rng.random() < 0.5 else max(0, n + pick((-2, -1, 1, 2)))
        qa.append(
            _qa(
                f"does it have {count_phrase(noun, probe)}?",
                "yes" if probe == n else "no",
                "yes/no",
            )
        )
    # A size threshold far enough from the truth that rounding cannot flip the answer.
    threshold = height * pick((0.6, 0.7, 1.4, 1.6))
    qa.append(
        _qa(
            f"is it taller than {format_metres(threshold)}?",
            "yes" if height > threshold else "no",
            "yes/no",
        )
    )
    other = [c for c in distractors if c != shape.category]
    if other and rng.random() < 0.5:
        qa.append(_qa(f"is this a {display_name(pick(other))}?", "no", "yes/no"))
    else:
        qa.append(_qa(f"is this a {name}?", "yes", "yes/no"))
    if orientation is not None and shape.has_front:
        qa.append(
            _qa(
                pick(("which way is it facing?", "where does its front point?")),
                orientation,
                "orientation",
            )
        )
    return qa
