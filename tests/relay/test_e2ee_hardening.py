"""The privacy review of issues #15 and #16: inputs a careless or hostile browser (or a
platform redirect) can send, each answered with a clear refusal and never a 500, and nothing
lost or leaked on the way.

- An envelope or a report claim carrying a lone UTF-16 surrogate (JSON "\\ud800", which a
  browser's JSON.stringify writes for it) cannot be encoded as UTF-8: it is refused (400) or
  kept as an unverified claim, and the report is filed.
- A request nested deeper than Python's JSON decoder goes is a 400 like any bad JSON.
- An envelope whose key entries are not the documented bytes (base64 of a 32-byte ephemeral key,
  a 12-byte IV, a 48-byte wrapped key) is refused by the server, so no such message reaches a
  recipient's page.
- Platform credentials never follow a redirect that downgrades https to http.
- A signed photo link (/m/<token>/, /p/<token>/) is redacted from log lines like a chat link.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.urls import reverse

from relay.adapters import downloads, http
from relay.models import Message, Report, Side
from tests.relay import e2ee_reference as ref
from tests.relay import test_e2ee, test_franked_reports
from tests.relay.e2ee_world import Chat, e2ee_message
from tests.relay.test_e2ee import Pair, sealed
from tests.relay.test_franked_reports import franked_items

pytestmark = pytest.mark.django_db

# The fixtures of the two suites this one extends.
pair = test_e2ee.pair
chat, listing = test_franked_reports.chat, test_franked_reports.listing

DEEP = "[" * 100_000  # deeper than json.loads goes: RecursionError, not ValueError


def post_json(client: Any, url: str, body: str) -> Any:
    return client.post(url, body, content_type="application/json")


# --- E2EE endpoints: a 400 in words, never a 500 -----------------------------------------------


def test_an_envelope_with_a_lone_surrogate_is_a_clear_400(pair: Pair) -> None:
    _envelope, c = sealed(pair)
    body = '{"envelope": "\\ud800", "commitment": "' + c + '"}'
    refused = post_json(pair.buyer_browser, pair.chat + "e2ee/send/", body)
    assert refused.status_code == 400
    assert "not in the expected format" in refused.json()["message"]
    assert not Message.objects.filter(e2ee=True).exists()


@pytest.mark.parametrize("where", ["devices/", "e2ee/send/"])
def test_json_nested_too_deep_is_a_clear_400_on_the_buyers_e2ee_requests(
    pair: Pair, where: str
) -> None:
    refused = post_json(pair.buyer_browser, pair.chat + where, DEEP)
    assert refused.status_code == 400
    assert refused.json()["message"] == "The request is not valid JSON."


def test_json_nested_too_deep_is_a_clear_400_on_the_sellers_send(pair: Pair) -> None:
    url = reverse("relay:seller_e2ee_send", args=[pair.conversation.code])
    refused = post_json(pair.seller_browser, url, DEEP)
    assert refused.status_code == 400
    assert refused.json()["error"] == "malformed"


def _altered_entry(envelope: str, name: str, value: str) -> str:
    data = json.loads(envelope)
    data["keys"][0][name] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("epk", "not base64!"),  # made the recipient's script stop opening every later message
        ("epk", base64.b64encode(b"k" * 31).decode()),
        ("iv", base64.b64encode(b"i" * 16).decode()),
        ("wk", base64.b64encode(b"w" * 32).decode()),
        ("d", "not-a-fingerprint"),
    ],
)
def test_an_envelope_whose_key_entries_are_not_the_documented_bytes_is_refused(
    pair: Pair, name: str, value: str
) -> None:
    envelope, c = sealed(pair)
    refused = pair.buyer_sends(_altered_entry(envelope, name, value), c)
    assert refused.status_code == 400
    assert "not in the expected format" in refused.json()["message"]
    assert not Message.objects.filter(e2ee=True).exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [("ct", "%%%"), ("ct", base64.b64encode(b"x" * 15).decode()), ("iv", "AAAA")],
)
def test_an_envelope_whose_ciphertext_or_iv_is_not_the_documented_bytes_is_refused(
    pair: Pair, name: str, value: str
) -> None:
    envelope, c = sealed(pair)
    data = json.loads(envelope)
    data[name] = value
    refused = pair.buyer_sends(json.dumps(data), c)
    assert refused.status_code == 400
    assert not Message.objects.filter(e2ee=True).exists()


def test_a_well_formed_envelope_still_goes(pair: Pair) -> None:
    sent = pair.buyer_sends(*sealed(pair))
    assert sent.status_code == 201
    assert Message.objects.filter(e2ee=True).count() == 1


# --- Franked reports: an odd claim is an unverified claim, the report is filed --------------------


def test_a_claim_with_a_lone_surrogate_files_the_report_as_an_unverified_claim(chat: Chat) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.SELLER, "Transfer dulu ya")
    claim["m"] = "Transfer dulu ya \ud800"
    # What a browser's JSON.stringify writes for a lone surrogate: the escape, valid JSON.
    field = json.dumps([claim])
    assert "\\ud800" in field
    page = chat.buyer_reports(field)
    assert "Thank you. Our moderators will look at it." in page
    [item] = franked_items(Report.objects.get())
    assert (item["verified"], item["reason"]) == (False, "malformed")
    assert item["text"].startswith("Transfer dulu ya")


def test_a_claim_whose_context_holds_a_lone_surrogate_is_unverified_not_a_500(
    chat: Chat,
) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.SELLER, "Transfer dulu ya")
    claim["ctx"] = {**claim["ctx"], "sender": "Seller \ud800"}
    page = chat.buyer_reports(json.dumps([claim]))
    assert "Thank you. Our moderators will look at it." in page
    [item] = franked_items(Report.objects.get())
    assert item["verified"] is False


def test_a_franked_field_nested_too_deep_files_the_report_with_a_note(chat: Chat) -> None:
    page = chat.buyer_reports(DEEP)
    assert "Thank you. Our moderators will look at it." in page
    assert Report.objects.count() == 1


# --- Downloads: credentials stay on the platform's own host, over https -------------------------


class Hop:
    def __init__(self, status: int, location: str = "", body: bytes = b"") -> None:
        self.status_code = status
        self.headers = {"Location": location} if location else {}
        self.content = body


def _fake_hops(monkeypatch: pytest.MonkeyPatch, hops: list[Hop]) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def get(url: Any, *, headers: Any, auth: Any, **_: Any) -> Hop:
        calls.append({"url": url, "headers": dict(headers or {}), "auth": auth})
        return hops[len(calls) - 1]

    monkeypatch.setattr(http, "get", get)
    monkeypatch.setattr(downloads, "check_url", lambda url: url)
    return calls


@pytest.mark.parametrize("credential", ["bearer", "auth"])
def test_credentials_do_not_follow_a_redirect_from_https_to_http(
    monkeypatch: pytest.MonkeyPatch, credential: str
) -> None:
    calls = _fake_hops(
        monkeypatch,
        [
            Hop(302, "http://media.example.com/photo.jpg"),
            Hop(200, body=b"jpeg bytes"),
        ],
    )
    options: dict[str, Any] = (
        {"bearer": "wa-secret-token"} if credential == "bearer" else {"auth": ("AC1", "secret")}
    )
    data = downloads.fetch(
        "https://media.example.com/photo.jpg",
        max_bytes=1000,
        total_seconds=5,
        connect_timeout=1,
        **options,
    )
    assert data == b"jpeg bytes"
    first, second = calls
    assert first["headers"].get("Authorization") or first["auth"]
    assert second["url"] == "http://media.example.com/photo.jpg"
    assert "Authorization" not in second["headers"] and second["auth"] is None


def test_credentials_follow_a_redirect_on_the_same_https_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _fake_hops(monkeypatch, [Hop(302, "/v2/photo.jpg"), Hop(200, body=b"ok")])
    downloads.fetch(
        "https://media.example.com/photo.jpg",
        max_bytes=1000,
        total_seconds=5,
        connect_timeout=1,
        bearer="wa-secret-token",
    )
    assert calls[1]["headers"]["Authorization"] == "Bearer wa-secret-token"


def test_the_reference_sealer_still_matches_the_server_check() -> None:
    """The reference implementation's bytes are the documented ones (guards the guard)."""
    device = ref.Device.new()
    envelope, c = ref.seal("x", to=[device.public], conversation="K7Q2")
    from relay.services import e2ee

    parsed = e2ee.parse_envelope(envelope=envelope, commitment=c)
    assert parsed.devices == frozenset({device.fingerprint})


