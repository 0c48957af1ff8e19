"""A lean HTTP/1.1 client for completions sent to the local upstreams (vLLM, the engine).

Keep-alive connections over asyncio (uvloop in the service), responses parsed by httptools,
the C parser uvicorn uses. Proxying a request through httpx costs about a millisecond of CPU;
this costs tens of microseconds, which is most of the router's added latency budget.

Only what the router needs: ``POST`` with a body, status, headers, a body read whole or as it
arrives. No redirects, no compression, no proxies (the upstreams are on the internal network;
hosted models keep going through httpx).
"""

import asyncio
import ssl
import weakref
from collections import deque
from collections.abc import AsyncIterator
from typing import cast
from urllib.parse import urlsplit

import httptools

HIGH_WATER = 1 << 20
"""Bytes of an answer buffered before the upstream is paused (a slow client streaming)."""
MAX_IDLE = 128


class UpstreamUnreachable(Exception):
    """No connection could be opened (refused, timed out, unknown host)."""


class UpstreamBroken(Exception):
    """The connection failed or the answer was malformed after the request was sent."""

    def __init__(self, message: str, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered
        """Whether any byte of an answer had arrived (a request is only retried if not)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one exchange at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.head: asyncio.Future[None] | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.complete = False
        self.keep_alive = False
        self.answered = False
        self.framed = False  # content-length or chunked: the body does not end at EOF
        self.error: Exception | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.last_activity = 0.0
        self.timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.answered = True
        self.last_activity = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamBroken(f"malformed answer: {exc}", answered=True))
            self.abort()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost finishes the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.head is None or self.complete:
            return
        if self.head.done() and not self.framed and self.error is None:
            self.complete = True  # a body delimited by the end of the connection
            self._wake()
            return
        reason = f"{type(exc).__name__}: {exc}" if exc else "the upstream closed the connection"
        self._fail(UpstreamBroken(reason, answered=self.answered))

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in (b"content-length", b"transfer-encoding"):
            self.framed = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue): the real one follows
            self.headers = []
            self.framed = False
            return
        self.status = status
        if self.head is not None and not self.head.done():
            self.head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.status == 0:
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()
        self._disarm()
        self._wake()

    # the exchange
    def send(self, request: bytes, timeout: float) -> asyncio.Future[None]:
        self._reset()
        self.head = self.loop.create_future()
        self.last_activity = self.loop.time()
        self.timer = self.loop.call_later(timeout, self._check_timeout, timeout)
        assert self.transport is not None
        self.transport.write(request)
        return self.head

    def _check_timeout(self, timeout: float) -> None:
        idle = self.loop.time() - self.last_activity
        if self.complete or self.error is not None:
            return
        if idle < timeout:
            self.timer = self.loop.call_later(timeout - idle, self._check_timeout, timeout)
            return
        self._fail(UpstreamBroken(f"no answer for {timeout:.0f} s", answered=self.answered))
        self.abort()

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fail(self, error: Exception) -> None:
        if self.error is None:
            self.error = error
        self._disarm()
        if self.head is not None and not self.head.done():
            self.head.set_exception(error)
            self.head.exception()  # retrieved by whoever awaits it; never "never retrieved"
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_chunk(self) -> bytes | None:
        """The next piece of the body; ``None`` once it is complete."""
        while not self.chunks:
            if self.error is not None:
                raise self.error
            if self.complete:
                return None
            self.waiter = self.loop.create_future()
            await self.waiter
            self.waiter = None
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self.buffered <= HIGH_WATER // 2 and self.transport is not None and not self.closed:
            self.transport.resume_reading()
        return chunk

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and self.error is None and not self.closed

    def abort(self) -> None:
        self._disarm()
        if self.transport is not None:
            self.transport.abort()
        self.closed = True


class UpstreamResponse:
    """An answer whose head has arrived; read its body whole or as it comes, exactly once."""

    def __init__(self, connection: _Connection, client: "UpstreamHttp") -> None:
        self._connection = connection
        self._client = client
        self._done = False
        self.status = connection.status
        self.raw_headers = connection.headers

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.raw_headers:
            if key == name:
                return value
        return None

    async def read(self) -> bytes:
        parts = []
        try:
            while (chunk := await self._connection.next_chunk()) is not None:
                parts.append(chunk)
        except BaseException:
            self.abort()
            raise
        self._release()
        return b"".join(parts)

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while not self._done and (chunk := await self._connection.next_chunk()) is not None:
                yield chunk
        finally:
            if self._connection.complete:
                self._release()
            else:
                self.abort()

    def abort(self) -> None:
        """Stop reading: drop the connection (the upstream stops generating for a client who
        left), or keep it for the next request if the answer had arrived whole anyway."""
        if self._done:
            return
        if self._connection.reusable():
            self._release()
        else:
            self._done = True
            self._connection.abort()

    def _release(self) -> None:
        if not self._done:
            self._done = True
            self._client.release(self._connection)


class UpstreamHttp:
    """Keep-alive connections to one upstream (``http://host:port`` or ``https://…``)."""

    def __init__(
        self,
        base_url: str,
        connect_timeout: float = 3.0,
        read_timeout: float = 600.0,
        max_idle: int = MAX_IDLE,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{base_url!r} is not an http(s) URL")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self.prefix = parts.path.rstrip("/").encode()
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        self.host_header = (parts.netloc if not default_port else self.host).encode()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle = max_idle
        self._idle: list[_Connection] = []
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()

    def _request(self, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
        lines = [
            b"POST ",
            self.prefix,
            path.encode(),
            b" HTTP/1.1\r\nHost: ",
            self.host_header,
            b"\r\nContent-Type: application/json\r\nContent-Length: ",
            str(len(body)).encode(),
            b"\r\n",
        ]
        for name, value in headers:
            lines += [name, b": ", value, b"\r\n"]
        lines += [b"\r\n", body]
        return b"".join(lines)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop), self.host, self.port, ssl=self.ssl
                )
        except (OSError, TimeoutError) as exc:
            raise UpstreamUnreachable(
                f"cannot connect to {self.host}:{self.port}: {type(exc).__name__} {exc}"
            ) from exc
        self._open.add(connection)
        return connection

    def _idle_connection(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            transport = connection.transport
            if not connection.closed and transport is not None and not transport.is_closing():
                return connection
        return None

    async def post(
        self, path: str, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
    ) -> UpstreamResponse:
        """Send; return once the answer's status and headers are in.

        A kept-alive connection the upstream closed just before the request (nothing was
        answered) is replaced by a new one, once: the upstream never saw the request.
        """
        request = self._request(path, body, headers or [])
        connection = self._idle_connection()
        if connection is not None:
            try:
                await connection.send(request, self.read_timeout)
                return UpstreamResponse(connection, self)
            except UpstreamBroken as exc:
                connection.abort()
                if exc.answered:
                    raise
            except BaseException:
                connection.abort()
                raise
        connection = await self._connect()
        try:
            await connection.send(request, self.read_timeout)
        except BaseException:
            connection.abort()
            raise
        return UpstreamResponse(connection, self)

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    def release(self, connection: _Connection) -> None:
        if connection.reusable() and len(self._idle) < self.max_idle:
            connection.head = None
            self._idle.append(connection)
        else:
            connection.abort()

    def close(self) -> None:
        """Abort every connection, idle or still answering (the event loop closes their
        sockets on its next turn)."""
        for connection in list(self._open):
            if not connection.closed:
                connection.abort()
        self._idle.clear()


__all__ = ["UpstreamBroken", "UpstreamHttp", "UpstreamResponse", "UpstreamUnreachable"]
