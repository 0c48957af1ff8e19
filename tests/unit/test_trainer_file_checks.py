"""A job's files are checked line by line as they are read, a chunk at a time: the same rows,
token estimates and errors (with the same line numbers) as checking the whole file at once,
for files many chunks long, without holding them in memory."""

import json
import tracemalloc
from pathlib import Path

import pytest

from libs.artifacts import LocalArtifactStore
from services.trainer.files import (
    READ_CHUNK_BYTES,
    FileProblem,
    check_file,
    summarize_chat_jsonl,
    summarize_preference_jsonl,
)

pytestmark = pytest.mark.unit
CHUNK = 64


def chat(n: int) -> str:
    reply = "ünïcødé ✓ " * (n % 7)  # multi-byte characters land across chunk boundaries
    return json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"question {n}"},
                {"role": "assistant", "content": f"answer {n} {reply}"},
            ]
        },
        ensure_ascii=False,
    )


def preference(n: int) -> str:
    return json.dumps(
        {
            "input": {"messages": [{"role": "user", "content": f"q{n}"}]},
            "preferred_output": [{"role": "assistant", "content": "good " * n}],
            "non_preferred_output": [{"role": "assistant", "content": "bad"}],
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


async def stored(store: LocalArtifactStore, text: str) -> str:
    return (await store.put_bytes(text.encode())).sha256


async def test_a_file_many_chunks_long_gives_the_same_summary(store: LocalArtifactStore) -> None:
    text = "\n".join(chat(n) for n in range(200)) + "\n\n"
    assert len(text.encode()) > 50 * CHUNK
    sha = await stored(store, text)
    streamed = await check_file(store, sha, "training_file", chunk_bytes=CHUNK)
    assert streamed == summarize_chat_jsonl(text.encode(), "training_file")
    assert streamed.rows == 200
    default = await check_file(store, sha, "training_file")
    assert default == streamed


@pytest.mark.parametrize("bad_line", [3, 150])
async def test_a_bad_line_is_named_as_before(store: LocalArtifactStore, bad_line: int) -> None:
    lines = [chat(n) for n in range(200)]
    lines[bad_line - 1] = '{"messages": [{"role": "user", "content": "no reply"}]}'
    text = "\r\n".join(lines)
    sha = await stored(store, text)
    with pytest.raises(FileProblem) as streamed:
        await check_file(store, sha, "training_file", chunk_bytes=CHUNK)
    with pytest.raises(FileProblem) as whole:
        summarize_chat_jsonl(text.encode(), "training_file")
    assert streamed.value.message == whole.value.message
    assert f"training_file line {bad_line}:" in streamed.value.message
    assert streamed.value.code == "invalid_file_format"


async def test_a_line_longer_than_a_chunk_is_read_whole(store: LocalArtifactStore) -> None:
    long_row = json.dumps(
        {
            "messages": [
                {"role": "user", "content": "x" * (10 * CHUNK)},
                {"role": "assistant", "content": "y"},
            ]
        }
    )
    sha = await stored(store, f"{chat(1)}\n{long_row}\n{chat(2)}")
    summary = await check_file(store, sha, "validation_file", chunk_bytes=CHUNK)
    assert summary.rows == 3


async def test_preference_files_stream_too(store: LocalArtifactStore) -> None:
    text = "\n".join(preference(n) for n in range(100))
    sha = await stored(store, text)
    summary = await check_file(store, sha, "training_file", "dpo", chunk_bytes=CHUNK)
    assert summary == summarize_preference_jsonl(text.encode(), "training_file")
    broken = await stored(store, text + "\n" + chat(1))
    with pytest.raises(FileProblem, match="training_file line 101: expected"):
        await check_file(store, broken, "training_file", "dpo", chunk_bytes=CHUNK)


async def test_empty_missing_and_corrupt_files_are_explained(store: LocalArtifactStore) -> None:
    empty = await stored(store, "\n\n")
    with pytest.raises(FileProblem, match="training_file has no rows"):
        await check_file(store, empty, "training_file", chunk_bytes=CHUNK)
    with pytest.raises(FileProblem) as missing:
        await check_file(store, "d" * 64, "training_file")
    assert missing.value.code == "file_not_found"
    sha = await stored(store, "\n".join(chat(n) for n in range(50)))
    path = store.path_of(sha)
    path.write_bytes(path.read_bytes().replace(b"question 7", b"question 8"))
    with pytest.raises(FileProblem) as corrupt:
        await check_file(store, sha, "training_file", chunk_bytes=CHUNK)
    assert corrupt.value.code == "corrupt_file"


async def test_checking_a_large_file_holds_a_chunk_not_the_file(
    store: LocalArtifactStore,
) -> None:
    row = chat(3) + "\n"
    text = row * (6 * READ_CHUNK_BYTES // len(row.encode()))
    sha = await stored(store, text)
    size = len(text.encode())
    del text
    tracemalloc.start()
    try:
        summary = await check_file(store, sha, "training_file")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.rows == 6 * READ_CHUNK_BYTES // len(row.encode())
    assert size > 5 * READ_CHUNK_BYTES
    assert peak < 3 * READ_CHUNK_BYTES, f"peak {peak} bytes for a {size}-byte file"
