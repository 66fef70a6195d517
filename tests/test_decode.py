"""Torch-free decoding (ros_pointlang.decode) over a tiny exported decoder."""

import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import torch

from export.decoder import export_decoder
from ros_pointlang.decode import (
    Generator,
    LabelPrompt,
    _banned_ngram_tokens,
    box_prompt,
    check_decoding,
    format_metres,
    generate_text,
    label_prompt,
    letterless_tokens,
    parse_decoding,
    prompts_as_trained,
    repeated_phrase,
)
from tests.test_captioner import tiny_captioner
from training.tokenizer import DESCRIBE, TextTokenizer, train_tokenizer

torch.set_num_threads(1)
EOS = 2


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    model = tiny_captioner(seed=7, vocab_size=300)
    out = tmp_path_factory.mktemp("onnx")
    export_decoder(model, out)
    sessions = [
        ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])
        for name in ("bridge.onnx", "decoder.onnx")
    ]
    generator = Generator(*sessions, eos_id=EOS, max_positions=model.config.decoder.max_positions)
    g = torch.Generator().manual_seed(0)
    tokens, size = torch.randn(3, 17, 64, generator=g), torch.rand(3, 3, generator=g) + 0.05
    known = torch.tensor([True, False, True])
    prefix = generator.prefix(tokens.numpy(), size.numpy(), known.numpy())  # (3, Q + 1, D)
    return model, generator, (tokens, size, known), prefix


def test_greedy_equals_torch(setup):
    model, generator, features, prefix = setup
    prompt = [1, 5, 9, 3]
    expected = model.generate(*features, torch.tensor([prompt] * 3), EOS, max_new_tokens=12)
    got = generator.greedy(prefix, [prompt] * 3, max_new_tokens=12)
    assert [g.tokens for g in got] == expected
    assert all(0.0 < g.confidence <= 1.0 for g in got)


def test_left_padded_prompts_equal_single_runs(setup):
    _, generator, _, prefix = setup
    prompts = [[1, 5, 3], [1, 7, 8, 9, 10, 3], [1, 3]]
    batched = generator.greedy(prefix, prompts, max_new_tokens=8)
    for i, prompt in enumerate(prompts):
        alone = generator.greedy(prefix[i : i + 1], [prompt], max_new_tokens=8)[0]
        assert batched[i].tokens == alone.tokens
        assert batched[i].logprob == pytest.approx(alone.logprob, abs=1e-4)


def test_beam_scores_at_least_greedy(setup):
    _, generator, _, prefix = setup
    prompts = [[1, 5, 9, 3], [1, 6, 3], [1, 11, 12, 3]]
    greedy = generator.greedy(prefix, prompts, max_new_tokens=10)
    beam = generator.beam(prefix, prompts, beam_size=4, max_new_tokens=10, length_penalty=0)
    one = generator.beam(prefix, prompts, beam_size=1, max_new_tokens=10, length_penalty=0)
    for g, b, o in zip(greedy, beam, one, strict=True):
        assert b.logprob >= g.logprob - 1e-6
        assert o.tokens == g.tokens  # a beam of one is greedy


def test_length_limits_and_repetition_control(setup):
    model, generator, _, prefix = setup
    out = generator.greedy(prefix, [[1, 3]] * 3, max_new_tokens=500)
    budget = model.config.decoder.max_positions - model.config.decoder.num_queries - 2
    assert all(len(o.tokens) <= budget for o in out)
    out = generator.greedy(prefix, [[1, 3]] * 3, max_new_tokens=30, no_repeat_ngram=2)
    for o in out:
        pairs = list(zip(o.tokens, o.tokens[1:], strict=False))
        assert len(pairs) == len(set(pairs))
    out = generator.greedy(prefix, [[1, 3]] * 3, max_new_tokens=6, min_new_tokens=6)
    assert all(len(o.tokens) == 6 for o in out)
    assert _banned_ngram_tokens([4, 5, 4], 2) == {5}
    # Free tokens (digits, punctuation) neither end nor start a banned n-gram: "0.5 m by 0.5"
    # may go on with "m", and "0" may follow "by" again, while words still may not repeat.
    zero, dot, five, m, by = 10, 11, 12, 13, 14
    free = frozenset({zero, dot, five})
    assert _banned_ngram_tokens([zero, dot, five, m, by, zero, dot, five], 2) == {m}
    assert _banned_ngram_tokens([zero, dot, five, m, by, zero, dot, five], 2, free) == set()
    assert _banned_ngram_tokens([zero, dot, five, m, by, zero], 2, free) == set()
    assert _banned_ngram_tokens([zero, dot, five, m, by, zero, dot], 3) == {five}
    assert _banned_ngram_tokens([zero, dot, five, m, by, zero, dot], 3, free) == set()
    assert _banned_ngram_tokens([m, by, zero, m], 2, free) == {by}
    with pytest.raises(ValueError, match="prompts"):
        generator.greedy(prefix, [[1, 3]], max_new_tokens=2)


