"""Point encoder → point_encoder.onnx, checked against torch at several batch sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from export.onnx_utils import export_onnx, max_difference
from training.models.encoder import PointEncoder

INPUTS = ["points", "size", "size_known"]
OUTPUTS = ["embedding", "tokens"]
PARITY_BATCHES = (1, 3, 8)
TOLERANCE = 1e-4


def example_inputs(num_points: int, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Unit-sphere clouds with sizes, half of them with the size unknown."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(batch, num_points, 3)).astype(np.float32)
    points /= np.linalg.norm(points, axis=-1, keepdims=True).max(axis=1, keepdims=True)
    return {
        "points": points,
        "size": rng.uniform(0.05, 3.0, (batch, 3)).astype(np.float32),
        "size_known": np.arange(batch) % 2 == 0,
    }


def export_point_encoder(model: PointEncoder, path: Path) -> float:
    """Write the ONNX file and return the worst torch/ORT difference over the parity batches.

    Raises ValueError if it exceeds TOLERANCE.
    """
    model = model.eval()
    n = model.config.num_points
    example = tuple(torch.from_numpy(v) for v in example_inputs(n, 2).values())
    export_onnx(
        model,
        example,
        path,
        INPUTS,
        OUTPUTS,
        dynamic_axes={name: {0: "batch"} for name in INPUTS + OUTPUTS},
    )
    cases = [example_inputs(n, b, seed=b) for b in PARITY_BATCHES]
    worst = max_difference(model, path, cases)
    if worst > TOLERANCE:
        raise ValueError(
            f"{path.name} differs from torch by {worst:.2e} (> {TOLERANCE}) at batch sizes "
            f"{PARITY_BATCHES}; the export is wrong"
        )
    return worst
