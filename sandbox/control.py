"""The control API (JSON) used by tests, benchmarks and the phones page."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import time
from typing import Any

from sandbox import opt_out, shapes, webhooks
from sandbox.config import CHANNELS, Identity, Person, person_from_dict
from sandbox.media import SIMULATED_PHOTO, sniff
from sandbox.runtime import Runtime
from sandbox.state import FAILURE_MODES, FailurePlan
from sandbox.web import Request, Response, control_error, json_response


def send_inbound(runtime: Runtime, request: Request) -> Response:
    """POST /control/inbound: a person writes to a relay identity; post the webhook now."""
    data = _json_object(request)
    if data is None:
        return control_error("body must be a JSON object")
    person = runtime.state.people.get(str(data.get("person")))
    identity = runtime.state.identities.get(str(data.get("identity")))
    if person is None:
        return control_error(f"unknown person {data.get('person')!r}", 404)
    if identity is None:
        return control_error(f"unknown identity {data.get('identity')!r}", 404)
    if person.channel != identity.channel:
        return control_error(
            f"{person.key} is on {person.channel} but {identity.key} is on {identity.channel}"
        )
    text, media = str(data.get("text") or ""), bool(data.get("media"))
    kind = str(data.get("kind") or "text")
    if kind == "text" and not text and not media:
        return control_error("text is required unless media is true")
    reply_to = str(data["reply_to"]) if data.get("reply_to") else None
    provider_message_id = webhooks.new_provider_id(person.channel)
    if kind != "text":
        return _send_shape(runtime, data, kind, person, identity, provider_message_id, text)
    photo = _photo(runtime, data) if media else None
    if isinstance(photo, Response):
        return photo
    media_url = _media_url(runtime, person.channel, provider_message_id, data, photo)
    media_type = str(data.get("photo_type") or (photo[1] if photo else "image/png"))
    now = time.time()
    sms_extra = _apply_twilio_keyword(runtime, person, identity, text, now)
    webhook = webhooks.inbound_message(
        runtime.config,
        identity=identity,
        person=person,
        provider_message_id=provider_message_id,
        text=text,
        reply_to=reply_to,
        media_url=media_url,
        now=now,
        sms_extra=sms_extra,
        media_type=media_type,
    )
    posted = _post_until_acknowledged(runtime, webhook, provider_message_id)
    runtime.state.record_inbound(
        {
            "channel": person.channel,
            "person": person.key,
            "identity": identity.key,
            "provider_message_id": provider_message_id,
            "text": text,
            "reply_to": reply_to,
            "media_url": media_url,
            "sent_at": now,
            "relay_status": posted["relay_status"],
        }
    )
    answer = {
        "provider_message_id": provider_message_id,
        "relay_status": posted["relay_status"],
        "relay_body": posted["relay_body"] or posted["error"] or "",
        "ack_ms": posted["ms"],
        "attempts": posted["attempts"],
    }
    return json_response(answer)


def _photo(runtime: Runtime, data: dict[str, Any]) -> tuple[str, str] | Response:
    """(media id, content type) of the photo a person sends: `photo` (base64) or the simulated
    grey square; `photo_delay_ms` makes its download slow, `photo_pad_to` pads it to a size."""
    raw = data.get("photo")
    try:
        content = base64.b64decode(str(raw), validate=True) if raw else SIMULATED_PHOTO
        delay = int(data.get("photo_delay_ms") or 0)
        pad_to = int(data.get("photo_pad_to") or 0)
    except (binascii.Error, TypeError, ValueError):
        return control_error("photo must be base64; photo_delay_ms and photo_pad_to integers")
    content += b"\0" * max(0, pad_to - len(content))
    content_type = str(data.get("photo_type") or sniff(content))
    return runtime.media.put(content, content_type, delay), content_type


def _media_url(
    runtime: Runtime,
    channel: str,
    provider_message_id: str,
    data: dict[str, Any],
    photo: tuple[str, str] | None,
) -> str | None:
    """Where the platform says the file is, in its documented shape (sandbox/media.py)."""
    if photo is None:
        return None
    if data.get("media_url"):  # a URL of the test's choosing (an SSRF target, say)
        return str(data["media_url"])
    media_id = photo[0]
    if channel == "whatsapp":
        return f"{runtime.base_url}/whatsapp-media/{media_id}"  # the webhook carries the id
    if channel == "sms":
        sid = runtime.config.twilio_account_sid
        return (
            f"{runtime.base_url}/twilio/2010-04-01/Accounts/{sid}/Messages/"
            f"{provider_message_id}/Media/ME{media_id}"
        )
    expires = time.time() + runtime.state.settings.attachment_url_seconds
    return f"{runtime.base_url}/cdn/{media_id}.jpg?oe={expires:.3f}"


def _send_shape(
    runtime: Runtime,
    data: dict[str, Any],
    kind: str,
    person: Person,
    identity: Identity,
    provider_message_id: str,
    text: str,
) -> Response:
    """`kind` other than text: a contact card, a referral, a postback... (sandbox.shapes)."""
    now = time.time()
    options = {key: data[key] for key in ("ref", "referral_shape", "payload") if data.get(key)}
    try:
        webhook = shapes.inbound_shape(
            runtime.config,
            kind=kind,
            identity=identity,
            person=person,
            provider_message_id=provider_message_id,
            text=text,
            now=now,
            options=options,
        )
    except shapes.ShapeError as error:
        return control_error(str(error))
    posted = runtime.poster.post(webhook, kind="message", provider_message_id=provider_message_id)
    runtime.state.record_inbound(
        {
            "channel": person.channel,
            "person": person.key,
            "identity": identity.key,
            "provider_message_id": provider_message_id,
            "kind": kind,
            "text": text,
            "reply_to": None,
            "media_url": None,
            "sent_at": now,
            "relay_status": posted["relay_status"],
        }
    )
    return json_response(
        {
            "provider_message_id": provider_message_id,
            "relay_status": posted["relay_status"],
            "relay_body": posted["relay_body"] or posted["error"] or "",
            "ack_ms": posted["ms"],
        }
    )


def _post_until_acknowledged(
    runtime: Runtime, webhook: webhooks.OutgoingWebhook, provider_message_id: str
) -> dict[str, Any]:
    """Post a message webhook; post it again while the relay answers anything but 2xx, as
    often as the `webhook_retries` setting allows. Return the last attempt, with `attempts`."""
    settings = runtime.state.settings
    attempts = 0
    while True:
        attempts += 1
        posted = runtime.poster.post(
            webhook, kind="message", provider_message_id=provider_message_id
        )
        if 200 <= posted["relay_status"] < 300 or attempts > settings.webhook_retries:
            return {**posted, "attempts": attempts}
        runtime.pause(settings.webhook_retry_ms / 1000)


def _apply_twilio_keyword(
    runtime: Runtime, person: Person, identity: Identity, text: str, now: float
) -> dict[str, str]:
    """Do what Twilio does with STOP/START/HELP before it posts the webhook (see opt_out).

    Return the extra webhook parameters Twilio adds (none for a plain number).
    """
    kind = opt_out.keyword_type(text) if identity.channel == "sms" else None
    if kind is None:
        return {}
    state = runtime.state
    advanced = state.settings.twilio_advanced_opt_out
    # A Messaging Service's opt-out covers all its numbers; a plain number's only itself.
    scope = (
        [key for key, item in state.identities.items() if item.channel == "sms"]
        if advanced
        else [identity.key]
    )
    scope.sort(key=lambda key: key != identity.key)  # this number first: its old state counts
    if kind is opt_out.OptOutType.HELP:
        was_opted_out = state.is_opted_out(identity.key, person.address)
    else:
        was_opted_out = state.set_opted_out(
            scope, person.address, opted_out=kind is opt_out.OptOutType.STOP
        )
    reply = opt_out.carrier_reply(kind, opted_out_before=was_opted_out)
    if reply is not None:
        state.record_send(
            {
                "channel": "sms",
                "identity": identity.key,
                "identity_provider_id": identity.provider_id,
                "identity_address": identity.address,
                "person": person.key,
                "to": person.address,
                "type": "text",
                "text": reply,
                "reply_to": None,
                "status_callback": None,
                "provider_message_id": webhooks.new_provider_id("sms"),
                "status": "delivered",
                "received_at": now,
                "from_carrier": True,
            }
        )
    if not advanced:
        return {}
    return {
        "OptOutType": kind.value,
        "MessagingServiceSid": runtime.config.twilio_messaging_service_sid,
    }


def list_opt_outs(runtime: Runtime, request: Request) -> Response:
    """GET /control/opt-outs?person=&identity=: Twilio's opt-out list, or one pair's state."""
    person_key, identity_key = request.query.get("person"), request.query.get("identity")
    if person_key is None and identity_key is None:
        return json_response(runtime.state.opt_out_records())
    person = runtime.state.people.get(person_key or "")
    identity = runtime.state.identities.get(identity_key or "")
    if person is None or identity is None:
        return control_error("give both a known person and a known identity", 404)
    opted_out = runtime.state.is_opted_out(identity.key, person.address)
    return json_response({"person": person.key, "identity": identity.key, "opted_out": opted_out})


def list_inbound(runtime: Runtime, request: Request) -> Response:
    """GET /control/inbound?person=&since=: what people sent to the relay, oldest first."""
    since = _int_query(request, "since")
    if since is None:
        return control_error("since must be an integer")
    person = request.query.get("person") or None
    return json_response(runtime.state.inbound_messages(person, since))


def list_outbox(runtime: Runtime, request: Request) -> Response:
    """GET /control/outbox?person=&since=&carrier=1: the sends the relay made, oldest first.

    With carrier=1, Twilio's own automatic replies are included (marked `from_carrier`).
    """
    since = _int_query(request, "since")
    if since is None:
        return control_error("since must be an integer")
    person = request.query.get("person") or None
    if person is not None and person not in runtime.state.people:
        return control_error(f"unknown person {person!r}", 404)
    include_carrier = request.query.get("carrier") in ("1", "true")
    return json_response(runtime.state.sends(person, since, include_carrier))


def list_webhooks(runtime: Runtime, request: Request) -> Response:
    since = _int_query(request, "since")
    if since is None:
        return control_error("since must be an integer")
    return json_response(runtime.state.webhook_records(since))


def list_rejections(runtime: Runtime, request: Request) -> Response:
    with runtime.state.lock:
        return json_response([dict(record) for record in runtime.state.rejections])


def plan_failures(runtime: Runtime, request: Request) -> Response:
    """POST /control/fail: the next `count` sends on `channel` fail in `mode`."""
    data = _json_object(request)
    if data is None:
        return control_error("body must be a JSON object")
    channel, mode = data.get("channel"), data.get("mode")
    if channel not in CHANNELS:
        return control_error(f"channel must be one of {', '.join(CHANNELS)}")
    if mode not in FAILURE_MODES:
        return control_error(f"mode must be one of {', '.join(FAILURE_MODES)}")
    if mode == "window_closed" and channel == "sms":
        return control_error("SMS has no messaging window; use permanent for 21610")
    try:
        count = int(data.get("count", 1))
        plan = FailurePlan(
            mode=str(mode),
            retry_after=float(data.get("retry_after", 1)),
            seconds=float(data.get("seconds", 15)),
            later=bool(data.get("later", False)),
        )
    except (TypeError, ValueError):
        return control_error("count, retry_after and seconds must be numbers")
    if count < 1:
        return control_error("count must be at least 1")
    if plan.later and (mode != "mms_unsupported" or channel != "sms"):
        return control_error("later is for mms_unsupported on sms only (Twilio's 30011)")
    runtime.state.add_failures(str(channel), plan, count)
    return json_response({"channel": channel, "mode": mode, "count": count})


def change_settings(runtime: Runtime, request: Request) -> Response:
    """POST /control/settings: any of latency_ms, auto_status, status_delay_ms,
    twilio_advanced_opt_out, webhook_retries, webhook_retry_ms."""
    data = _json_object(request)
    if data is None:
        return control_error("body must be a JSON object")
    settings = runtime.state.settings
    numbers = ("latency_ms", "status_delay_ms", "webhook_retries", "webhook_retry_ms")
    try:
        values = {name: int(data.get(name, getattr(settings, name))) for name in numbers}
    except (TypeError, ValueError):
        return control_error(f"{', '.join(numbers)} must be integers")
    if any(value < 0 for value in values.values()):
        return control_error(f"{', '.join(numbers)} must not be negative")
    auto_status = data.get("auto_status", settings.auto_status)
    advanced = data.get("twilio_advanced_opt_out", settings.twilio_advanced_opt_out)
    media_auth = data.get("twilio_media_auth", settings.twilio_media_auth)
    if not all(isinstance(flag, bool) for flag in (auto_status, advanced, media_auth)):
        return control_error(
            "auto_status, twilio_advanced_opt_out and twilio_media_auth must be true or false"
        )
    try:
        url_seconds = int(data.get("attachment_url_seconds", settings.attachment_url_seconds))
    except (TypeError, ValueError):
        return control_error("attachment_url_seconds must be an integer")
    settings.attachment_url_seconds = url_seconds
    settings.twilio_media_auth = media_auth
    settings.twilio_advanced_opt_out = advanced
    settings.auto_status = auto_status
    for name, value in values.items():
        setattr(settings, name, value)
    return json_response(dataclasses.asdict(settings))


def reset(runtime: Runtime, request: Request) -> Response:
    runtime.state.reset()
    runtime.media.clear()
    return json_response({"reset": True})


def add_people(runtime: Runtime, request: Request) -> Response:
    """POST /control/people: one person object, or {"people": [...]} to add many at once."""
    data = _json_object(request)
    if data is None:
        return control_error("body must be a JSON object")
    items = data["people"] if isinstance(data.get("people"), list) else [data]
    try:
        people = [person_from_dict(item) for item in items]
    except (ValueError, TypeError, AttributeError) as error:
        return control_error(str(error))
    for person in people:
        runtime.state.add_person(person)
    return json_response({"added": [person.key for person in people]}, 201)


def describe(runtime: Runtime, request: Request) -> Response:
    """GET /control/state: identities, people and settings, for the phones page."""
    state = runtime.state
    with state.lock:
        people = list(state.people.values())
        counts = {
            "outbox": len(state.outbox),
            "inbound": len(state.inbound),
            "webhooks": len(state.webhooks),
            "rejections": len(state.rejections),
        }
    return json_response(
        {
            "identities": [dataclasses.asdict(identity) for identity in state.identities.values()],
            "people": [_person_view(person) for person in people],
            "settings": dataclasses.asdict(state.settings),
            "counts": counts,
            "opt_outs": state.opt_out_records(),
        }
    )


def _person_view(person: Person) -> dict[str, Any]:
    view = dataclasses.asdict(person)
    view["display_address"] = display_address(person.channel, person.address)
    return view


def display_address(channel: str, address: str) -> str:
    """Format a number for people to read: "+62 812-3456-7001", "+1 415-555-0100"."""
    if channel not in ("whatsapp", "sms"):
        return address
    number = webhooks.digits(address)
    if number.startswith("62") and len(number) >= 11:
        rest = number[2:]
        return f"+62 {rest[:3]}-{rest[3:7]}-{rest[7:]}"
    if number.startswith("1") and len(number) == 11:
        return f"+1 {number[1:4]}-{number[4:7]}-{number[7:]}"
    return address


def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        data = request.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _int_query(request: Request, name: str) -> int | None:
    try:
        return int(request.query.get(name) or 0)
    except ValueError:
        return None
