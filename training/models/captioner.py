"""Stage 2 (PointBLIP): point tokens → learned-query bridge → prefix of a causal decoder.

The bridge's Q learned queries cross-attend to the point encoder's tokens and, with a pooled
token and one for the metric size, become Q + 2 prefix embeddings in the decoder's width. The
decoder is a small GPT trained from scratch; one model serves captions (prompt "describe:")
and answers (the question is the prompt):

    [prefix (Q + 2)] <bos> prompt tokens <sep> target tokens <eos>

With `DecoderConfig.box_prompt` the prompt starts with the measured box as text ("box 0.5 m
0.4 m 0.9 m. describe:", `ros_pointlang.decode.box_prompt`): the size token alone is one float
embedding the decoder would have to turn into digits; from text, it copies them.

Its key/value cache is explicit: `past_keys`/`past_values` (L, B, H, T_past, hd) go in, the
updated (L, B, H, T_past + P + T, hd) come out. The export trap measured with a Hugging
Face `DynamicCache` (traced at one shape, wrong at another) cannot happen to plain tensors
whose lengths the graph reads from their shapes, and the same graph serves the first call
(T_past = 0, prefix given) and every later step (P = 0, one new token).

`CaptionerConfig.hf_decoder` may instead name a Hugging Face causal LM (a hub name or local
folder, e.g. "facebook/opt-1.3b") for GPU-scale training; the bridge then feeds its input
embeddings, and training uses that model's tokenizer with our special tokens appended
(`pointlang-train caption hf_decoder=NAME`). That path trains and evaluates with
`PointCaptioner.generate` (no cache); it is not exported: the robot bundle uses our decoder.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

from ros_pointlang.decode import LabelPrompt, prompts_as_trained
from training.losses import next_token_loss
from training.models.attention import Block, attend, merge_heads, mlp, split_heads
from training.models.encoder import PointEncoder, PointEncoderConfig

# Additive mask value: finite, so a query whose keys are all padding (left padding) gives a
# uniform row instead of NaNs that would leak into later layers through 0 * NaN.
MASKED = -1e9


@dataclass
class DecoderConfig:
    vocab_size: int = 2048  # set from the tokenizer at training time
    max_positions: int = 128  # prefix + prompt + target tokens
    width: int = 256  # D
    depth: int = 4  # L
    heads: int = 4  # H
    mlp_ratio: float = 4.0
    dropout: float = 0.0
    num_queries: int = 16  # Q learned queries; the prefix adds a pooled and a size token
    bridge_depth: int = 2
    encoder_width: int = 256  # width of the point tokens the bridge reads
    # Prompts start with the measured box as text ("box 0.5 m 0.4 m 0.9 m. how tall is it?",
    # ros_pointlang.decode.box_prompt), so size answers copy its digits. Checkpoints and bundles
    # from before this field load as False: their prompts stay bare.
    box_prompt: bool = False
    # Prompts start with the frozen encoder's own best label among the training categories
    # ("label chair. box …", ros_pointlang.decode.label_prompt): captions and answers then name
    # what the labels say. The captioner keeps the labels and their text embeddings it chose
    # among (its "label_prompt" entry; the bundle's label_prompt.npz). Older ones load as False.
    label_prompt: bool = False

    @classmethod
    def named(cls, size: str, **overrides: object) -> DecoderConfig:
        """The config of a named size (`tiny`, `small`) with optional field overrides."""
        if size not in NAMED_SIZES:
            raise ValueError(
                f"unknown decoder size {size!r}; expected one of {sorted(NAMED_SIZES)}"
            )
        return replace(NAMED_SIZES[size], **overrides)

    @property
    def prefix_length(self) -> int:
        return self.num_queries + 2

    def to_dict(self) -> dict:
        return asdict(self)


NAMED_SIZES: dict[str, DecoderConfig] = {
    # Tests: trains a few steps in well under a second.
    "tiny": DecoderConfig(
        vocab_size=512, max_positions=96, width=64, depth=2, heads=2, num_queries=4, bridge_depth=1
    ),
    # Shipped default: ~3.5 M parameters, trains from cached encoder tokens on one CPU core.
    "small": DecoderConfig(width=192, depth=4, heads=4, num_queries=16, bridge_depth=2),
}


@dataclass
class CaptionerConfig:
    encoder: PointEncoderConfig = field(default_factory=PointEncoderConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    hf_decoder: str = ""  # a Hugging Face causal LM instead of our decoder (GPU scale)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> CaptionerConfig:
        return cls(
            encoder=PointEncoderConfig(**values["encoder"]),
            decoder=DecoderConfig(**values["decoder"]),
            hf_decoder=values.get("hf_decoder", ""),
        )


def init_weights(module: nn.Module) -> None:
    """GPT-2's initialisation: small normal weights keep the tied logits near zero at start."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


