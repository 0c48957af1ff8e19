"""Per-prompt scores of a model's answer against the reference answer."""

import json
import math
import re
import string
from collections import Counter

ARTICLES = re.compile(r"\b(a|an|the)\b")
FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def normalize(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (the SQuAD normalisation)."""
    lowered = text.lower()
    no_punctuation = "".join(c for c in lowered if c not in string.punctuation)
    return " ".join(ARTICLES.sub(" ", no_punctuation).split())


def exact_match(prediction: str, reference: str) -> float:
    return float(prediction.strip() == reference.strip())


def normalized_match(prediction: str, reference: str) -> float:
    return float(normalize(prediction) == normalize(reference))


def substring_match(prediction: str, reference: str) -> float:
    """The normalised reference appears in the normalised answer."""
    return float(normalize(reference) in normalize(prediction))


def parse_json(text: str) -> object | None:
    """The JSON value in ``text`` (code fences allowed), or None when it is not JSON."""
    try:
        return json.loads(FENCE.sub("", text.strip()))  # type: ignore[no-any-return]
    except ValueError:
        return None


def json_valid(prediction: str) -> float:
    return float(parse_json(prediction) is not None)


def json_field_accuracy(prediction: str, reference: str) -> float | None:
    """Share of the reference object's fields the answer reproduces exactly; None when the
    reference is not a JSON object."""
    expected = parse_json(reference)
    if not isinstance(expected, dict) or not expected:
        return None
    answer = parse_json(prediction)
    if not isinstance(answer, dict):
        return 0.0
    return sum(1 for key, value in expected.items() if answer.get(key) == value) / len(expected)


def tokens(text: str) -> list[str]:
    return normalize(text).split()


def longest_common_subsequence(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 on normalised tokens."""
    answer, expected = tokens(prediction), tokens(reference)
    if not answer or not expected:
        return float(answer == expected)
    lcs = longest_common_subsequence(answer, expected)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(answer), lcs / len(expected)
    return 2 * precision * recall / (precision + recall)


def ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def bleu_counts(
    prediction: str, reference: str, order: int = 4
) -> tuple[list[int], list[int], int, int]:
    """Clipped n-gram matches and totals per order, answer length and reference length."""
    answer, expected = tokens(prediction), tokens(reference)
    matches, totals = [], []
    for n in range(1, order + 1):
        candidate, target = ngrams(answer, n), ngrams(expected, n)
        matches.append(sum(min(count, target[gram]) for gram, count in candidate.items()))
        totals.append(max(len(answer) - n + 1, 0))
    return matches, totals, len(answer), len(expected)


def bleu_from_counts(
    matches: list[int], totals: list[int], length: int, reference_length: int, smooth: bool
) -> float:
    """BLEU: geometric mean of n-gram precisions times the brevity penalty. ``smooth`` adds
    one to every order above the first (Lin and Och), for single sentences."""
    if length == 0:
        return 0.0
    logs = []
    for n, (match, total) in enumerate(zip(matches, totals, strict=True)):
        if smooth and n > 0:
            match, total = match + 1, total + 1
        if match == 0 or total == 0:
            return 0.0
        logs.append(math.log(match / total))
    penalty = 1.0 if length > reference_length else math.exp(1 - reference_length / length)
    return penalty * math.exp(sum(logs) / len(logs))


def sentence_bleu(prediction: str, reference: str) -> float:
    return bleu_from_counts(*bleu_counts(prediction, reference), smooth=True)


def corpus_bleu(predictions: list[str], references: list[str]) -> float:
    """Corpus BLEU-4: counts summed over every prompt before the precisions are taken."""
    matches, totals, length, reference_length = [0] * 4, [0] * 4, 0, 0
    for prediction, reference in zip(predictions, references, strict=True):
        m, t, a, r = bleu_counts(prediction, reference)
        matches = [x + y for x, y in zip(matches, m, strict=True)]
        totals = [x + y for x, y in zip(totals, t, strict=True)]
        length, reference_length = length + a, reference_length + r
    return bleu_from_counts(matches, totals, length, reference_length, smooth=False)


def label_scores(predictions: list[str], references: list[str]) -> dict[str, float]:
    """Macro precision, recall and F1 over the reference labels (normalised)."""
    answers = [normalize(p) for p in predictions]
    expected = [normalize(r) for r in references]
    labels = sorted(set(expected))
    precisions, recalls, f1s = [], [], []
    for label in labels:
        true_positive = sum(1 for a, e in zip(answers, expected, strict=True) if a == e == label)
        predicted = sum(1 for a in answers if a == label)
        actual = sum(1 for e in expected if e == label)
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        precisions.append(precision)
        recalls.append(recall)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    count = len(labels) or 1
    return {
        "label_precision": sum(precisions) / count,
        "label_recall": sum(recalls) / count,
        "label_f1": sum(f1s) / count,
    }


def prompt_scores(prediction: str, reference: str) -> dict[str, float]:
    """Every per-prompt score that applies to this reference."""
    scores = {
        "exact_match": exact_match(prediction, reference),
        "normalized_match": normalized_match(prediction, reference),
        "substring_match": substring_match(prediction, reference),
        "rouge_l": rouge_l(prediction, reference),
        "bleu": sentence_bleu(prediction, reference),
    }
    field_accuracy = json_field_accuracy(prediction, reference)
    if field_accuracy is not None:
        scores["json_valid"] = json_valid(prediction)
        scores["json_field_accuracy"] = field_accuracy
    return scores


__all__ = [
    "corpus_bleu",
    "exact_match",
    "json_field_accuracy",
    "json_valid",
    "label_scores",
    "normalize",
    "normalized_match",
    "prompt_scores",
    "rouge_l",
    "sentence_bleu",
    "substring_match",
]
