"""Point encoder: Point-BERT-style local groups → mini-PointNet tokens → transformer.

The cloud arrives as `ros_pointlang.preprocess.prepare_object` leaves it: N points centred on
their box and scaled into the unit sphere, plus the box size in metres (a cup and a bathtub can
share a normalised shape). CAD data in arbitrary units has no trustworthy size, so a per-sample
mask swaps the size embedding for a learned "size unknown" embedding.

Grouping (FPS + kNN) is written in plain tensor ops (argmax, cdist, topk, gather) so that
`torch.onnx.export(..., dynamo=False)` traces it into the graph: the runtime then needs no
custom operators.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from training.models.attention import Block


@dataclass
class PointEncoderConfig:
    num_points: int = 1024  # N the encoder is trained and exported for
    num_groups: int = 64  # G local patches (FPS centres)
    group_size: int = 32  # K nearest neighbours per patch
    width: int = 256  # D, transformer width
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    embed_dim: int = 384  # D_embed; equals the frozen text encoder's width (MiniLM: 384)
    dropout: float = 0.0

    @classmethod
    def named(cls, size: str, **overrides: object) -> PointEncoderConfig:
        """The config of a named size (`tiny`, `small`, `base`) with optional field overrides."""
        if size not in NAMED_SIZES:
            raise ValueError(f"unknown model size {size!r}; expected one of {sorted(NAMED_SIZES)}")
        return replace(NAMED_SIZES[size], **overrides)

    def to_dict(self) -> dict:
        return asdict(self)


NAMED_SIZES: dict[str, PointEncoderConfig] = {
    # Tests: a few steps on 256-point clouds in well under a second each.
    "tiny": PointEncoderConfig(
        num_points=256, num_groups=16, group_size=16, width=64, depth=2, heads=2
    ),
    # Shipped default: trains on a 2-core CPU within the hour, ~3.4 M parameters. 512 points
    # suit LiDAR views of furniture-sized objects, which rarely have more.
    "small": PointEncoderConfig(num_points=512, num_groups=48, group_size=24),
    # GPU scale, Point-BERT's transformer on twice the points.
    "base": PointEncoderConfig(
        num_points=2048, num_groups=128, group_size=32, width=384, depth=12, heads=6
    ),
}


def farthest_point_sample(points: torch.Tensor, num_samples: int) -> torch.Tensor:
    """Indices (B, num_samples) of points spread over each cloud, starting at point 0.

    A Python loop over a fixed count unrolls into a static ONNX graph; starting at index 0
    (not a random point) makes the result deterministic and equal in torch and ONNX Runtime.
    """
    batch = points.shape[0]
    nearest_sq = torch.full_like(points[..., 0], float("inf"))  # (B, N)
    current = torch.zeros(batch, dtype=torch.long, device=points.device)  # (B,)
    chosen = []
    for _ in range(num_samples):
        chosen.append(current)
        centre = torch.gather(points, 1, current.view(batch, 1, 1).expand(batch, 1, 3))  # (B,1,3)
        dist_sq = ((points - centre) ** 2).sum(-1)  # (B, N)
        nearest_sq = torch.minimum(nearest_sq, dist_sq)
        current = nearest_sq.argmax(-1)
    return torch.stack(chosen, 1)  # (B, G)


def group_points(
    points: torch.Tensor, num_groups: int, group_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Patches of K neighbours around G FPS centres, expressed relative to their centre."""
    batch, num_points, _ = points.shape
    with torch.no_grad():
        centre_idx = farthest_point_sample(points, num_groups)  # (B, G)
    centres = torch.gather(points, 1, centre_idx.unsqueeze(-1).expand(-1, -1, 3))  # (B, G, 3)
    dist = torch.cdist(centres, points)  # (B, G, N)
    neighbour_idx = dist.topk(group_size, dim=-1, largest=False).indices  # (B, G, K)
    expanded = points.unsqueeze(1).expand(batch, num_groups, num_points, 3)  # (B, G, N, 3)
    gather_idx = neighbour_idx.unsqueeze(-1).expand(-1, -1, -1, 3)  # (B, G, K, 3)
    neighbours = torch.gather(expanded, 2, gather_idx)  # (B, G, K, 3)
    return neighbours - centres.unsqueeze(2), centres  # (B, G, K, 3), (B, G, 3)


