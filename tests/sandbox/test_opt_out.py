"""Twilio's default opt-out handling: STOP/START/HELP on a relay SMS number (sandbox.opt_out)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.client import SandboxClient
from sandbox.config import Identity
from sandbox.server import RunningSandbox, start_sandbox
from sandbox.signing import twilio_signature
from tests.sandbox.conftest import (
    SMS_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    FakeRelay,
    Relay,
    make_config,
)

DEWI = "+14155550100"
SECOND_NUMBER = "+15550003333"
UNSUBSCRIBED = (
    "You have successfully been unsubscribed. You will not receive any more messages from "
    "this number. Reply START to resubscribe."
)


@pytest.fixture
def two_numbers(relay: FakeRelay) -> Iterator[RunningSandbox]:
    """A sandbox whose relay has a second SMS number, as a pool of plain Twilio numbers."""
    config = make_config(relay.url)
    config.identities.append(Identity("sms-second", "sms", SECOND_NUMBER, SECOND_NUMBER))
    running = start_sandbox(config)
    yield running
    running.stop()


def send_from(base_url: str, sender: str, to: str, text: str) -> requests.Response:
    return requests.post(
        f"{base_url}/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
        data={"To": to, "From": sender, "Body": text},
        auth=(TWILIO_SID, TWILIO_TOKEN),
        timeout=10,
    )


def test_stop_still_reaches_the_relay_as_a_plain_signed_webhook(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.send_inbound("dewi", "sms-main", "STOP")

    [webhook] = relay.wait_for(1)
    form = webhook.form()
    assert form["Body"] == "STOP"
    assert (form["From"], form["To"]) == (DEWI, SMS_NUMBER)
    # A number outside a Messaging Service with Advanced Opt-Out gets no OptOutType.
    assert "OptOutType" not in form and "MessagingServiceSid" not in form
    url = "http://" + webhook.headers["host"] + webhook.path
    assert webhook.headers["x-twilio-signature"] == twilio_signature(TWILIO_TOKEN, url, form)


def test_stop_opts_the_person_out_and_twilio_answers_them_itself(
    sandbox_client: SandboxClient, relay_sends: Relay
) -> None:
    sandbox_client.send_inbound("dewi", "sms-main", "STOP")

    assert sandbox_client.opted_out("dewi", "sms-main")
    [reply] = sandbox_client.carrier_replies("dewi")
    assert reply["text"] == UNSUBSCRIBED
    assert reply["from_carrier"] is True and reply["identity"] == "sms-main"
    # What the relay sent is kept apart from what Twilio sent.
    assert sandbox_client.outbox("dewi") == []


def test_a_send_to_someone_who_replied_stop_answers_21610_and_sends_nothing(
    sandbox_client: SandboxClient, relay_sends: Relay
) -> None:
    sandbox_client.send_inbound("dewi", "sms-main", "stop")

    response = relay_sends.sms(DEWI, "Your item is still available")

    assert response.status_code == 400
    assert response.json() == {
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400,
    }
    assert sandbox_client.outbox("dewi") == []
    assert [send["text"] for send in sandbox_client.outbox("dewi", include_carrier=True)] == [
        UNSUBSCRIBED
    ]
    assert sandbox_client.rejections()[-1]["reason"] == "opted out"


@pytest.mark.parametrize(
    "body",
    [
        *["STOP", "stop", "StopAll", "UNSUBSCRIBE", "cancel", "End", "quit", "REVOKE", "optout"],
        *["  STOP  ", "Stop.", "STOP!"],
    ],
)
def test_every_opt_out_keyword_counts_in_any_case(body: str, sandbox_client: SandboxClient) -> None:
    sandbox_client.send_inbound("dewi", "sms-main", body)

    assert sandbox_client.opted_out("dewi", "sms-main")


@pytest.mark.parametrize("body", ["stop please", "Please STOP", "STOP ALL", "stopped", "help me"])
def test_a_keyword_inside_a_longer_message_is_an_ordinary_message(
    body: str, sandbox_client: SandboxClient, relay: FakeRelay, relay_sends: Relay
) -> None:
    sandbox_client.send_inbound("dewi", "sms-main", body)

    assert relay.wait_for(1)[0].form()["Body"] == body
    assert not sandbox_client.opted_out("dewi", "sms-main")
    assert sandbox_client.carrier_replies("dewi") == []
    assert relay_sends.sms(DEWI, "Hello").status_code == 201


@pytest.mark.parametrize("keyword", ["START", "yes", "Unstop"])
def test_start_opts_back_in_and_sends_work_again(
    keyword: str, sandbox_client: SandboxClient, relay: FakeRelay, relay_sends: Relay
) -> None:
    sandbox_client.send_inbound("dewi", "sms-main", "STOP")
    assert relay_sends.sms(DEWI, "Hello").status_code == 400

    sandbox_client.send_inbound("dewi", "sms-main", keyword)

    assert relay.wait_for(2)[1].form()["Body"] == keyword  # forwarded too
    assert not sandbox_client.opted_out("dewi", "sms-main")
    assert sandbox_client.carrier_replies("dewi")[-1]["text"].startswith(
        "You have successfully been resubscribed to messages from this number."
    )
    response = relay_sends.sms(DEWI, "Hello again")
    assert response.status_code == 201
    assert [send["text"] for send in sandbox_client.outbox("dewi")] == ["Hello again"]


def test_help_gets_twilios_help_reply_unless_the_person_opted_out(
    sandbox_client: SandboxClient, relay: FakeRelay
) -> None:
    sandbox_client.send_inbound("dewi", "sms-main", "HELP")
    sandbox_client.send_inbound("dewi", "sms-main", "info")

    assert [webhook.form()["Body"] for webhook in relay.wait_for(2)] == ["HELP", "info"]
    replies = [reply["text"] for reply in sandbox_client.carrier_replies("dewi")]
    assert replies == ["Reply STOP to unsubscribe. Msg&Data Rates May Apply."] * 2
    assert not sandbox_client.opted_out("dewi", "sms-main")

    sandbox_client.send_inbound("dewi", "sms-main", "STOP")
    sandbox_client.send_inbound("dewi", "sms-main", "HELP")

    assert [reply["text"] for reply in sandbox_client.carrier_replies("dewi")][2:] == [UNSUBSCRIBED]


def test_a_stop_to_one_relay_number_leaves_the_other_number_sending(
    two_numbers: RunningSandbox,
) -> None:
    client = SandboxClient(two_numbers.url)

    client.send_inbound("dewi", "sms-main", "STOP")

    assert client.opted_out("dewi", "sms-main")
    assert not client.opted_out("dewi", "sms-second")
    assert send_from(two_numbers.url, SMS_NUMBER, DEWI, "Hi").status_code == 400
    assert send_from(two_numbers.url, SECOND_NUMBER, DEWI, "Hi").status_code == 201
    assert client.opt_outs() == [{"identity": "sms-main", "address": DEWI, "person": "dewi"}]


def test_with_advanced_opt_out_the_webhook_says_opt_out_type_and_covers_the_service(
    two_numbers: RunningSandbox, relay: FakeRelay
) -> None:
    client = SandboxClient(two_numbers.url)
    client.configure(twilio_advanced_opt_out=True)

    client.send_inbound("dewi", "sms-main", "Stop")
    client.send_inbound("dewi", "sms-main", "hello")
    client.send_inbound("dewi", "sms-second", "HELP")

    forms = [webhook.form() for webhook in relay.wait_for(3)]
    assert [form.get("OptOutType") for form in forms] == ["STOP", None, "HELP"]
    assert forms[0]["MessagingServiceSid"].startswith("MG")
    assert client.opted_out("dewi", "sms-main") and client.opted_out("dewi", "sms-second")
    assert send_from(two_numbers.url, SECOND_NUMBER, DEWI, "Hi").status_code == 400


def test_reset_clears_the_opt_out_list(sandbox_client: SandboxClient, relay_sends: Relay) -> None:
    sandbox_client.configure(twilio_advanced_opt_out=True)
    sandbox_client.send_inbound("dewi", "sms-main", "STOP")

    sandbox_client.reset()

    assert not sandbox_client.opted_out("dewi", "sms-main")
    assert sandbox_client.opt_outs() == []
    assert sandbox_client.state()["settings"]["twilio_advanced_opt_out"] is False
    assert sandbox_client.carrier_replies("dewi") == []
    assert relay_sends.sms(DEWI, "Hello").status_code == 201


def test_opt_out_state_names_a_person_and_an_identity(sandbox: RunningSandbox) -> None:
    response = requests.get(sandbox.url + "/control/opt-outs?person=nobody", timeout=5)

    assert response.status_code == 404
    assert "known person" in response.json()["error"]
