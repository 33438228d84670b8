"""Reports from every channel, the moderator queue, audited actions, and who may see what."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from contacts.models import User
from relay.models import AuditEntry, Report
from relay.models.moderation import AppendOnly
from relay.services import evidence
from tests.relay.conftest import BUYER, SELLER, World, people

pytestmark = pytest.mark.worker
SELLER_SAYS = ["Transfer the deposit first to my account", "No COD, only transfer"]


def moderator_client(*, unmask: bool = False) -> tuple[User, Client]:
    moderator = User.objects.create_user(
        username="mod" + ("-legal" if unmask else ""),
        email=f"mod{unmask}@example.com",
        password="mod-password-123",
    )
    group, _ = Group.objects.get_or_create(name="moderator")
    moderator.groups.add(group)
    if unmask:
        moderator.user_permissions.add(Permission.objects.get(codename="unmask_address"))
    client = Client()
    client.force_login(moderator)
    return moderator, client


def converse(world: World, buyer_channel: str) -> Any:
    """Buyer writes, the seller (Instagram) answers twice; returns the web chat if any.
    A buyer on an app hears first that the question reached the seller."""
    world.connect_seller("instagram")
    first = world.buyer_writes(buyer_channel, f"{world.handle} is the bike available?")
    received = world.sandbox.wait_for_outbox(SELLER["instagram"], 1)
    for text in SELLER_SAYS:
        world.seller_writes("instagram", text, reply_to=received[-1]["provider_message_id"])
    if buyer_channel != "web":
        world.sandbox.wait_for_outbox(BUYER[buyer_channel], 3)
    return first


@pytest.mark.parametrize("channel", ["whatsapp", "instagram", "messenger", "sms", "web"])
def test_a_buyer_reports_the_seller_from_any_channel_with_the_evidence_sealed(
    world: World, channel: str
) -> None:
    chat = converse(world, channel)
    if channel == "web":
        client, url = chat
        client.post(url + "report/", {"reason": "scam", "note": "asked for a transfer"})
    else:
        world.buyer_writes(channel, "LAPOR" if channel == "whatsapp" else "REPORT")
        menu = world.sandbox.wait_for_outbox(BUYER[channel], 4)[-1]["text"]
        assert "1 spam" in menu
        world.buyer_writes(channel, "2 asked for a transfer")
        thanks = world.sandbox.wait_for_outbox(BUYER[channel], 5)[-1]["text"]
        assert "Mountain bike" in thanks and ("Thank you" in thanks or "Terima kasih" in thanks)
    report = Report.objects.get()
    assert (report.status, report.reason, report.reported_side) == ("open", "scam", "seller")
    sealed = bytes(report.evidence_sealed or b"")
    assert all(text.encode() not in sealed for text in SELLER_SAYS)
    opened = evidence.open_report_fields(report)
    assert [item["text"] for item in opened.evidence] == SELLER_SAYS
    assert opened.note == "asked for a transfer"
    # The reported seller is not told who reported, or that anyone did.
    assert not any("report" in r["text"].lower() for r in world.sandbox.outbox(SELLER["instagram"]))


def test_a_moderator_reads_only_the_reported_messages_suspends_and_the_seller_is_refused(
    world: World,
) -> None:
    converse(world, "sms")
    world.buyer_writes("sms", "REPORT")
    world.sandbox.wait_for_outbox(BUYER["sms"], 4)
    world.buyer_writes("sms", "2")
    world.sandbox.wait_for_outbox(BUYER["sms"], 5)
    report = Report.objects.get(status="open")
    moderator, client = moderator_client()

    queue = client.get(reverse("relay:moderation_queue")).content.decode()
    assert report.code in queue and "Scam or fraud" in queue
    page = client.get(reverse("relay:moderation_report", args=[report.code])).content.decode()
    assert SELLER_SAYS[0] not in page  # closed until opened
    assert "is the bike available?" not in page
    opened = client.post(reverse("relay:moderation_evidence", args=[report.code])).content.decode()
    assert SELLER_SAYS[0] in opened and SELLER_SAYS[1] in opened
    assert "is the bike available?" not in opened  # only the reported side's messages
    audit = AuditEntry.objects.get(action="relay.report.evidence_opened")
    assert (audit.actor, audit.target_code) == (moderator, report.code)

    missing_reason = client.post(
        reverse("relay:moderation_act", args=[report.code]),
        {"action": "suspend", "days": "3"},
        follow=True,
    )
    assert "Every action needs a reason" in missing_reason.content.decode()
    client.post(
        reverse("relay:moderation_act", args=[report.code]),
        {"action": "suspend", "days": "3", "reason": "asked buyers to pay outside the platform"},
    )
    notice = world.sandbox.wait_for_outbox(SELLER["instagram"], 2)[-1]["text"]
    assert "suspended until" in notice or "ditangguhkan hingga" in notice
    world.seller_writes("instagram", "hello again?")
    refused = world.sandbox.wait_for_outbox(SELLER["instagram"], 3)[-1]["text"]
    assert "suspended until" in refused or "ditangguhkan hingga" in refused
    assert len(world.sandbox.outbox(BUYER["sms"])) == 5  # nothing more reached the buyer
    log = client.get(reverse("relay:moderation_audit")).content.decode()
    assert "relay.report.suspend" in log and "asked buyers to pay outside the platform" in log
    csv_export = client.get(reverse("relay:moderation_audit_csv")).content.decode()
    assert "relay.report.suspend" in csv_export and "relay.report.evidence_opened" in csv_export

    client.post(
        reverse("relay:moderation_act", args=[report.code]),
        {"action": "lift", "reason": "appeal accepted"},
    )
    assert AuditEntry.objects.filter(action="relay.participant.suspension_lifted").exists()


def test_no_moderation_page_or_api_response_shows_a_number_or_platform_id(world: World) -> None:
    converse(world, "whatsapp")
    world.buyer_writes("whatsapp", "REPORT")
    world.sandbox.wait_for_outbox(BUYER["whatsapp"], 4)
    world.buyer_writes("whatsapp", "3 rude")
    world.sandbox.wait_for_outbox(BUYER["whatsapp"], 5)
    report = Report.objects.get(status="open")
    _moderator, client = moderator_client()
    pages = [
        client.get(reverse("relay:moderation_queue")).content.decode(),
        client.get(reverse("relay:moderation_report", args=[report.code])).content.decode(),
        client.post(reverse("relay:moderation_evidence", args=[report.code])).content.decode(),
        client.get(reverse("relay:moderation_audit")).content.decode(),
        client.get(reverse("relay:api_moderation_reports")).content.decode(),
        client.get(reverse("relay:api_moderation_report", args=[report.code])).content.decode(),
    ]
    addresses = [people()[BUYER["whatsapp"]]["address"], people()[SELLER["instagram"]]["address"]]
    for page in pages:
        for address in addresses:
            digits = address.lstrip("+")
            assert digits not in page and digits[-9:] not in page
        assert not re.search(r"\+\d{8,}", page)


def test_non_moderators_get_403_on_every_moderation_url_and_api(world: World) -> None:
    converse(world, "sms")
    report = Report.objects.create(
        reporter_side="buyer", reported_side="seller", listing=world.listing, reason="spam"
    )
    urls_get = [
        reverse("relay:moderation_queue"),
        reverse("relay:moderation_report", args=[report.code]),
        reverse("relay:moderation_audit"),
        reverse("relay:moderation_audit_csv"),
        reverse("relay:api_moderation_reports"),
        reverse("relay:api_moderation_report", args=[report.code]),
    ]
    urls_post = [
        reverse("relay:moderation_evidence", args=[report.code]),
        reverse("relay:moderation_act", args=[report.code]),
        reverse("relay:moderation_unmask", args=[report.code]),
        reverse("relay:api_moderation_report", args=[report.code]),
    ]
    for client in (Client(), world.seller_web):
        for url in urls_get:
            assert client.get(url).status_code == 403, url
        for url in urls_post:
            response = client.post(url, {"action": "dismiss", "reason": "x"})
            assert response.status_code == 403, url
    report.refresh_from_db()
    assert report.status == "open"


def test_unmasking_needs_its_own_permission_and_a_reason_and_is_audited(world: World) -> None:
    converse(world, "sms")
    from relay.models import Conversation
    from relay.services import moderation

    conversation = Conversation.objects.get()
    report = moderation.file_report(
        conversation=conversation, reporter_side="seller", reason="harassment"
    )
    _plain, plain_client = moderator_client()
    page = plain_client.get(reverse("relay:moderation_report", args=[report.code])).content.decode()
    assert "Reveal the real address" not in page
    denied = plain_client.post(
        reverse("relay:moderation_unmask", args=[report.code]),
        {"reason": "court order 2026/123"},
        follow=True,
    ).content.decode()
    assert "do not have permission" in denied
    _legal, legal_client = moderator_client(unmask=True)
    short = legal_client.post(
        reverse("relay:moderation_unmask", args=[report.code]), {"reason": "x"}, follow=True
    ).content.decode()
    assert "Give the reason" in short
    revealed = legal_client.post(
        reverse("relay:moderation_unmask", args=[report.code]),
        {"reason": "court order 2026/123 from Jakarta police"},
    ).content.decode()
    assert people()[BUYER["sms"]]["address"] in revealed
    entry = AuditEntry.objects.get(action="relay.participant.address_revealed")
    assert entry.reason == "court order 2026/123 from Jakarta police"


def test_the_audit_log_cannot_be_edited_or_deleted_through_the_app(db: None) -> None:
    entry = AuditEntry.objects.create(action="relay.test", target_type="report", target_code="X")
    entry.reason = "rewritten"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")


def test_a_visitor_reports_a_listing_from_its_page(world: World, client: Client) -> None:
    response = client.post(
        reverse("relay:listing_report", args=[world.listing.code]),
        {"reason": "prohibited", "note": "looks stolen"},
        follow=True,
    )
    assert "moderators will look at this listing" in response.content.decode()
    report = Report.objects.get()
    assert (report.conversation, report.listing, report.reason) == (
        None,
        world.listing,
        "prohibited",
    )
