"""ONNX export and the parity check every exported model must pass."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

OPSET = 17


def export_onnx(
    module: torch.nn.Module,
    example: tuple[torch.Tensor, ...],
    path: Path,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
) -> None:
    """Export `module` with the TorchScript exporter (dynamo=False), written atomically."""
    buffer = io.BytesIO()
    module.eval()
    with torch.no_grad():
        torch.onnx.export(
            module,
            example,
            buffer,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            dynamo=False,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def max_difference(
    module: Callable[..., Sequence[torch.Tensor] | torch.Tensor],
    session_path: Path,
    cases: list[dict[str, np.ndarray]],
) -> float:
    """Largest absolute difference between torch and ONNX Runtime over the input `cases`.

    Checking several shapes, not only the traced one, is the point: an exporter can bake a
    traced shape into the graph and still match at that shape (measured: a Hugging Face GPT-2
    with a `DynamicCache` matched at the traced shape and was 0.36 off in logits at another).
    """
    import onnxruntime as ort

    session = ort.InferenceSession(str(session_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for feeds in cases:
        with torch.no_grad():
            expected = module(*(torch.from_numpy(v) for v in feeds.values()))
        if isinstance(expected, torch.Tensor):
            expected = (expected,)
        got = session.run(None, feeds)
        for e, g in zip(expected, got, strict=True):
            if tuple(e.shape) != g.shape:
                raise ValueError(
                    f"{session_path.name} returned shape {g.shape} where torch gives "
                    f"{tuple(e.shape)} for inputs {[v.shape for v in feeds.values()]}"
                )
            worst = max(worst, float(np.max(np.abs(e.float().numpy() - g.astype(np.float32)))))
    return worst
