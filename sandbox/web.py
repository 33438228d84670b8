"""The few HTTP types the sandbox's handlers speak: a parsed request and a response to write."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        """Return the JSON body; raise ValueError if it is not JSON."""
        return json.loads(self.body.decode("utf-8") or "null")

    def form(self) -> dict[str, str]:
        """Return a form-encoded body (last value wins for repeated names)."""
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {name: values[-1] for name, values in parsed.items()}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(status, body, "application/json", dict(headers or {}))


def text_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode("utf-8"))


def control_error(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)
