"""The decoder's tokenizer: byte-level BPE trained on the data engine's captions and QA pairs.

Byte-level BPE decodes back to exactly the text it encoded (spaces, case, "0.45 m"), and digits
are split one by one so a size is spelt digit by digit rather than memorised as a whole number.
Saved as one `tokenizer.json` that the torch-free runtime loads with the `tokenizers` library.

    python -m training.tokenizer --out build/tokenizer.json build/data/objects_surface ...
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from ros_pointlang.decode import DESCRIBE, SPECIAL_TOKENS
from training.dataset import load_objects


def corpus(objects: Iterable[dict]) -> list[str]:
    """Every caption, question and answer of the objects, and the caption prompt."""
    texts = [DESCRIBE]
    for obj in objects:
        texts.extend(obj.get("captions", []))
        for qa in obj.get("qa", []):
            texts.extend((qa["question"], qa["answer"]))
    return texts


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2048) -> Tokenizer:
    """A byte-level BPE tokenizer with the special tokens at ids 0..3."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


class TextTokenizer:
    """A `tokenizers.Tokenizer` plus the ids of the special tokens and the sequence layout."""

    def __init__(self, tokenizer: Tokenizer):
        # Our own tokenizer has them at ids 0..3; a Hugging Face one has them appended.
        ids = {name: tokenizer.token_to_id(name) for name in SPECIAL_TOKENS}
        missing = [name for name, i in ids.items() if i is None]
        if missing:
            raise ValueError(
                f"tokenizer lacks the special tokens {missing}; expected {SPECIAL_TOKENS}"
            )
        self.tokenizer = tokenizer
        self.pad_id, self.bos_id, self.eos_id, self.sep_id = (ids[n] for n in SPECIAL_TOKENS)

    @classmethod
    def from_file(cls, path: str | Path) -> TextTokenizer:
        return cls(Tokenizer.from_file(str(path)))

    @classmethod
    def from_hf(cls, name: str) -> TextTokenizer:
        """A Hugging Face model's own tokenizer with our special tokens added (GPU-scale path)."""
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(name).backend_tokenizer
        tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
        return cls(tokenizer)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def prompt(self, text: str) -> list[int]:
        """`<bos> prompt <sep>`: what the decoder reads before it writes the answer."""
        return [self.bos_id, *self.encode(text), self.sep_id]

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save(str(path))


def make_sequences(
    prompts: list[str], targets: list[str], tokenizer: TextTokenizer, max_tokens: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded input ids (B, T) and shifted labels (B, T), -100 outside the targets.

    Sequence: <bos> prompt <sep> target <eos>; input position t predicts token t + 1.
    """
    rows = []
    for prompt, target in zip(prompts, targets, strict=True):
        head = tokenizer.prompt(prompt)
        seq = (head + tokenizer.encode(target) + [tokenizer.eos_id])[: max_tokens + 1]
        rows.append((seq, len(head)))
    length = max(len(seq) for seq, _ in rows) - 1
    ids = torch.full((len(rows), length), tokenizer.pad_id, dtype=torch.long)
    labels = torch.full((len(rows), length), -100, dtype=torch.long)
    for i, (seq, head) in enumerate(rows):
        ids[i, : len(seq) - 1] = torch.tensor(seq[:-1])
        labels[i, head - 1 : len(seq) - 1] = torch.tensor(seq[head:])
    return ids, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="train the decoder's BPE tokenizer")
    parser.add_argument("roots", nargs="+", help="`pointlang-data objects` folders")
    parser.add_argument("--out", required=True, help="tokenizer.json to write")
    parser.add_argument("--vocab-size", type=int, default=2048)
    args = parser.parse_args(argv)
    objects, _ = load_objects(args.roots)
    # Train-split text only: unseen categories' names must not enter the vocabulary by name.
    texts = corpus(o for o in objects if o["split"] == "train")
    tokenizer = TextTokenizer(train_tokenizer(texts, args.vocab_size))
    tokenizer.save(args.out)
    print(f"{args.out}: {tokenizer.vocab_size} tokens from {len(texts)} texts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
