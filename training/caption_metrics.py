"""Caption and QA scores: BLEU-4, ROUGE-L, Sentence-BERT similarity, exact match, category named.

Pure functions over strings (SBERT takes an encoder with `.encode(list[str]) -> (n, d)` unit
vectors, i.e. `training.text.TextEncoder`), so each is checked on hand-made cases. Text is
compared lowercased with punctuation split off, so "Chair." and "chair" are the same words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:[-'][a-z]+)*|[^\sa-z\d]")


def words(text: str) -> list[str]:
    """Lowercased words, numbers ("0.45") and punctuation marks as separate tokens."""
    return _WORD.findall(text.lower())


def normalise_answer(text: str) -> str:
    """An answer as exact match compares it: lowercase, single spaces, no final full stop."""
    return " ".join(text.lower().split()).rstrip(".!").strip()


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu4(candidates: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU-4 (Papineni et al.): clipped 1–4-gram precision, brevity penalty, in [0, 1].

    references[i] holds every reference caption of candidate i.
    """
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} reference lists")
    matches, totals = [0] * 4, [0] * 4
    cand_len = ref_len = 0
    for cand, refs in zip(candidates, references, strict=True):
        c = words(cand)
        r = [words(x) for x in refs]
        if not r:
            raise ValueError("every candidate needs at least one reference caption")
        cand_len += len(c)
        # The reference length closest to the candidate's, shorter on ties (as in sacrebleu).
        ref_len += min((abs(len(x) - len(c)), len(x)) for x in r)[1]
        for n in range(1, 5):
            cand_counts = _ngrams(c, n)
            best: Counter = Counter()
            for x in r:
                best |= _ngrams(x, n)
            matches[n - 1] += sum(min(k, best[g]) for g, k in cand_counts.items())
            totals[n - 1] += max(0, len(c) - n + 1)
    if cand_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals, strict=True)) / 4
    brevity = 1.0 if cand_len > ref_len else math.exp(1 - ref_len / cand_len)
    return brevity * math.exp(log_precision)


def _lcs(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], prev + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def rouge_l(candidate: str, references: Sequence[str], beta: float = 1.2) -> float:
    """ROUGE-L F-score (Lin 2004) against the best-matching reference, in [0, 1]."""
    c = words(candidate)
    best = 0.0
    for ref in references:
        r = words(ref)
        lcs = _lcs(c, r)
        if lcs == 0:
            continue
        p, q = lcs / len(c), lcs / len(r)
        best = max(best, (1 + beta**2) * p * q / (q + beta**2 * p))
    return best


def mean_rouge_l(candidates: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    if not candidates:
        return float("nan")
    scores = [rouge_l(c, r) for c, r in zip(candidates, references, strict=True)]
    return sum(scores) / len(scores)


def sbert_similarity(
    candidates: Sequence[str], references: Sequence[Sequence[str]], encoder: object
) -> float:
    """Mean cosine between each candidate and its references (PointLLM's protocol), in [-1, 1].

    Each candidate scores its mean similarity over its references.
    """
    if not candidates:
        return float("nan")
    flat = [r for refs in references for r in refs]
    cand = encoder.encode(list(candidates))  # (n, d), unit rows
    ref = encoder.encode(flat)  # (m, d)
    scores, start = [], 0
    for i, refs in enumerate(references):
        block = ref[start : start + len(refs)]  # (k, d)
        scores.append(float((block @ cand[i]).mean()))
        start += len(refs)
    return sum(scores) / len(scores)


def exact_match(
    predictions: Sequence[str], answers: Sequence[str], types: Sequence[str]
) -> dict[str, float]:
    """QA exact match overall (key "all") and per question type, after `normalise_answer`."""
    if not (len(predictions) == len(answers) == len(types)):
        raise ValueError(
            f"got {len(predictions)} predictions, {len(answers)} answers and {len(types)} types; "
            "expected equal lengths"
        )
    hits: dict[str, list[bool]] = {"all": []}
    for pred, answer, kind in zip(predictions, answers, types, strict=True):
        ok = normalise_answer(pred) == normalise_answer(answer)
        hits["all"].append(ok)
        hits.setdefault(kind, []).append(ok)
    return {k: (sum(v) / len(v) if v else float("nan")) for k, v in hits.items()}


def names_category(caption: str, names: Sequence[str]) -> bool:
    """Whether the caption contains any of the category's names as whole words."""
    text = " ".join(words(caption))
    return any(
        re.search(rf"(?<![\w-]){re.escape(' '.join(words(n)))}(?![\w-])", text) for n in names
    )


def category_named_rate(captions: Sequence[str], names: Sequence[Sequence[str]]) -> float:
    """Fraction of captions that name their object's category (names[i]: its synonyms)."""
    if not captions:
        return float("nan")
    hits = [names_category(c, n) for c, n in zip(captions, names, strict=True)]
    return sum(hits) / len(hits)


def score_samples(
    samples: Sequence[dict], names: Sequence[Sequence[str]], text_encoder: object | None = None
) -> dict[str, float]:
    """Every caption and QA score of generated samples, under flat dotted keys.

    A sample is {"caption": str, "references": [str], "qa": [{"question", "answer",
    "predicted", "type"}]} (the records `pointlang-eval dataset` writes); names[i] are the
    category names sample i's caption may use. Keys: `qa.exact_match` and
    `qa.exact_match.<type>`, `caption.bleu4`, `caption.rouge_l`, `caption.sbert` (with a
    text_encoder), `caption.category_named`. Samples without references or questions only
    take part in the scores they can.
    """
    if len(samples) != len(names):
        raise ValueError(f"got {len(samples)} samples but {len(names)} name lists")
    metrics: dict[str, float] = {}
    pairs = [pair for s in samples for pair in s.get("qa", [])]
    if pairs:
        scores = exact_match(
            [p["predicted"] for p in pairs],
            [p["answer"] for p in pairs],
            [p["type"] for p in pairs],
        )
        for key, value in scores.items():
            metrics["qa.exact_match" + ("" if key == "all" else f".{key}")] = value
    described = [s for s in samples if s.get("references")]
    if described:
        cands = [s["caption"] for s in described]
        refs = [s["references"] for s in described]
        metrics["caption.bleu4"] = bleu4(cands, refs)
        metrics["caption.rouge_l"] = mean_rouge_l(cands, refs)
        if text_encoder is not None:
            metrics["caption.sbert"] = sbert_similarity(cands, refs, text_encoder)
    if samples:
        metrics["caption.category_named"] = category_named_rate(
            [s["caption"] for s in samples], names
        )
    return metrics