def test_repetition_control_leaves_free_tokens_alone(setup):
    model, generator, _, prefix = setup
    plain = generator.greedy(prefix, [[1, 3]] * 3, max_new_tokens=30)
    tokens = {t for p in plain for t in p.tokens}
    everything = Generator(
        generator.bridge,
        generator.decoder,
        eos_id=EOS,
        max_positions=model.config.decoder.max_positions,
        free_tokens=set(range(model.config.decoder.vocab_size)),
    )
    for options in ({"no_repeat_ngram": 1}, {"repetition_penalty": 3.0}):
        controlled = generator.greedy(prefix, [[1, 3]] * 3, max_new_tokens=30, **options)
        # The tiny model repeats itself; control changes that unless every token is free.
        assert [c.tokens for c in controlled] != [p.tokens for p in plain]
        free = everything.greedy(prefix, [[1, 3]] * 3, max_new_tokens=30, **options)
        assert [f.tokens for f in free] == [p.tokens for p in plain]
    assert len(tokens) > 1


def test_letterless_tokens_are_digits_punctuation_and_spaces():
    tok = TextTokenizer(
        train_tokenizer(["a box 0.5 m by 0.5 m, it is.", DESCRIBE] * 5, vocab_size=300)
    )
    free = letterless_tokens(tok.tokenizer)
    for text in ("0", "5", ".", ","):
        assert tok.tokenizer.token_to_id(text) in free, text
    for text in ("m", "box", "describe"):
        ids = tok.tokenizer.encode(" " + text, add_special_tokens=False).ids
        assert not free.intersection(ids[-1:]), text
    assert tok.tokenizer.token_to_id("<eos>") not in free


def test_generate_text_with_a_tokenizer(setup):
    _, generator, _, prefix = setup
    tok = TextTokenizer(train_tokenizer(["a chair with four legs", DESCRIBE] * 5, vocab_size=300))
    assert tok.vocab_size <= 300
    texts = generate_text(generator, tok.tokenizer, prefix, DESCRIBE, max_new_tokens=5)
    assert len(texts) == 3 and all(isinstance(t, str) and 0 < c <= 1 for t, c in texts)
    beams = generate_text(generator, tok.tokenizer, prefix, "four", beam_size=3, max_new_tokens=5)
    assert len(beams) == 3


def test_box_prompt_spells_the_box_as_answers_spell_sizes():
    size = np.array([0.19, 0.142, 0.06], np.float32)  # (length, width, height) as upright_box
    assert box_prompt("what is its width?", size, True) == (
        "box 0.19 m 0.14 m 0.06 m. what is its width?"
    )
    assert box_prompt(DESCRIBE, [1.26, 0.9, 0.31], True) == "box 1.3 m 0.9 m 0.3 m. describe:"
    # Not metric (CAD units): the numbers mean nothing, so none are written.
    assert box_prompt("how tall is it?", size, False) == "box unknown. how tall is it?"
    assert format_metres(0.123) == "0.12 m" and format_metres(0.3) == "0.3 m"
    with pytest.raises(ValueError, match="three finite lengths"):
        box_prompt("how tall is it?", [0.5, float("nan"), 1.0], True)
    with pytest.raises(ValueError, match="three finite lengths"):
        box_prompt("how tall is it?", [0.5, 1.0], True)