class MiniPointNet(nn.Module):
    """Point-BERT's patch embedder: shared MLP, max-pool, concat the pooled feature, again."""

    def __init__(self, width: int):
        super().__init__()
        # Half Point-BERT's widths: the per-point MLPs dominate CPU training time.
        self.first = nn.Sequential(
            nn.Linear(3, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, 128)
        )
        self.second = nn.Sequential(
            nn.Linear(256, 256), nn.LayerNorm(256), nn.GELU(), nn.Linear(256, width)
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        feat = self.first(patches)  # (B, G, K, 128)
        pooled = feat.max(dim=2, keepdim=True).values  # (B, G, 1, 128)
        # Linear(concat(feat, pooled)) with the pooled half applied once per patch, not once
        # per point: the same weights and result for a third less of the encoder's arithmetic.
        joint = self.second[0]
        half = feat.shape[-1]
        x = F.linear(feat, joint.weight[:, :half], joint.bias) + F.linear(
            pooled, joint.weight[:, half:]
        )  # (B, G, K, 256)
        for layer in self.second[1:]:
            x = layer(x)
        return x.max(dim=2).values  # (B, G, D)


class PointEncoder(nn.Module):
    """(normalised cloud, metric size, size known) → (unit embedding, point tokens)."""

    def __init__(self, config: PointEncoderConfig):
        super().__init__()
        if config.width % config.heads:
            raise ValueError(f"width {config.width} must be divisible by heads {config.heads}")
        if config.group_size > config.num_points or config.num_groups > config.num_points:
            raise ValueError(
                f"num_groups {config.num_groups} and group_size {config.group_size} must not "
                f"exceed num_points {config.num_points}"
            )
        self.config = config
        width = config.width
        self.patch_embed = MiniPointNet(width)
        self.pos_embed = nn.Sequential(nn.Linear(3, 128), nn.GELU(), nn.Linear(128, width))
        # Sizes span centimetres to metres: log-metres make a cup and a sofa equally far apart.
        self.size_embed = nn.Sequential(nn.Linear(3, 128), nn.GELU(), nn.Linear(128, width))
        self.size_unknown = nn.Parameter(torch.zeros(width))
        self.cls_token = nn.Parameter(torch.zeros(width))
        self.cls_pos = nn.Parameter(torch.zeros(width))
        self.blocks = nn.ModuleList(
            Block(width, config.heads, config.mlp_ratio, config.dropout)
            for _ in range(config.depth)
        )
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(2 * width, config.embed_dim)
        # CLIP's temperature, learned as log(1/T) from T = 0.07; used by training and labels.
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.apply(self._init_weights)
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.size_unknown, std=0.02)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def forward(
        self, points: torch.Tensor, size: torch.Tensor, size_known: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """points (B, N, 3) unit sphere, size (B, 3) metres, size_known (B,) bool.

        Returns the L2-normalised embedding (B, D_embed) and the tokens (B, G+1, D), where
        token 0 is the class token that also carries the size.
        """
        cfg = self.config
        patches, centres = group_points(points, cfg.num_groups, cfg.group_size)
        tokens = self.patch_embed(patches) + self.pos_embed(centres)  # (B, G, D)
        log_size = torch.log(size.clamp(min=1e-3))  # (B, 3)
        size_feat = torch.where(
            size_known.unsqueeze(-1), self.size_embed(log_size), self.size_unknown
        )  # (B, D)
        cls = (self.cls_token + self.cls_pos + size_feat).unsqueeze(1)  # (B, 1, D)
        x = torch.cat([cls, tokens], dim=1)  # (B, G+1, D)
        for block in self.blocks:
            x, _, _ = block(x)
        x = self.norm(x)  # (B, G+1, D)
        pooled = torch.cat([x[:, 0], x[:, 1:].max(dim=1).values], dim=-1)  # (B, 2D)
        embedding = F.normalize(self.head(pooled), dim=-1)  # (B, D_embed)
        return embedding, x

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def load_encoder(path: str | Path, map_location: str = "cpu") -> tuple[PointEncoder, dict]:
    """A PointEncoder rebuilt from the config stored in a checkpoint, and the checkpoint."""
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file; expected a stage-1 last.pt or point_encoder.pt")
    checkpoint = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(checkpoint, dict) or not {"model", "model_config"} <= checkpoint.keys():
        raise ValueError(f"{path} is not a stage-1 checkpoint or point_encoder.pt")
    model = PointEncoder(PointEncoderConfig(**checkpoint["model_config"]))
    model.load_state_dict(checkpoint["model"])
    return model.eval(), checkpoint
