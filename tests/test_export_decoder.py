"""Bridge + decoder ONNX export: parity with torch at shapes other than the traced ones."""

import numpy as np
import onnx
import pytest
import torch

from export.decoder import DECODER_INPUTS, DECODER_OUTPUTS, check_parity, export_decoder
from tests.test_captioner import tiny_captioner

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = tiny_captioner(seed=5)
    out = tmp_path_factory.mktemp("onnx")
    export_decoder(model, out)
    return model, out


def test_graph_signature(exported):
    _, out = exported
    graph = onnx.load(str(out / "decoder.onnx"))
    assert max(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert [i.name for i in graph.graph.input] == list(DECODER_INPUTS)
    assert [o.name for o in graph.graph.output] == list(DECODER_OUTPUTS)
    dims = {
        i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
        for i in graph.graph.input
    }
    assert dims["past_keys"] == [2, "batch", 2, "past_tokens", 32]
    assert dims["input_ids"] == ["batch", "new_tokens"]


def test_parity_at_many_shapes_including_empty_cache(exported):
    model, out = exported
    worst = check_parity(model, out, batches=(1, 2, 5), prompts=(1, 3, 11), pasts=(0, 1, 5, 33))
    assert max(worst.values()) <= 1e-4


def test_parity_check_catches_a_wrong_graph(exported, tmp_path):
    _, out = exported
    other = tiny_captioner(seed=6)  # same shapes, other weights: every output differs
    with pytest.raises(ValueError, match="differ from torch"):
        check_parity(other, out, batches=(1,), prompts=(2,), pasts=(0,))


def test_hf_decoder_trains_but_is_refused(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    from training.models.captioner import CaptionerConfig, DecoderConfig, PointCaptioner
    from training.models.encoder import PointEncoderConfig

    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=50)).save_pretrained(
        tmp_path / "gpt"
    )
    encoder = PointEncoderConfig.named("tiny")
    config = CaptionerConfig(
        encoder,
        DecoderConfig.named("tiny", encoder_width=64, vocab_size=54),  # + our 4 special tokens
        hf_decoder=str(tmp_path / "gpt"),
    )
    model = PointCaptioner(config)
    assert model.decoder.model.get_input_embeddings().num_embeddings == 54
    tokens, ids = torch.randn(2, 17, 64), torch.randint(0, 50, (2, 5))
    size, known = torch.rand(2, 3), torch.ones(2).bool()
    loss = model.loss(tokens, size, known, ids, ids)
    loss.backward()
    assert np.isfinite(loss.item())
    assert len(model.eval().generate(tokens, size, known, ids, eos_id=0, max_new_tokens=3)) == 2
    with pytest.raises(ValueError, match="Hugging Face"):
        export_decoder(model, tmp_path / "onnx")