class CrossBlock(nn.Module):
    """Queries attend to the point tokens, then an MLP (a one-way Q-Former layer)."""

    def __init__(self, config: DecoderConfig):
        super().__init__()
        self.heads = config.heads
        self.scale = 1.0 / math.sqrt(config.width // config.heads)  # a constant, not a traced op
        self.norm_q = nn.LayerNorm(config.width)
        self.norm_kv = nn.LayerNorm(config.width)
        self.q = nn.Linear(config.width, config.width)
        self.kv = nn.Linear(config.width, 2 * config.width)
        self.proj = nn.Linear(config.width, config.width)
        self.norm2 = nn.LayerNorm(config.width)
        self.mlp = mlp(config.width, config.mlp_ratio)

    def forward(self, queries: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        q = split_heads(self.q(self.norm_q(queries)), self.heads)  # (B, H, Q, hd)
        k, v = (split_heads(t, self.heads) for t in self.kv(self.norm_kv(tokens)).chunk(2, -1))
        y = merge_heads(attend(q, k, v, self.scale))  # (B, Q, D)
        queries = queries + self.proj(y)
        return queries + self.mlp(self.norm2(queries))


class Bridge(nn.Module):
    """Point tokens (B, S, D_enc) + metric size → prefix embeddings (B, Q + 2, D).

    The Q query outputs are followed by a pooled token and a size token, the latter made from
    the box size in metres: the
    answers quote sizes to 0.1 m (0.01 m below 0.3 m), finer than a frozen contrastive encoder
    keeps, so the decoder reads them first-hand. An unknown size (CAD data) gets a learned token.
    """

    def __init__(self, config: DecoderConfig, out_width: int | None = None):
        super().__init__()
        self.proj_in = nn.Linear(config.encoder_width, config.width)
        self.queries = nn.Parameter(torch.randn(config.num_queries, config.width) * 0.02)
        self.blocks = nn.ModuleList(CrossBlock(config) for _ in range(config.bridge_depth))
        self.size_embed = nn.Sequential(
            nn.Linear(6, config.width), nn.GELU(), nn.Linear(config.width, config.width)
        )
        self.size_unknown = nn.Parameter(torch.randn(config.width) * 0.02)
        # Stage 1's embedding pools the class token and the max over patch tokens; a token of
        # the same pooling hands the decoder the aligned (category-bearing) summary directly,
        # which the queries' softmax attention cannot form on its own.
        self.pooled = nn.Linear(2 * config.encoder_width, config.width)
        self.norm = nn.LayerNorm(config.width)
        # A Hugging Face decoder may be wider than the bridge; project into its embedding space.
        self.proj_out = nn.Linear(config.width, out_width or config.width)
        self.apply(init_weights)

    def forward(
        self, tokens: torch.Tensor, size: torch.Tensor, size_known: torch.Tensor
    ) -> torch.Tensor:
        """tokens (B, S, D_enc), size (B, 3) metres, size_known (B,) bool → (B, Q + 2, D_out)."""
        pooled = self.pooled(torch.cat([tokens[:, 0], tokens[:, 1:].max(dim=1).values], -1))
        tokens = self.proj_in(tokens)  # (B, S, D)
        queries = self.queries.unsqueeze(0).expand(tokens.shape[0], -1, -1)  # (B, Q, D)
        for block in self.blocks:
            queries = block(queries, tokens)
        size = size.clamp(min=1e-3)
        size_feat = self.size_embed(torch.cat([size.log(), size], -1))  # (B, D)
        size_feat = torch.where(size_known.unsqueeze(-1), size_feat, self.size_unknown)
        prefix = torch.cat([queries, pooled.unsqueeze(1), size_feat.unsqueeze(1)], 1)  # (B, Q+2, D)
        return self.proj_out(self.norm(prefix))


class Decoder(nn.Module):
    """GPT with an optional embedding prefix and an explicit key/value cache."""

    def __init__(self, config: DecoderConfig):
        super().__init__()
        if config.width % config.heads:
            raise ValueError(f"decoder width {config.width} must be divisible by {config.heads}")
        self.config = config
        self.tok_embed = nn.Embedding(config.vocab_size, config.width)
        self.pos_embed = nn.Embedding(config.max_positions, config.width)
        self.blocks = nn.ModuleList(
            Block(config.width, config.heads, config.mlp_ratio, config.dropout)
            for _ in range(config.depth)
        )
        self.norm = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.vocab_size, bias=False)
        self.head.weight = self.tok_embed.weight  # tied, as in GPT-2: fewer weights to learn
        self.apply(init_weights)

    def empty_cache(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero-length past keys and values (L, B, H, 0, hd) for a first call."""
        cfg = self.config
        shape = (cfg.depth, batch, cfg.heads, 0, cfg.width // cfg.heads)
        device = self.tok_embed.weight.device
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)

    def forward(
        self,
        input_ids: torch.Tensor,
        prefix: torch.Tensor,
        past_keys: torch.Tensor,
        past_values: torch.Tensor,
        attention_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step over P prefix embeddings then T tokens, after T_past cached positions.

        input_ids (B, T) int64, prefix (B, P, D) (P = 0 after the first call), past_keys and
        past_values (L, B, H, T_past, hd), attention_mask (B, T_past + P + T), 1 = real, 0 =
        padding. Returns logits (B, T, V) of the token positions and the new keys and values
        (L, B, H, T_past + P + T, hd).
        """
        x = torch.cat([prefix, self.tok_embed(input_ids)], dim=1)  # (B, P + T, D)
        new = x.shape[1]
        past = past_keys.shape[3]
        # Positions count real tokens only, so left padding inside a batch shifts nothing.
        positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, past:]  # (B, P + T)
        x = x + self.pos_embed(positions)
        query_pos = torch.arange(new, device=x.device) + past  # (P + T,)
        key_pos = torch.arange(past + new, device=x.device)  # (T_past + P + T,)
        allowed = (key_pos.unsqueeze(0) <= query_pos.unsqueeze(1)).unsqueeze(0)  # (1, P+T, Tk)
        allowed = allowed & (attention_mask.unsqueeze(1) > 0)  # (B, P + T, Tk)
        bias = torch.where(allowed, 0.0, MASKED).unsqueeze(1).to(x.dtype)  # (B, 1, P + T, Tk)
        keys, values = [], []
        for layer, block in enumerate(self.blocks):
            x, k, v = block(x, (past_keys[layer], past_values[layer]), bias)
            keys.append(k)
            values.append(v)
        x = self.norm(x[:, x.shape[1] - input_ids.shape[1] :])  # (B, T, D)
        return self.head(x), torch.stack(keys), torch.stack(values)


class HFDecoder(nn.Module):
    """A Hugging Face causal LM fed the bridge prefix through `inputs_embeds` (training only)."""

    def __init__(self, name: str, vocab_size: int):
        super().__init__()
        from transformers import AutoModelForCausalLM

        self.model = AutoModelForCausalLM.from_pretrained(name)
        if vocab_size > self.model.get_input_embeddings().num_embeddings:
            # Our special tokens (<bos>, <sep>, ...) were appended to the model's tokenizer.
            self.model.resize_token_embeddings(vocab_size)
        self.width = self.model.get_input_embeddings().embedding_dim

    def forward(
        self, input_ids: torch.Tensor, prefix: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        embeds = torch.cat([prefix, self.model.get_input_embeddings()(input_ids)], dim=1)
        out = self.model(inputs_embeds=embeds, attention_mask=attention_mask)
        return out.logits[:, prefix.shape[1] :]  # (B, T, V)


class PointCaptioner(nn.Module):
    """Point encoder → bridge → decoder; its config (both sub-configs) goes in every checkpoint."""

    def __init__(self, config: CaptionerConfig, encoder: PointEncoder | None = None):
        super().__init__()
        self.config = config
        self.encoder = encoder if encoder is not None else PointEncoder(config.encoder)
        if config.decoder.encoder_width != config.encoder.width:
            raise ValueError(
                f"decoder.encoder_width {config.decoder.encoder_width} must equal the encoder "
                f"width {config.encoder.width}"
            )
        if config.hf_decoder:
            self.decoder = HFDecoder(config.hf_decoder, config.decoder.vocab_size)
            self.bridge = Bridge(config.decoder, out_width=self.decoder.width)
        else:
            self.decoder = Decoder(config.decoder)
            self.bridge = Bridge(config.decoder)

    def encode(
        self, points: torch.Tensor, size: torch.Tensor, size_known: torch.Tensor
    ) -> torch.Tensor:
        """Point tokens (B, G + 1, D_enc) of prepared clouds."""
        return self.encoder(points, size, size_known)[1]

    def forward(
        self,
        tokens: torch.Tensor,
        size: torch.Tensor,
        size_known: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher-forced logits (B, T, V) of input_ids (B, T) after the bridge prefix.

        tokens (B, G + 1, D_enc) from `encode` (or a cache of them), size (B, 3) metres,
        size_known (B,) bool, attention_mask (B, T) or None for all ones.
        """
        prefix = self.bridge(tokens, size, size_known)  # (B, Q + 2, D)
        batch, prefix_len = prefix.shape[:2]
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        prefix_mask = torch.ones(batch, prefix_len, dtype=attention_mask.dtype)
        mask = torch.cat([prefix_mask.to(attention_mask.device), attention_mask], 1)  # (B, P + T)
        if isinstance(self.decoder, HFDecoder):
            return self.decoder(input_ids, prefix, mask)
        past_keys, past_values = self.decoder.empty_cache(batch)
        return self.decoder(input_ids, prefix, past_keys, past_values, mask)[0]

    def loss(
        self,
        tokens: torch.Tensor,
        size: torch.Tensor,
        size_known: torch.Tensor,
        input_ids: torch.Tensor,
        labels: torch.Tensor,
    ) -> torch.Tensor:
        """Mean cross-entropy of next-token predictions where labels (B, T) are not -100.

        labels[:, t] is the token that should follow input_ids[:, :t + 1] (already shifted).
        Right padding needs no mask: causal attention never looks forward to it.
        """
        return next_token_loss(self(tokens, size, size_known, input_ids), labels)

    @torch.no_grad()
    def generate(
        self,
        tokens: torch.Tensor,
        size: torch.Tensor,
        size_known: torch.Tensor,
        prompt_ids: torch.Tensor,
        eos_id: int,
        max_new_tokens: int = 48,
    ) -> list[list[int]]:
        """Greedy continuations of prompt_ids (B, T0) (same length for all), up to eos."""
        batch = tokens.shape[0]
        ids = prompt_ids
        finished = torch.zeros(batch, dtype=torch.bool, device=ids.device)
        out: list[list[int]] = [[] for _ in range(batch)]
        if isinstance(self.decoder, HFDecoder):  # no cache: recompute (GPU-scale path only)
            for _ in range(max_new_tokens):
                nxt = self(tokens, size, size_known, ids)[:, -1].argmax(-1)  # (B,)
                ids = torch.cat([ids, nxt.unsqueeze(1)], 1)
                finished = self._append(out, nxt, finished, eos_id)
                if finished.all():
                    break
            return out
        prefix = self.bridge(tokens, size, size_known)  # (B, Q + 2, D)
        past_keys, past_values = self.decoder.empty_cache(batch)
        mask = torch.ones(batch, prefix.shape[1] + ids.shape[1], dtype=torch.long)
        for _ in range(max_new_tokens):
            logits, past_keys, past_values = self.decoder(
                ids, prefix, past_keys, past_values, mask.to(ids.device)
            )
            nxt = logits[:, -1].argmax(-1)  # (B,)
            finished = self._append(out, nxt, finished, eos_id)
            if finished.all():
                break
            ids, prefix = nxt.unsqueeze(1), prefix[:, :0]
            mask = torch.cat([mask, torch.ones(batch, 1, dtype=torch.long)], 1)
        return out

    @staticmethod
    def _append(
        out: list[list[int]], nxt: torch.Tensor, finished: torch.Tensor, eos_id: int
    ) -> torch.Tensor:
        for i, token in enumerate(nxt.tolist()):
            if not finished[i] and token != eos_id:
                out[i].append(token)
        return finished | (nxt == eos_id)


def decoder_prompts(
    config: DecoderConfig,
    prompts: Sequence[str],
    size: torch.Tensor,
    size_known: torch.Tensor,
    labels: Sequence[str] | None = None,
) -> list[str]:
    """The prompts as the decoder reads them (`ros_pointlang.decode.prompts_as_trained`): after
    the measured box if `config.box_prompt`, after the encoder's label if `config.label_prompt`.

    size (B, 3) metres and size_known (B,) must be the rows the bridge gets for the same
    samples (after size dropout), so the text never contradicts the size token; labels (B,)
    the encoder's best label of each sample (`ros_pointlang.decode.LabelPrompt.choose`).
    """
    if config.label_prompt and labels is None:
        raise ValueError(
            "this decoder reads the encoder's label before its prompt (decoder.label_prompt); "
            "expected one label per sample"
        )
    return prompts_as_trained(
        prompts,
        size.tolist(),
        size_known.tolist(),
        config.box_prompt,
        labels if config.label_prompt else None,
    )


def stored_label_prompt(checkpoint: dict) -> LabelPrompt | None:
    """The labels a captioner's label prompt chooses among (its checkpoint's "label_prompt"
    entry: names and (C, E) text embeddings), or None for a decoder without one."""
    entry = checkpoint.get("label_prompt")
    if not entry:
        return None
    return LabelPrompt(entry["labels"], torch.as_tensor(entry["embeddings"]).float().numpy())


def encoder_weights_sha256(state: dict[str, torch.Tensor]) -> str:
    """A hash of encoder weights (names, shapes, values): the same for the same weights in
    whatever file holds them."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def load_captioner(path: str, map_location: str = "cpu") -> tuple[PointCaptioner, dict]:
    """A PointCaptioner rebuilt from the config stored in a checkpoint, and the checkpoint.

    A bundle's captioner.pt reads the encoder from its sibling point_encoder.pt and refuses
    one other than the encoder it was trained on (a retrained stage 1 needs a new stage 2).
    """
    checkpoint = torch.load(path, map_location=map_location, weights_only=False)
    model = PointCaptioner(CaptionerConfig.from_dict(checkpoint["captioner_config"]))
    weights = dict(checkpoint["model"])
    if "encoder_file" in checkpoint:
        encoder_path = Path(path).parent / checkpoint["encoder_file"]
        if not encoder_path.is_file():
            raise ValueError(f"{path} needs its encoder weights at {encoder_path}; none found")
        encoder_state = torch.load(encoder_path, map_location=map_location, weights_only=False)
        expected = checkpoint.get("encoder_sha256")  # absent in captioners saved before it
        if expected and encoder_weights_sha256(encoder_state["model"]) != expected:
            raise ValueError(
                f"{encoder_path} is not the encoder {path} was trained on (weights hash "
                f"{expected[:12]}…); train stage 2 again on it or restore that encoder"
            )
        weights |= {f"encoder.{k}": v for k, v in encoder_state["model"].items()}
    model.load_state_dict(weights)
    return model.eval(), checkpoint
