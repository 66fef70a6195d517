"""Point encoder: shapes, gradients, size handling, grouping and named sizes."""

import numpy as np
import pytest
import torch

from training.models.encoder import (
    PointEncoder,
    PointEncoderConfig,
    farthest_point_sample,
    group_points,
)

torch.set_num_threads(1)


def unit_cloud(batch: int, num_points: int, seed: int = 0) -> torch.Tensor:
    x = torch.randn(batch, num_points, 3, generator=torch.Generator().manual_seed(seed))
    return x / x.norm(dim=-1).amax(dim=1).view(batch, 1, 1)  # (B, N, 3) inside the unit sphere


@pytest.fixture(scope="module")
def tiny() -> PointEncoder:
    torch.manual_seed(0)
    return PointEncoder(PointEncoderConfig.named("tiny"))


def test_output_shapes_and_unit_embedding(tiny):
    cfg = tiny.config
    emb, tokens = tiny(unit_cloud(3, cfg.num_points), torch.rand(3, 3) + 0.1, torch.ones(3).bool())
    assert emb.shape == (3, cfg.embed_dim)
    assert tokens.shape == (3, cfg.num_groups + 1, cfg.width)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(3), atol=1e-5)


def test_every_parameter_gets_a_finite_gradient(tiny):
    tiny.zero_grad()
    emb, tokens = tiny(unit_cloud(2, 256), torch.rand(2, 3) + 0.1, torch.tensor([True, False]))
    (emb.sum() + tokens.pow(2).mean()).backward()
    for name, param in tiny.named_parameters():
        if name == "logit_scale":  # used by the loss, not by the forward pass
            continue
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_size_is_used_when_known_and_ignored_when_unknown(tiny):
    points = unit_cloud(1, 256).repeat(2, 1, 1)
    sizes = torch.tensor([[0.1, 0.1, 0.2], [2.0, 1.0, 0.8]])
    with torch.no_grad():
        known, _ = tiny(points, sizes, torch.ones(2).bool())
        unknown, _ = tiny(points, sizes, torch.zeros(2).bool())
    assert not torch.allclose(known[0], known[1], atol=1e-4)
    assert torch.allclose(unknown[0], unknown[1], atol=1e-6)


def test_farthest_point_sample_spreads_out_deterministically():
    line = torch.linspace(0, 1, 11).view(1, 11, 1).repeat(1, 1, 3)  # (1, 11, 3)
    idx = farthest_point_sample(line, 3)
    assert idx.tolist() == [[0, 10, 5]]
    cloud = unit_cloud(2, 100)
    first, second = farthest_point_sample(cloud, 16), farthest_point_sample(cloud, 16)
    assert torch.equal(first, second)
    assert all(len(set(row.tolist())) == 16 for row in first)


def test_groups_are_the_nearest_neighbours_relative_to_their_centre():
    cloud = unit_cloud(1, 64)
    patches, centres = group_points(cloud, num_groups=4, group_size=5)  # (1,4,5,3), (1,4,3)
    assert patches.shape == (1, 4, 5, 3) and centres.shape == (1, 4, 3)
    points = cloud[0].numpy()
    for g in range(4):
        dist = np.linalg.norm(points - centres[0, g].numpy(), axis=1)
        expected = np.sort(dist)[:5]
        got = np.sort(np.linalg.norm(patches[0, g].numpy(), axis=1))
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_named_sizes_and_overrides():
    assert PointEncoderConfig.named("small", depth=2).depth == 2
    assert PointEncoderConfig(**PointEncoderConfig.named("base").to_dict()).width == 384
    with pytest.raises(ValueError, match="unknown model size"):
        PointEncoderConfig.named("huge")
    with pytest.raises(ValueError, match="divisible"):
        PointEncoder(PointEncoderConfig.named("tiny", heads=3))


def test_exports_to_onnx_and_matches_torch(tiny, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    inputs = (unit_cloud(1, 256), torch.tensor([[0.4, 0.3, 0.9]]), torch.tensor([True]))
    path = tmp_path / "encoder.onnx"
    torch.onnx.export(
        tiny.eval(),
        inputs,
        str(path),
        dynamo=False,
        input_names=["points", "size", "size_known"],
        output_names=["embedding", "tokens"],
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {n: t.numpy() for n, t in zip(["points", "size", "size_known"], inputs, strict=True)}
    embedding, _ = session.run(None, feeds)
    np.testing.assert_allclose(embedding, tiny(*inputs)[0].detach().numpy(), atol=1e-5)
