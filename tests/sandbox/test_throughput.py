"""The sandbox keeps up with a benchmark's rate and loses or duplicates nothing."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from sandbox.client import SandboxClient
from tests.sandbox.conftest import WHATSAPP_TOKEN, FakeRelay, wait_until


def test_three_hundred_concurrent_sends_are_all_recorded_once_with_their_statuses(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    url = sandbox_client.base_url + "/graph/v21.0/100000000000001/messages"
    sessions = [requests.Session() for _ in range(16)]

    def send(number: int) -> str:
        body = {
            "messaging_product": "whatsapp",
            "to": "+6281234567001",
            "type": "text",
            "text": {"body": f"message {number}"},
        }
        response = sessions[number % 16].post(
            url, json=body, headers={"Authorization": f"Bearer {WHATSAPP_TOKEN}"}, timeout=10
        )
        assert response.status_code == 200
        return str(response.json()["messages"][0]["id"])

    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        wamids = list(pool.map(send, range(300)))
    elapsed = time.monotonic() - started

    assert elapsed < 4, f"300 sends took {elapsed:.1f}s"
    sends = sandbox_client.outbox("ana")
    assert len(sends) == 300
    assert len(set(wamids)) == 300
    assert {send["provider_message_id"] for send in sends} == set(wamids)
    assert sorted(send["text"] for send in sends) == sorted(f"message {n}" for n in range(300))
    relay.wait_for(900, timeout=10)
    # The sandbox records each webhook just after the relay answers it.
    wait_until(lambda: len(sandbox_client.webhooks()) >= 900)
    statuses = [record for record in sandbox_client.webhooks() if record["kind"] == "status"]
    assert len(statuses) == 900
    assert {record["relay_status"] for record in statuses} == {200}
