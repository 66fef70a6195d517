"""Parametric families for what a robot meets outdoors (domain "outdoor"): vehicles as driving
datasets label them, riders, pedestrians' wheeled things, street furniture, plants and animals.

The builders live in three modules read in this fixed order (a category's registry index seeds its
data): ``vehicles`` (cars' big relatives, two-wheelers alone and ridden, pushed things),
``street`` (barriers, signs, signals, poles, shelters, bins, fences) and ``park`` (trees, bushes,
rocks, animals, park furniture). Words already owned by ModelNet stay there and its families grow
instead: "pedestrian" is ModelNet ``person`` (now also sitting, a child, with an umbrella or a
suitcase), "traffic cone" is ModelNet ``cone`` (now with reflective collars), "park bench" is
ModelNet ``bench``, and cars got glass windows. A separate seen "traffic cone" is not registered:
ModelNet's ``cone`` is unseen, and a seen "traffic cone" would put the unseen word "cone" into
training text; "construction barrel", the nearest seen street object, never says "cone".
"""

from __future__ import annotations

from training.data.families import park, street, vehicles
from training.data.families.common import Family

# The outdoor part of the zero-shot split. Near neighbours of seen categories test whether a new
# word lands next to what the encoder knows: tractor (truck, excavator), wheelchair (stroller,
# bicycle), traffic light (street light, traffic sign), parking meter (bollard, mailbox),
# fire hydrant (bollard, construction barrel), bike rack (fence, guard rail), hedge (bush, fence),
# picnic table (ModelNet table and bench), statue (person), dog (cat). Boulder and swing set
# have no close seen relative. The driving datasets' core classes (car, van, truck, bus, trailer,
# cyclist, motorcyclist, pedestrian, barrier) stay seen: the deployed model must name them.
# No unseen word is needed to describe a seen object's parts ("light", "table" and "rock" are not
# in the list; only the full names are).
UNSEEN: frozenset[str] = frozenset(
    {
        "tractor",
        "wheelchair",
        "traffic_light",
        "parking_meter",
        "fire_hydrant",
        "bike_rack",
        "hedge",
        "picnic_table",
        "statue",
        "dog",
        "boulder",
        "swing_set",
    }
)

# One line of geometry per unseen category, as an operator would tell the model about a new word
# (``Family.description``): never the category's own words, never an unseen word.
DESCRIPTIONS: dict[str, str] = {
    "tractor": "a vehicle with huge rear wheels, small front wheels, a long hood and a cab",
    "wheelchair": "a seat with a backrest between two big rolling hoops, small casters in front",
    "traffic_light": "a pole carrying a box with three round lenses stacked one above the other",
    "bike_rack": "a row of bent metal hoops fixed to the ground, about waist high",
    "parking_meter": "a narrow post about chest high topped by a small box with a coin slot",
    "fire_hydrant": "a short thick cylinder with a domed cap and two or three stubby nozzles",
    "hedge": "a long dense wall of leafy bushes, trimmed flat on the top and sides",
    "boulder": "a big lumpy rounded mass lying on the ground, wider than it is tall",
    "dog": "a four-legged animal with a head, a snout and a tail, knee high or lower",
    "statue": "a human figure on top of a tall block-shaped pedestal",
    "swing_set": "a tall A-shaped metal structure with a crossbar from which seats hang on chains",
    "picnic_table": "a long flat top of planks on crossed legs with a seat plank along each side",
}


def _families() -> dict[str, Family]:
    families: dict[str, Family] = {}
    for module in (vehicles, street, park):
        for name, (synonyms, heights, build) in module.SPECS.items():
            families[name] = Family(
                name,
                "outdoor",
                synonyms,
                heights,
                build,
                unseen=name in UNSEEN,
                description=DESCRIPTIONS.get(name, ""),
            )
    unknown = UNSEEN - set(families)
    if unknown:
        raise ValueError(f"unseen outdoor categories {sorted(unknown)} have no family")
    return families


FAMILIES: dict[str, Family] = _families()
