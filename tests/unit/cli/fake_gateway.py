"""A fake gateway for CLI unit tests: canned answers per route, every request recorded."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

Answer = Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: Any = None) -> Answer:
    return lambda _request: httpx.Response(status, json=body)


def error(
    status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None
) -> Answer:
    info: dict[str, Any] = {"code": code, "message": message, "errors": errors or []}
    if errors:
        info["total_errors"] = len(errors)
    return reply(status, {"error": info})


@dataclass
class FakeGateway:
    routes: dict[tuple[str, str], Answer | list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer) -> None:
        """Answer in turn; the last answer repeats."""
        self.routes[(method, path)] = list(answers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answers = self.routes.get((request.method, request.url.path))
        if not answers:
            return httpx.Response(
                404, json={"error": {"code": "not_found", "message": f"no {request.url.path}"}}
            )
        assert isinstance(answers, list)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def body(self, method: str, path: str) -> Any:
        return json.loads(self.sent(method, path)[-1].content)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
