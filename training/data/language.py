"""Captions and question-answer pairs written from a shape's true facts.

Several templates and the category's synonyms are mixed per object so a model has to read the
geometry rather than memorise one sentence. Captions teach geometry, not just names: besides the
parts, counts and attributes a builder records, they state proportions ("tall and narrow",
"about twice as tall as it is wide"), the body's form ("boxy", "cylindrical", "tapering"), the
outline seen from above ("a round footprint"), a size against the human body ("knee-high") and
metric sizes in varied wording, all measured from the built mesh (``geometry_of``), and some
captions leave the name out entirely, so a description can find an object whose name the model
never saw. Each measured word is said only where the mesh is clearly inside its band.

Answers are short and canonical so exact match is a fair QA metric: counts as words ("four"),
"yes"/"no", the category's spoken name ("flower pot"), sizes as "0.45 m" (two decimals below
0.3 m, see ``ros_pointlang.decode.format_metres``), single attribute or shape words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull, QhullError

# The runtime's definition: a box prompt (ros_pointlang/decode.py) spells sizes as answers do.
from ros_pointlang.decode import format_metres
from training.data.categories import SYNONYMS, display_name, labels_an_object
from training.data.families import Shape
from training.data.mesh import Mesh
from training.data.sensors import sample_surface

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
    "boxes": "box",
    "latches": "latch",
    "columns of doors": "column of doors",
    "spokes on the base": "spoke on the base",
    "shelf levels": "shelf level",
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


# ---------------------------------------------------------------- geometry words
#
# Every band leaves a gap to the next, so an object near a boundary gets no word rather than a
# word that a centimetre of rounding would make false.


def proportion_words(depth: float, width: float, height: float) -> tuple[str, ...]:
    """Words for the overall proportions: "tall", "narrow", "low", "wide", "flat", "long".

    Height is compared with the larger horizontal side: at least 2.5 times is "tall" and
    "narrow", 1.5 times "tall", at most half "low" and "wide", at most a fifth "flat". A
    footprint at least 2.5 times as long as it is broad adds "long" (unless the object is tall).
    """
    across, broad = max(depth, width), min(depth, width)
    ratio = height / across
    if ratio >= 2.5:
        words = ["tall", "narrow"]
    elif ratio >= 1.5:
        words = ["tall"]
    elif ratio <= 0.2:
        words = ["flat"]
    elif ratio <= 0.5:
        words = ["low", "wide"]
    else:
        words = []
    if across >= 2.5 * broad and ratio < 1.5:
        words.append("long")
    return tuple(words)


def ratio_phrase(width: float, height: float) -> str | None:
    """ "about twice as tall as it is wide", "about as tall as it is wide", ... or None.

    Said only where the ratio is near a whole number or one and a half (within 12 %).
    """
    if width <= 0 or height <= 0:
        return None
    ratio = height / width
    if 0.88 <= ratio <= 1.14:
        return "about as tall as it is wide"
    big, longer, shorter = (ratio, "tall", "wide") if ratio > 1 else (1 / ratio, "wide", "tall")
    if 1.35 <= big <= 1.65:
        times = "one and a half times"
    elif big > 6.5:
        return f"more than six times as {longer} as it is {shorter}"
    else:
        n = round(big)
        if n < 2 or abs(big - n) > 0.12 * n:
            return None
        times = "twice" if n == 2 else f"{number_word(n)} times"
    return f"about {times} as {longer} as it is {shorter}"


def body_size_words(depth: float, width: float, height: float) -> str | None:
    """A size against the human body: "hand-sized", "ankle-high", "knee-high", "waist-high",
    "about head height", "well above head height"; None between the bands."""
    if max(depth, width, height) < 0.3:
        return "hand-sized"
    for low, high, words in (
        (0.05, 0.2, "ankle-high"),
        (0.3, 0.6, "knee-high"),
        (0.75, 1.15, "waist-high"),
        (1.5, 1.95, "about head height"),
        (2.1, np.inf, "well above head height"),
    ):
        if low <= height < high:
            return words
    return None


def footprint_word(points_xy: np.ndarray, depth: float, width: float) -> str | None:
    """The outline seen from above: "round", "oval", "square", "rectangular" or None.

    Measured by how much of its bounding rectangle the outline's convex hull fills: a circle
    fills pi/4 (0.785; 0.77 for the meshes' polygons), a rectangle all of it.
    """
    if min(depth, width) <= 1e-6:
        return None
    try:
        fill = ConvexHull(points_xy).volume / (depth * width)  # a 2-D hull's volume is its area
    except QhullError:
        return None
    aspect = max(depth, width) / min(depth, width)
    if fill >= 0.95:
        return "square" if aspect <= 1.08 else "rectangular" if aspect >= 1.2 else None
    if 0.72 <= fill <= 0.82:
        return "round" if aspect <= 1.08 else "oval" if aspect >= 1.2 else None
    return None


def _closed_outline(points: np.ndarray) -> tuple[float, float, float] | None:
    """(hull area, how much of its bounding rectangle the hull fills, aspect) of the points seen
    from above, or None unless they make a closed wall (points in all 12 sectors round it)."""
    if len(points) < 24:
        return None
    lo, hi = points[:, :2].min(0), points[:, :2].max(0)
    size = hi - lo
    if size.min() <= 1e-6:
        return None
    offsets = points[:, :2] - (lo + hi) / 2
    angle = np.arctan2(offsets[:, 1], offsets[:, 0]) + np.pi  # 0 .. 2 pi
    sectors = np.minimum((angle * (6 / np.pi)).astype(np.intp), 11)
    if np.count_nonzero(np.bincount(sectors, minlength=12)) < 11:
        return None
    try:
        area = ConvexHull(points[:, :2]).volume  # a 2-D hull's volume is its area
    except QhullError:
        return None
    return area, area / (size[0] * size[1]), size.max() / size.min()


def form_word(mesh: Mesh) -> str | None:
    """The body's form: "boxy", "cylindrical", "tapering" or "ball-shaped"; None otherwise.

    Read from five horizontal slices of the surface (points sampled with a fixed seed, so the
    measurement never draws from the data's random stream). Every slice must be a closed wall
    (points all round its outline) and the body must fill the footprint (a pole on a wide base is
    not a cylinder): rectangular slices of one size make a box, round ones of one size a
    cylinder, round ones shrinking steadily to the top a taper, round ones widest in the middle
    a ball. Legs, frames and open structures give no word.
    """
    points = sample_surface(mesh, 800, np.random.default_rng(0)).astype(np.float64)
    z = points[:, 2] - points[:, 2].min()
    height = float(z.max())
    if height <= 1e-6:
        return None
    # The middle and the ends first: most objects fail there (legs, poles, open frames).
    by_height = {}
    for f in (0.5, 0.1, 0.9, 0.3, 0.7):
        outline = _closed_outline(points[np.abs(z - f * height) < 0.06 * height])
        if outline is None:
            return None
        by_height[f] = outline
    slices = [by_height[f] for f in sorted(by_height)]
    footprint = _closed_outline(points)
    if footprint is None:
        return None
    areas, fills, aspects = (np.array(column) for column in zip(*slices, strict=True))
    areas = areas / footprint[0]
    is_round = bool(np.all((fills >= 0.7) & (fills <= 0.84) & (aspects <= 1.15)))
    steady = areas.min() >= 0.88  # within about 6 % in radius: a bulging barrel is not steady
    if steady and np.all(fills >= 0.93):
        return "boxy"
    if is_round and steady:
        return "cylindrical"
    if is_round and areas[0] >= 0.7 and areas[-1] <= 0.35 and np.all(np.diff(areas) < -0.03):
        return "tapering"
    if is_round and areas[2] >= 0.8 and max(areas[0], areas[-1]) <= 0.6 and areas.argmax() == 2:
        return "ball-shaped"
    return None


@dataclass(frozen=True)
class Geometry:
    """What the mesh itself says about an object, in words (each None or empty when unclear)."""

    depth: float
    width: float
    height: float
    proportions: tuple[str, ...]
    ratio: str | None
    body_size: str | None
    footprint: str | None
    form: str | None

    @property
    def proportion_phrase(self) -> str:
        """ "tall and narrow", "low, wide and long", or "" when nothing stands out."""
        return _join(list(self.proportions)) if self.proportions else ""

    def clauses(self) -> list[str]:
        """Phrases that complete "it is ...": "knee-high", "round when seen from above"."""
        out = [c for c in (self.ratio, self.body_size) if c]
        if self.footprint:
            out.append(f"{self.footprint} when seen from above")
        return out or [f"{format_metres(self.depth)} by {format_metres(self.width)} across"]


# The last shape measured and its geometry: an object's captions and its questions are written
# one after the other from the same (never modified) shape, and measuring costs about a
# millisecond, as much as everything else in this module together.
_last_measured: tuple[Shape, Geometry] | None = None


def geometry_of(shape: Shape) -> Geometry:
    """The mesh's own words for ``shape``: proportions, ratio, body size, footprint and form."""
    global _last_measured
    if _last_measured is not None and _last_measured[0] is shape:
        return _last_measured[1]
    geometry = _measure(shape)
    _last_measured = (shape, geometry)
    return geometry


def _measure(shape: Shape) -> Geometry:
    depth, width, height = shape.dimensions()
    # Objects without a front have no defined width: compare with the larger side instead.
    across = width if shape.has_front else max(depth, width)
    return Geometry(
        depth,
        width,
        height,
        proportion_words(depth, width, height),
        ratio_phrase(across, height),
        body_size_words(depth, width, height),
        footprint_word(shape.mesh.vertices[:, :2], depth, width),
        form_word(shape.mesh),
    )


# ---------------------------------------------------------------- parts and names


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
        # "wheels" adds nothing after "four wheels", nor "a gripper" after "a two-finger gripper".
        core = phrase.removeprefix("a ").removeprefix("an ")
        if present and not any(p == phrase or p.endswith(" " + core) for p in out):
            out.append(phrase)
    return out


def _object_adjectives(shape: Shape) -> list[str]:
    category_words = {shape.category.replace("_", " "), *SYNONYMS[shape.category]}
    return [
        a.value
        for a in shape.attributes
        if a.part in category_words or a.part in ("stand", "console", "person")
    ]


# "A~"/"a~" stand for the article of the word that follows, fixed once the caption is written.
_CAPTION_TEMPLATES = (
    "A~ {adj}{name} with {details}, about {height} tall.",
    "This is a~ {adj}{name}. It is {height} high, {width} wide and {depth} deep{facing}.",
    "A~ {name} {height} tall{facing}: {details}.",
    "{adj}{name} with {details}; roughly {height} in height and {width} across.",
    "A point cloud of a~ {adj}{name}, {height} tall, with {details}.",
    "A~ {adj}{name}{facing}, {height} tall. It has {details}.",
    "Scan of a~ {name}: {details}. Height about {height}.",
    # Geometry first: proportions, ratios, outline and body size, measured from the mesh.
    "A~ {prop}{name}, {clause}, standing {height} high.",
    "A~ {prop}{adj}{name} with {details}, {height} high; it is {clause}.",
    "Something {clause} and {height} tall: a~ {adj}{name} with {details}.",
    "A~ {adj}{name} reaching {height}, on a footprint of {depth} by {width}, with {details}.",
    "A~ {prop}{name} with {footprint}{details}, {height} from the floor to the top.",
    # No name at all: only the geometry, as a person describes a thing they cannot name.
    "A~ {prop}{thing} with {details}, {height} tall and {width} wide{facing}.",
    "A~ {thing} {height} high with {footprint}{details}; it is {clause}.",
)

_THINGS = ("object", "thing", "item")


def _articles(text: str) -> str:
    """Each "A~ word" / "a~ word" as "A word" / "an word" as the word needs."""

    def article(match: re.Match) -> str:
        word = _article(match.group(2))
        return (word.capitalize() if match.group(1) == "A" else word) + " " + match.group(2)

    return re.sub(r"\b([Aa])~ (\w)", article, text)


def captions_for(
    shape: Shape, orientation: str | None, rng: np.random.Generator, count: int = 4
) -> list[str]:
    """``count`` distinct captions for one object, each stating its height in metres."""
    geometry = geometry_of(shape)
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
    clauses = geometry.clauses()
    builder_words = {option for attribute in shape.attributes for option in attribute.options}
    # A template that names the footprint takes its clause from the other facts.
    other_clauses = [c for c in clauses if "seen from above" not in c] or [
        f"{format_metres(geometry.depth)} by {format_metres(geometry.width)} across"
    ]
    chosen = rng.permutation(len(_CAPTION_TEMPLATES))
    captions: list[str] = []
    for i in chosen:
        template = _CAPTION_TEMPLATES[i]
        pick_from = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
        name = names[int(rng.integers(len(names)))]
        adj = (adjectives[int(rng.integers(len(adjectives)))] + " ") if adjectives else ""
        if adj and adj.strip() in name.split():
            adj = ""  # not "a cordless cordless drill"
        picked = (
            list(rng.permutation(details)[: int(rng.integers(1, min(4, len(details)) + 1))])
            if details
            else []
        )
        # Never "a tall and narrow tall fridge" or "a cylindrical barrel with a cylindrical
        # body": the measured words yield to the builder's, and a form the builder chooses
        # between itself ("cylindrical" or "bulging") is the builder's to say.
        said = set(adj.split()) | {w for phrase in picked for w in phrase.split()}
        form = "" if geometry.form in builder_words else geometry.form or ""
        prop = " ".join(
            w
            for w in (geometry.proportion_phrase, form)
            if w and not said & (set(w.split()) - {"and"})
        )
        prop = prop + " " if prop else ""
        detail = _join(picked) if picked else "a plain shape"
        outline = geometry.footprint
        footprint = f"{_article(outline)} {outline} footprint and " if outline else ""
        if not picked and outline:
            footprint, detail = "", f"{_article(outline)} {outline} footprint"
        text = template.format(
            adj=adj,
            name=name,
            prop=prop,
            thing=_THINGS[int(rng.integers(len(_THINGS)))],
            details=detail,
            footprint=footprint,
            clause=pick_from(other_clauses if "{footprint}" in template else clauses),
            height=format_metres(geometry.height),
            width=format_metres(geometry.width),
            depth=format_metres(geometry.depth),
            facing=facing,
        )
        text = _articles(text)
        text = text[0].upper() + text[1:]
        if text in captions:
            continue
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
    geometry = geometry_of(shape)
    depth, width, height = geometry.depth, geometry.width, geometry.height
    # The generic family's name labels nothing: its objects are named by their main primitive
    # ("cylinder"), and no other category is offered as a wrong answer (legs under a slab are a
    # table's geometry, and "no" would teach otherwise).
    labelled = labels_an_object(shape.category)
    name = display_name(shape.category) if labelled else shape.names[0]
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
        _qa(pick(("how deep is it?", "what is its depth?")), format_metres(depth), "size"),
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
    # Proportions and outline, asked only where the mesh makes the answer clear.
    across = max(depth, width)
    if not 0.8 <= height / across <= 1.25:
        qa.append(
            _qa(
                pick(("is it taller than it is wide?", "is its height greater than its width?")),
                "yes" if height > across else "no",
                "yes/no",
            )
        )
    if geometry.footprint:
        qa.append(
            _qa(
                pick(("what shape is its footprint?", "what shape is it seen from above?")),
                geometry.footprint,
                "shape",
            )
        )
    builder_words = {option for attribute in shape.attributes for option in attribute.options}
    if geometry.form and geometry.form not in builder_words:
        qa.append(
            _qa(pick(("what shape is it?", "what is its overall form?")), geometry.form, "shape")
        )
    if geometry.proportions:
        qa.append(
            _qa(
                pick(("what are its proportions?", "how is it proportioned?")),
                geometry.proportion_phrase,
                "shape",
            )
        )
    # Nor is the generic family's name ever offered as a wrong answer.
    other = (
        [c for c in distractors if c != shape.category and labels_an_object(c)] if labelled else []
    )
    if other and rng.random() < 0.5:
        wrong = display_name(pick(other))
        qa.append(_qa(f"is this {_article(wrong)} {wrong}?", "no", "yes/no"))
    else:
        qa.append(_qa(f"is this {_article(name)} {name}?", "yes", "yes/no"))
    if orientation is not None and shape.has_front:
        qa.append(
            _qa(
                pick(("which way is it facing?", "where does its front point?")),
                orientation,
                "orientation",
            )
        )
    return qa
