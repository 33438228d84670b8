"""Buyers' data requests end to end: a code sent through the relay, the export, the erasure.

The code reaches the buyer's sandbox phone through the real pipeline and worker; afterwards
their address, what they wrote and the report evidence about them are opened with the real
vault, crypto and moderation functions and must not open.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from contacts import services as contacts
from contacts.models import DataRequestCode, Endpoint
from relay import crypto
from relay.models import Conversation, Message, Report, Side
from relay.services import evidence
from tests.relay.conftest import BUYER, IDENTITY, World, people, wait_until

pytestmark = pytest.mark.worker

ANA = people()[BUYER["whatsapp"]]["address"]  # +6281234567001
CITRA = people()[BUYER["messenger"]]["address"]
CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"(https?://\S+/privacy/code/\?r=[0-9A-Z]+)")


def code_sent_to(world: World, person: str, *, after: int = 0) -> tuple[str, dict[str, Any]]:
    """The data-request code the relay sent `person` (the newest one), and the send itself."""

    def sent() -> list[dict[str, Any]]:
        return [s for s in world.sandbox.outbox(person)[after:] if "/privacy/code/" in s["text"]]

    send = wait_until(sent, what=f"a data-request code for {person}")[-1]
    match = CODE.search(send["text"])
    assert match is not None, send["text"]
    return match.group(1), send


def buyer_talks_and_reports(world: World) -> Conversation:
    """Ana asks about the bike on WhatsApp, the seller answers, Ana reports the seller."""
    world.connect_seller("web")
    world.buyer_writes("whatsapp", f"{world.handle} is the bike still available?")
    conversation = wait_until(lambda: Conversation.objects.first(), what="the conversation")
    world.seller_writes("web", "Yes, pay me first by transfer")
    world.buyer_writes("whatsapp", "REPORT")
    world.buyer_writes("whatsapp", "2 asked me to pay first")
    report = wait_until(lambda: Report.objects.filter(status="open").first(), what="the report")
    # The evidence opens before the erasure: the checks after it can fail.
    opened = evidence.open_report_fields(report)
    assert opened.note == "asked me to pay first"
    assert opened.evidence
    return conversation


def assert_shredded(report: Report) -> None:
    """Nothing of the report opens with the keys this process has, and the bytes are gone."""
    assert report.wrapped_key is None
    assert report.evidence_sealed is None
    assert report.note_sealed is None
    with pytest.raises(evidence.EvidenceShredded):
        evidence.open_report_fields(report)


def readable(message: Message) -> bool:
    conversation = message.conversation
    try:
        key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
        crypto.decrypt_body(key, message.uid, message.body_sealed)
    except crypto.BodyUnreadable:
        return False
    return True


def test_a_whatsapp_buyer_gets_a_code_on_their_phone_exports_and_erases_their_data(
    world: World, worker_log: Path
) -> None:
    conversation = buyer_talks_and_reports(world)
    endpoint = conversation.buyer_endpoint
    browser = Client()
    pages = [browser.get(reverse("relay:privacy")).content.decode()]
    asked = browser.post(
        reverse("relay:privacy"),
        {"channel": "whatsapp", "region": "ID", "number": "0812-3456-7001"},
    )
    assert asked.status_code == 302 and asked["Location"] == reverse("relay:privacy_code")
    pages.append(browser.get(asked["Location"]).content.decode())
    assert "If we know this number, a code is on its way" in pages[-1]

    code, send = code_sent_to(world, BUYER["whatsapp"])
    assert send["identity"] == IDENTITY["whatsapp"]  # from the number Ana wrote to
    verified = browser.post(reverse("relay:privacy_code"), {"code": code})
    assert verified.status_code == 302 and verified["Location"] == reverse("relay:privacy_mine")
    pages.append(browser.get(verified["Location"]).content.decode())
    assert "Download my data" in pages[-1]

    export = browser.get(reverse("relay:privacy_export"))
    assert export["Content-Disposition"].startswith("attachment")
    document = json.loads(export.content)
    assert document["addresses"] == [
        {**document["addresses"][0], "channel": "whatsapp", "address": ANA}
    ]
    [exported] = document["conversations_as_buyer"]
    texts = [(message["from"], message["text"]) for message in exported["messages"]]
    assert ("you", f"{world.handle} is the bike still available?") in texts
    assert ("Seller · Mountain bike", "Yes, pay me first by transfer") in texts
    assert exported["other_side"] == "Seller · Mountain bike"

    ana_wrote = list(Message.objects.filter(conversation=conversation, sender_side=Side.BUYER))
    assert ana_wrote and all(readable(message) for message in ana_wrote)  # until erased
    confirm = browser.get(reverse("relay:privacy_erase")).content.decode()
    assert "This cannot be undone" in confirm
    pages.append(confirm)
    erased = browser.post(reverse("relay:privacy_erase"))
    assert erased.status_code == 302
    pages.append(browser.get(erased["Location"]).content.decode())
    assert "Your data is erased" in pages[-1]

    # The address: the blind index no longer finds it, the sealed blob holds no number.
    endpoint.refresh_from_db()
    assert contacts.find_endpoint(channel="whatsapp", address=ANA) is None
    assert contacts.endpoint_address(endpoint) != ANA
    # What Ana wrote no longer decrypts with the conversation's key; the seller's words do.
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    ana_wrote = list(Message.objects.filter(conversation=conversation, sender_side=Side.BUYER))
    assert not any(readable(message) for message in ana_wrote)
    seller_wrote = Message.objects.filter(conversation=conversation, sender_side=Side.SELLER)
    assert all(readable(message) for message in seller_wrote)
    # The report's evidence and note are gone: the moderation key opens nothing.
    report = Report.objects.get(status="open")
    assert_shredded(report)
    assert not DataRequestCode.objects.exists()
    # The grant died with the data.
    assert browser.get(reverse("relay:privacy_export")).status_code == 302

    # The same number writing again is a stranger: a new endpoint, a new conversation.
    world.buyer_writes("whatsapp", f"{world.handle} hello again")
    fresh = wait_until(
        lambda: Conversation.objects.exclude(pk=conversation.pk).first(), what="a new chat"
    )
    assert fresh.buyer_endpoint_id != endpoint.pk and fresh.status == "open"

    # No page showed the number, and the worker never logged it.
    for page in pages:
        assert "81234567001" not in page and "3456-7001" not in page
    assert "81234567001" not in worker_log.read_text(errors="replace")


def test_a_messenger_buyer_sends_mydata_and_gets_a_code_with_the_page_link(world: World) -> None:
    world.connect_seller("web")
    world.buyer_writes("messenger", f"{world.handle} still for sale?")
    wait_until(lambda: Conversation.objects.exists(), what="the conversation")
    relayed = Message.objects.count()
    world.buyer_writes("messenger", "mydata")

    code, send = code_sent_to(world, BUYER["messenger"])
    assert send["identity"] == IDENTITY["messenger"]
    assert Message.objects.count() == relayed  # the keyword is for the relay, never relayed
    link = LINK.search(send["text"])
    assert link is not None, send["text"]
    browser = Client()
    opened = browser.get("/privacy/" + link.group(1).split("/privacy/", 1)[1])
    assert opened.status_code == 302 and opened["Location"] == reverse("relay:privacy_code")
    assert browser.post(reverse("relay:privacy_code"), {"code": code}).status_code == 302
    document = json.loads(browser.get(reverse("relay:privacy_export")).content)
    assert [a["address"] for a in document["addresses"]] == [CITRA]
    [exported] = document["conversations_as_buyer"]
    assert exported["messages"][0]["text"] == f"{world.handle} still for sale?"


def test_the_indonesian_keyword_dataku_answers_in_indonesian(world: World) -> None:
    world.buyer_writes("whatsapp", "DATAKU")
    _code, send = code_sent_to(world, BUYER["whatsapp"])
    assert send["text"].startswith("Kode data Perantara Anda")


def test_the_operator_exports_and_deletes_a_buyer_only_with_the_code_they_received(
    world: World,
) -> None:
    conversation = buyer_talks_and_reports(world)
    out = io.StringIO()
    call_command("export_user", channel="whatsapp", address=ANA, stdout=out, stderr=io.StringIO())
    assert "A code is on its way to the buyer on whatsapp" in out.getvalue()
    assert ANA not in out.getvalue()
    code, _send = code_sent_to(world, BUYER["whatsapp"])

    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(CommandError, match="not right"):
        call_command("export_user", channel="whatsapp", address=ANA, code=wrong)
    exported = io.StringIO()
    call_command(
        "export_user", channel="whatsapp", address=ANA, code=code, stdout=exported, stderr=out
    )
    document = json.loads(exported.getvalue())
    first = document["conversations_as_buyer"][0]["messages"][0]
    assert first["text"] == f"{world.handle} is the bike still available?"
    with pytest.raises(CommandError, match="No code is waiting"):  # used up
        call_command("export_user", channel="whatsapp", address=ANA, code=code)

    sent_before = len(world.sandbox.outbox(BUYER["whatsapp"]))
    call_command("delete_user", channel="whatsapp", address=ANA, stdout=io.StringIO())
    code, _send = code_sent_to(world, BUYER["whatsapp"], after=sent_before)
    with pytest.raises(CommandError, match="--yes"):
        call_command("delete_user", channel="whatsapp", address=ANA, code=code)
    done = io.StringIO()
    call_command(
        "delete_user",
        channel="whatsapp",
        address=ANA,
        code=code,
        yes=True,
        stdout=done,
        stderr=io.StringIO(),
    )
    assert "Erased the buyer" in done.getvalue() and ANA not in done.getvalue()
    assert contacts.find_endpoint(channel="whatsapp", address=ANA) is None
    ana_wrote = Message.objects.filter(conversation=conversation, sender_side=Side.BUYER)
    assert not any(readable(message) for message in ana_wrote)
    assert_shredded(Report.objects.get(status="open"))
    with pytest.raises(CommandError, match="No buyer has written"):
        call_command("delete_user", channel="whatsapp", address=ANA, code=code, yes=True)


def test_the_commands_name_an_invalid_number_and_an_unknown_address(world: World) -> None:
    with pytest.raises(CommandError, match="phone number"):
        call_command("export_user", channel="whatsapp", address="not a number")
    with pytest.raises(CommandError, match="No buyer has written"):
        call_command("export_user", channel="sms", address="+6281299998888")
    with pytest.raises(CommandError, match="--username"):
        call_command("delete_user", channel="sms")
    assert not Endpoint.objects.filter(channel="sms").exists()  # looking up creates nothing
