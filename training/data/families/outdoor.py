"""Parametric families for what a robot meets outdoors: vehicles as driving datasets label them,
riders, pedestrians, and street furniture (domain "outdoor").
"""

from __future__ import annotations

from training.data.families.common import Family

FAMILIES: dict[str, Family] = {}
