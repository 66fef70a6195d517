"""The torch side of `pointlang-bench runtime`: the same encoder in torch eager, for the
ONNX Runtime speed-up figure (kept here so the runtime never imports torch)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ros_pointlang.preprocess import prepare_object
from training.models.encoder import load_encoder


def find_checkpoint(pipeline: Any, checkpoint: Path | None) -> Path | None:
    if checkpoint is not None:
        return checkpoint
    source = pipeline.bundle.manifest.get("point_encoder", {}).get("checkpoint")
    if source:
        path = (pipeline.bundle.path / source).resolve()
        return path if path.is_file() else None
    return None


def torch_encoder_latency(
    pipeline: Any, clouds: list[np.ndarray], repeat: int, threads: int, checkpoint: Path | None
) -> float | None:
    """p50 milliseconds of the same encoder in torch eager, or None without a checkpoint."""
    path = find_checkpoint(pipeline, checkpoint)
    if path is None:
        return None
    if threads:
        torch.set_num_threads(threads)
    model, _ = load_encoder(path)
    prepared = [prepare_object(c, pipeline.num_points) for c in clouds]
    points = torch.from_numpy(np.stack([p.points for p in prepared]))
    size = torch.from_numpy(np.stack([p.size for p in prepared]))
    known = torch.ones(len(prepared), dtype=torch.bool)
    times = []
    with torch.inference_mode():
        model(points, size, known)
        for _ in range(repeat):
            start = time.perf_counter()
            model(points, size, known)
            times.append((time.perf_counter() - start) * 1e3)
    return float(np.percentile(times, 50))
