"""A tiny `pointlang-data objects`-style dataset of parametric shapes, for the training tests."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

import numpy as np

# category → (shape sampler, typical metric size); "cone" plays the unseen category.
SEEN = ("bottle", "dresser", "bowl", "door")
UNSEEN = ("cone",)


def sample_shape(category: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """n surface points (metres, z up) of one random instance of a category."""
    u, v = rng.random(n), rng.random(n)
    if category == "bottle":  # cylinder
        r, h = rng.uniform(0.03, 0.05), rng.uniform(0.2, 0.35)
        a = 2 * np.pi * u
        pts = np.stack([r * np.cos(a), r * np.sin(a), h * v], 1)
    elif category == "dresser":  # box surface
        ext = np.array([rng.uniform(0.8, 1.2), rng.uniform(0.4, 0.6), rng.uniform(0.8, 1.1)])
        pts = rng.random((n, 3)) * ext
        axis = rng.integers(0, 3, n)
        pts[np.arange(n), axis] = np.where(rng.random(n) < 0.5, 0.0, ext[axis])
    elif category == "bowl":  # hemisphere shell
        r = rng.uniform(0.08, 0.12)
        a, c = 2 * np.pi * u, v
        s = np.sqrt(1 - c**2)
        pts = np.stack([r * s * np.cos(a), r * s * np.sin(a), r * (1 - c)], 1)
    elif category == "door":  # thin slab
        w, h = rng.uniform(0.7, 0.9), rng.uniform(1.9, 2.1)
        pts = np.stack([w * u, rng.uniform(0, 0.04, n), h * v], 1)
    elif category == "cone":
        r, h = rng.uniform(0.1, 0.2), rng.uniform(0.3, 0.6)
        a = 2 * np.pi * u
        pts = np.stack([r * (1 - v) * np.cos(a), r * (1 - v) * np.sin(a), h * v], 1)
    else:
        raise ValueError(f"no tiny shape for {category!r}")
    return (pts + rng.normal(0, 0.002, pts.shape)).astype(np.float32)


def make_manifest(root: Path, per_category: int = 12, points: int = 400, seed: int = 0) -> Path:
    """Write clouds + manifest.json under root; split train/val/test for seen, test for unseen."""
    rng = np.random.default_rng(seed)
    (root / "clouds").mkdir(parents=True, exist_ok=True)
    objects = []
    for category in SEEN + UNSEEN:
        for i in range(per_category):
            cloud = sample_shape(category, rng, points)
            path = f"clouds/{category}_{i:03d}.npy"
            np.save(root / path, cloud)
            if category in UNSEEN:
                split = "test"
            else:
                split = "train" if i < per_category // 2 else ("val" if i % 2 else "test")
            height = float(cloud[:, 2].max() - cloud[:, 2].min())
            objects.append(
                {
                    "id": f"{category}_{i:03d}",
                    "category": category,
                    "split": split,
                    "cloud": path,
                    "captions": [
                        f"a {category} about {height:.1f} m tall",
                        f"a {height:.2f} metre high {category}",
                    ],
                    "qa": [{"question": "what is this?", "answer": category, "type": "category"}],
                    "params": {},
                }
            )
    manifest = {"unseen_categories": list(UNSEEN), "objects": objects}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@functools.cache
def shared_dataset() -> Path:
    """One tiny dataset per test session; its text_cache.npz is shared by every test module."""
    return make_manifest(Path(tempfile.mkdtemp(prefix="pointlang_tiny_")))
