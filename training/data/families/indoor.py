"""Parametric families for what a robot meets indoors: boxes, pallets, racks, appliances, bags,
tools and robots (domain "indoor").
"""

from __future__ import annotations

from training.data.families.common import Family

FAMILIES: dict[str, Family] = {}