def test_a_signed_photo_link_is_redacted_from_log_lines() -> None:
    import uuid

    from django.core import signing

    from config.logging import REDACTED, redact
    from relay.services import media_links

    value = media_links._value(uuid.uuid4(), 1234)
    for salt, prefix in ((media_links.IMAGE_SALT, "/m/"), (media_links.PAGE_SALT, "/p/")):
        token = signing.TimestampSigner(salt=salt).sign(value)
        line = f'"HEAD {prefix}{token}/ HTTP/1.1" 405 0'
        assert redact(line) == f'"HEAD {prefix}{REDACTED}/ HTTP/1.1" 405 0'


def test_a_redirect_chain_shares_one_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hop used to get the whole `total_seconds`: four slow hops held a worker 4x."""
    clock = [1000.0]
    budgets: list[float] = []

    def get(url: Any, *, total_seconds: float, **_: Any) -> Hop:
        budgets.append(total_seconds)
        clock[0] += 4.0  # each hop answers slowly, just inside what it was given
        return Hop(302, f"https://cdn.example.com/{len(budgets)}.jpg")

    monkeypatch.setattr(http, "get", get)
    monkeypatch.setattr(downloads, "check_url", lambda url: url)
    monkeypatch.setattr(downloads.time, "monotonic", lambda: clock[0])
    with pytest.raises(http.DownloadTooSlow):
        downloads.fetch(
            "https://media.example.com/a.jpg", max_bytes=10, total_seconds=10, connect_timeout=1
        )
    assert budgets == [10.0, 6.0, 2.0]


def test_an_e2ee_row_that_holds_no_envelope_never_shows_its_body_beside_the_lock(
    pair: Pair,
) -> None:
    """A bubble marked end to end shows only what a browser opened: a row whose sealed body is
    not an envelope (a bug elsewhere, a row written by hand) shows a placeholder, not its
    content, under the lock badge."""
    from relay import crypto
    from tests.relay.e2ee_world import delivered_on_web

    conversation = pair.conversation
    message = Message(
        conversation=conversation,
        sender_side=Side.BUYER,
        sender_endpoint=conversation.buyer_endpoint,
        channel="web",
        e2ee=True,
        franking_commitment=b"c" * 32,
    )
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    message.body_sealed = crypto.encrypt_body(key, message.uid, "Rahasia polos 0812")
    message.save()
    delivered_on_web(message)
    page = pair.seller_browser.get(reverse("relay:conversation", args=[conversation.code]))
    shown = page.content.decode()
    assert "Rahasia polos" not in shown
    assert "(this message cannot be read)" in shown
