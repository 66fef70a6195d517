"""Multi-head scaled dot-product attention, written out in plain tensor ops, and the pre-norm
transformer block both models stack.

The encoder's self-attention, the bridge's cross-attention and the decoder's cached causal
attention all go through `attend`, and the encoder and the decoder stack the same `Block`.
Plain MatMuls and a softmax trace into an ONNX graph that ONNX Runtime and TensorRT run
without custom operators.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, T, D) → (B, H, T, D / H)."""
    batch, tokens, width = x.shape
    return x.view(batch, tokens, heads, width // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, hd) → (B, T, H * hd)."""
    batch, heads, tokens, head_dim = x.shape
    return x.transpose(1, 2).reshape(batch, tokens, heads * head_dim)


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    scale: float,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """softmax(q k^T * scale + bias) v for q (B, H, Tq, hd), k and v (B, H, Tk, hd).

    `scale` is 1 / sqrt(hd), passed as a Python float so the graph holds a constant rather
    than a traced shape computation; `bias` (broadcast to (B, H, Tq, Tk)) is additive, e.g.
    a causal or padding mask of large negative values.
    """
    scores = (q @ k.transpose(-2, -1)) * scale  # (B, H, Tq, Tk)
    if bias is not None:
        scores = scores + bias
    return scores.softmax(-1) @ v  # (B, H, Tq, hd)


def mlp(width: int, ratio: float) -> nn.Sequential:
    """The blocks' feed-forward layer: width → width * ratio → width."""
    hidden = int(width * ratio)
    return nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))


class Block(nn.Module):
    """Pre-norm self-attention + MLP, with an optional key/value cache and additive mask."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, dropout: float) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} must be divisible by heads {heads}")
        self.heads = heads
        self.scale = 1.0 / math.sqrt(width // heads)  # a constant, not a traced op
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = mlp(width, mlp_ratio)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
        bias: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, T, D); past keys and values (B, H, T_past, hd) to attend to before x's own;
        bias broadcast to (B, H, T, T_past + T). Returns x and the keys and values
        (B, H, T_past + T, hd), the cache of the next step."""
        q, k, v = (split_heads(t, self.heads) for t in self.qkv(self.norm1(x)).chunk(3, dim=-1))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        x = x + self.dropout(self.proj(merge_heads(attend(q, k, v, self.scale, bias))))
        return x + self.dropout(self.mlp(self.norm2(x))), k, v
