"""Export the stage-2 bridge and decoder to ONNX, then prove the graphs equal torch.

    python -m export.decoder --checkpoint models/pointlang-small/captioner.pt --out DIR

Two graphs (opset 17, TorchScript exporter, `dynamo=False`):

    bridge.onnx   point_tokens (B, S, D_enc) f32, size (B, 3) f32 metres,
                  size_known (B,) bool                                → prefix (B, Q + 2, D) f32
    decoder.onnx  input_ids (B, T) i64, prefix (B, P, D) f32,
                  past_keys, past_values (L, B, H, T_past, hd) f32,
                  attention_mask (B, T_past + P + T) i64              → logits (B, T, V) f32,
                  present_keys, present_values (L, B, H, T_past + P + T, hd) f32

The first decoder call passes the prefix, the prompt and a zero-length cache; every later call
passes P = 0 and the new token. The export trap (a graph right at the traced shape and wrong at
another, measured with a Hugging Face `DynamicCache`) is what `check_parity` looks for: batch
sizes, prompt lengths and cache lengths (including 0) other than the traced ones, max |Δ| ≤
1e-4, and identical greedy outputs.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from training.models.captioner import HFDecoder, PointCaptioner, decoder_prompts, load_captioner
from training.tokenizer import TextTokenizer

DECODER_INPUTS = ("input_ids", "prefix", "past_keys", "past_values", "attention_mask")
DECODER_OUTPUTS = ("logits", "present_keys", "present_values")
# Of each output's own scale: the bridge prefix reaches ~50, where float32 summation order alone
# gave 2.4e-4 absolute (5e-6 of the scale).
TOLERANCE = 1e-4


def _error(got: np.ndarray, expected: np.ndarray) -> float:
    """Max |got - expected| over the largest |expected|, never dividing by less than 1."""
    return float(np.abs(got - expected).max() / max(1.0, float(np.abs(expected).max())))


def _dummy_decoder_inputs(
    model: PointCaptioner, batch: int, prompt: int, past: int, with_prefix: bool, seed: int = 0
) -> tuple[torch.Tensor, ...]:
    cfg = model.config.decoder
    g = torch.Generator().manual_seed(seed)
    prefix_len = cfg.prefix_length if with_prefix else 0
    ids = torch.randint(4, cfg.vocab_size, (batch, prompt), generator=g)
    prefix = torch.randn(batch, prefix_len, cfg.width, generator=g)
    kv_shape = (cfg.depth, batch, cfg.heads, past, cfg.width // cfg.heads)
    keys, values = torch.randn(kv_shape, generator=g), torch.randn(kv_shape, generator=g)
    mask = torch.ones(batch, past + prefix_len + prompt, dtype=torch.long)
    return ids, prefix, keys, values, mask


def export_decoder(
    model: PointCaptioner, out_dir: str | Path, opset: int = 17
) -> tuple[Path, Path]:
    """Write bridge.onnx and decoder.onnx for model into out_dir; returns their paths."""
    if isinstance(model.decoder, HFDecoder):
        raise ValueError(
            f"decoder {model.config.hf_decoder!r} is a Hugging Face model; only the default "
            "decoder (hf_decoder='') exports with an explicit key/value cache"
        )
    if opset < 17:
        raise ValueError(f"opset {opset} is too old; expected 17 or newer")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval().float()
    cfg = model.config.decoder
    bridge_path, decoder_path = out / "bridge.onnx", out / "decoder.onnx"
    tokens = torch.randn(2, model.config.encoder.num_groups + 1, cfg.encoder_width)
    size, known = torch.rand(2, 3) + 0.1, torch.tensor([True, False])
    with torch.no_grad():
        torch.onnx.export(
            model.bridge,
            (tokens, size, known),
            str(bridge_path),
            input_names=["point_tokens", "size", "size_known"],
            output_names=["prefix"],
            dynamic_axes={
                "point_tokens": {0: "batch", 1: "num_tokens"},
                "size": {0: "batch"},
                "size_known": {0: "batch"},
                "prefix": {0: "batch"},
            },
            opset_version=opset,
            dynamo=False,
        )
        # Trace with every dynamic length distinct and > 1, so none is mistaken for a constant.
        torch.onnx.export(
            model.decoder,
            _dummy_decoder_inputs(model, batch=2, prompt=3, past=5, with_prefix=True),
            str(decoder_path),
            input_names=list(DECODER_INPUTS),
            output_names=list(DECODER_OUTPUTS),
            dynamic_axes={
                "input_ids": {0: "batch", 1: "new_tokens"},
                "prefix": {0: "batch", 1: "prefix_tokens"},
                "past_keys": {1: "batch", 3: "past_tokens"},
                "past_values": {1: "batch", 3: "past_tokens"},
                "attention_mask": {0: "batch", 1: "total_tokens"},
                "logits": {0: "batch", 1: "new_tokens"},
                "present_keys": {1: "batch", 3: "total_tokens"},
                "present_values": {1: "batch", 3: "total_tokens"},
            },
            opset_version=opset,
            dynamo=False,
        )
    return bridge_path, decoder_path


def check_parity(
    model: PointCaptioner,
    out_dir: str | Path,
    batches: tuple[int, ...] = (1, 3),
    prompts: tuple[int, ...] = (1, 4, 9),
    pasts: tuple[int, ...] = (0, 7, 20),
) -> dict[str, float]:
    """Worst torch/onnxruntime error of every output over the shape grid, relative to the
    output's scale (see `_error`); raises above TOLERANCE."""
    import onnxruntime as ort

    out = Path(out_dir)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    bridge = ort.InferenceSession(
        str(out / "bridge.onnx"), options, providers=["CPUExecutionProvider"]
    )
    decoder = ort.InferenceSession(
        str(out / "decoder.onnx"), options, providers=["CPUExecutionProvider"]
    )
    model = model.eval().float()
    cfg = model.config.decoder
    worst = {"prefix": 0.0, **dict.fromkeys(DECODER_OUTPUTS, 0.0)}
    with torch.no_grad():
        for batch, num_tokens in itertools.product(batches, (cfg.num_queries, 7)):
            tokens = torch.randn(batch, num_tokens, cfg.encoder_width)
            size = torch.rand(batch, 3) * 3 + 0.01
            known = torch.arange(batch) % 2 == 0  # both branches of the size token
            feeds = {
                "point_tokens": tokens.numpy(),
                "size": size.numpy(),
                "size_known": known.numpy(),
            }
            got = bridge.run(["prefix"], feeds)[0]
            worst["prefix"] = max(
                worst["prefix"],
                _error(got, model.bridge(tokens, size, known).numpy()),
            )
        for seed, (batch, prompt, past) in enumerate(itertools.product(batches, prompts, pasts)):
            # A cache-free call carries the prefix (the first step); later ones never do.
            inputs = _dummy_decoder_inputs(
                model, batch, prompt, past, with_prefix=past == 0, seed=seed
            )
            expected = model.decoder(*inputs)
            got = decoder.run(
                list(DECODER_OUTPUTS),
                dict(zip(DECODER_INPUTS, (x.numpy() for x in inputs), strict=True)),
            )
            for name, e, g in zip(DECODER_OUTPUTS, expected, got, strict=True):
                if e.shape != g.shape:
                    raise ValueError(
                        f"{name} has shape {g.shape} in ONNX but {tuple(e.shape)} in torch at "
                        f"batch {batch}, prompt {prompt}, past {past}"
                    )
                worst[name] = max(worst[name], _error(g, e.numpy()))
    bad = {k: v for k, v in worst.items() if not v <= TOLERANCE}
    if bad:
        raise ValueError(
            f"ONNX outputs differ from torch by {bad}; expected at most "
            f"{TOLERANCE} of each output's scale"
        )
    return worst


