"""The browser's guard rules are the server's: built from the Python definitions, in the
sender's regions, the reader's placeholder and the page's language, served on both web pages."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from contacts import contact_guard
from contacts import services as contacts
from contacts.models import User
from contacts.services import LINK_CODE
from marketplace import services as marketplace
from relay.models import Conversation, Side
from relay.notices import render_notice
from relay.pipeline import guards, keywords
from relay.pipeline.guard_rules import rules_for
from relay.services import moderation
from relay.services.conversations import create_conversation

pytestmark = pytest.mark.django_db

# What guards.js cannot translate into a JavaScript RegExp (contacts/contact_guard.py's subset).
OUTSIDE_THE_SUBSET = re.compile(r"\(\?P|\(\?[aiLmsux]|\\[AZ]|\\\"|\[[^\]]*\\[WDb]")
IDIOMS = ("[^\\W\\d_]", "[^\\W_]")


def web_conversation(
    seller: User, *, mask: bool = True, buyer_language: str = "en"
) -> Conversation:
    listing = marketplace.create_listing(
        seller=seller, title="Sepeda", price=Decimal(1), mask_contact_details=mask
    )
    buyer = contacts.create_web_endpoint(language=buyer_language)
    opened, _ = create_conversation(listing=listing, buyer=buyer, buyer_identity=None)
    return opened


def test_the_patterns_served_are_the_ones_the_server_compiles(seller: User) -> None:
    rules = rules_for(web_conversation(seller), Side.BUYER)
    served = rules["contact"]["patterns"]
    assert served["digit_run"]["source"] == contact_guard.DIGIT_RUN.pattern
    assert served["app_link"] == {"source": contact_guard.APP_LINK.pattern, "flags": "i"}
    assert [rule["source"] for rule in rules["contact"]["emails"]] == [
        pattern.pattern for pattern in contact_guard.EMAILS
    ]
    assert rules["link_code"]["source"] == LINK_CODE.pattern
    assert rules["keywords"]["words"] == keywords.KEYWORDS
    assert rules["invisible"]["categories"] == sorted(guards.INVISIBLE_CATEGORIES)


def test_every_served_pattern_stays_in_the_subset_the_browser_reads(seller: User) -> None:
    rules = rules_for(web_conversation(seller), Side.BUYER)
    contact = rules["contact"]
    sources = [rule["source"] for rule in [*contact["patterns"].values(), *contact["emails"]]]
    sources += [rules["link_code"]["source"], rules["keywords"]["punctuation"]["source"]]
    for source in sources:
        for idiom in IDIOMS:
            source = source.replace(idiom, "")
        assert OUTSIDE_THE_SUBSET.search(source) is None, source


def test_a_setting_changed_on_the_server_changes_the_browsers_rules(seller: User) -> None:
    conversation = web_conversation(seller)
    with override_settings(RELAY_MAX_TEXT_CHARS=150, RELAY_DEFAULT_REGION="MY"):
        rules = rules_for(conversation, Side.BUYER, language="en")
    assert rules["limit"] == 150
    assert "the limit is 150 characters" in rules["notices"]["too_long"]
    assert rules["contact"]["regions"] == ["MY", "US"]


def test_the_buyer_writes_with_the_sellers_placeholder_and_reads_notices_in_the_page_language(
    db: None,
) -> None:
    seller = contacts.register_user(
        username="dewi", email="dewi@example.com", password="pw-dewi-12345", language="id"
    )
    conversation = web_conversation(seller)
    with translation.override("en"):
        rules = rules_for(conversation, Side.BUYER)
    assert rules["contact"]["placeholder"] == "[disembunyikan]"  # what the seller will read
    expected = render_notice(
        "contact_masked", "en", {"kinds": "email,phone", "placeholder": "[disembunyikan]"}
    )
    assert rules["notices"]["contact_masked"]["email,phone"] == expected
    assert set(rules["notices"]["contact_masked"]) == {
        "app_link",
        "email",
        "phone",
        "app_link,email",
        "app_link,phone",
        "email,phone",
        "app_link,email,phone",
    }
    assert rules["notices"]["empty_message"] == render_notice("empty_message", "en", {})


def test_the_seller_writes_with_the_buyers_placeholder_and_an_indonesian_page(
    seller: User,
) -> None:
    conversation = web_conversation(seller, buyer_language="en")
    rules = rules_for(conversation, Side.SELLER, language="id")
    assert rules["contact"]["placeholder"] == "[hidden]"
    assert rules["notices"]["unavailable"].startswith("Pemeriksaan keamanan")
    assert rules["notices"]["empty_message"] == render_notice("empty_message", "id", {})


def test_a_listing_that_does_not_mask_says_so_to_the_browser(seller: User) -> None:
    assert rules_for(web_conversation(seller, mask=False), Side.BUYER)["contact"]["mask"] is False


def test_the_inbox_conversation_page_serves_the_sellers_rules_and_the_scripts(
    seller: User, seller_client: Any
) -> None:
    conversation = web_conversation(seller)
    page = seller_client.get(reverse("relay:conversation", args=[conversation.code]))
    html = page.content.decode()
    assert '<script id="perantara-guard-rules" type="application/json">' in html
    assert "static/guards.js" in html and "static/vendor/libphonenumber-max.js" in html
    opening = '<script id="perantara-guard-rules" type="application/json">'
    start = html.index(opening) + len(opening)
    served = json.loads(html[start : html.index("</script>", start)])
    assert served == rules_for(conversation, Side.SELLER, language="en")


def test_the_inbox_without_a_conversation_loads_no_guard_scripts(seller_client: Any) -> None:
    html = seller_client.get(reverse("relay:inbox")).content.decode()
    assert "perantara-guard-rules" not in html and "guards.js" not in html


def test_after_report_the_browser_knows_until_when_a_numbered_reason_answers_it(
    seller: User,
) -> None:
    conversation = web_conversation(seller)
    assert rules_for(conversation, Side.BUYER)["report_reason"]["until"] is None
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        moderation.file_report(
            conversation=conversation,
            reporter_side=Side.BUYER,
            reporter=conversation.buyer_endpoint,
        )
        rules = rules_for(conversation, Side.BUYER)
        seller_rules = rules_for(conversation, Side.SELLER)
    until = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    assert rules["report_reason"]["until"] == int(until.timestamp() * 1000)
    assert rules["report_reason"]["source"] == guards.REASON_REPLY.pattern
    assert seller_rules["report_reason"]["until"] is None  # the seller reported nothing
