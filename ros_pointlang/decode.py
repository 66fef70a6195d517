"""Text from point tokens with the exported bridge + decoder: greedy and beam search, no torch.

    language = Language(bundle, options)       # what the pipeline holds for a bundle
    language.generate(tokens, size, size_known, DESCRIBE)  # [Generated(text, confidence)]

or, one level down:

    gen = Generator(bridge_session, decoder_session, eos_id=tok.token_to_id("<eos>"))
    prefix = gen.prefix(point_tokens, size, size_known)  # encoder tokens + box size in metres
    texts = generate_text(gen, tokenizer, prefix, "describe:")  # [(text, confidence)]

`bridge` and `decoder` are anything with onnxruntime's `.run(output_names, feeds)` (an
`onnxruntime.InferenceSession`, or a TensorRT wrapper with the same call). The decoder's
key/value cache is passed explicitly: the first call feeds the bridge prefix, the prompt and a
zero-length cache; each later call feeds one token per row and the cache it got back (see
export/decoder.py for the exact names and shapes). Confidence is the mean probability of the
generated tokens (and of the end token, when one was produced).

Decoding options come from the manifest's generation entry: `decoding` for every prompt, and
`caption_decoding` on top of it for captions only (DESCRIBE): captions are where a decoder says
"three compartments and three compartments", and answers are short and scored exactly, so
repetition control is set for captions alone. It never bans nor penalises tokens without a
letter (`letterless_tokens`: digits, punctuation), so "0.5 m by 0.5 m" stays as the model says
it. `check_decoding` says which options exist; `repeated_phrase` finds what they are to stop.

A decoder trained with `box_prompt` (the manifest's generation entry says so) reads the measured
box as text before the prompt: `box_prompt("how tall is it?", size, True)` gives
"box 0.5 m 0.4 m 0.9 m. how tall is it?", one prompt per cloud. A decoder trained with a label
prompt (generation.label_prompt_file) also reads the encoder's own best label first:
`label_prompt("box 0.5 m 0.4 m 0.9 m. describe:", "chair")` gives "label chair. box …", the
label chosen among that file's labels by the cloud's embedding (`LabelPrompt`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np

from ros_pointlang.backends import BackendOptions, open_session
from ros_pointlang.bundle import Bundle, BundleError

# The decoder's special tokens; training's tokenizer is built with exactly these, ids 0..3 in
# this order, and the runtime looks their ids up by name.
PAD, BOS, EOS, SEP = "<pad>", "<bos>", "<eos>", "<sep>"
SPECIAL_TOKENS = (PAD, BOS, EOS, SEP)
DESCRIBE = "describe:"  # the caption task's prompt; a question is its own prompt
BOX_UNKNOWN = "box unknown."  # the box prompt's text when the size is not metric (CAD units)


@dataclass(frozen=True)
class Generated:
    """A caption or an answer, with the mean probability of its tokens as confidence."""

    text: str
    confidence: float


@dataclass
class Hypothesis:
    """One decoded token sequence, before the tokenizer turns it into text."""

    tokens: list[int]  # without the end token
    logprob: float  # sum of log-probabilities of the tokens (and the end token, if produced)
    confidence: float  # mean probability of those tokens


@dataclass(frozen=True)
class _Option:
    kind: type  # int or float
    least: float
    expected: str


# What `Generator.greedy_steps` and `Generator.beam` take besides the prompts, as a manifest's
# generation.decoding / generation.caption_decoding or a command line may give them.
DECODING_OPTIONS = {
    "max_new_tokens": _Option(int, 1, "a whole number of tokens, 1 or more"),
    "min_new_tokens": _Option(int, 0, "a whole number of tokens, 0 or more"),
    "no_repeat_ngram": _Option(int, 0, "an n-gram length in tokens, 0 (off) or more"),
    "repetition_penalty": _Option(float, 1.0, "a factor, 1.0 (off) or more"),
}


def check_decoding(options: Mapping[str, Any], where: str) -> dict[str, int | float]:
    """options as `Generator.greedy_steps` / `beam` take them, each name and value checked;
    `where` names their source in the error ("generation.decoding of <bundle>")."""
    if not isinstance(options, Mapping):
        raise ValueError(f"{where} is {options!r}; expected a mapping of decoding options")
    checked: dict[str, int | float] = {}
    for name, value in options.items():
        option = DECODING_OPTIONS.get(name)
        if option is None:
            raise ValueError(
                f"{where} has the unknown decoding option {name!r}; expected one of "
                f"{', '.join(DECODING_OPTIONS)}"
            )
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if (
            not number
            or not np.isfinite(value)
            or (option.kind is int and value != int(value))
            or value < option.least
        ):
            raise ValueError(f"{where} has {name}={value!r}; expected {option.expected}")
        checked[name] = option.kind(value)
    return checked


def parse_decoding(texts: Sequence[str], where: str) -> dict[str, int | float]:
    """Decoding options from "name=value" words (`--caption-decoding no_repeat_ngram=3`)."""
    options: dict[str, int | float] = {}
    for text in texts:
        name, sep, value = (part.strip() for part in text.partition("="))
        option = DECODING_OPTIONS.get(name)
        if not sep or option is None:
            raise ValueError(
                f"{where} {text!r} is not name=value with a name among "
                f"{', '.join(DECODING_OPTIONS)}"
            )
        try:
            options[name] = option.kind(value)
        except ValueError:
            raise ValueError(
                f"{where} {text!r} gives {name} the value {value!r}; expected {option.expected}"
            ) from None
    return check_decoding(options, where)


_WORD = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)*")


def repeated_phrase(text: str) -> str | None:
    """The first phrase of two or more words that text says twice, as its first two words
    ("three compartments" in "three compartments and three compartments"), else None.

    Words are lowercased letter runs; punctuation is skipped; a phrase holding a number may
    repeat ("0.5 m by 0.5 m"), as decoding lets it (`letterless_tokens`). Every repeated longer
    phrase starts with a repeated pair, so pairs find them all.
    """
    seen: set[tuple[str, str]] = set()
    for pair in pairwise(_WORD.findall(text.lower())):
        if pair[0][0].isdigit() or pair[1][0].isdigit():
            continue
        if pair in seen:
            return " ".join(pair)
        seen.add(pair)
    return None


def format_metres(x: float) -> str:
    """A length as spoken in captions and answers: "0.12 m" below 0.3 m, else "1.4 m"."""
    return f"{x:.2f} m" if x < 0.3 else f"{x:.1f} m"


def box_prompt(prompt: str, size: Sequence[float] | np.ndarray, size_known: bool) -> str:
    """The prompt after the measured box as text: "box 0.19 m 0.14 m 0.06 m. <prompt>".

    size is (length, width, height) in metres as `ros_pointlang.preprocess.upright_box` gives
    it (length >= width); an unknown size gives "box unknown. <prompt>". Why text: size answers
    are digits, and a decoder copies digit tokens it can attend to exactly, where regressing
    them from the prefix's one size embedding gets them wrong more often than not.
    """
    if not size_known:
        return f"{BOX_UNKNOWN} {prompt}"
    values = np.asarray(size, np.float64)
    if values.shape != (3,) or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(
            f"box size {size!r} is not three finite lengths >= 0; expected (length, width, "
            "height) in metres"
        )
    return "box " + " ".join(format_metres(float(v)) for v in values) + f". {prompt}"


def label_prompt(prompt: str, label: str) -> str:
    """The prompt after the encoder's best label: "label chair. <prompt>".

    Why: the caption and the answers lagged the label the same encoder gives (captions named
    the category for 0.43 of LiDAR views where the top label was right for 0.54); read as text,
    the decoder can copy the name, and training on the encoder's own guesses, right or wrong,
    teaches it how far to trust one.
    """
    if not label or not label.strip():
        raise ValueError("the label prompt's label is empty; expected a category name")
    return f"label {label.strip()}. {prompt}"


def prompts_as_trained(
    prompts: Sequence[str],
    size: Sequence[Sequence[float]] | np.ndarray,
    size_known: Sequence[bool] | np.ndarray,
    box: bool,
    labels: Sequence[str] | None = None,
) -> list[str]:
    """Each cloud's prompt as its decoder reads it, in training and at run time alike: after
    the measured box when `box` (`box_prompt`), and before that the encoder's label when
    `labels` are given (`label_prompt`): "label chair. box 0.5 m 0.4 m 0.9 m. describe:"."""
    out = list(prompts)
    if box:
        out = [box_prompt(p, s, bool(k)) for p, s, k in zip(out, size, size_known, strict=True)]
    if labels is not None:
        out = [label_prompt(p, label) for p, label in zip(out, labels, strict=True)]
    return out


class LabelPrompt:
    """The labels a decoder's label prompt chooses among, and the choice for each cloud: the
    label of highest cosine similarity to its embedding, as stage 2 chose it in training."""

    def __init__(self, labels: Sequence[str], embeddings: np.ndarray) -> None:
        table = np.asarray(embeddings, np.float32)
        if table.ndim != 2 or table.shape[0] != len(labels) or not labels:
            raise ValueError(
                f"label prompt table of shape {table.shape} for {len(labels)} labels; expected "
                "one embedding row per label and at least one label"
            )
        self.labels = [str(label) for label in labels]
        self.embeddings = table  # (C, E) unit rows

    def choose(self, embeddings: np.ndarray) -> list[str]:
        """The best label of each cloud's unit embedding (B, E)."""
        rows = np.asarray(embeddings, np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.embeddings.shape[1]:
            raise ValueError(
                f"point embeddings of shape {rows.shape}; expected (B, {self.embeddings.shape[1]})"
            )
        return [self.labels[i] for i in (rows @ self.embeddings.T).argmax(-1)]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _banned_ngram_tokens(
    tokens: Sequence[int], n: int, free: AbstractSet[int] = frozenset()
) -> set[int]:
    """Tokens that would repeat an n-gram already in tokens (fairseq's no_repeat_ngram_size);
    an n-gram holding a `free` token (a digit, a full stop) may repeat."""
    if n <= 0 or len(tokens) < n:
        return set()
    tail = tuple(tokens[len(tokens) - n + 1 :])
    if any(t in free for t in tail):
        return set()
    return {
        tokens[i + n - 1]
        for i in range(len(tokens) - n + 1)
        if tuple(tokens[i : i + n - 1]) == tail and tokens[i + n - 1] not in free
    }


def letterless_tokens(tokenizer: Any) -> frozenset[int]:
    """Ids of the tokens whose text has no letter (digits, punctuation, spaces): what repetition
    control leaves alone, since the tokenizer spells "0.5" as "0", ".", "5" and a caption may say
    "0.5 m by 0.5 m" (or "0.19 m high, 0.10 m wide") as the object is."""
    return frozenset(
        i
        for i in range(tokenizer.get_vocab_size())
        if not any(c.isalpha() for c in tokenizer.decode([i], skip_special_tokens=False))
    )


class Generator:
    """Greedy and beam decoding over a bridge and a decoder with an explicit key/value cache."""

    def __init__(
        self,
        bridge: Any,
        decoder: Any,
        eos_id: int,
        pad_id: int = 0,
        max_positions: int = 128,
        cache_shape: tuple[int, int, int] | None = None,
        free_tokens: AbstractSet[int] = frozenset(),
    ):
        """free_tokens: ids that repetition control (repetition_penalty, no_repeat_ngram)
        never touches; `Language` gives `letterless_tokens`, so only words are kept from
        repeating."""
        self.bridge, self.decoder = bridge, decoder
        self.free_tokens = frozenset(free_tokens)
        self.eos_id, self.pad_id, self.max_positions = eos_id, pad_id, max_positions
        if cache_shape is None:
            # (L, B, H, T_past, hd): layers, heads and head size are fixed axes of the graph.
            shape = next(i.shape for i in decoder.get_inputs() if i.name == "past_keys")
            cache_shape = (int(shape[0]), int(shape[2]), int(shape[4]))
        self.layers, self.heads, self.head_dim = cache_shape

    def prefix(
        self, point_tokens: np.ndarray, size: np.ndarray, size_known: np.ndarray
    ) -> np.ndarray:
        """Bridge prefix (B, Q + 2, D) of point tokens (B, G + 1, D_enc), the encoder's second
        output, and the box size (B, 3) in metres with size_known (B,) bool (False: CAD units).
        """
        feeds = {
            "point_tokens": np.asarray(point_tokens, np.float32),
            "size": np.asarray(size, np.float32),
            "size_known": np.asarray(size_known, bool),
        }
        return self.bridge.run(["prefix"], feeds)[0]

    def _step(
        self,
        ids: np.ndarray,
        prefix: np.ndarray,
        keys: np.ndarray,
        values: np.ndarray,
        mask: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        feeds = {
            "input_ids": ids.astype(np.int64),
            "prefix": prefix.astype(np.float32),
            "past_keys": keys,
            "past_values": values,
            "attention_mask": mask.astype(np.int64),
        }
        logits, keys, values = self.decoder.run(["logits", "present_keys", "present_values"], feeds)
        return logits[:, -1].astype(np.float64), keys, values  # (B, V)

    def _first(
        self, prefix: np.ndarray, prompts: Sequence[Sequence[int]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Run prefix + left-padded prompts; returns last logits, cache and attention mask."""
        batch, num_queries = prefix.shape[:2]
        if len(prompts) != batch:
            raise ValueError(f"got {len(prompts)} prompts for {batch} clouds; expected one each")
        width = max(len(p) for p in prompts)
        if width == 0:
            raise ValueError("every prompt needs at least one token (the <bos> token)")
        ids = np.full((batch, width), self.pad_id, np.int64)
        mask = np.zeros((batch, num_queries + width), np.int64)
        mask[:, :num_queries] = 1
        for i, p in enumerate(prompts):
            ids[i, width - len(p) :] = p
            mask[i, num_queries + width - len(p) :] = 1
        empty = np.zeros((self.layers, batch, self.heads, 0, self.head_dim), np.float32)
        logits, keys, values = self._step(ids, prefix, empty, empty, mask)
        return logits, keys, values, mask

    def _budget(self, used: int, max_new_tokens: int) -> int:
        # Learned positions end at max_positions: never step past the last one.
        return max(0, min(max_new_tokens, self.max_positions - used))

    def _adjust(
        self,
        logits: np.ndarray,
        generated: list[int],
        repetition_penalty: float,
        no_repeat_ngram: int,
        step: int,
        min_new_tokens: int,
    ) -> np.ndarray:
        """Repetition control (CTRL's penalty on generated tokens, n-gram bans) of all but the
        free tokens, min length."""
        logits = logits.copy()
        seen = np.unique([t for t in generated if t not in self.free_tokens]).astype(np.int64)
        if repetition_penalty != 1.0 and len(seen):
            logits[seen] = np.where(
                logits[seen] > 0,
                logits[seen] / repetition_penalty,
                logits[seen] * repetition_penalty,
            )
        for token in _banned_ngram_tokens(generated, no_repeat_ngram, self.free_tokens):
            logits[token] = -np.inf
        if step < min_new_tokens:
            logits[self.eos_id] = -np.inf
        return logits

    def greedy(
        self,
        prefix: np.ndarray,
        prompts: Sequence[Sequence[int]],
        max_new_tokens: int = 48,
        repetition_penalty: float = 1.0,
        no_repeat_ngram: int = 0,
        min_new_tokens: int = 0,
    ) -> list[Hypothesis]:
        """One continuation per cloud (prefix (B, Q + 2, D) from `prefix`, one prompt each)."""
        return finish(
            self.greedy_steps(
                prefix, prompts, max_new_tokens, repetition_penalty, no_repeat_ngram,
                min_new_tokens,
            )
        )  # fmt: skip

    def greedy_steps(
        self,
        prefix: np.ndarray,
        prompts: Sequence[Sequence[int]],
        max_new_tokens: int = 48,
        repetition_penalty: float = 1.0,
        no_repeat_ngram: int = 0,
        min_new_tokens: int = 0,
    ) -> Iterator[list[Hypothesis] | None]:
        """`greedy` one decoder run at a time: yields None after each, then the results.

        A caller with a time budget (the node, between sweeps) advances it a few runs at a
        time and keeps the rest for later; the key/value cache lives in the iterator.
        """
        logits, keys, values, mask = self._first(prefix, prompts)
        yield None
        batch = len(prompts)
        out: list[list[int]] = [[] for _ in range(batch)]
        logps: list[list[float]] = [[] for _ in range(batch)]
        done = np.zeros(batch, bool)
        for step in range(self._budget(mask.shape[1], max_new_tokens)):
            nxt = np.full(batch, self.eos_id, np.int64)
            for i in np.flatnonzero(~done):
                adjusted = self._adjust(
                    logits[i], out[i], repetition_penalty, no_repeat_ngram, step, min_new_tokens
                )
                token = int(adjusted.argmax())
                logps[i].append(float(_log_softmax(logits[i])[token]))
                nxt[i] = token
                if token == self.eos_id:
                    done[i] = True
                else:
                    out[i].append(token)
            if done.all():
                break
            mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], 1)
            none = np.zeros((batch, 0, self.heads * self.head_dim), np.float32)
            logits, keys, values = self._step(nxt[:, None], none, keys, values, mask)
            yield None
        yield [_result(t, lp) for t, lp in zip(out, logps, strict=True)]

    def beam(
        self,
        prefix: np.ndarray,
        prompts: Sequence[Sequence[int]],
        beam_size: int = 4,
        max_new_tokens: int = 48,
        length_penalty: float = 1.0,
        repetition_penalty: float = 1.0,
        no_repeat_ngram: int = 0,
        min_new_tokens: int = 0,
    ) -> list[Hypothesis]:
        """Beam search per cloud; hypotheses rank by sum log-prob / length**length_penalty."""
        if beam_size < 1:
            raise ValueError(f"beam_size {beam_size} must be at least 1")
        return [
            self._beam_one(
                prefix[i : i + 1],
                prompts[i],
                beam_size,
                max_new_tokens,
                length_penalty,
                repetition_penalty,
                no_repeat_ngram,
                min_new_tokens,
            )
            for i in range(len(prompts))
        ]

    def _beam_one(
        self,
        prefix: np.ndarray,
        prompt: Sequence[int],
        k: int,
        max_new_tokens: int,
        length_penalty: float,
        repetition_penalty: float,
        no_repeat_ngram: int,
        min_new_tokens: int,
    ) -> Hypothesis:
        logits, keys, values, mask = self._first(prefix, [prompt])
        # A hypothesis: (tokens, the model's token log-probs, its score after repetition control).
        beams: list[tuple[list[int], list[float], float]] = [([], [], 0.0)]
        finished: list[tuple[float, list[int], list[float]]] = []

        def rank(score: float, length: int) -> float:
            return score / max(1, length) ** length_penalty

        for step in range(self._budget(mask.shape[1], max_new_tokens)):
            candidates = []
            for b, (tokens, _, total) in enumerate(beams):
                raw = _log_softmax(logits[b])
                adjusted = self._adjust(
                    logits[b], tokens, repetition_penalty, no_repeat_ngram, step, min_new_tokens
                )
                score = _log_softmax(adjusted)  # -inf stays -inf for banned tokens
                for token in np.argsort(-score)[: 2 * k]:
                    if np.isfinite(score[token]):
                        candidates.append((total + score[token], b, int(token), raw[token]))
            candidates.sort(key=lambda c: -c[0])
            new_beams, order = [], []
            for total, b, token, logp in candidates:
                tokens, logps, _ = beams[b]
                if token == self.eos_id:
                    finished.append((rank(total, len(tokens) + 1), tokens, [*logps, logp]))
                else:
                    new_beams.append(([*tokens, token], [*logps, logp], total))
                    order.append(b)
                if len(new_beams) == k:
                    break
            # Done once k hypotheses ended and no live one still ranks above the best of them.
            best_done = max((f[0] for f in finished), default=-np.inf)
            best_alive = max((rank(t, len(tk)) for tk, _, t in new_beams), default=-np.inf)
            if not new_beams or (len(finished) >= k and best_done >= best_alive):
                beams = []
                break
            beams = new_beams
            idx = np.array(order)
            keys, values = keys[:, idx], values[:, idx]
            mask = np.concatenate([mask[idx], np.ones((len(idx), 1), np.int64)], 1)
            ids = np.array([[tk[-1]] for tk, _, _ in beams], np.int64)
            none = np.zeros((len(idx), 0, self.heads * self.head_dim), np.float32)
            logits, keys, values = self._step(ids, none, keys, values, mask)
        # Hypotheses cut by the length limit compete with the ended ones.
        finished.extend((rank(t, len(tk)), tk, lp) for tk, lp, t in beams)
        _, tokens, logps = max(finished, key=lambda f: f[0])
        return _result(tokens, logps)


def _result(tokens: list[int], logps: list[float]) -> Hypothesis:
    confidence = float(np.mean(np.exp(logps))) if logps else 0.0
    return Hypothesis(tokens, float(np.sum(logps)), confidence)


T = TypeVar("T")


def finish(steps: Iterator[T | None]) -> T:
    """Run a stepwise generation (`Generator.greedy_steps`, `generate_text_steps`) to its end."""
    for result in steps:
        if result is not None:
            return result
    raise ValueError("the generation ended without a result")


def generate_text(
    generator: Generator,
    tokenizer: Any,
    prefix: np.ndarray,
    prompt: str | Sequence[str] = DESCRIBE,
    beam_size: int = 1,
    **options: Any,
) -> list[tuple[str, float]]:
    """(text, confidence) per cloud for a prompt ("describe:" or a question), or one prompt each.

    prefix (B, Q + 2, D) comes from `Generator.prefix`; compute it once per cloud and reuse it
    for the caption and every question.

    tokenizer is a `tokenizers.Tokenizer` (the bundle's tokenizer.json); options go to
    `Generator.greedy` / `Generator.beam` (max_new_tokens, repetition_penalty, ...).
    """
    return finish(generate_text_steps(generator, tokenizer, prefix, prompt, beam_size, **options))


def generate_text_steps(
    generator: Generator,
    tokenizer: Any,
    prefix: np.ndarray,
    prompt: str | Sequence[str] = DESCRIBE,
    beam_size: int = 1,
    **options: Any,
) -> Iterator[list[tuple[str, float]] | None]:
    """`generate_text` one decoder run at a time (greedy; beam search runs in one go): yields
    None after each run, then the (text, confidence) per cloud."""
    ids = {name: tokenizer.token_to_id(name) for name in (BOS, SEP)}
    if None in ids.values():
        raise ValueError(f"tokenizer lacks {BOS} or {SEP}; expected the bundle's tokenizer.json")
    texts = [prompt] * len(prefix) if isinstance(prompt, str) else list(prompt)
    prompts = [
        [ids[BOS], *tokenizer.encode(t, add_special_tokens=False).ids, ids[SEP]] for t in texts
    ]
    results: list[Hypothesis] | None = None
    if beam_size > 1:
        results = generator.beam(prefix, prompts, beam_size=beam_size, **options)
    else:
        for results in generator.greedy_steps(prefix, prompts, **options):
            if results is None:
                yield None
    if results is None:
        raise ValueError("the decoder ended without a result")
    yield [
        (tokenizer.decode(r.tokens, skip_special_tokens=True).strip(), r.confidence)
        for r in results
    ]


class Language:
    """Captions and answers: the bundle's bridge + decoder (explicit key/value cache) and its
    tokenizer, decoded greedily or by beam search. With `"box_prompt": true` in the manifest's
    generation entry, each cloud's prompt starts with its measured box as text (`box_prompt`),
    as the decoder was trained."""

    def __init__(self, bundle: Bundle, options: BackendOptions) -> None:
        from tokenizers import Tokenizer

        generation = bundle.generation or {}
        self.tokenizer = Tokenizer.from_file(str(bundle.file(generation["tokenizer_file"])))
        cache = generation["cache_shape"]  # (layers, heads, head size)
        eos, pad = self.tokenizer.token_to_id(EOS), self.tokenizer.token_to_id(PAD)
        if eos is None or pad is None:
            raise BundleError(
                f"tokenizer {generation['tokenizer_file']} lacks {EOS} or {PAD}; it is not the "
                "decoder's tokenizer"
            )
        self.generator = Generator(
            open_session(bundle.file(generation["bridge_file"]), options),
            open_session(bundle.file(generation["decoder_file"]), options),
            eos_id=eos,
            pad_id=pad,
            max_positions=int(generation["max_positions"]),
            cache_shape=(int(cache[0]), int(cache[1]), int(cache[2])),
            free_tokens=letterless_tokens(self.tokenizer),
        )
        where = f"generation.{{}} of {bundle.path}"
        try:
            self.decoding = check_decoding(generation.get("decoding", {}), where.format("decoding"))
            # Bundles from before caption_decoding lack it: captions decode as answers do.
            self.caption_decoding = check_decoding(
                generation.get("caption_decoding", {}), where.format("caption_decoding")
            )
        except ValueError as error:
            raise BundleError(str(error)) from error
        # Bundles from before the box prompt lack the key: their decoder reads bare prompts.
        self.box_prompt = bool(generation.get("box_prompt", False))
        # Bundles without the file: their decoder reads no label before the prompt.
        self.label_prompt: LabelPrompt | None = None
        if generation.get("label_prompt_file"):
            self.label_prompt = LabelPrompt(
                *bundle.label_embeddings(generation["label_prompt_file"])
            )

    def prompts(
        self,
        prompt: str,
        size: np.ndarray,
        size_known: np.ndarray,
        embeddings: np.ndarray | None = None,
    ) -> str | list[str]:
        """The prompt as this decoder was trained to read it: one per cloud after its measured
        box (`box_prompt`) and its best label (`label_prompt`), else the prompt itself."""
        if self.label_prompt is None and not self.box_prompt:
            return prompt
        labels = None
        if self.label_prompt is not None:
            if embeddings is None:
                raise ValueError(
                    "this decoder reads the encoder's label before its prompt; expected the "
                    "point embeddings with the tokens"
                )
            labels = self.label_prompt.choose(embeddings)
        return prompts_as_trained([prompt] * len(size), size, size_known, self.box_prompt, labels)

    def options_for(self, prompt: str) -> dict[str, int | float]:
        """The decoding options for prompt: `decoding`, with `caption_decoding` on top for
        DESCRIBE (captions)."""
        if prompt == DESCRIBE:
            return {**self.decoding, **self.caption_decoding}
        return dict(self.decoding)

    def override(
        self,
        decoding: Mapping[str, Any] | None = None,
        caption: Mapping[str, Any] | None = None,
    ) -> None:
        """Decode with these options on top of the manifest's: `decoding` for every prompt,
        `caption` for captions only (to measure other defaults without a new bundle)."""
        self.decoding |= check_decoding(decoding or {}, "the decoding override")
        self.caption_decoding |= check_decoding(caption or {}, "the caption decoding override")

    def generate(
        self,
        point_tokens: np.ndarray,
        size: np.ndarray,
        size_known: np.ndarray,
        prompt: str,
        beam: int = 1,
        embeddings: np.ndarray | None = None,
    ) -> list[Generated]:
        """One text per cloud for `prompt` (DESCRIBE or a question): point tokens (B, G+1, D)
        from the encoder, box sizes (B, 3) in metres, size_known (B,), and the unit point
        embeddings (B, E) when the decoder reads a label prompt."""
        return finish(self.generate_steps(point_tokens, size, size_known, prompt, beam, embeddings))

    def generate_steps(
        self,
        point_tokens: np.ndarray,
        size: np.ndarray,
        size_known: np.ndarray,
        prompt: str,
        beam: int = 1,
        embeddings: np.ndarray | None = None,
    ) -> Iterator[list[Generated] | None]:
        """`generate` one decoder run at a time (see `generate_text_steps`)."""
        prompts = self.prompts(prompt, size, size_known, embeddings)
        prefix = self.generator.prefix(point_tokens, size, size_known)
        steps = generate_text_steps(
            self.generator,
            self.tokenizer,
            prefix,
            prompts,
            beam_size=beam,
            **self.options_for(prompt),
        )
        for results in steps:
            yield None if results is None else [Generated(t, float(c)) for t, c in results]
