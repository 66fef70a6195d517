"""Stage-2 model: a tiny captioner learns, and cached decoding equals full recomputation."""

import pytest
import torch

from training.models.captioner import (
    CaptionerConfig,
    DecoderConfig,
    PointCaptioner,
    decoder_prompts,
    load_captioner,
)
from training.models.encoder import PointEncoderConfig

torch.set_num_threads(1)


def tiny_captioner(seed: int = 0, vocab_size: int = 40) -> PointCaptioner:
    torch.manual_seed(seed)
    encoder = PointEncoderConfig.named("tiny")
    decoder = DecoderConfig.named("tiny", vocab_size=vocab_size, encoder_width=encoder.width)
    return PointCaptioner(CaptionerConfig(encoder=encoder, decoder=decoder)).eval()


def test_size_token_reads_the_size():
    model = tiny_captioner(seed=4)
    tokens = torch.randn(2, 17, 64)
    a = model.bridge(tokens, torch.tensor([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]), torch.ones(2).bool())
    b = model.bridge(tokens, torch.tensor([[0.5, 0.5, 0.5], [2.0, 2.0, 2.0]]), torch.ones(2).bool())
    assert a.shape == (2, 6, 64)  # Q = 4 queries + the pooled token + the size token
    torch.testing.assert_close(a[0], b[0])
    assert not torch.allclose(a[1, -1], b[1, -1])
    unknown = model.bridge(tokens, torch.rand(2, 3), torch.zeros(2).bool())
    torch.testing.assert_close(unknown[0, -1], unknown[1, -1])  # sizes ignored when unknown


def test_named_sizes_and_bad_values():
    assert DecoderConfig.named("small").width > DecoderConfig.named("tiny").width
    with pytest.raises(ValueError, match="unknown decoder size"):
        DecoderConfig.named("huge")
    encoder = PointEncoderConfig.named("tiny")
    with pytest.raises(ValueError, match="encoder_width"):
        PointCaptioner(CaptionerConfig(encoder=encoder, decoder=DecoderConfig.named("tiny")))


def test_tiny_captioner_loss_falls():
    model = tiny_captioner().train()
    tokens = torch.randn(4, 17, 64)  # (B, G+1, D_enc) as a frozen encoder would give
    size, known = torch.rand(4, 3) + 0.1, torch.tensor([True, True, False, True])
    ids = torch.randint(4, 40, (4, 12))
    labels = torch.cat([ids[:, 1:], torch.full((4, 1), 2)], 1)  # next token, then eos
    labels[:, :3] = -100  # prompt positions carry no loss
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model.loss(tokens, size, known, ids, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_kv_cache_decoding_equals_full_recomputation():
    model = tiny_captioner(seed=1)
    dec = model.decoder
    tokens, size, known = torch.randn(3, 17, 64), torch.rand(3, 3) + 0.1, torch.ones(3).bool()
    ids = torch.randint(4, 40, (3, 10))
    full = model(tokens, size, known, ids)  # (B, T, V), no cache
    # Prompt of 4 tokens with the prefix, then one token at a time, then two at once.
    prefix = model.bridge(tokens, size, known)
    keys, values = dec.empty_cache(3)
    steps = [ids[:, :4], *ids[:, 4:8].split(1, dim=1), ids[:, 8:]]
    outputs, seen = [], prefix.shape[1]
    for i, chunk in enumerate(steps):
        seen += chunk.shape[1]
        mask = torch.ones(3, seen, dtype=torch.long)
        logits, keys, values = dec(chunk, prefix if i == 0 else prefix[:, :0], keys, values, mask)
        outputs.append(logits)
    assert keys.shape == (2, 3, 2, seen, 32)
    torch.testing.assert_close(torch.cat(outputs, 1), full, atol=1e-5, rtol=0)


def test_left_padding_does_not_change_a_sequence():
    model = tiny_captioner(seed=2)
    dec = model.decoder
    tokens = torch.randn(1, 17, 64)
    ids = torch.randint(4, 40, (1, 6))
    prefix = model.bridge(tokens, torch.ones(1, 3), torch.ones(1).bool())  # (1, Q + 1, D)
    keys, values = dec.empty_cache(1)
    alone = dec(ids, prefix, keys, values, torch.ones(1, 12, dtype=torch.long))[0]
    padded_ids = torch.cat([torch.zeros(1, 3, dtype=torch.long), ids], 1)
    mask = torch.cat([torch.ones(1, 6), torch.zeros(1, 3), torch.ones(1, 6)], 1).long()
    padded = dec(padded_ids, prefix, keys, values, mask)[0][:, 3:]
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=0)


def test_greedy_generate_and_checkpoint_roundtrip(tmp_path):
    model = tiny_captioner(seed=3)
    tokens, size, known = torch.randn(2, 17, 64), torch.rand(2, 3), torch.tensor([True, False])
    prompt = torch.tensor([[1, 5, 6, 3], [1, 7, 8, 3]])
    out = model.generate(tokens, size, known, prompt, eos_id=2, max_new_tokens=8)
    # Greedy by hand with full recomputation picks the same tokens.
    ids = prompt
    for step in range(len(out[0])):
        nxt = model(tokens, size, known, ids)[:, -1].argmax(-1)
        assert nxt[0].item() == out[0][step]
        ids = torch.cat([ids, nxt.unsqueeze(1)], 1)
    path = tmp_path / "captioner.pt"
    config = model.config.to_dict()
    del config["decoder"]["box_prompt"]  # as checkpoints written before the field
    torch.save({"captioner_config": config, "model": model.state_dict()}, path)
    loaded, _ = load_captioner(str(path))
    assert loaded.config.decoder.box_prompt is False
    assert loaded.generate(tokens, size, known, prompt, eos_id=2, max_new_tokens=8) == out


def test_decoder_prompts_put_each_rows_box_before_its_prompt():
    size = torch.tensor([[0.5, 0.4, 0.9], [2.0, 1.0, 0.7]])
    known = torch.tensor([True, False])
    on = DecoderConfig.named("tiny", box_prompt=True)
    assert decoder_prompts(on, ["how tall is it?", "describe:"], size, known) == [
        "box 0.5 m 0.4 m 0.9 m. how tall is it?",
        "box unknown. describe:",
    ]
    off = DecoderConfig.named("tiny")
    assert decoder_prompts(off, ["how tall is it?"] * 2, size, known) == ["how tall is it?"] * 2
    with pytest.raises(ValueError):  # one size row per prompt
        decoder_prompts(on, ["how tall is it?"], size, known)
