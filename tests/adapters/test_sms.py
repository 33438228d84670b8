"""SMS through Twilio: signatures, inbound and status webhooks, REST sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from typing import Any

import pytest

from relay.adapters.base import (
    InboundMessage,
    MalformedPayload,
    OutboundText,
    PermanentSendError,
    PlatformConfig,
    StatusUpdate,
    TransientSendError,
    WebhookRequest,
)
from relay.adapters.sms import SmsAdapter, url_variants
from tests.adapters.conftest import FakePlatform

ACCOUNT_SID = "AC00000000000000000000000000000000"

# Twilio's documented example (twilio.com/docs/usage/webhooks/webhooks-security).
DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def adapter(auth_token: str = DOC_TOKEN, **overrides: Any) -> SmsAdapter:
    settings: dict[str, Any] = {
        "api_base": "https://api.twilio.example",
        "access_token": ACCOUNT_SID,
        "app_secret": auth_token,
    } | overrides
    return SmsAdapter(PlatformConfig(channel="sms", **settings))


def form(fields: Any) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def request(url: str, body: bytes, signature: str | None) -> WebhookRequest:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["x-twilio-signature"] = signature
    return WebhookRequest(
        method="POST",
        url=url,
        headers=headers,
        body=body,
        content_type="application/x-www-form-urlencoded",
    )


def sign(url: str, pairs: list[tuple[str, str]], token: str = DOC_TOKEN) -> str:
    data = url + "".join(name + value for name, value in sorted(pairs))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


# --- signatures -----------------------------------------------------------------------------


def test_twilio_documented_example_verifies() -> None:
    assert adapter().verify(request(DOC_URL, form(DOC_PARAMS), DOC_SIGNATURE))


def test_parameter_order_in_the_body_does_not_matter() -> None:
    shuffled = form(dict(reversed(list(DOC_PARAMS.items()))))
    assert adapter().verify(request(DOC_URL, shuffled, DOC_SIGNATURE))


def test_tampered_body_fails_verification() -> None:
    tampered = form(DOC_PARAMS | {"Digits": "9999"})
    assert not adapter().verify(request(DOC_URL, tampered, DOC_SIGNATURE))


def test_extra_parameter_the_signer_did_not_send_fails_verification() -> None:
    extended = form(DOC_PARAMS | {"Body": "injected"})
    assert not adapter().verify(request(DOC_URL, extended, DOC_SIGNATURE))


def test_different_url_fails_verification() -> None:
    other = "https://mycompany.com/myapp.php?foo=1&bar=3"
    assert not adapter().verify(request(other, form(DOC_PARAMS), DOC_SIGNATURE))


@pytest.mark.parametrize(
    "signature",
    [None, "", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", "garbage", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=\u00e9"],
)
def test_missing_or_garbled_signature_fails_verification(signature: str | None) -> None:
    assert not adapter().verify(request(DOC_URL, form(DOC_PARAMS), signature))


def test_wrong_auth_token_fails_verification() -> None:
    assert not adapter("54321").verify(request(DOC_URL, form(DOC_PARAMS), DOC_SIGNATURE))


def test_nothing_verifies_while_the_auth_token_is_empty() -> None:
    empty_signed = sign(DOC_URL, list(DOC_PARAMS.items()), token="")
    assert not adapter("").verify(request(DOC_URL, form(DOC_PARAMS), empty_signed))


def test_url_received_with_the_default_port_verifies_a_signature_made_without_it() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert adapter().verify(request(with_port, form(DOC_PARAMS), DOC_SIGNATURE))


def test_url_received_without_a_port_verifies_a_signature_made_with_the_default_port() -> None:
    url = "http://relay.example/twilio/sms"
    signature = sign("http://relay.example:80/twilio/sms", list(DOC_PARAMS.items()))
    assert adapter().verify(request(url, form(DOC_PARAMS), signature))


def test_a_non_default_port_is_never_dropped() -> None:
    assert url_variants("https://relay.example:8443/hook") == ["https://relay.example:8443/hook"]
    assert not adapter().verify(
        request("https://mycompany.com:8443/myapp.php?foo=1&bar=2", form(DOC_PARAMS), DOC_SIGNATURE)
    )


def test_repeated_names_and_blank_values_are_signed_in_sorted_order() -> None:
    pairs = [("MediaUrl0", "b"), ("To", "+18005551212"), ("MediaUrl0", "a"), ("Body", "")]
    url = "https://relay.example/twilio/sms"
    body = urllib.parse.urlencode(pairs).encode()
    signed = url + "Body" + "MediaUrl0a" + "MediaUrl0b" + "To+18005551212"
    signature = base64.b64encode(
        hmac.new(DOC_TOKEN.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()
    assert adapter().verify(request(url, body, signature))


def test_unicode_body_is_signed_as_utf8() -> None:
    fields = {"Body": "Sepeda masih ada? \U0001f6b2", "From": "+6281234567001"}
    url = "https://relay.example/twilio/sms"
    signature = sign(url, list(fields.items()))
    assert adapter().verify(request(url, form(fields), signature))


# --- inbound --------------------------------------------------------------------------------

INBOUND = {
    "ToCountry": "ID",
    "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "NumMedia": "0",
    "ToCity": "",
    "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "FromCountry": "ID",
    "SmsStatus": "received",
    "Body": "K7Q2 is it still for sale?",
    "To": "+6281100000001",
    "NumSegments": "1",
    "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
    "AccountSid": ACCOUNT_SID,
    "From": "+6281234567001",
    "ApiVersion": "2010-04-01",
}


def parse(fields: Any) -> list[Any]:
    """The events read from a readable form."""
    parsed = adapter().parse(request("https://relay.example/twilio/sms", form(fields), "x"))
    assert parsed.rejections == []
    return parsed.events


def rejection_reason(fields: Any) -> str:
    parsed = adapter().parse(request("https://relay.example/twilio/sms", form(fields), "x"))
    assert parsed.events == []
    [rejection] = parsed.rejections
    return rejection.reason


def test_inbound_sms_becomes_an_inbound_message() -> None:
    [inbound] = parse(INBOUND)
    assert isinstance(inbound, InboundMessage)
    assert (
        inbound.channel,
        inbound.provider_message_id,
        inbound.sender_address,
        inbound.identity_provider_id,
        inbound.text,
        inbound.has_media,
    ) == (
        "sms",
        "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "+6281234567001",
        "+6281100000001",
        "K7Q2 is it still for sale?",
        False,
    )
    assert inbound.timestamp.tzinfo is not None


def test_mms_with_media_and_empty_body_is_flagged() -> None:
    fields = INBOUND | {
        "Body": "",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/m",
        "MediaContentType0": "image/jpeg",
    }
    [inbound] = parse(fields)
    assert (inbound.text, inbound.has_media) == ("", True)


def test_legacy_sid_names_are_accepted() -> None:
    fields = {k: v for k, v in INBOUND.items() if k not in ("MessageSid", "SmsMessageSid")}
    [inbound] = parse(fields)
    assert inbound.provider_message_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"


@pytest.mark.parametrize("missing", ["From", "To"])
def test_inbound_without_sender_or_recipient_is_rejected(missing: str) -> None:
    assert missing in rejection_reason({k: v for k, v in INBOUND.items() if k != missing})


def test_inbound_without_any_sid_is_rejected() -> None:
    fields = {k: v for k, v in INBOUND.items() if "Sid" not in k or k == "AccountSid"}
    assert "MessageSid" in rejection_reason(fields)


def test_garbled_media_count_is_rejected() -> None:
    assert "NumMedia" in rejection_reason(INBOUND | {"NumMedia": "many"})


def test_body_that_is_not_utf8_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        adapter().parse(request("https://relay.example/twilio/sms", b"Body=\xff\xfe", "x"))


# --- status callbacks -----------------------------------------------------------------------

STATUS = {
    "MessageSid": "SM5a1b2c",
    "MessageStatus": "delivered",
    "SmsStatus": "delivered",
    "AccountSid": ACCOUNT_SID,
    "From": "+6281100000001",
    "To": "+6281234567001",
    "ApiVersion": "2010-04-01",
    "RawDlrDoneDate": "2406101213",
}


@pytest.mark.parametrize(
    ("twilio_status", "status"),
    [
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "read"),
        ("failed", "failed"),
        ("undelivered", "failed"),
    ],
)
def test_status_callback_becomes_a_status_update(twilio_status: str, status: str) -> None:
    [update] = parse(STATUS | {"MessageStatus": twilio_status})
    assert isinstance(update, StatusUpdate)
    assert (update.channel, update.status, update.provider_message_id, update.error_code) == (
        "sms",
        status,
        "SM5a1b2c",
        None,
    )


def test_undelivered_status_carries_the_error_code() -> None:
    [update] = parse(STATUS | {"MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert (update.status, update.error_code) == ("failed", "30003")


@pytest.mark.parametrize(
    "twilio_status",
    ["queued", "sending", "accepted", "scheduled", "partially_delivered", "canceled", "receiving"],
)
def test_intermediate_statuses_are_ignored(twilio_status: str) -> None:
    assert parse(STATUS | {"MessageStatus": twilio_status}) == []


def test_ack_is_an_empty_twiml_response() -> None:
    assert adapter().ack() == (
        200,
        "text/xml",
        '<?xml version="1.0" encoding="UTF-8"?><Response/>',
    )


def test_handshake_is_not_used() -> None:
    assert adapter().handshake(request("https://relay.example/", b"", None)) == (405, "not used")


# --- sending --------------------------------------------------------------------------------


def sender_for(platform: FakePlatform, **overrides: Any) -> SmsAdapter:
    settings = {"api_base": platform.url, "timeout_seconds": 2.0} | overrides
    return adapter("auth-token", **settings)


def outbound(text: str = "hello") -> OutboundText:
    return OutboundText(
        identity_provider_id="+6281100000001", to_address="+6281234567001", text=text
    )


def test_text_is_posted_as_a_form_with_basic_auth_and_status_callback(
    platform: FakePlatform,
) -> None:
    platform.answer(201, {"sid": "SMnew", "status": "queued"})
    result = sender_for(platform, status_callback_url="https://relay.example/twilio/status").send(
        outbound("z" * 2000)
    )
    assert result.provider_message_id == "SMnew"
    sent = platform.last
    assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert (
        sent.headers["authorization"]
        == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:auth-token".encode()).decode()
    )
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(sent.body.decode()) == {
        "To": ["+6281234567001"],
        "From": ["+6281100000001"],
        "Body": ["z" * 1600],
        "StatusCallback": ["https://relay.example/twilio/status"],
    }


def test_no_status_callback_is_sent_when_none_is_configured(platform: FakePlatform) -> None:
    platform.answer(201, {"sid": "SMnew"})
    sender_for(platform).send(outbound())
    assert "StatusCallback" not in urllib.parse.parse_qs(platform.last.body.decode())


def twilio_error(code: int, status: int = 400) -> dict[str, Any]:
    return {
        "code": code,
        "message": "error",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def test_rate_limit_is_transient_with_the_retry_after_delay(platform: FakePlatform) -> None:
    platform.answer(429, twilio_error(20429, 429), headers={"Retry-After": "3"})
    with pytest.raises(TransientSendError) as raised:
        sender_for(platform).send(outbound())
    assert (raised.value.retry_after, raised.value.code) == (3.0, "20429")


@pytest.mark.parametrize(("status", "body"), [(500, {}), (503, twilio_error(20500, 503))])
def test_server_errors_are_transient(platform: FakePlatform, status: int, body: Any) -> None:
    platform.answer(status, body)
    with pytest.raises(TransientSendError):
        sender_for(platform).send(outbound())


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (400, 21610, "the recipient has opted out of SMS from this number (replied STOP)"),
        (400, 21211, "the recipient is not a valid mobile number"),
        (400, 21614, "the recipient is not a valid mobile number"),
        (401, 20003, "the relay's Twilio credentials were rejected"),
        (400, 21408, "Twilio refused the message"),
    ],
)
def test_refusals_are_permanent_with_a_plain_reason(
    platform: FakePlatform, status: int, code: int, reason: str
) -> None:
    platform.answer(status, twilio_error(code, status))
    with pytest.raises(PermanentSendError) as raised:
        sender_for(platform).send(outbound())
    assert (raised.value.reason, raised.value.code) == (reason, str(code))
    assert "6281234567001" not in raised.value.reason


def test_twilio_that_does_not_answer_in_time_is_transient(platform: FakePlatform) -> None:
    platform.answer(201, {"sid": "late"}, delay=1.5)
    with pytest.raises(TransientSendError, match="did not answer in time"):
        sender_for(platform, timeout_seconds=0.3).send(outbound())
