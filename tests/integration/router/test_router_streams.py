"""Streams through the router served by uvicorn as in production: events pass as they come,
and a client that leaves stops the upstream's generation (its connection is dropped)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from libs.messaging import Subjects
from libs.runtime.assembly import assemble
from libs.runtime.process import bind_socket, start_messaging, stop_messaging
from services.router.service import DEFINITION as ROUTER
from services.router.settings import RouterSettings
from tests.polling import eventually

pytestmark = pytest.mark.integration

BASE = "slow-base"


class EndlessUpstream:
    """An OpenAI-compatible upstream that streams one event per ``release`` until the
    client goes; ``gone`` is set when it has gone."""

    def __init__(self) -> None:
        self.release = asyncio.Queue[None]()
        self.gone = asyncio.Event()
        self.fail_at_once = False
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        if self.fail_at_once:  # a crash before the first token
            await writer.drain()
            writer.transport.abort()
            return
        closed = asyncio.ensure_future(reader.read())  # b"" once the router hangs up
        n = 0
        while not closed.done():
            release = asyncio.ensure_future(self.release.get())
            await asyncio.wait([release, closed], return_when=asyncio.FIRST_COMPLETED)
            if closed.done():
                release.cancel()
                break
            event = f'data: {{"choices": [{{"delta": {{"content": "w{n} "}}}}]}}\n\n'.encode()
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            n += 1
        self.gone.set()
        writer.close()


@pytest.fixture
async def upstream() -> AsyncIterator[EndlessUpstream]:
    endless = EndlessUpstream()
    server = await asyncio.start_server(endless.handle, "127.0.0.1", 0)
    endless.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield endless
    finally:
        server.close()


@pytest.fixture
async def router_url(
    nats_url: str,
    subjects: Subjects,
    migrated_database_url: str,
    tmp_path: Path,
    upstream: EndlessUpstream,
) -> AsyncIterator[str]:
    router = assemble(
        ROUTER,
        RouterSettings(
            nats_url=nats_url,
            subject_prefix=subjects.prefix,
            database_url=migrated_database_url,
            home=tmp_path,
            upstreams=f"{BASE}={upstream.url}",
        ),
    )
    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn.Server(
        uvicorn.Config(router.api, log_config=None, access_log=False, http="httptools")
    )
    await start_messaging(router)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started, what="the router's server started")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
        await stop_messaging(router)


async def test_events_pass_as_they_come_and_a_client_leaving_stops_the_upstream(
    router_url: str, upstream: EndlessUpstream
) -> None:
    body = {"model": BASE, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    upstream.release.put_nowait(None)  # the head goes out with the first event
    async with (
        httpx.AsyncClient(base_url=router_url, timeout=30) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-tuneloop-serving-name"] == BASE
        chunks = response.aiter_raw()
        assert b"w0 " in await anext(chunks)
        for n in range(1, 4):
            upstream.release.put_nowait(None)  # one event at a time: each comes through
            assert f"w{n} ".encode() in await anext(chunks)
        assert not upstream.gone.is_set()
    # the client closed its connection mid-stream
    await asyncio.wait_for(upstream.gone.wait(), 10)


async def test_an_upstream_failing_before_the_first_event_is_an_openai_error(
    router_url: str, upstream: EndlessUpstream
) -> None:
    upstream.fail_at_once = True
    body = {"model": BASE, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with httpx.AsyncClient(base_url=router_url, timeout=30) as client:
        response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"