def test_label_prompt_puts_the_encoders_best_label_before_the_box():
    assert label_prompt(DESCRIBE, " chair ") == "label chair. describe:"
    with pytest.raises(ValueError, match="label is empty"):
        label_prompt(DESCRIBE, " ")
    labels = LabelPrompt(["chair", "traffic cone"], np.eye(2, 3, dtype=np.float32))
    rows = np.array([[0.2, 0.9, 0.0], [0.8, 0.1, 0.3]], np.float32)
    assert labels.choose(rows) == ["traffic cone", "chair"]
    with pytest.raises(ValueError, match=r"expected \(B, 3\)"):
        labels.choose(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="one embedding row per label"):
        LabelPrompt(["chair"], np.eye(2, 3))
    size, known = [[0.5, 0.4, 0.9], [2.0, 1.0, 0.7]], [True, False]
    assert prompts_as_trained(["how tall is it?"] * 2, size, known, True, ["chair", "car"]) == [
        "label chair. box 0.5 m 0.4 m 0.9 m. how tall is it?",
        "label car. box unknown. how tall is it?",
    ]
    assert prompts_as_trained([DESCRIBE], size[:1], known[:1], False) == [DESCRIBE]


def test_repeated_phrase_finds_any_phrase_of_two_or_more_words_said_twice():
    assert repeated_phrase("A cabinet with three compartments and three compartments.") == (
        "three compartments"
    )
    assert repeated_phrase("four legs, a round seat and four legs") == "four legs"
    # A phrase holding a number may repeat, as decoding allows: sizes are what they are.
    assert repeated_phrase("It is 0.5 m wide and 0.5 m deep") is None
    assert repeated_phrase("0.5 m wide, 2 doors, 0.5 m wide") == "m wide"
    assert repeated_phrase("Three compartments. THREE compartments") == "three compartments"
    # One word twice is no phrase; punctuation is skipped, not a word of its own.
    assert repeated_phrase("a chair with a tall back, a round seat") is None
    assert repeated_phrase("legs, legs, legs") == "legs legs"  # a loop of one word
    assert repeated_phrase("0.5 m by 0.6 m") is None
    assert repeated_phrase("") is None


def test_decoding_options_are_checked_and_parsed_from_words():
    assert check_decoding({"max_new_tokens": 40, "repetition_penalty": 1}, "x") == {
        "max_new_tokens": 40,
        "repetition_penalty": 1.0,
    }
    assert check_decoding({"no_repeat_ngram": 3.0}, "x") == {"no_repeat_ngram": 3}
    words = ["no_repeat_ngram=3", " repetition_penalty = 1.2", "min_new_tokens=0"]
    assert parse_decoding(words, "--caption-decoding") == {
        "no_repeat_ngram": 3,
        "repetition_penalty": 1.2,
        "min_new_tokens": 0,
    }
    assert parse_decoding([], "--decoding") == {}
    refused = [
        ({"beam_size": 4}, "unknown decoding option 'beam_size'; expected one of max_new_tokens"),
        ({"no_repeat_ngram": -1}, "no_repeat_ngram=-1; expected an n-gram length"),
        ({"no_repeat_ngram": 2.5}, "no_repeat_ngram=2.5; expected an n-gram length"),
        ({"max_new_tokens": 0}, "max_new_tokens=0; expected a whole number of tokens, 1 or"),
        ({"max_new_tokens": True}, "max_new_tokens=True"),
        ({"repetition_penalty": 0.5}, "repetition_penalty=0.5; expected a factor, 1.0"),
        ({"repetition_penalty": float("inf")}, "repetition_penalty=inf"),
        ({"max_new_tokens": "40"}, "max_new_tokens='40'"),
    ]
    for options, message in refused:
        with pytest.raises(ValueError, match=message.replace("(", r"\(")) as error:
            check_decoding(options, "generation.decoding of b")
        assert str(error.value).startswith("generation.decoding of b has ")
        assert str(error.value).count(". ") == 0  # one sentence
    with pytest.raises(ValueError, match="expected a mapping of decoding options"):
        check_decoding([("max_new_tokens", 4)], "generation.decoding of b")
    for word, message in (
        ("no_repeat_ngram", "'no_repeat_ngram' is not name=value with a name among"),
        ("ngram=3", "'ngram=3' is not name=value with a name among max_new_tokens"),
        ("no_repeat_ngram=three", "gives no_repeat_ngram the value 'three'; expected an n-gram"),
        ("no_repeat_ngram=3.5", "gives no_repeat_ngram the value '3.5'"),
        ("no_repeat_ngram=-2", "--caption-decoding has no_repeat_ngram=-2; expected"),
        ("repetition_penalty=nan", "repetition_penalty=nan; expected a factor"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_decoding(["max_new_tokens=9", word], "--caption-decoding")


def test_runtime_module_never_imports_torch():
    code = "import sys, ros_pointlang.decode; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