def check_greedy(
    model: PointCaptioner,
    out_dir: str | Path,
    tokenizer: TextTokenizer,
    prompts: Sequence[str],
    max_new_tokens: int = 24,
) -> None:
    """Greedy tokens from the ONNX graphs (ros_pointlang.decode) equal torch's, per prompt.

    Each prompt goes to two clouds, one of known size and one of unknown size. With
    `box_prompt` (and `label_prompt`) each cloud reads its own box (and label) text, so the two
    prompts differ in length and the ONNX side decodes them left-padded in one batch, as the
    runtime does; torch decodes each cloud alone.
    """
    import onnxruntime as ort

    from ros_pointlang.decode import Generator

    out = Path(out_dir)
    generator = Generator(
        ort.InferenceSession(str(out / "bridge.onnx"), providers=["CPUExecutionProvider"]),
        ort.InferenceSession(str(out / "decoder.onnx"), providers=["CPUExecutionProvider"]),
        eos_id=tokenizer.eos_id,
        pad_id=tokenizer.pad_id,
        max_positions=model.config.decoder.max_positions,
    )
    cfg = model.config
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(2, cfg.encoder.num_groups + 1, cfg.decoder.encoder_width, generator=g)
    size, known = torch.tensor([[0.5, 0.4, 0.9], [2.0, 1.0, 0.7]]), torch.tensor([True, False])
    prefix = generator.prefix(tokens.numpy(), size.numpy(), known.numpy())
    # Any two labels serve: parity is about the graphs, not about which label a cloud gets.
    labels = ["chair", "traffic cone"] if cfg.decoder.label_prompt else None
    for prompt in prompts:
        texts = decoder_prompts(cfg.decoder, [prompt] * 2, size, known, labels)
        ids = [tokenizer.prompt(p) for p in texts]
        expected = [
            model.generate(
                tokens[i : i + 1],
                size[i : i + 1],
                known[i : i + 1],
                torch.tensor([ids[i]]),
                tokenizer.eos_id,
                max_new_tokens,
            )[0]
            for i in range(2)
        ]
        got = [r.tokens for r in generator.greedy(prefix, ids, max_new_tokens)]
        if got != expected:
            raise ValueError(
                f"greedy tokens differ for prompt {prompt!r}: ONNX {got} vs torch {expected}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="export bridge + decoder to ONNX with parity checks"
    )
    parser.add_argument("--checkpoint", required=True, help="captioner.pt or a stage-2 last.pt")
    parser.add_argument("--out", required=True, help="folder for bridge.onnx and decoder.onnx")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args(argv)
    model, checkpoint = load_captioner(args.checkpoint)
    export_decoder(model, args.out, args.opset)
    worst = check_parity(model, args.out)
    print("parity max |Δ|: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    if "tokenizer" in checkpoint:
        from tokenizers import Tokenizer

        from ros_pointlang.decode import DESCRIBE

        tok = TextTokenizer(Tokenizer.from_str(checkpoint["tokenizer"]))
        tok.save(Path(args.out) / "tokenizer.json")
        check_greedy(model, args.out, tok, [DESCRIBE, "how many legs does it have?"])
        print("greedy outputs identical")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
