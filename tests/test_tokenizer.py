"""The decoder's tokenizer: byte-level BPE with special tokens, lossless on our texts."""

import pytest
import torch

from ros_pointlang import decode
from ros_pointlang.decode import DESCRIBE
from training.config import CaptionConfig, load_config
from training.tokenizer import TextTokenizer, corpus, make_sequences, train_tokenizer

torch.set_num_threads(1)

TEXTS = [
    "A wooden chair with four legs, about 0.9 m tall.",
    "how many legs does it have?",
    "four",
    "This is a flower pot. It is 0.45 m high.",
    DESCRIBE,
]


def test_roundtrip_specials_and_digits(tmp_path):
    tok = TextTokenizer(train_tokenizer(TEXTS * 20, vocab_size=300))
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.sep_id) == (0, 1, 2, 3)
    for text in [*TEXTS, "A T-tail 12.34 m wide, never seen before!"]:
        assert tok.decode(tok.encode(text)) == text
    # Digits one by one: a size is spelt, not memorised as a number token.
    pieces = [tok.tokenizer.id_to_token(i) for i in tok.encode("0.45 m")]
    assert pieces[:4] == ["0", ".", "4", "5"]
    assert tok.prompt("four")[0] == tok.bos_id and tok.prompt("four")[-1] == tok.sep_id
    tok.save(tmp_path / "tokenizer.json")
    again = TextTokenizer.from_file(tmp_path / "tokenizer.json")
    assert again.encode(TEXTS[0]) == tok.encode(TEXTS[0])
    # The runtime looks the special tokens up by the names it defines, at ids 0..3.
    assert [tok.tokenizer.token_to_id(t) for t in decode.SPECIAL_TOKENS] == [0, 1, 2, 3]


def test_corpus_and_sequences():
    objects = [{"captions": ["a cup."], "qa": [{"question": "what?", "answer": "cup"}]}]
    assert corpus(objects) == [DESCRIBE, "a cup.", "what?", "cup"]
    tok = TextTokenizer(train_tokenizer(TEXTS * 20, vocab_size=300))
    ids, labels = make_sequences(["four", DESCRIBE], ["four", "four legs"], tok, max_tokens=64)
    head = len(tok.prompt("four"))
    assert ids[0, 0] == tok.bos_id and ids[0, head - 1] == tok.sep_id
    assert (labels[0, : head - 1] == -100).all()
    assert labels[0, head - 1 : head - 1 + len(tok.encode("four"))].tolist() == tok.encode("four")
    assert tok.eos_id in labels[0].tolist() and tok.eos_id in labels[1].tolist()


def test_bad_tokenizer_and_config_values():
    from tokenizers import Tokenizer, models

    with pytest.raises(ValueError, match="special tokens"):
        TextTokenizer(Tokenizer(models.BPE()))
    with pytest.raises(ValueError, match="unknown config key"):
        load_config(None, ["optim.lrr=1"], CaptionConfig)
    cfg = load_config("training/configs/caption_tiny.yaml", ["decoder.depth=3"], CaptionConfig)
    assert cfg.decoder.depth == 3 and cfg.decoder.width == 64
