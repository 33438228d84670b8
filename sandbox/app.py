"""Route a request to its handler. Paths mirror the platforms' own, under /graph and /twilio."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sandbox import control, media_api, send_api
from sandbox.media import SIMULATED_PHOTO
from sandbox.runtime import Runtime
from sandbox.web import Request, Response, control_error, text_response

Handler = Callable[[Runtime, Request], Response]
PAGE_PATH = Path(__file__).resolve().parent / "phones.html"
GRAPH_SEND = re.compile(r"^/graph/[^/]+/([^/]+)/messages/?$")
GRAPH_MEDIA = re.compile(r"^/graph/[^/]+/(\d+)/?$")
TWILIO_SEND = re.compile(r"^/twilio/2010-04-01/Accounts/([^/]+)/Messages\.json$")
GRAPH_UPLOAD = re.compile(r"^/graph/[^/]+/(\d+)/media/?$")
TWILIO_MEDIA = re.compile(r"^/twilio/2010-04-01/Accounts/([^/]+)/Messages/[^/]+/Media/ME(\d+)$")
MEDIA_FILE = re.compile(r"^/(whatsapp-media|cdn|twilio-cdn)/(\d+)(?:\.[a-z]+)?$")
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
    ("GET", "/control/uploads"): media_api.list_uploads,
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
        answer = _post(runtime, request)
        if answer is not None:
            return answer
    if method == "DELETE":
        match = GRAPH_MEDIA.match(path)
        if match:
            return media_api.whatsapp_delete(runtime, request, match.group(1))
    if method == "GET":
        if path == "/":
            html = PAGE_PATH.read_bytes()
            return Response(200, html, "text/html; charset=utf-8", {"Cache-Control": "no-store"})
        if path == "/healthz":
            return text_response("ok")
        return _get_media(runtime, request)
    return control_error(f"no route for {method} {path}", 404)


def _post(runtime: Runtime, request: Request) -> Response | None:
    path = request.path
    match = GRAPH_UPLOAD.match(path)
    if match:
        return media_api.whatsapp_upload(runtime, request, match.group(1))
    match = GRAPH_SEND.match(path)
    if match:
        return send_api.graph_send(runtime, request, match.group(1))
    match = TWILIO_SEND.match(path)
    if match:
        return send_api.twilio_send(runtime, request, match.group(1))
    return None


def _get_media(runtime: Runtime, request: Request) -> Response:
    """The media flows' downloads (sandbox/media.py)."""
    path = request.path
    match = MEDIA_FILE.match(path)
    if match:
        handlers = {
            "whatsapp-media": media_api.whatsapp_download,
            "cdn": media_api.meta_cdn,
            "twilio-cdn": media_api.twilio_cdn,
        }
        return handlers[match.group(1)](runtime, request, match.group(2))
    match = TWILIO_MEDIA.match(path)
    if match:
        return media_api.twilio_media(runtime, request, match.group(1), match.group(2))
    match = GRAPH_MEDIA.match(path)
    if match:
        # WhatsApp media lookup: the relay asks for the URL (bearer), then downloads it.
        return media_api.whatsapp_lookup(runtime, request, match.group(1))
    if path.startswith("/media/"):
        return Response(200, SIMULATED_PHOTO, "image/png")
    return control_error(f"no route for {request.method} {path}", 404)
