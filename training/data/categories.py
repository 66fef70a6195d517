"""The 40 ModelNet40 category names, the words we use for them, and the fixed zero-shot split.

The split is fixed in code (not sampled) so every dataset, model and benchmark agrees on it.
Unseen categories must never appear in training text, not even by name or synonym, so that the
zero-shot benchmark measures what the text encoder brings and not what our captions leaked.
"""

from __future__ import annotations

import re

# ModelNet40's own names, in its own (alphabetical) order; the index is the ModelNet label.
CATEGORIES: tuple[str, ...] = (
    "airplane",
    "bathtub",
    "bed",
    "bench",
    "bookshelf",
    "bottle",
    "bowl",
    "car",
    "chair",
    "cone",
    "cup",
    "curtain",
    "desk",
    "door",
    "dresser",
    "flower_pot",
    "glass_box",
    "guitar",
    "keyboard",
    "lamp",
    "laptop",
    "mantel",
    "monitor",
    "night_stand",
    "person",
    "piano",
    "plant",
    "radio",
    "range_hood",
    "sink",
    "sofa",
    "stairs",
    "stool",
    "table",
    "tent",
    "toilet",
    "tv_stand",
    "vase",
    "wardrobe",
    "xbox",
)

# Chosen to test zero-shot transfer to near neighbours of seen classes (stool ~ chair/table,
# bookshelf ~ tv stand/dresser, cup ~ bowl/vase, wardrobe ~ dresser) and to unrelated shapes
# (tent, guitar, cone). None of these words is needed to describe a seen object's parts.
UNSEEN_CATEGORIES: tuple[str, ...] = (
    "bathtub",
    "bookshelf",
    "cone",
    "cup",
    "guitar",
    "lamp",
    "stool",
    "tent",
    "toilet",
    "wardrobe",
)

SEEN_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c not in UNSEEN_CATEGORIES)

# Words a caption may use for the object itself. The first entry is the canonical answer to
# "what is this?" (the ModelNet name with spaces). Seen synonyms must not contain an unseen word.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "airplane": ("airplane", "aeroplane", "plane", "aircraft", "jet"),
    "bathtub": ("bathtub", "bath tub", "tub", "bath"),
    "bed": ("bed", "bedframe with mattress"),
    "bench": ("bench", "park bench", "seating bench"),
    "bookshelf": ("bookshelf", "bookcase", "book shelf"),
    "bottle": ("bottle", "flask"),
    "bowl": ("bowl", "serving bowl", "dish"),
    "car": ("car", "automobile", "passenger car", "vehicle"),
    "chair": ("chair", "dining chair", "side chair"),
    "cone": ("cone", "traffic cone", "safety cone", "pylon"),
    "cup": ("cup", "mug", "teacup", "coffee cup"),
    "curtain": ("curtain", "drape", "window curtain"),
    "desk": ("desk", "writing desk", "office desk", "work desk"),
    "door": ("door", "interior door", "doorway with a door"),
    "dresser": ("dresser", "chest of drawers", "bureau"),
    "flower_pot": ("flower pot", "planter", "flowerpot"),
    "glass_box": ("glass box", "glass case", "display case", "vitrine"),
    "guitar": ("guitar", "acoustic guitar", "electric guitar"),
    "keyboard": ("keyboard", "computer keyboard", "typing keyboard"),
    "lamp": ("lamp", "floor lamp", "desk lamp", "table lamp"),
    "laptop": ("laptop", "notebook computer", "laptop computer"),
    "mantel": ("mantel", "mantelpiece", "fireplace mantel", "fireplace surround"),
    "monitor": ("monitor", "computer monitor", "computer screen", "flat screen"),
    "night_stand": ("night stand", "nightstand", "bedside table", "bedside cabinet"),
    "person": ("person", "human", "pedestrian", "standing figure"),
    "piano": ("piano", "pianoforte"),
    "plant": ("plant", "potted plant", "houseplant"),
    "radio": ("radio", "radio receiver", "tabletop radio"),
    "range_hood": ("range hood", "cooker hood", "extractor hood", "kitchen hood"),
    "sink": ("sink", "washbasin", "wash basin"),
    "sofa": ("sofa", "couch", "settee"),
    "stairs": ("stairs", "staircase", "flight of steps", "stairway"),
    "stool": ("stool", "bar stool", "footstool"),
    "table": ("table", "dining table", "side table"),
    "tent": ("tent", "camping tent", "shelter tent"),
    "toilet": ("toilet", "lavatory", "wc"),
    "tv_stand": ("tv stand", "tv cabinet", "media console", "entertainment unit"),
    "vase": ("vase", "urn", "decorative vase"),
    "wardrobe": ("wardrobe", "armoire", "closet"),
    "xbox": ("xbox", "game console", "games console", "video game console"),
}


def display_name(category: str) -> str:
    """The canonical spoken name of a category: the ModelNet name with spaces ("flower pot")."""
    if category not in SYNONYMS:
        raise ValueError(f"unknown category {category!r}; expected one of the 40 ModelNet40 names")
    return SYNONYMS[category][0]


def category_names(category: str) -> tuple[str, ...]:
    """Every word a caption may use for a category (imported names: the name with spaces)."""
    return SYNONYMS.get(category, (category.replace("_", " "),))


def category_index(category: str) -> int:
    """ModelNet40 label index of a category name."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; expected one of the 40 ModelNet40 names")
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
