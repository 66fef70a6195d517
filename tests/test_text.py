"""The frozen MiniLM text encoder of training, cached on disk (training/text.py)."""

import pytest
import torch

from training.text import TextEncoder

torch.set_num_threads(1)


def test_text_encoder_is_cached_on_disk_and_semantic(tmp_path):
    cache = tmp_path / "text.npz"
    texts = ["a chair", "a point cloud of a chair.", "a bathtub full of water"]
    emb = TextEncoder(cache).encode(texts)
    assert emb.shape == (3, 384)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]
    reloaded = TextEncoder(cache)
    assert torch.allclose(reloaded.encode(texts), emb)
    assert reloaded._model is None  # answered from the cache without loading the model
    with pytest.raises(ValueError, match="list of texts"):
        reloaded.encode("a chair")
