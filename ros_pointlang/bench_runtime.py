"""`pointlang-bench runtime`: per-stage latency of the pipeline on this machine.

Prints p50/p95 for preprocess, encode, labels, caption and answer at batch 1, the per-object
cost at batch 1/4/16, and ONNX Runtime against torch eager for the same encoder in the same
run (torch is imported from `training/bench_torch.py` only, and only if installed: the runtime
stays torch-free).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ros_pointlang.pipeline import Pipeline
from ros_pointlang.preprocess import prepare_object


def lidar_like_object(seed: int, n: int = 900) -> np.ndarray:
    """A chair-sized box seen from one side: the kind of partial view a LiDAR returns."""
    rng = np.random.default_rng(seed)
    size = rng.uniform([0.4, 0.4, 0.5], [1.2, 0.9, 1.2])
    p = rng.uniform(-0.5, 0.5, (n, 3)) * size
    face = rng.integers(0, 2, n)
    p[face == 0, 0] = -size[0] / 2  # the face towards the sensor
    p[face == 1, 2] = size[2] / 2  # and the top
    return (p + np.array([3.0, 0.0, size[2] / 2])).astype(np.float32)


def percentiles(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds over `repeat` runs after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def bench_runtime(
    bundle: Path | None, repeat: int, threads: int, checkpoint: Path | None
) -> dict[str, Any]:
    pipeline = Pipeline.from_bundle(bundle, threads=threads)
    clouds = [lidar_like_object(i) for i in range(16)]
    one = clouds[0]
    figures: dict[str, Any] = {"bundle": str(pipeline.bundle.path), "threads": threads}

    def record(name: str, fn: Callable[[], Any]) -> None:
        figures[f"{name}_ms_p50"], figures[f"{name}_ms_p95"] = percentiles(fn, repeat)

    record("preprocess", lambda: prepare_object(one, pipeline.num_points))
    record("encode", lambda: pipeline.encode([one]))
    prepared = prepare_object(one, pipeline.num_points)
    record(
        "encoder_onnx_only",
        lambda: pipeline.encode_prepared(prepared.points[None], prepared.size[None], True),
    )
    record("labels", lambda: pipeline.labels(one))
    if pipeline.can_generate:
        record("caption", lambda: pipeline.caption(one))
        record("answer", lambda: pipeline.answer(one, "what is this object?"))
        figures["caption_example"] = pipeline.caption(one).text
    for batch in (1, 4, 16):

        def labels_batch(b: int = batch) -> Any:
            return pipeline.labels_batch(clouds[:b])

        p50, _ = percentiles(labels_batch, max(3, repeat // 4))
        figures[f"labels_batch{batch}_ms_per_object"] = p50 / batch

    try:
        from training.bench_torch import torch_encoder_latency
    except ImportError as error:
        figures["ort_vs_torch_speedup"] = None
        figures["torch_note"] = f"torch comparison skipped ({error})"
        return figures
    torch_ms = torch_encoder_latency(pipeline, [one], repeat, threads, checkpoint)
    if torch_ms is None:
        figures["ort_vs_torch_speedup"] = None
        figures["torch_note"] = "no encoder checkpoint found for the torch comparison"
    else:
        figures["torch_encode_ms_p50"] = torch_ms
        figures["ort_vs_torch_speedup"] = torch_ms / figures["encoder_onnx_only_ms_p50"]
    return figures


def print_runtime(figures: dict[str, Any]) -> None:
    print(f"runtime of {figures['bundle']} ({figures['threads'] or 'auto'} threads)")
    for key, value in figures.items():
        if key in ("bundle", "threads"):
            continue
        shown = f"{value:10.2f}" if isinstance(value, float) else f"{value!s:>10}"
        print(f"  {key:36s} {shown}")
