"""The handshake and signature check WhatsApp, Messenger and Instagram share."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relay.adapters.base import Adapter, PlatformConfig, WebhookRequest
from relay.adapters.instagram import InstagramAdapter
from relay.adapters.messenger import MessengerAdapter
from relay.adapters.whatsapp import WhatsAppAdapter
from tests.adapters.conftest import APP_SECRET, VERIFY_TOKEN, meta_signature

ADAPTERS = [WhatsAppAdapter, MessengerAdapter, InstagramAdapter]


def make(adapter_class: type[Adapter], **overrides: str) -> Adapter:
    settings: dict[str, Any] = {
        "api_base": "https://graph.example/v21.0",
        "access_token": "token",
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    } | overrides
    return adapter_class(PlatformConfig(channel=adapter_class.channel, **settings))


def handshake_request(**query: str) -> WebhookRequest:
    return WebhookRequest(
        method="GET", url="https://relay.example/hook", headers={}, body=b"", query=query
    )


def post(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {} if signature is None else {"x-hub-signature-256": signature}
    return WebhookRequest(
        method="POST", url="https://relay.example/hook", headers=headers, body=body
    )


BODY = json.dumps({"object": "page", "entry": [{"id": "1", "text": "caf\u00e9"}]}).encode()


@pytest.mark.parametrize("adapter_class", ADAPTERS)
def test_handshake_with_the_right_token_echoes_the_challenge(adapter_class: type[Adapter]) -> None:
    request = handshake_request(
        **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert make(adapter_class).handshake(request) == (200, "1158201444")


@pytest.mark.parametrize("adapter_class", ADAPTERS)
@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "v\u00e9rify", "hub.challenge": "1"},
        {},
    ],
)
def test_handshake_with_a_wrong_or_missing_token_is_refused(
    adapter_class: type[Adapter], query: dict[str, str]
) -> None:
    assert make(adapter_class).handshake(handshake_request(**query)) == (
        403,
        "verification failed",
    )


@pytest.mark.parametrize("adapter_class", ADAPTERS)
def test_handshake_is_refused_when_no_verify_token_is_configured(
    adapter_class: type[Adapter],
) -> None:
    request = handshake_request(
        **{"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    )
    assert make(adapter_class, verify_token="").handshake(request)[0] == 403


@pytest.mark.parametrize("adapter_class", ADAPTERS)
def test_body_signed_with_the_app_secret_is_accepted(adapter_class: type[Adapter]) -> None:
    assert make(adapter_class).verify(post(BODY, meta_signature(BODY)))


@pytest.mark.parametrize("adapter_class", ADAPTERS)
def test_signature_in_upper_case_hex_is_accepted(adapter_class: type[Adapter]) -> None:
    signature = "sha256=" + meta_signature(BODY)[len("sha256=") :].upper()
    assert make(adapter_class).verify(post(BODY, signature))


@pytest.mark.parametrize("adapter_class", ADAPTERS)
def test_header_name_in_its_original_case_is_still_found(adapter_class: type[Adapter]) -> None:
    request = WebhookRequest(
        method="POST",
        url="https://relay.example/hook",
        headers={"X-Hub-Signature-256": meta_signature(BODY)},
        body=BODY,
    )
    assert make(adapter_class).verify(request)


@pytest.mark.parametrize("adapter_class", ADAPTERS)
def test_tampered_body_is_rejected(adapter_class: type[Adapter]) -> None:
    tampered = BODY.replace(b'"1"', b'"2"')
    assert not make(adapter_class).verify(post(tampered, meta_signature(BODY)))


@pytest.mark.parametrize("adapter_class", ADAPTERS)
def test_reserialised_body_is_rejected_because_the_raw_bytes_are_signed(
    adapter_class: type[Adapter],
) -> None:
    # Meta escapes unicode; json.dumps(..., ensure_ascii=False) gives other bytes, same data.
    reserialised = json.dumps(json.loads(BODY), ensure_ascii=False).encode()
    assert reserialised != BODY
    assert not make(adapter_class).verify(post(reserialised, meta_signature(BODY)))


@pytest.mark.parametrize("adapter_class", ADAPTERS)
@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha256=zzzz",
        "sha1=" + "0" * 40,
        meta_signature(BODY)[len("sha256=") :],
        meta_signature(BODY, "another-secret"),
        "sha256=" + "\u00e9" * 64,
    ],
)
def test_missing_garbled_or_foreign_signature_is_rejected(
    adapter_class: type[Adapter], signature: str | None
) -> None:
    assert not make(adapter_class).verify(post(BODY, signature))


@pytest.mark.parametrize("adapter_class", ADAPTERS)
def test_nothing_verifies_while_the_app_secret_is_empty(adapter_class: type[Adapter]) -> None:
    assert not make(adapter_class, app_secret="").verify(post(BODY, meta_signature(BODY, "")))
