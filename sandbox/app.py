"""Route a request to its handler. Paths mirror the platforms' own, under /graph and /twilio."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from sandbox import control, send_api
from sandbox.runtime import Runtime
from sandbox.web import Request, Response, control_error, json_response, text_response


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


Handler = Callable[[Runtime, Request], Response]
PAGE_PATH = Path(__file__).resolve().parent / "phones.html"
GRAPH_SEND = re.compile(r"^/graph/[^/]+/([^/]+)/messages/?$")
GRAPH_MEDIA = re.compile(r"^/graph/[^/]+/(\d+)/?$")
TWILIO_SEND = re.compile(r"^/twilio/2010-04-01/Accounts/([^/]+)/Messages\.json$")
# Every simulated photo is the same small grey square (a PNG: the standard library can write
# one; nothing downstream decodes the image).
SIMULATED_PHOTO = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress((b"\x00" + b"\x9a" * 8) * 8))
    + _png_chunk(b"IEND", b"")
)

CONTROL_ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/control/inbound"): control.send_inbound,
    ("GET", "/control/inbound"): control.list_inbound,
    ("GET", "/control/outbox"): control.list_outbox,
    ("GET", "/control/webhooks"): control.list_webhooks,
    ("GET", "/control/rejections"): control.list_rejections,
    ("GET", "/control/opt-outs"): control.list_opt_outs,
    ("POST", "/control/fail"): control.plan_failures,
    ("POST", "/control/settings"): control.change_settings,
    ("POST", "/control/reset"): control.reset,
    ("POST", "/control/people"): control.add_people,
    ("GET", "/control/state"): control.describe,
}


def handle(runtime: Runtime, request: Request) -> Response:
    """Answer one request; never raise."""
    try:
        return _route(runtime, request)
    except Exception as error:  # answer 500 rather than drop the connection
        return control_error(f"sandbox error: {type(error).__name__}: {error}", 500)


def _route(runtime: Runtime, request: Request) -> Response:
    method, path = request.method, request.path
    handler = CONTROL_ROUTES.get((method, path.rstrip("/")))
    if handler is not None:
        return handler(runtime, request)
    if method == "POST":
        match = GRAPH_SEND.match(path)
        if match:
            return send_api.graph_send(runtime, request, match.group(1))
        match = TWILIO_SEND.match(path)
        if match:
            return send_api.twilio_send(runtime, request, match.group(1))
    if method == "GET":
        if path == "/":
            html = PAGE_PATH.read_bytes()
            return Response(200, html, "text/html; charset=utf-8", {"Cache-Control": "no-store"})
        if path == "/healthz":
            return text_response("ok")
        if path.startswith("/media/"):
            return Response(200, SIMULATED_PHOTO, "image/png")
        match = GRAPH_MEDIA.match(path)
        if match:
            # WhatsApp media lookup: the relay asks for the URL, then downloads it.
            media_id = match.group(1)
            return json_response(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{runtime.base_url}/media/{media_id}.jpg",
                    "mime_type": "image/png",
                    "file_size": len(SIMULATED_PHOTO),
                    "id": media_id,
                }
            )
    return control_error(f"no route for {method} {path}", 404)
