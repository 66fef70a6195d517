"""Every category's parametric family, one module per domain, and the one registry of them.

- ``common``: ``Shape`` (mesh + true facts), ``Family`` (a registered category) and part helpers.
- ``modelnet``: the 40 ModelNet40 categories (the benchmark vocabulary, in ModelNet label order).
- ``outdoor``: what a robot meets on streets.
- ``indoor``, ``appliances``, ``warehouse``: what it meets in buildings (all domain "indoor").
- ``generic``: random assemblies of primitives, captioned by geometry alone.

The registry order is fixed (ModelNet first, in its label order, then each domain in its own
order) because a category's index seeds its objects: adding a family never changes another's data.
"""

from __future__ import annotations

import numpy as np

from training.data.families import appliances, generic, indoor, modelnet, outdoor, warehouse
from training.data.families.common import Family, Shape

DOMAINS: tuple[str, ...] = ("modelnet", "outdoor", "indoor", "generic")


def _registry() -> dict[str, Family]:
    families: dict[str, Family] = {}
    for module in (modelnet, outdoor, indoor, appliances, warehouse, generic):
        for name, family in module.FAMILIES.items():
            if name in families:
                raise ValueError(f"category {name!r} is registered twice; names must be unique")
            families[name] = family
    return families


FAMILIES: dict[str, Family] = _registry()


def build_shape(category: str, rng: np.random.Generator) -> Shape:
    """Build one random instance of ``category``."""
    if category not in FAMILIES:
        raise ValueError(f"unknown category {category!r}; expected one of {len(FAMILIES)} names")
    return FAMILIES[category].build(rng)
