"""The control API: settings, reset, people, state, the phones page and the client helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox.client import SandboxClient
from sandbox.config import SandboxConfig
from sandbox.server import RunningSandbox
from tests.sandbox.conftest import FakeRelay, Relay

ROOT = Path(__file__).resolve().parents[2]


def test_latency_setting_delays_every_send_answer(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.configure(latency_ms=250)

    started = time.monotonic()
    response = relay_sends.messenger("9200000000000001", "Halo")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.25
    sandbox_client.configure(latency_ms=0)
    started = time.monotonic()
    relay_sends.messenger("9200000000000001", "Halo")
    assert time.monotonic() - started < 0.25


def test_reset_clears_outbox_webhooks_failures_and_inboxes_but_keeps_people(
    relay_sends: Relay, relay: FakeRelay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.add_person("eka", "Eka", "whatsapp", "+6281234567002")
    sandbox_client.send_inbound("eka", "wa-main", "Halo")
    relay_sends.whatsapp_text("+6281234567002", "Halo Eka")
    relay.wait_for(4)
    sandbox_client.fail_next("whatsapp", "http500", count=5)
    sandbox_client.configure(latency_ms=100)

    sandbox_client.reset()

    assert sandbox_client.outbox() == []
    assert sandbox_client.outbox("eka") == []
    assert sandbox_client.inbound("eka") == []
    assert sandbox_client.webhooks() == []
    assert sandbox_client.state()["settings"]["latency_ms"] == 0
    assert relay_sends.whatsapp_text("+6281234567002", "Lagi").status_code == 200
    [send] = sandbox_client.outbox("eka")
    assert send["index"] == 0


def test_status_webhooks_queued_before_a_reset_are_dropped(
    relay_sends: Relay, relay: FakeRelay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.configure(status_delay_ms=200)
    relay_sends.whatsapp_text("+6281234567001", "Halo")

    sandbox_client.reset()

    time.sleep(0.4)
    assert relay.received == []
    assert sandbox_client.webhooks() == []


def test_people_added_at_run_time_receive_sends(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    sandbox_client.add_people(
        [
            {
                "key": f"buyer-{number}",
                "name": f"Buyer {number}",
                "channel": "messenger",
                "address": f"93{number:014d}",
            }
            for number in range(500)
        ]
    )

    relay_sends.messenger(f"93{499:014d}", "Halo")

    assert len(sandbox_client.wait_for_outbox("buyer-499", 1)) == 1
    assert len(sandbox_client.state()["people"]) == 6 + 500


def test_a_person_with_a_malformed_phone_number_is_refused(
    sandbox_client: SandboxClient,
) -> None:
    with pytest.raises(AssertionError, match=r"E\.164"):
        sandbox_client.add_person("bad", "Bad", "sms", "4155550100")


def test_state_lists_identities_and_people_with_readable_numbers(
    sandbox_client: SandboxClient,
) -> None:
    state = sandbox_client.state()

    assert {identity["key"] for identity in state["identities"]} == {
        "wa-main",
        "sms-main",
        "fb-page",
        "ig-main",
    }
    ana = next(person for person in state["people"] if person["key"] == "ana")
    assert ana["display_address"] == "+62 812-3456-7001"
    assert ana["language"] == "id"
    dewi = next(person for person in state["people"] if person["key"] == "dewi")
    assert dewi["display_address"] == "+1 415-555-0100"


def test_wait_for_outbox_names_what_it_saw_when_it_times_out(
    relay_sends: Relay, sandbox_client: SandboxClient
) -> None:
    relay_sends.whatsapp_text("+6281234567001", "only one")

    with pytest.raises(AssertionError, match=r"saw 1: .*only one"):
        sandbox_client.wait_for_outbox("ana", 2, timeout=0.3)


def test_phones_page_is_one_self_contained_html_page(sandbox: RunningSandbox) -> None:
    response = requests.get(sandbox.url + "/", timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Perantara sandbox — simulated phones</title>" in response.text
    assert 'name="viewport"' in response.text
    assert "http://" not in response.text and "https://" not in response.text


def test_healthz_answers_ok(sandbox: RunningSandbox) -> None:
    response = requests.get(sandbox.url + "/healthz", timeout=5)
    assert (response.status_code, response.text) == (200, "ok")


def test_config_from_env_reads_the_relays_variable_names_and_the_demo_fixture() -> None:
    config = SandboxConfig.from_env(
        {
            "SANDBOX_RELAY_URL": "http://relay.test:8000",
            "SANDBOX_PORT": "8123",
            "WHATSAPP_APP_SECRET": "wa-secret",
            "MESSENGER_PAGE_ACCESS_TOKEN": "page-token",
            "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
            "SANDBOX_WEBHOOK_WORKERS": "48",
        }
    )

    assert config.relay_url == "http://relay.test:8000"
    assert config.webhook_workers == 48  # threads posting status callbacks
    assert SandboxConfig.from_env({}).webhook_workers == 8
    assert (config.host, config.port) == ("127.0.0.1", 8123)
    assert config.whatsapp_app_secret == "wa-secret"
    assert config.messenger_access_token == "page-token"
    assert config.twilio_account_sid == "AC" + "2" * 32
    assert [identity.key for identity in config.identities] == [
        "wa-main",
        "sms-main",
        "fb-page",
        "ig-main",
    ]
    assert {person.key for person in config.people} == {
        "ana",
        "budi",
        "citra",
        "dewi",
        "sari-ig",
        "sari-wa",
    }


def test_config_from_env_names_the_variable_that_is_wrong() -> None:
    with pytest.raises(ValueError, match="SANDBOX_PORT"):
        SandboxConfig.from_env({"SANDBOX_PORT": "eighty"})


def test_python_dash_m_sandbox_prints_its_url_and_serves() -> None:
    env = dict(os.environ, SANDBOX_PORT="0", SANDBOX_RELAY_URL="http://127.0.0.1:9")
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split()[3]
        assert line.startswith("Perantara sandbox at http://127.0.0.1:")
        assert requests.get(url + "/healthz", timeout=5).text == "ok"
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


def test_a_message_webhook_the_relay_refused_is_posted_again_with_the_same_id_when_asked(
    relay: FakeRelay, sandbox_client: SandboxClient
) -> None:
    relay.status = 503
    sandbox_client.configure(webhook_retries=2, webhook_retry_ms=10)

    answer = sandbox_client.send_inbound("ana", "wa-main", "Halo")

    received = relay.wait_for(3)
    assert answer["relay_status"] == 503 and answer["attempts"] == 3
    assert len({item.body for item in received}) == 1  # the same webhook, posted three times
    attempts = [w for w in sandbox_client.webhooks() if w["kind"] == "message"]
    assert {w["provider_message_id"] for w in attempts} == {answer["provider_message_id"]}
    assert [w["relay_status"] for w in attempts] == [503, 503, 503]


def test_message_webhooks_are_posted_once_by_default_and_a_2xx_stops_the_retries(
    relay: FakeRelay, sandbox_client: SandboxClient
) -> None:
    relay.status = 500
    assert sandbox_client.send_inbound("ana", "wa-main", "Halo")["attempts"] == 1
    sandbox_client.configure(webhook_retries=5, webhook_retry_ms=10)
    relay.status = 200

    assert sandbox_client.send_inbound("ana", "wa-main", "Lagi")["attempts"] == 1
    assert sandbox_client.state()["settings"]["webhook_retries"] == 5
