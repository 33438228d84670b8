"""Franked reports: what a reporter's browser shows the relay is checked, and the moderator
reads which kind of evidence each item is (DESIGN.md, "Franking").

Genuine claims are built the way the browser and the server build them: the sender's browser
draws k_f and sends HMAC(k_f, m) (franking.commitment); the relay stores its tag over the
commitment and its own context (franking.reporting_tag over franked_reports.context_for); the
reporter's browser, having opened the message, posts m, k_f, the context and the tag.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import os
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import translation

from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay.api.tokens import create_api_token
from relay.models import AuditEntry, Message, Report, Side
from relay.services import evidence
from tests.relay.e2ee_world import Chat, b64, e2ee_message

pytestmark = pytest.mark.django_db

SELLER_SAYS = "Send the deposit to my personal account first"
SELLER_ALSO = "Nobody else will sell it this cheap, decide now"


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(seller=seller, title="Mountain bike", price=Decimal(3500000))


@pytest.fixture
def chat(listing: Listing, seller_client: Client) -> Chat:
    return Chat(listing, seller_client)


def moderator() -> Client:
    user = User.objects.create_user(username="mod", email="mod@example.com", password="pw-123456!")
    user.groups.add(Group.objects.get_or_create(name="moderator")[0])
    client = Client()
    client.force_login(user)
    return client


def opened(report: Report) -> list[dict[str, Any]]:
    return evidence.open_report_fields(report).evidence


def franked_items(report: Report) -> list[dict[str, Any]]:
    return [item for item in opened(report) if item["kind"] == "franked"]


# --- The server's check, through the web chat's report form -------------------------------------


def test_a_genuine_franked_report_verifies_with_the_sender_and_time(chat: Chat) -> None:
    message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    page = chat.buyer_reports([claim])
    assert "Thank you. Our moderators will look at it." in page
    assert "could not be verified" not in page
    report = Report.objects.get()
    [item] = franked_items(report)
    assert item["verified"] is True and item["reason"] == "ok"
    assert item["text"] == SELLER_SAYS
    assert item["author"] == "Seller · Mountain bike"
    assert item["sent_at"] == message.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert item["stored"] is True
    # The relay's own evidence is the buyer-readable first message's opposite side: the seller
    # wrote nothing the relay can read, so the only other item is none.
    assert [i["kind"] for i in opened(report)] == ["franked"]
    assert report.evidence_count == 1
    # The claim's text is sealed, not stored or audited in the clear.
    assert SELLER_SAYS.encode() not in bytes(report.evidence_sealed or b"")
    filed = AuditEntry.objects.get(action="relay.report.filed")
    assert filed.data["franked_verified"] == 1 and SELLER_SAYS not in json.dumps(filed.data)


def test_url_safe_base64_without_padding_is_accepted(chat: Chat) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    url_safe = {
        **claim,
        "kf": base64.urlsafe_b64encode(base64.b64decode(claim["kf"])).decode().rstrip("="),
        "r": base64.urlsafe_b64encode(base64.b64decode(claim["r"])).decode().rstrip("="),
    }
    chat.buyer_reports([url_safe])
    [item] = franked_items(Report.objects.get())
    assert item["verified"] is True


def _altered(claim: dict[str, Any], how: str) -> dict[str, Any]:
    changed = copy.deepcopy(claim)
    if how == "message":
        changed["m"] = claim["m"].replace("deposit", "full price")
    elif how == "franking key":
        key = bytearray(base64.b64decode(claim["kf"]))
        key[0] ^= 1
        changed["kf"] = b64(bytes(key))
    elif how == "sender in the context":
        changed["ctx"]["sender"] = "Buyer ZZZZ"
    elif how == "time in the context":
        changed["ctx"]["sent_at"] = "2020-01-01T00:00:00Z"
    elif how == "truncated tag":
        changed["r"] = b64(base64.b64decode(claim["r"])[:31])
    elif how == "bad base64":
        changed["kf"] = "not base64 at all!"
    elif how == "missing field":
        del changed["ctx"]
    elif how == "context is a list":
        changed["ctx"] = [claim["ctx"]]
    return changed


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("message", "commitment"),
        ("franking key", "commitment"),
        ("sender in the context", "altered_context"),
        ("time in the context", "altered_context"),
        ("truncated tag", "malformed"),
        ("bad base64", "malformed"),
        ("missing field", "malformed"),
        ("context is a list", "malformed"),
    ],
)
def test_an_altered_claim_is_kept_as_an_unverified_claim(chat: Chat, how: str, reason: str) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    page = chat.buyer_reports([_altered(claim, how)])
    # The report is filed all the same, and the reporter is told their evidence did not check.
    assert "Our moderators will look at it" in page
    assert "could not be verified" in page
    [item] = franked_items(Report.objects.get())
    assert (item["verified"], item["reason"]) == (False, reason)
    assert item["author"] == ""  # an unverified claim names nobody as its sender


def test_a_tag_from_another_conversation_does_not_verify_here(
    chat: Chat, listing: Listing, seller_client: Client
) -> None:
    other = Chat(
        marketplace.create_listing(seller=listing.seller, title="Helmet", price=Decimal(1)),
        seller_client,
    )
    _message, claim = e2ee_message(other.conversation, Side.SELLER, SELLER_SAYS)
    chat.buyer_reports([claim])
    [item] = franked_items(Report.objects.get())
    assert (item["verified"], item["reason"]) == (False, "conversation")


def test_a_tag_of_another_message_does_not_verify_this_one(chat: Chat) -> None:
    _first, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    second, other = e2ee_message(chat.conversation, Side.SELLER, SELLER_ALSO)
    # The second message's text and key with the first one's context and tag.
    swapped = {**claim, "m": other["m"], "kf": other["kf"]}
    # And the first message's tag claimed for the second message's id.
    renamed = {**claim, "message": str(second.uid)}
    chat.buyer_reports([swapped, renamed])
    items = franked_items(Report.objects.get())
    assert [(i["verified"], i["reason"]) for i in items] == [
        (False, "commitment"),
        (False, "context"),
    ]


def test_the_reporters_own_message_is_not_evidence_against_the_other_side(chat: Chat) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.BUYER, "I will pay on delivery")
    chat.buyer_reports([claim])
    [item] = franked_items(Report.objects.get())
    assert (item["verified"], item["reason"]) == (False, "not_reported_side")


def test_a_tag_that_differs_from_the_stored_one_is_unverified(chat: Chat) -> None:
    message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    Message.objects.filter(pk=message.pk).update(franking_commitment=os.urandom(32))
    chat.buyer_reports([claim])
    [item] = franked_items(Report.objects.get())
    assert (item["verified"], item["reason"]) == (False, "stored_mismatch")


def test_a_shredded_message_still_verifies_from_its_tags_alone(chat: Chat) -> None:
    message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    message.delete()  # gone from the relay with its commitment and tag
    chat.buyer_reports([claim])
    [item] = franked_items(Report.objects.get())
    assert (item["verified"], item["stored"]) == (True, False)


def test_an_altered_claim_of_a_message_no_longer_stored_is_unverified_all_the_same(
    chat: Chat,
) -> None:
    message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    message.delete()
    chat.buyer_reports([_altered(claim, "message")])
    [item] = franked_items(Report.objects.get())
    # Without the stored commitment the relay cannot say which half changed, only that the
    # tag does not hold.
    assert (item["verified"], item["reason"]) == (False, "tag")


@pytest.mark.parametrize(
    "field", ["{not json", json.dumps({"message": "x"}), json.dumps("a string"), "x" * 200_000]
)
def test_an_unreadable_franked_field_files_the_report_with_a_note(chat: Chat, field: str) -> None:
    e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    page = chat.buyer_reports(field)
    assert "could not be verified" in page
    items = opened(Report.objects.get())
    assert [(i["kind"], i["reason"]) for i in items] == [("note", "unreadable")]


def test_items_that_are_not_claims_are_each_an_unverified_claim(chat: Chat) -> None:
    page = chat.buyer_reports([1, "x", None, {"m": 5, "kf": [], "ctx": "?", "r": {}}])
    assert "could not be verified" in page
    items = franked_items(Report.objects.get())
    assert [(i["verified"], i["reason"]) for i in items] == [(False, "malformed")] * 4


def test_at_most_the_evidence_limit_is_kept_and_duplicates_do_not_count_twice(
    chat: Chat, settings: Any
) -> None:
    settings.RELAY_REPORT_EVIDENCE_MESSAGES = 2
    _message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    _other, other = e2ee_message(chat.conversation, Side.SELLER, SELLER_ALSO)
    chat.buyer_reports([claim, claim, other])
    items = franked_items(Report.objects.get())
    assert [(i["verified"], i["reason"]) for i in items] == [
        (True, "ok"),
        (False, "duplicate"),
        (False, "too_many"),
    ]


def test_the_seller_reports_a_buyers_franked_message_from_the_inbox(chat: Chat) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.BUYER, "You will regret this")
    page = chat.seller_reports([claim])
    assert "Thank you. Our moderators will look at it." in page
    [item] = franked_items(Report.objects.get())
    assert (item["verified"], item["author"]) == (True, chat.conversation.buyer_pseudonym)


def test_the_api_files_a_franked_report_and_says_what_verified(chat: Chat, seller: User) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.BUYER, "You will regret this")
    token = create_api_token(user=seller, name="backend")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    url = reverse("api:conversation_report", args=[chat.conversation.code])
    broken = {**claim, "r": "%%%"}
    answer = api.post(
        url, {"reason": "harassment", "franked": [claim, broken]}, content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["franked"] == {"verified": 1, "unverified": 1, "unreadable": False}


# --- What the relay seals itself, and E2EE conversations without franked messages ---------------


def test_relay_mediated_messages_are_sealed_by_the_relay_and_e2ee_ones_are_never_decrypted(
    chat: Chat,
) -> None:
    chat.buyer.post(chat.chat_url, {"text": "Can you do 3 million?"})
    e2ee_message(chat.conversation, Side.BUYER, "You will regret this")
    chat.seller_reports([])
    items = opened(Report.objects.get())
    kinds = [(i["kind"], i.get("text")) for i in items]
    assert ("relay_sealed", "Is the bike still available?") in kinds
    assert ("relay_sealed", "Can you do 3 million?") in kinds
    # The E2EE body is not shown as text (the sealed envelope would read as JSON).
    assert not any('"devices"' in str(i.get("text")) for i in items)
    assert items[-1] == {"kind": "note", "reason": "no_franked", "text": ""}


# --- The moderator's page and API ----------------------------------------------------------------


def test_the_moderator_sees_each_kind_of_evidence_labelled_with_a_legend(chat: Chat) -> None:
    chat.buyer.post(chat.chat_url, {"text": "Can you do 3 million?"})
    _message, claim = e2ee_message(chat.conversation, Side.BUYER, "You will regret this")
    forged = {**claim, "m": "I never said this"}
    chat.seller_reports([claim, forged])
    report = Report.objects.get()
    client = moderator()
    page = html.unescape(
        client.post(reverse("relay:moderation_evidence", args=[report.code])).content.decode()
    )
    buyer = chat.conversation.buyer_pseudonym
    assert f"Verified: sent by {buyer} at " in page
    assert "Unverified claim: the message or its key were changed" in page
    assert "Sealed by the relay" in page
    assert 'data-kind="verified"' in page and 'data-kind="unverified"' in page
    assert 'data-kind="relay_sealed"' in page
    assert "I never said this" in page  # the claim is shown, labelled as a claim
    assert "Treat it as the reporter's word only." in page  # the legend

    with translation.override("id"):
        indonesian = html.unescape(
            client.post(
                reverse("relay:moderation_evidence", args=[report.code]),
                HTTP_ACCEPT_LANGUAGE="id",
            ).content.decode()
        )
    assert "Terverifikasi: dikirim oleh" in indonesian
    assert "Klaim belum terverifikasi:" in indonesian
    assert "Disegel oleh relay" in indonesian


def test_a_shredded_verified_message_says_so_to_the_moderator(chat: Chat) -> None:
    message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    message.delete()
    chat.buyer_reports([claim])
    page = html.unescape(
        moderator()
        .post(reverse("relay:moderation_evidence", args=[Report.objects.get().code]))
        .content.decode()
    )
    assert "Verified: sent by Seller · Mountain bike" in page
    assert "verified from the relay's tags alone" in page


def test_an_e2ee_report_without_franked_messages_says_the_browser_sent_none(chat: Chat) -> None:
    e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    chat.buyer_reports([])
    page = html.unescape(
        moderator()
        .post(reverse("relay:moderation_evidence", args=[Report.objects.get().code]))
        .content.decode()
    )
    assert "the reporter's browser sent no verifiable messages" in page
    assert SELLER_SAYS not in page


def test_the_moderation_api_gives_each_items_kind_and_verdict(chat: Chat) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.SELLER, SELLER_SAYS)
    chat.buyer_reports([claim, {**claim, "kf": b64(os.urandom(32))}])
    report = Report.objects.get()
    client = moderator()
    answer = client.post(reverse("relay:api_moderation_evidence", args=[report.code]))
    assert answer.status_code == 200, answer.content
    items = answer.json()
    assert [(i["kind"], i["verified"]) for i in items] == [
        ("verified", True),
        ("unverified", False),
    ]
    assert items[0]["text"] == SELLER_SAYS
    assert items[0]["label"].startswith("Verified: sent by Seller · Mountain bike at ")
    assert AuditEntry.objects.filter(action="relay.report.evidence_opened").count() == 1
    # Not a moderator: refused like every moderation endpoint.
    assert (
        chat.seller.post(reverse("relay:api_moderation_evidence", args=[report.code])).status_code
        == 403
    )


def test_an_indonesian_moderator_reads_the_pseudonyms_in_indonesian(chat: Chat) -> None:
    """The evidence keeps the stable English pseudonym; the page names each side in the
    moderator's language, as everywhere else on it."""
    chat.buyer.post(chat.chat_url, {"text": "Can you do 3 million?"})
    _message, claim = e2ee_message(chat.conversation, Side.BUYER, "You will regret this")
    chat.seller_reports([claim])
    report = Report.objects.get()
    with translation.override("id"):
        page = html.unescape(
            moderator()
            .post(
                reverse("relay:moderation_evidence", args=[report.code]),
                HTTP_ACCEPT_LANGUAGE="id",
            )
            .content.decode()
        )
    tag = chat.conversation.tag
    assert f"Terverifikasi: dikirim oleh Pembeli {tag} pada " in page
    assert f'<span class="meta">Pembeli {tag} ' in page  # the relay-sealed items' author
    assert f"Buyer {tag}" not in page
