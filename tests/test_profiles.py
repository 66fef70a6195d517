"""TensorRT optimisation profiles against the real ONNX graphs of the bundles, and the checks and
batch chunking every TensorRT run goes through, exercised over real ONNX Runtime CPU sessions."""

import numpy as np
import pytest

from ros_pointlang.backends import BackendOptions, OrtSession
from ros_pointlang.bundle import load_bundle
from ros_pointlang.decode import DESCRIBE, EOS, PAD, Generator, box_prompt, generate_text
from ros_pointlang.describe import DescribeSettings
from ros_pointlang.profiles import (
    BATCH,
    ProfiledSession,
    ShapeLimits,
    bundle_profiles,
    make_profile,
    plan_run,
    read_signature,
)

LABELS = [f"thing {i}" for i in range(40)]  # a vocabulary as an operator might set it
TEMPLATES = 6  # the bundles' prompt templates per label


@pytest.fixture(scope="module")
def small():
    return load_bundle()  # the committed default bundle: encoder, bridge, decoder, text encoder


def _check_consistent(bundle, profiles):
    """Every input of every model has a shape in each profile; named dims are equal within a
    profile, fixed dims are the graph's, and 0 <= min <= opt <= max."""
    for name, model_profiles in profiles.items():
        signature = read_signature(bundle.file(name))
        for profile in model_profiles:
            assert set(profile.shapes) == {t.name for t in signature.inputs}
            for k in range(3):
                values: dict[str, set[int]] = {}
                for tensor in signature.inputs:
                    shape = profile.shapes[tensor.name][k]
                    assert len(shape) == len(tensor.dims)
                    for dim, size in zip(tensor.dims, shape, strict=True):
                        if isinstance(dim, int):
                            assert size == dim, (name, tensor.name)
                        else:
                            values.setdefault(dim, set()).add(size)
                assert all(len(v) == 1 for v in values.values()), (name, profile.name, values)
            for low, opt, high in profile.shapes.values():
                assert all(0 <= a <= b <= c for a, b, c in zip(low, opt, high, strict=True))


def test_every_model_of_the_default_bundle_gets_consistent_profiles(small):
    profiles = bundle_profiles(small)
    expected = {"point_encoder.onnx", "bridge.onnx", "decoder.onnx"}
    if small.file(small.text_encoder["file"]).is_file():
        expected.add("text_encoder.onnx")
    assert set(profiles) == expected
    _check_consistent(small, profiles)
    # Scene mode sends up to DescribeSettings.max_objects clouds in one call.
    max_objects = DescribeSettings().max_objects
    for name in ("point_encoder.onnx", "bridge.onnx", "decoder.onnx"):
        assert all(p.max_batch() == max_objects for p in profiles[name])


def test_decoder_profiles_keep_total_tokens_the_sum_at_min_opt_and_max(small):
    prefill, decode = bundle_profiles(small)["decoder.onnx"]
    max_positions = small.generation["max_positions"]
    for profile in (prefill, decode):
        d = profile.dims
        for k in range(3):
            assert (
                d["total_tokens"][k]
                == d["past_tokens"][k] + d["prefix_tokens"][k] + d["new_tokens"][k]
            )
        assert d["total_tokens"][2] <= max_positions
    assert prefill.dims["past_tokens"] == (0, 0, 0)
    assert decode.dims["prefix_tokens"] == (0, 0, 0)  # decode steps send no prefix
    assert decode.dims["past_tokens"][2] == max_positions - 1


def test_tiny_bundle_profiles_follow_its_own_graphs(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    profiles = bundle_profiles(bundle, ShapeLimits(max_objects=8))
    assert set(profiles) == {"point_encoder.onnx", "text_encoder.onnx"}
    _check_consistent(bundle, profiles)
    (encoder,) = profiles["point_encoder.onnx"]
    assert encoder.shapes["points"] == ((1, 256, 3), (1, 256, 3), (8, 256, 3))
    (text,) = profiles["text_encoder.onnx"]
    assert text.dims["tokens"][2] == bundle.text_encoder["max_tokens"]


def test_a_profile_without_a_range_for_a_dynamic_dim_is_refused(small):
    signature = read_signature(small.file("decoder.onnx"))
    with pytest.raises(ValueError, match="no range for dim 'new_tokens' of input 'input_ids'"):
        make_profile("partial", signature, {BATCH: (1, 1, 4)})
    with pytest.raises(ValueError, match="0 <= min <= opt <= max"):
        make_profile("bad", signature, {BATCH: (4, 1, 8)})
    with pytest.raises(ValueError, match="no input of the graph has"):
        make_profile(
            "extra", read_signature(small.file("point_encoder.onnx")), {"tokens": (1,) * 3}
        )


class _Recording:
    """A real ONNX Runtime CPU session that notes which profile each run was planned for."""

    def __init__(self, session):
        self.session, self.profiles_used, self.batches = session, [], []
        self.input_names, self.output_names = session.input_names, session.output_names

    def run_profile(self, profile, output_names, feeds):
        self.profiles_used.append(profile)
        self.batches.append(len(next(iter(feeds.values()))))
        return self.session.run(output_names, feeds)


def _profiled(bundle, name, profiles):
    path = bundle.file(name)
    engine = _Recording(OrtSession(path, BackendOptions(threads=1)))
    return ProfiledSession(engine, read_signature(path), profiles[name], name), engine


def _captions(bundle, bridge, decoder, batch, seed=0):
    from tokenizers import Tokenizer

    generation = bundle.generation
    tokenizer = Tokenizer.from_file(str(bundle.file(generation["tokenizer_file"])))
    encoder = OrtSession(bundle.file(bundle.encoder["file"]), BackendOptions(threads=1))
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(batch, bundle.encoder["num_points"], 3)).astype(np.float32)
    points /= np.linalg.norm(points, axis=2, keepdims=True).max(axis=1, keepdims=True)
    size = rng.uniform(0.2, 2.0, size=(batch, 3)).astype(np.float32)
    known = np.ones(batch, bool)
    _, tokens = encoder.run(
        ["embedding", "tokens"], {"points": points, "size": size, "size_known": known}
    )
    cache = generation["cache_shape"]
    generator = Generator(
        bridge,
        decoder,
        eos_id=tokenizer.token_to_id(EOS),
        pad_id=tokenizer.token_to_id(PAD),
        max_positions=generation["max_positions"],
        cache_shape=tuple(cache),
    )
    prefix = generator.prefix(tokens, size, known)
    prompts = [box_prompt(DESCRIBE, s, True) for s in size]
    return generate_text(generator, tokenizer, prefix, prompts, max_new_tokens=24)


