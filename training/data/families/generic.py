"""Generic objects assembled from random primitives (domain "generic"), whose captions describe
only their geometry, so language about shape carries over to words the model never saw.
"""

from __future__ import annotations

from training.data.families.common import Family

FAMILIES: dict[str, Family] = {}
