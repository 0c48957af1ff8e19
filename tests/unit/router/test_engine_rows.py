"""The engine's per-row pieces: sampling parameters, stop sequences in streamed text, and the
left-padded KV batch rows join and leave."""

from collections.abc import Sequence

import pytest

from services.router.engine.batch import KVBatch
from services.router.engine.sampling import BadParameters, Sampler, SamplingParams, parse_sampling
from services.router.engine.text import TextTracker

pytestmark = pytest.mark.unit

PIECES = {1: "Hel", 2: "lo", 3: " wor", 4: "ld", 5: "!\n", 6: "END", 7: "x"}


def decode(tokens: Sequence[int]) -> str:
    return "".join(PIECES[t] for t in tokens)


def feed(tracker: TextTracker, tokens: list[int]) -> list[str]:
    sent = []
    for n in range(1, len(tokens) + 1):
        sent.append(tracker.add(tokens[:n]))
        if tracker.stopped:
            break
    sent.append(tracker.flush())
    return [s for s in sent if s]


def test_text_without_stops_is_sent_as_soon_as_decoded() -> None:
    assert feed(TextTracker(decode, ()), [1, 2, 3, 4]) == ["Hel", "lo", " wor", "ld"]


def test_a_stop_sequence_ends_the_text_and_is_never_sent() -> None:
    tracker = TextTracker(decode, ("world",))
    sent = feed(tracker, [1, 2, 3, 4, 5])
    assert "".join(sent) == "Hello "
    assert tracker.stopped


def test_a_stop_split_across_tokens_is_held_back_until_it_is_decided() -> None:
    tracker = TextTracker(decode, ("o w",))
    assert tracker.add([1]) == "H"
    assert tracker.add([1, 2]) == "el"  # "lo" could start "o w": held back
    assert tracker.add([1, 2, 3]) == "l"
    assert tracker.stopped
    assert tracker.text == "Hell"


def test_held_back_text_that_is_not_a_stop_comes_out_at_the_end() -> None:
    tracker = TextTracker(decode, ("END!",))
    assert "".join(feed(tracker, [1, 2, 6])) == "HelloEND"
    assert not tracker.stopped


def test_the_earliest_of_several_stops_wins() -> None:
    tracker = TextTracker(decode, ("ld", "lo"))
    assert "".join(feed(tracker, [1, 2, 3, 4])) == "Hel"


def test_sampling_parameters_are_read_and_checked() -> None:
    params = parse_sampling(
        {"max_tokens": 900, "temperature": 0.7, "top_p": 0.9, "stop": "\n", "seed": 3}, 512
    )
    assert params == SamplingParams(512, 0.7, 0.9, ("\n",), 3)
    assert parse_sampling({}, 64).greedy
    assert parse_sampling({"max_completion_tokens": 5, "stop": ["a", ""]}, 64).stop == ("a",)
    for bad in (
        {"temperature": -1},
        {"top_p": 0},
        {"max_tokens": 0},
        {"max_tokens": "9"},
        {"stop": [1]},
        {"seed": 1.5},
        {"ignore_eos": "yes"},
    ):
        with pytest.raises(BadParameters):
            parse_sampling(bad, 64)


def test_a_seed_makes_sampling_repeatable() -> None:
    import torch

    logits = torch.linspace(0, 3, 50)
    params = SamplingParams(temperature=1.5, top_p=0.95, seed=11)
    first = [Sampler(params).next_token(logits) for _ in range(3)]
    sampler = Sampler(params)
    draws = [sampler.next_token(logits) for _ in range(20)]
    assert len(set(first)) == 1
    assert len(set(draws)) > 1


def test_top_p_keeps_only_the_nucleus() -> None:
    import torch

    logits = torch.tensor([10.0, 9.5, -5.0, -5.0, -5.0])
    sampler = Sampler(SamplingParams(temperature=1.0, top_p=0.5, seed=0))
    assert {sampler.next_token(logits) for _ in range(50)} == {0}


class Layer:
    def __init__(self, keys: object, values: object) -> None:
        self.keys, self.values = keys, values


class Cache:
    def __init__(self, *layers: Layer) -> None:
        self.layers = list(layers)


def row_cache(value: float, length: int) -> Cache:
    import torch

    return Cache(Layer(torch.full((1, 1, length, 2), value), torch.full((1, 1, length, 2), -value)))


def test_rows_join_left_padded_and_leave_without_dead_columns() -> None:
    batch = KVBatch()
    batch.add(row_cache(1.0, 3), 3)
    batch.add(row_cache(2.0, 5), 5)
    batch.add(row_cache(3.0, 2), 2)
    assert batch.mask.tolist() == [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 1, 1]]
    keys = batch.cache.layers[0].keys
    assert keys.shape == (3, 1, 5, 2)
    assert keys[0, 0, :, 0].tolist() == [0, 0, 1, 1, 1]
    assert keys[2, 0, :, 0].tolist() == [0, 0, 0, 3, 3]
    batch.keep([2, 0])  # the longest row left: two columns nobody uses go
    assert batch.mask.tolist() == [[0, 1, 1], [1, 1, 1]]
    assert batch.cache.layers[0].values[:, 0, :, 0].tolist() == [[0, -3, -3], [-1, -1, -1]]
    assert batch.step_mask().tolist() == [[0, 1, 1, 1], [1, 1, 1, 1]]
    batch.keep([])
    assert batch.rows == 0
