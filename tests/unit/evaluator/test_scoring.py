"""Offline scores: matches, labels, JSON, ROUGE-L and BLEU on hand-checked examples."""

import math

import pytest

from services.evaluator.scoring import (
    corpus_bleu,
    json_field_accuracy,
    json_valid,
    label_scores,
    normalized_match,
    prompt_scores,
    rouge_l,
    sentence_bleu,
    substring_match,
)

pytestmark = pytest.mark.unit


def test_matches_normalise_case_punctuation_and_articles() -> None:
    scores = prompt_scores("The Paris.", "paris")
    assert scores["exact_match"] == 0.0
    assert scores["normalized_match"] == 1.0
    assert normalized_match("An apple!", "apple")
    assert substring_match("I think it is Paris, France", "Paris")


def test_label_precision_recall_f1_are_macro_averaged() -> None:
    scores = label_scores(["spam", "spam", "ham", "ham"], ["spam", "ham", "ham", "ham"])
    # spam: P 1/2, R 1/1; ham: P 2/2, R 2/3
    assert scores["label_precision"] == pytest.approx((0.5 + 1.0) / 2)
    assert scores["label_recall"] == pytest.approx((1.0 + 2 / 3) / 2)
    assert scores["label_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_json_validity_and_field_accuracy() -> None:
    reference = '{"intent": "refund", "priority": "high"}'
    assert json_valid('```json\n{"a": 1}\n```') == 1.0
    assert json_valid("not json") == 0.0
    assert json_field_accuracy('{"intent": "refund", "priority": "low"}', reference) == 0.5
    assert json_field_accuracy("oops", reference) == 0.0
    assert json_field_accuracy("anything", "plain text") is None
    assert "json_field_accuracy" in prompt_scores('{"intent": "refund"}', reference)


def test_rouge_l_from_the_longest_common_subsequence() -> None:
    # LCS of "police killed the gunman" / "police kill the gunman" (articles dropped): 2 of 3
    assert rouge_l("police killed the gunman", "police kill the gunman") == pytest.approx(2 / 3)
    assert rouge_l("same words here", "same words here") == 1.0
    assert rouge_l("", "") == 1.0


def test_bleu_identity_brevity_and_smoothing() -> None:
    sentence = "the quick brown fox jumps over the lazy dog"
    assert corpus_bleu([sentence], [sentence]) == pytest.approx(1.0)
    assert sentence_bleu(sentence, sentence) == pytest.approx(1.0)
    short = "quick brown fox jumps"
    # every n-gram matches; only the brevity penalty applies (4 words vs 7 after normalising)
    assert corpus_bleu([short], [sentence]) == pytest.approx(math.exp(1 - 7 / 4))
    assert sentence_bleu("completely different words", sentence) == 0.0
    assert 0 < sentence_bleu("quick brown cat jumps over lazy dog", sentence) < 1
