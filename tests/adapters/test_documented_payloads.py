"""Every inbound shape the platforms document, read on purpose and acknowledged with 2xx.

The payloads come from the platforms' reference pages (tests/adapters/fixtures/, each citing
its page), not from the sandbox, so a sandbox that drifts from the platform cannot hide a bug.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from contacts.models import Endpoint
from relay import services as relay
from relay.adapters import adapter_for
from relay.adapters.base import InboundMessage, StatusUpdate, WebhookRequest
from relay.models import Delivery, Message
from tests.adapters.documented import (
    CONTENT_TYPES,
    FIXTURES,
    IDENTITIES,
    Fixture,
    all_fixtures,
    load,
    post,
    signature_headers,
    url,
)

FIXTURE_LIST = all_fixtures()


@pytest.fixture
def identities(db: None) -> None:
    for channel, (provider_id, address) in IDENTITIES.items():
        relay.add_relay_identity(channel=channel, provider_id=provider_id, address=address)


def parse(fixture: Fixture) -> Any:
    adapter = adapter_for(fixture.platform)
    headers = {
        name.removeprefix("HTTP_").replace("_", "-").lower(): value
        for name, value in signature_headers(fixture.platform, fixture.body).items()
    }
    return adapter.parse(
        WebhookRequest(
            method="POST",
            url=url(fixture.platform),
            headers=headers,
            body=fixture.body,
            content_type=CONTENT_TYPES[fixture.platform],
        )
    )


def described(event: Any) -> dict[str, Any]:
    if isinstance(event, StatusUpdate):
        return {"status": event.status}
    assert isinstance(event, InboundMessage)
    return {"kind": str(event.kind)}


def test_there_is_a_documented_fixture_for_every_platform_and_each_cites_its_page() -> None:
    platforms = {fixture.platform for fixture in FIXTURE_LIST}
    assert platforms == {"whatsapp", "messenger", "instagram", "sms"}
    assert len(FIXTURE_LIST) >= 30
    for fixture in FIXTURE_LIST:
        assert fixture.source.startswith("https://"), fixture.id
        host = fixture.source.split("/")[2]
        assert host.endswith(("facebook.com", "twilio.com")), fixture.id


@pytest.mark.parametrize("fixture", FIXTURE_LIST, ids=lambda fixture: fixture.id)
def test_each_documented_payload_is_read_as_its_page_describes(fixture: Fixture) -> None:
    parsed = parse(fixture)
    expected = fixture.expect["events"]
    assert [described(event) for event in parsed.events] == [
        {key: value for key, value in want.items() if key in ("kind", "status")}
        for want in expected
    ]
    for event, want in zip(parsed.events, expected, strict=True):
        for key, value in want.items():
            if key not in ("kind", "status"):
                assert getattr(event, key) == value, f"{fixture.id}: {key}"
    assert len(parsed.ignored) == fixture.expect.get("ignored", 0)
    assert len(parsed.rejections) == fixture.expect.get("rejected", 0)


@pytest.mark.parametrize("fixture", FIXTURE_LIST, ids=lambda fixture: fixture.id)
def test_each_documented_payload_is_acknowledged_with_2xx(
    client: Client, identities: None, fixture: Fixture
) -> None:
    response = post(client, fixture.platform, fixture.body)
    assert 200 <= response.status_code < 300, response.content


def test_a_batch_with_a_bad_event_accepts_the_good_ones_and_answers_200(
    client: Client, identities: None
) -> None:
    fixture = load(FIXTURES / "whatsapp" / "batch_with_one_bad_event.json")
    response = post(client, "whatsapp", fixture.body)
    assert response.status_code == 200
    # Three good messages from one new sender, none for a conversation: the sender is known
    # and each message was answered (HELP twice, "only text" for the contact card).
    assert Endpoint.objects.filter(channel="whatsapp").count() == 1
    notices = sorted(Delivery.objects.values_list("notice_code", flat=True))
    assert notices == ["content_unsupported", "help", "help"]
    assert not Message.objects.exists()


def test_a_rejected_event_is_logged_by_position_without_its_content(
    client: Client, identities: None, caplog: pytest.LogCaptureFixture
) -> None:
    fixture = load(FIXTURES / "messenger" / "batch_with_bad_events.json")
    with caplog.at_level("WARNING", logger="relay.webhooks"):
        assert post(client, "messenger", fixture.body).status_code == 200
    lines = [record.getMessage() for record in caplog.records if "skipped" in record.getMessage()]
    assert lines == [
        "messenger webhook event entry[0].messaging[1] skipped: "
        "entry[0].messaging[1].message.mid is missing or not an id",
        "messenger webhook event entry[0].messaging[2] skipped: "
        "entry[0].messaging[2] is an event type the relay does not know",
    ]
    assert not any("6789012345678901" in line or "no mid" in line for line in lines)


def test_rejected_events_are_counted_for_metrics(client: Client, identities: None) -> None:
    from relay.webhook_rejections import rejected_events

    fixture = load(FIXTURES / "messenger" / "batch_with_bad_events.json")
    post(client, "messenger", fixture.body)
    post(client, "sms", load(FIXTURES / "sms" / "missing_from.txt").body)
    assert rejected_events() == {"whatsapp": 0, "messenger": 2, "instagram": 0, "sms": 1}
    metrics = client.get("/metrics")
    if metrics.status_code == 200:  # /metrics may need the ops token in this configuration
        assert b'perantara_webhook_events_rejected_total{platform="messenger"} 2' in metrics.content


def test_json_nested_ten_thousand_levels_deep_is_refused_with_400_not_500(
    client: Client, identities: None
) -> None:
    body = b'{"object": "page", "entry": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    response = post(client, "messenger", body)
    assert response.status_code == 400
    assert b"nested too deeply" in response.content
