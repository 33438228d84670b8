"""HTTP handlers of the media flows (sandbox/media.py says which documented flow each is)."""

from __future__ import annotations

import time

from sandbox import errors
from sandbox.media import IMAGE_LIMITS, IMAGE_TYPES, multipart_parts, sniff
from sandbox.runtime import Runtime
from sandbox.send_api import basic_auth_matches, bearer_token_matches
from sandbox.web import Request, Response, json_response


def _file_response(runtime: Runtime, media_id: str) -> Response:
    stored = runtime.media.get(media_id)
    if stored is None:
        return errors.graph_error(404, 100, "Unsupported get request.")
    runtime.pause(stored.delay_ms / 1000)
    return Response(200, stored.data, stored.content_type)


def whatsapp_lookup(runtime: Runtime, request: Request, media_id: str) -> Response:
    """GET /graph/<version>/<media-id> (bearer): the media's short-lived URL."""
    if not bearer_token_matches(request, runtime.config.access_token("whatsapp")):
        return errors.unauthorized("whatsapp")
    stored = runtime.media.get(media_id)
    if stored is None:
        return errors.graph_error(
            400, 100, "Unsupported get request. Object does not exist.", whatsapp=True
        )
    url = f"{runtime.base_url}/whatsapp-media/{media_id}?mid={media_id}&ext={int(time.time())}"
    return json_response(
        {
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": stored.content_type,
            "sha256": stored.sha256,
            "file_size": len(stored.data),
            "id": media_id,
        }
    )


def whatsapp_download(runtime: Runtime, request: Request, media_id: str) -> Response:
    """GET the lookup's URL: only with the bearer token (else 401, as the Cloud API does)."""
    if not bearer_token_matches(request, runtime.config.access_token("whatsapp")):
        return errors.unauthorized("whatsapp")
    return _file_response(runtime, media_id)


def meta_cdn(runtime: Runtime, request: Request, media_id: str) -> Response:
    """A Messenger/Instagram attachment URL: `oe` is its expiry; after it, 403."""
    try:
        expires = float(request.query.get("oe", "0"))
    except ValueError:
        expires = 0.0
    if time.time() > expires:
        return Response(403, b"URL signature expired", "text/plain")
    return _file_response(runtime, media_id)


def twilio_media(runtime: Runtime, request: Request, account_sid: str, media_id: str) -> Response:
    """MediaUrlN: with HTTP Basic authentication for media on, the account's credentials are
    required; then a redirect to the file on the CDN."""
    config = runtime.config
    if runtime.state.settings.twilio_media_auth and (
        account_sid != config.twilio_account_sid
        or not basic_auth_matches(request, (config.twilio_account_sid, config.twilio_auth_token))
    ):
        return errors.twilio_error(401, 20003, "Authenticate")
    return Response(307, b"", "text/plain", {"Location": f"/twilio-cdn/{media_id}"})


def twilio_cdn(runtime: Runtime, request: Request, media_id: str) -> Response:
    return _file_response(runtime, media_id)


def whatsapp_upload(runtime: Runtime, request: Request, phone_number_id: str) -> Response:
    """POST /graph/<version>/<phone-number-id>/media (multipart): `{id}` of the stored file."""
    if not bearer_token_matches(request, runtime.config.access_token("whatsapp")):
        return errors.unauthorized("whatsapp")
    try:
        parts = multipart_parts(request)
    except ValueError as error:
        return errors.bad_request("whatsapp", str(error))
    if parts.get("messaging_product", ("", b""))[1] != b"whatsapp":
        return errors.bad_request("whatsapp", "The parameter messaging_product is required.")
    if "file" not in parts:
        return errors.bad_request("whatsapp", "The parameter file is required.")
    data = parts["file"][1]
    kind = sniff(data)
    if kind not in IMAGE_TYPES["whatsapp"]:
        return errors.graph_error(
            400, 131053, "Media upload error", details=f"Unsupported type {kind}", whatsapp=True
        )
    if len(data) > IMAGE_LIMITS["whatsapp"]:
        return errors.graph_error(
            400, 131053, "Media upload error", details="Image larger than 5 MB", whatsapp=True
        )
    return json_response({"id": runtime.media.put(data, kind, uploaded_by=phone_number_id)})


def whatsapp_delete(runtime: Runtime, request: Request, media_id: str) -> Response:
    """DELETE /graph/<version>/<media-id>[?phone_number_id=]: Cloud API "Delete media"; with
    phone_number_id, only the number that uploaded it may. Answers {"success": true}."""
    if not bearer_token_matches(request, runtime.config.access_token("whatsapp")):
        return errors.unauthorized("whatsapp")
    stored = runtime.media.get(media_id)
    phone_number_id = request.query.get("phone_number_id", "")
    if stored is None or (phone_number_id and stored.uploaded_by != phone_number_id):
        return errors.graph_error(
            400, 100, "Unsupported delete request. Object does not exist.", whatsapp=True
        )
    runtime.media.delete(media_id)
    return json_response({"success": True})


def list_uploads(runtime: Runtime, request: Request) -> Response:
    """GET /control/uploads: the files the relay uploaded to WhatsApp and whether it deleted
    each."""
    return json_response(runtime.media.upload_records())
