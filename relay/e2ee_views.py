"""The web ↔ web end-to-end requests of the chat and inbox pages' script (static/e2ee.js).

A browser registers its device's public key, asks for a conversation's mode and devices (the
keys it encrypts to), and posts an envelope instead of text. Every answer is JSON, every
refusal says why in the sender's language with a status the script acts on: 400 malformed,
409 stale keys or the mode changed (the script refetches), 422/429 a guard refused.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contacts.models import Endpoint
from contacts.selectors import signed_in
from relay import selectors
from relay.models import Conversation
from relay.pipeline import Outcome, roads
from relay.services import e2ee, web
from relay.services.errors import RelayError
from relay.views import _json_login_required, _with_chat_link

# Refusals the page's script acts on itself (fetch the keys again, show the new mode).
CONFLICTS = {Outcome.E2EE_STALE_KEYS: "stale_keys", Outcome.E2EE_UNAVAILABLE: "not_e2ee"}


def _posted(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise e2ee.E2EEError("malformed", _("The request is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise e2ee.E2EEError("malformed", _("The request is not valid JSON."))
    return data


def _refused(error: e2ee.E2EEError) -> JsonResponse:
    return JsonResponse({"error": error.code, "message": error.message}, status=400)


def _register(request: HttpRequest, endpoint: Endpoint) -> HttpResponse:
    try:
        device, created = e2ee.register_device(
            endpoint=endpoint, public_key_b64=_posted(request).get("public_key")
        )
    except e2ee.E2EEError as error:
        return _refused(error)
    answer = {"fingerprint": device.fingerprint, "created_at": device.created_at.isoformat()}
    return JsonResponse(answer, status=201 if created else 200)


def _send(request: HttpRequest, conversation: Conversation, send: Any) -> HttpResponse:
    """Parse the posted envelope, submit it through the pipeline, answer what happened."""
    try:
        data = _posted(request)
        envelope = e2ee.parse_envelope(
            envelope=data.get("envelope"), commitment=data.get("commitment")
        )
        result = send(envelope)
    except e2ee.E2EEError as error:
        return _refused(error)
    except roads.Refused as refused:
        outcome = refused.result.outcome
        message = " ".join(roads.notice_texts(refused.result)) or str(outcome.label)
        if outcome in CONFLICTS:
            state = e2ee.state_for(conversation)
            return JsonResponse(
                {"error": CONFLICTS[outcome], "message": message, "state": state}, status=409
            )
        status = 429 if outcome == Outcome.RATE_LIMITED else 422
        return JsonResponse({"error": str(outcome), "message": message}, status=status)
    except RelayError as error:
        return JsonResponse({"error": "refused", "message": error.message}, status=422)
    return JsonResponse(
        {"outcome": str(result.outcome), "notices": roads.notice_texts(result)}, status=201
    )


# --- The seller's web inbox -----------------------------------------------------------------------


@require_POST
@_json_login_required
def seller_device(request: HttpRequest) -> HttpResponse:
    return _register(request, web.seller_web_endpoint(signed_in(request)))


@require_GET
@_json_login_required
def seller_state(request: HttpRequest, code: str) -> HttpResponse:
    current = selectors.conversation_for_seller(signed_in(request), code)
    return JsonResponse(e2ee.state_for(current))


@require_POST
@_json_login_required
def seller_send(request: HttpRequest, code: str) -> HttpResponse:
    user = signed_in(request)
    current = selectors.conversation_for_seller(user, code)
    return _send(
        request,
        current,
        lambda envelope: roads.seller_reply(
            seller=user, conversation=current, text="", envelope=envelope
        ),
    )


# --- The buyer's web chat -------------------------------------------------------------------------


@require_POST
@_with_chat_link
def buyer_device(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    return _register(request, access.buyer)


@require_GET
@_with_chat_link
def buyer_state(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    return JsonResponse(e2ee.state_for(access.conversation))


@require_POST
@_with_chat_link
def buyer_send(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    current = access.conversation
    return _send(
        request,
        current,
        lambda envelope: roads.buyer_message(
            buyer=access.buyer, conversation=current, text="", envelope=envelope
        ),
    )
