"""Group commit: concurrent callers share transactions; a bad item fails alone."""

import asyncio

import pytest

from libs.storage import GroupCommit

pytestmark = pytest.mark.unit


class Store:
    """A fake transactional store: a batch commits whole or not at all."""

    def __init__(self, bad: set[int] | None = None) -> None:
        self.committed: list[int] = []
        self.transactions: list[list[int]] = []
        self.bad = bad or set()

    async def apply(self, items: list[int]) -> None:
        self.transactions.append(list(items))
        await asyncio.sleep(0)  # a real transaction yields to the event loop
        if self.bad & set(items):
            raise ValueError(f"item {sorted(self.bad & set(items))[0]} is bad")
        self.committed.extend(items)


async def test_items_submitted_together_share_a_transaction() -> None:
    store = Store()
    commit = GroupCommit(store.apply, max_batch=64)
    await asyncio.gather(*(commit.submit(i) for i in range(100)))
    assert sorted(store.committed) == list(range(100))
    assert len(store.transactions) < 100
    assert max(len(t) for t in store.transactions) <= 64


async def test_a_bad_item_fails_alone_and_the_others_commit() -> None:
    store = Store(bad={7})
    commit = GroupCommit(store.apply)
    results = await asyncio.gather(*(commit.submit(i) for i in range(20)), return_exceptions=True)
    errors = {i: r for i, r in enumerate(results) if isinstance(r, Exception)}
    assert list(errors) == [7]
    assert str(errors[7]) == "item 7 is bad"
    assert sorted(store.committed) == [i for i in range(20) if i != 7]
    assert [7] in store.transactions  # retried alone


async def test_a_lone_item_is_applied_at_once() -> None:
    store = Store()
    commit = GroupCommit(store.apply)
    await commit.submit(1)
    await commit.submit(2)
    assert store.transactions == [[1], [2]]


async def test_submitting_again_after_a_failure_works() -> None:
    store = Store(bad={1})
    commit = GroupCommit(store.apply)
    with pytest.raises(ValueError, match="item 1 is bad"):
        await commit.submit(1)
    store.bad.clear()
    await commit.submit(1)
    assert store.committed == [1]


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(Store().apply, max_batch=0)
