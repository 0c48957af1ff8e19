"""The lean upstream client against real sockets: keep-alive, streams, and the ways an
upstream fails (refused, closed while idle, closed mid-answer, silent)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import uvloop

from libs.supervision.process import free_port
from services.router.upstream_http import UpstreamBroken, UpstreamHttp, UpstreamUnreachable
from tests.fakes.openai_upstream import ServerThread, fake_vllm

pytestmark = pytest.mark.integration

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on 127.0.0.1 that runs ``script`` for each connection; yields its URL and a
    list that counts connections."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await script(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", connections
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return await reader.readexactly(length)


def answer(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + extra
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def test_answers_come_back_whole_on_one_kept_alive_connection() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                body = await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(answer(body, b"x-request-id: r-1\r\n"))

    async with scripted(echo) as (url, connections):
        client = UpstreamHttp(url)
        for i in range(5):
            response = await client.post("/v1/chat/completions", f'{{"n": {i}}}'.encode())
            assert response.status == 200
            assert response.header(b"x-request-id") == b"r-1"
            assert await response.read() == f'{{"n": {i}}}'.encode()
        assert len(connections) == 1
        client.close()


async def test_a_stream_arrives_piece_by_piece() -> None:
    release = asyncio.Event()

    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        writer.write(b"b\r\ndata: one\n\n\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"b\r\ndata: two\n\n\r\n0\r\n\r\n")
        await writer.drain()
        await reader.read()  # keep the connection open until the client closes it

    async with scripted(chunked) as (url, _):
        client = UpstreamHttp(url)
        response = await client.post("/v1/chat/completions", b"{}")
        pieces = response.iter_bytes()
        assert await anext(pieces) == b"data: one\n\n"  # before the second was even sent
        release.set()
        assert [p async for p in pieces] == [b"data: two\n\n"]
        client.close()


async def test_an_idle_connection_the_upstream_closed_is_replaced_transparently() -> None:
    async def one_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        body = await read_request(reader)
        writer.write(answer(body))
        await writer.drain()  # then close, as an upstream whose keep-alive timed out

    async with scripted(one_per_connection) as (url, connections):
        client = UpstreamHttp(url)
        for _ in range(3):
            response = await client.post("/v1/completions", b'{"a": 1}')
            assert await response.read() == b'{"a": 1}'
        assert len(connections) == 3
        client.close()


async def test_a_refused_connection_is_unreachable() -> None:
    client = UpstreamHttp(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UpstreamUnreachable):
        await client.post("/v1/completions", b"{}")


async def test_an_answer_cut_short_is_broken_after_answering() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial')
        await writer.drain()

    async with scripted(cut) as (url, _):
        client = UpstreamHttp(url)
        response = await client.post("/v1/completions", b"{}")
        with pytest.raises(UpstreamBroken) as broken:
            await response.read()
        assert broken.value.answered


async def test_a_request_the_upstream_drops_unanswered_is_broken_unanswered() -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async with scripted(drop) as (url, _):
        with pytest.raises(UpstreamBroken) as broken:
            await UpstreamHttp(url).post("/v1/completions", b"{}")
        assert not broken.value.answered


async def test_a_silent_upstream_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()

    async with scripted(silent) as (url, _):
        client = UpstreamHttp(url, read_timeout=0.2)
        with pytest.raises(UpstreamBroken, match="no answer"):
            await client.post("/v1/completions", b"{}")


async def test_a_body_that_ends_with_the_connection_is_complete() -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()

    async with scripted(until_close) as (url, _):
        response = await UpstreamHttp(url).post("/v1/completions", b"{}")
        assert await response.read() == b"all of it"


async def test_aborting_a_stream_closes_the_upstream_connection() -> None:
    closed = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        writer.write(b"5\r\nfirst\r\n")
        await writer.drain()
        await reader.read()  # returns once the client has gone
        closed.set()

    async with scripted(endless) as (url, _):
        response = await UpstreamHttp(url).post("/v1/completions", b"{}")
        assert await anext(response.iter_bytes()) == b"first"
        response.abort()
        await asyncio.wait_for(closed.wait(), 10)


async def test_against_uvicorn_like_vllm_behind_it() -> None:
    server = ServerThread(fake_vllm("base-a")).start()
    try:
        client = UpstreamHttp(server.url)
        body = b'{"model": "base-a", "messages": [{"role": "user", "content": "hi"}]}'
        response = await client.post("/v1/chat/completions", body)
        assert response.status == 200
        assert b'"content":"base"' in await response.read()
        streamed = await client.post("/v1/chat/completions", body[:-1] + b', "stream": true}')
        text = b"".join([chunk async for chunk in streamed.iter_bytes()])
        assert text.endswith(b"data: [DONE]\n\n")
        missing = await client.post("/v1/chat/completions", body.replace(b"base-a", b"nope"))
        assert missing.status == 404
        assert b"does not exist" in await missing.read()
        client.close()
    finally:
        server.stop()


def test_the_same_on_uvloop_as_the_service_runs() -> None:
    async def scenario() -> None:
        server = ServerThread(fake_vllm("base-a")).start()
        try:
            client = UpstreamHttp(server.url)
            body = b'{"model": "base-a", "messages": [], "stream": true}'
            for _ in range(3):
                response = await client.post("/v1/chat/completions", body)
                text = b"".join([chunk async for chunk in response.iter_bytes()])
                assert text.endswith(b"data: [DONE]\n\n")
            assert client.idle_connections == 1  # one connection, kept alive
            client.close()
        finally:
            server.stop()

    uvloop.run(scenario())


async def test_a_stream_dropped_after_it_arrived_whole_keeps_its_connection() -> None:
    async def whole(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(answer(b"data: one\n\ndata: [DONE]\n\n"))

    async with scripted(whole) as (url, connections):
        client = UpstreamHttp(url)
        for _ in range(3):
            response = await client.post("/v1/chat/completions", b"{}")
            pieces = response.iter_bytes()
            assert b"data: one" in await anext(pieces)
            response.abort()  # the client left, but nothing was in flight any more
            assert [p async for p in pieces] == []  # and the old reader stops there
        assert len(connections) == 1
        client.close()
