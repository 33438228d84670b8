"""`SandboxClient`: the control API over HTTP, for tests and benchmarks."""

from __future__ import annotations

import base64
import time
from typing import Any

import requests

TIMEOUTS = (2.0, 30.0)  # connect, read (an inbound post waits for the relay's answer)


class SandboxClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def send_inbound(
        self,
        person: str,
        identity: str,
        text: str,
        reply_to: str | None = None,
        media: bool = False,
        photo: bytes | None = None,
        **photo_options: Any,
    ) -> dict[str, Any]:
        """Have `person` write `text` to the relay's `identity`; return the relay's answer.

        `photo` (bytes) sends that file the platform's way (sandbox/media.py); options:
        photo_type (the declared content type), photo_delay_ms, photo_pad_to, media_url.

        The result holds `provider_message_id`, `relay_status`, `relay_body`, `ack_ms` and
        `attempts` (more than 1 when the `webhook_retries` setting posted it again).
        """
        body = {
            "person": person,
            "identity": identity,
            "text": text,
            "reply_to": reply_to,
            "media": media or photo is not None,
            **photo_options,
        }
        if photo is not None:
            body["photo"] = base64.b64encode(photo).decode()
        result: dict[str, Any] = self._post("/control/inbound", body)
        return result

    def send_shape(
        self, person: str, identity: str, kind: str, text: str = "", **options: str
    ) -> dict[str, Any]:
        """Have `person` do `kind` (see sandbox/shapes.py) at `identity`; options: ref,
        referral_shape ("postback", "event", "message"), payload."""
        body = {"person": person, "identity": identity, "kind": kind, "text": text, **options}
        result: dict[str, Any] = self._post("/control/inbound", body)
        return result

    def send_contact_card(self, person: str, identity: str) -> dict[str, Any]:
        """WhatsApp: share a contact card (an array of one card)."""
        return self.send_shape(person, identity, "contacts")

    def send_group_message(self, person: str, identity: str, text: str) -> dict[str, Any]:
        """WhatsApp: write `text` in a group the relay's number is in."""
        return self.send_shape(person, identity, "group", text)

    def send_as_username_only(self, person: str, identity: str, text: str) -> dict[str, Any]:
        """WhatsApp: write as a user whose number is hidden behind a username (BSUID only)."""
        return self.send_shape(person, identity, "username_only", text)

    def open_referral(
        self, person: str, identity: str, ref: str = "", shape: str = "postback", text: str = ""
    ) -> dict[str, Any]:
        """Open a deep link: Messenger/Instagram `?ref=` in `shape` ("postback" = Get Started in
        a new thread, "event" = existing thread, "message" = a message carrying the referral);
        WhatsApp: a text from a Click-to-WhatsApp ad (no ref)."""
        options = {"ref": ref, "referral_shape": shape} if ref else {}
        return self.send_shape(person, identity, "referral", text, **options)

    def tap_get_started(self, person: str, identity: str, ref: str = "") -> dict[str, Any]:
        """Messenger/Instagram: tap Get Started (with the deep link's ref, if any)."""
        return self.send_shape(person, identity, "get_started", **({"ref": ref} if ref else {}))

    def tap_menu(self, person: str, identity: str, payload: str, title: str = "") -> dict[str, Any]:
        """Messenger/Instagram: tap a persistent-menu item carrying `payload`."""
        return self.send_shape(person, identity, "menu", title, payload=payload)

    def outbox(
        self, person: str | None = None, since: int = 0, include_carrier: bool = False
    ) -> list[dict[str, Any]]:
        """Sends the relay made (to `person`, or to anyone), with index >= since, oldest first.

        With `include_carrier`, Twilio's own automatic replies to STOP/START/HELP are included
        too, each marked `"from_carrier": True`.
        """
        params: dict[str, str | int] = {"since": since}
        if person is not None:
            params["person"] = person
        if include_carrier:
            params["carrier"] = 1
        result: list[dict[str, Any]] = self._get("/control/outbox", params)
        return result

    def carrier_replies(self, person: str) -> list[dict[str, Any]]:
        """Twilio's automatic replies `person` received (STOP/START/HELP), oldest first."""
        sends = self.outbox(person, include_carrier=True)
        return [send for send in sends if send["from_carrier"]]

    def opted_out(self, person: str, identity: str) -> bool:
        """Whether `person` has opted out of the relay SMS number `identity` (Twilio's list)."""
        result: dict[str, Any] = self._get(
            "/control/opt-outs", {"person": person, "identity": identity}
        )
        return bool(result["opted_out"])

    def opt_outs(self) -> list[dict[str, Any]]:
        """Twilio's opt-out list: [{"identity", "address", "person"}]."""
        result: list[dict[str, Any]] = self._get("/control/opt-outs", {})
        return result

    def inbound(self, person: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Messages people sent to the relay through this sandbox, oldest first."""
        params: dict[str, str | int] = {"since": since}
        if person is not None:
            params["person"] = person
        result: list[dict[str, Any]] = self._get("/control/inbound", params)
        return result

    def wait_for_outbox(
        self, person: str, count: int, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """Poll until `person` has at least `count` sends; raise AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            sends = self.outbox(person)
            if len(sends) >= count:
                return sends
            if time.monotonic() >= deadline:
                seen = [(send["identity"], send["type"], send["text"]) for send in sends]
                raise AssertionError(
                    f"expected {count} sends to {person} within {timeout}s, saw {len(sends)}: "
                    f"{seen}"
                )
            time.sleep(0.05)

    def webhooks(self, since: int = 0) -> list[dict[str, Any]]:
        """Webhooks the sandbox posted to the relay, with the relay's status and time in ms."""
        result: list[dict[str, Any]] = self._get("/control/webhooks", {"since": since})
        return result

    def rejections(self) -> list[dict[str, Any]]:
        """Send attempts the sandbox refused (bad token, planned failure, invalid request)."""
        result: list[dict[str, Any]] = self._get("/control/rejections", {})
        return result

    def uploads(self) -> list[dict[str, Any]]:
        """Files the relay uploaded to WhatsApp (id, phone_number_id) and whether it deleted
        each (DELETE /<media-id>)."""
        result: list[dict[str, Any]] = self._get("/control/uploads", {})
        return result

    def fail_next(self, channel: str, mode: str, count: int = 1, **extra: Any) -> dict[str, Any]:
        """Make the next `count` sends on `channel` fail; extra: retry_after, seconds, and
        later=True (mms_unsupported on sms): the MMS is taken, its status callback says 30011."""
        result: dict[str, Any] = self._post(
            "/control/fail", {"channel": channel, "mode": mode, "count": count, **extra}
        )
        return result

    def configure(
        self,
        latency_ms: int | None = None,
        auto_status: bool | None = None,
        status_delay_ms: int | None = None,
        twilio_advanced_opt_out: bool | None = None,
        webhook_retries: int | None = None,
        webhook_retry_ms: int | None = None,
        attachment_url_seconds: int | None = None,
        twilio_media_auth: bool | None = None,
    ) -> dict[str, Any]:
        """Change the settings given; return all current settings."""
        given = {
            "latency_ms": latency_ms,
            "auto_status": auto_status,
            "status_delay_ms": status_delay_ms,
            "twilio_advanced_opt_out": twilio_advanced_opt_out,
            "webhook_retries": webhook_retries,
            "webhook_retry_ms": webhook_retry_ms,
            "attachment_url_seconds": attachment_url_seconds,
            "twilio_media_auth": twilio_media_auth,
        }
        body = {name: value for name, value in given.items() if value is not None}
        result: dict[str, Any] = self._post("/control/settings", body)
        return result

    def reset(self) -> None:
        self._post("/control/reset", {})

    def add_person(
        self,
        key: str,
        name: str,
        channel: str,
        address: str,
        bsuid: str | None = None,
        language: str = "en",
    ) -> None:
        person = {
            "key": key,
            "name": name,
            "channel": channel,
            "address": address,
            "bsuid": bsuid,
            "language": language,
        }
        self._post("/control/people", person)

    def add_people(self, people: list[dict[str, Any]]) -> None:
        """Add many people in one request (dicts with the `add_person` fields)."""
        self._post("/control/people", {"people": people})

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/control/state", {})
        return result

    def _get(self, path: str, params: dict[str, str | int]) -> Any:
        response = self.session.get(self.base_url + path, params=params, timeout=TIMEOUTS)
        return _checked(response)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.session.post(self.base_url + path, json=body, timeout=TIMEOUTS)
        return _checked(response)


def _checked(response: requests.Response) -> Any:
    if response.status_code >= 400:
        raise AssertionError(
            f"sandbox {response.request.method} {response.url} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json()
