"""Planned failures hit the next `count` sends on a channel, in the platform's shape, then stop."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.client import SandboxClient
from tests.sandbox.conftest import Relay


def send(relay_sends: Relay, channel: str) -> requests.Response:
    if channel == "whatsapp":
        return relay_sends.whatsapp_text("+6281234567001", "Halo")
    if channel == "messenger":
        return relay_sends.messenger("9200000000000001", "Halo")
    if channel == "instagram":
        return relay_sends.instagram("9100000000000001", "Halo")
    return relay_sends.sms("+14155550100", "Hello")


def error_code(response: requests.Response) -> int:
    body = response.json()
    return int(body["error"]["code"] if "error" in body else body["code"])


EXPECTED = [
    ("whatsapp", "http500", 500, 2),
    ("whatsapp", "http429", 429, 613),
    ("whatsapp", "window_closed", 400, 131047),
    ("whatsapp", "permanent", 400, 131026),
    ("messenger", "http500", 500, 2),
    ("messenger", "http429", 429, 613),
    ("messenger", "window_closed", 400, 10),
    ("messenger", "permanent", 400, 551),
    ("instagram", "permanent", 400, 551),
    ("instagram", "http429", 429, 613),
    ("sms", "http500", 500, 20500),
    ("sms", "http429", 429, 20429),
    ("sms", "permanent", 400, 21610),
]


@pytest.mark.parametrize(("channel", "mode", "status", "code"), EXPECTED)
def test_planned_failure_hits_the_next_sends_then_sending_recovers(
    channel: str,
    mode: str,
    status: int,
    code: int,
    relay_sends: Relay,
    sandbox_client: SandboxClient,
) -> None:
    sandbox_client.fail_next(channel, mode, count=2)

    failures = [send(relay_sends, channel) for _ in range(2)]
    recovered = send(relay_sends, channel)

    assert [response.status_code for response in failures] == [status, status]
    assert [error_code(response) for response in failures] == [code, code]
    assert recovered.status_code in (200, 201)
    assert len(sandbox_client.outbox()) == 1
    assert [rejection["reason"] for rejection in sandbox_client.rejections()] == [mode, mode]


def test_window_closed_on_whatsapp_reads_as_a_re_engagement_error(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.fail_next("whatsapp", "window_closed")

    error = relay_sends.whatsapp_text("+6281234567001", "Halo").json()["error"]

    assert error["message"] == "(#131047) Re-engagement message"
    assert error["type"] == "OAuthException"
    assert "24 hours" in error["error_data"]["details"]
    assert error["fbtrace_id"]


@pytest.mark.parametrize("channel", ["whatsapp", "sms"])
def test_a_429_carries_retry_after(
    channel: str, relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.fail_next(channel, "http429", retry_after=7)

    response = send(relay_sends, channel)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_a_timeout_holds_the_request_then_answers_504_without_recording_a_delivery(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.fail_next("messenger", "timeout", seconds=0.4)

    started = time.monotonic()
    response = send(relay_sends, "messenger")

    assert time.monotonic() - started >= 0.4
    assert response.status_code == 504
    assert sandbox_client.outbox() == []
    assert send(relay_sends, "messenger").status_code == 200


def test_a_timeout_longer_than_the_callers_patience_looks_like_a_read_timeout(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.fail_next("whatsapp", "timeout", seconds=5)

    with pytest.raises(requests.ReadTimeout):
        relay_sends.session.post(
            relay_sends.base_url + "/graph/v21.0/100000000000001/messages",
            json={},
            headers={"Authorization": "Bearer test-whatsapp-token"},
            timeout=(1, 0.3),
        )


def test_failures_on_one_channel_leave_the_others_alone(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.fail_next("sms", "http500")

    assert send(relay_sends, "whatsapp").status_code == 200
    assert send(relay_sends, "sms").status_code == 500


def test_a_window_closed_plan_for_sms_is_refused_because_sms_has_no_window(
    sandbox_client: SandboxClient,
) -> None:
    with pytest.raises(AssertionError, match="SMS has no messaging window"):
        sandbox_client.fail_next("sms", "window_closed")


def test_a_later_mms_refusal_takes_the_send_and_is_for_sms_mms_only(
    sandbox_client: SandboxClient, relay_sends: Relay
) -> None:
    with pytest.raises(AssertionError, match="later is for mms_unsupported on sms only"):
        sandbox_client.fail_next("whatsapp", "mms_unsupported", later=True)
    sandbox_client.fail_next("sms", "mms_unsupported", later=True)
    # Twilio answers 201 to the send itself: the 30011 comes in the status callback.
    assert send(relay_sends, "sms").status_code == 201