def test_profiles_cover_every_call_of_greedy_decoding_and_chunk_a_large_scene(small):
    """Real captions through profile-checked sessions: prefill and decode steps each fit their
    profile, and 40 objects (above the maximum of 32) run in chunks with the same text."""
    profiles = bundle_profiles(small)
    plain = [
        OrtSession(small.file(n), BackendOptions(threads=1))
        for n in ("bridge.onnx", "decoder.onnx")
    ]
    bridge, bridge_runs = _profiled(small, "bridge.onnx", profiles)
    decoder, decoder_runs = _profiled(small, "decoder.onnx", profiles)

    assert _captions(small, bridge, decoder, 2) == _captions(small, *plain, 2)
    assert decoder_runs.profiles_used[0] == 0  # prefill: prefix and prompt, no cache
    assert set(decoder_runs.profiles_used[1:]) == {1}  # decode steps: one token, no prefix

    decoder_runs.batches.clear()
    assert _captions(small, bridge, decoder, 40, seed=1) == _captions(small, *plain, 40, seed=1)
    assert max(decoder_runs.batches) == 32 and 8 in decoder_runs.batches
    assert max(bridge_runs.batches) == 32


def test_a_vocabulary_larger_than_the_text_profile_runs_in_chunks(tiny_bundle):
    from tokenizers import Tokenizer

    bundle = load_bundle(tiny_bundle)
    text = bundle.text_encoder
    tokenizer = Tokenizer.from_file(str(bundle.file(text["tokenizer_file"])))
    tokenizer.enable_padding()
    prompts = [t.format(label) for label in LABELS for t in bundle.labels["prompt_templates"]]
    assert len(prompts) == len(LABELS) * TEMPLATES
    encoded = tokenizer.encode_batch(prompts)
    feeds = {
        "input_ids": np.array([e.ids for e in encoded], np.int64),
        "attention_mask": np.array([e.attention_mask for e in encoded], np.int64),
    }
    profiles = bundle_profiles(bundle, ShapeLimits(max_prompts=100, opt_prompts=16))
    session, runs = _profiled(bundle, text["file"], profiles)
    (chunked,) = session.run(["embedding"], feeds)
    assert runs.batches == [100, 100, 40]
    # The int8 text encoder quantises activations per run, so the reference is the same three
    # batches run by hand: the chunks must be those rows, in order, reassembled.
    plain = OrtSession(bundle.file(text["file"]), BackendOptions(threads=1))
    pieces = [
        plain.run(["embedding"], {name: value[lo:hi] for name, value in feeds.items()})[0]
        for lo, hi in ((0, 100), (100, 200), (200, 240))
    ]
    np.testing.assert_allclose(chunked, np.concatenate(pieces), atol=1e-5)


def test_a_shape_outside_every_profile_is_named_before_the_engine_sees_it(small):
    profiles = bundle_profiles(small)["decoder.onnx"]
    signature = read_signature(small.file("decoder.onnx"))
    cache = np.zeros((4, 1, 4, 200, 48), np.float32)  # a cache past max_positions
    feeds = {
        "input_ids": np.zeros((1, 1), np.int64),
        "prefix": np.zeros((1, 0, 192), np.float32),
        "past_keys": cache,
        "past_values": cache,
        "attention_mask": np.ones((1, 201), np.int64),
    }
    with pytest.raises(ValueError) as error:
        plan_run(profiles, signature, feeds, "decoder.onnx")
    message = str(error.value)
    assert "decoder.onnx: input" in message and "'decode' allows 'past_keys'" in message
    assert "to (4, 32, 4, 127, 48)" in message and "'prefill'" in message
    with pytest.raises(ValueError, match="needs the inputs"):
        plan_run(profiles, signature, {"input_ids": feeds["input_ids"]}, "decoder.onnx")


def test_shape_limits_set_the_maxima_and_refuse_nonsense(small):
    (encoder,) = bundle_profiles(small, ShapeLimits(max_objects=64))["point_encoder.onnx"]
    assert encoder.dims[BATCH] == (1, 1, 64)
    with pytest.raises(ValueError, match="opt objects 0"):
        ShapeLimits(opt_objects=0)
    with pytest.raises(ValueError, match="opt prompts 200"):
        ShapeLimits(opt_prompts=200, max_prompts=128)
