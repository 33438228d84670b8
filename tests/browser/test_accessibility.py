"""axe-core on every main page, in English and Indonesian: no critical or serious violation.

Each page is opened as the person who would see it (a visitor, the buyer in the web chat, the
seller, the moderator) with the data that makes it show its real content: a listing, a
conversation with messages, a report, a pending phone verification. A failure prints each
violation's rule id, impact, the nodes it found (CSS targets) and axe's help text and link.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from contacts.models import User
from marketplace import services as marketplace
from relay import services as relay
from relay.models import Conversation
from relay.pipeline import roads
from relay.services import moderation
from tests.browser.axe import describe, run_axe, serious

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-passphrase"
FIXTURE = Path(__file__).resolve().parents[2] / "sandbox" / "demo.json"


def sign_in(browser: Any, live_server: Any, user: User | None, language: str) -> None:
    """Give the browser `user`'s session (or none) and the page language, by cookies."""
    browser.get(live_server.url + "/healthz")
    browser.delete_all_cookies()
    browser.add_cookie({"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "path": "/"})
    if user is not None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": session, "path": "/"})


def check(browser: Any, live_server: Any, path: str, found: list[str]) -> None:
    """Open `path`, run axe, and add a line per critical or serious node to `found`."""
    browser.get(live_server.url + path)
    check_here(browser, found, path)


def check_here(browser: Any, found: list[str], path: str) -> None:
    """Run axe on the page the browser shows, which must be `path` (not a redirect away)."""
    WebDriverWait(browser, 15).until(
        lambda driver: driver.execute_script("return document.readyState") == "complete"
    )
    shown = urlsplit(browser.current_url).path
    assert shown == urlsplit(path).path, f"{path} sent us to {browser.current_url}"
    failing = serious(run_axe(browser))
    if failing:
        found.append(describe(path, failing))


def world() -> dict[str, Any]:
    """The relay's accounts on each platform (so the listing page shows a button for each), a
    seller with a listing and a pending WhatsApp verification, and a moderator."""
    for identity in json.loads(FIXTURE.read_text())["identities"]:
        relay.add_relay_identity(
            channel=identity["channel"],
            provider_id=identity["provider_id"],
            address=identity["address"],
            label=identity["label"],
        )
    seller = contacts.register_user(
        username="sari", email="sari@example.com", password=PASSWORD, display_name="Sari"
    )
    listing = marketplace.create_listing(
        seller=seller,
        title="Sepeda lipat Brompton",
        price=Decimal("2750000"),
        city="Bandung",
        description="Jarang dipakai.",
    )
    pending, _code = contacts.start_phone_verification(
        user=seller, channel="whatsapp", raw_number="0812-3456-7890"
    )
    moderator = User.objects.create_user(username="moderator", password=PASSWORD)
    moderator.groups.add(Group.objects.get_or_create(name="moderator")[0])
    return {"seller": seller, "listing": listing, "pending": pending, "moderator": moderator}


def buyer_writes(browser: Any) -> str:
    """The buyer opens the web chat and writes; return the chat page's path."""
    browser.find_element(By.NAME, "text").send_keys("Masih ada? Boleh nego?")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: "/chat/start/" not in driver.current_url)
    return str(browser.execute_script("return location.pathname"))


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_main_page_has_no_critical_or_serious_axe_violation(
    browser: Any, live_server: Any, language: str
) -> None:
    things = world()
    seller, listing = things["seller"], things["listing"]
    found: list[str] = []

    # A visitor, then the buyer in the web chat.
    sign_in(browser, live_server, None, language)
    for path in (
        reverse("marketplace:home"),
        reverse("contacts:login"),
        reverse("contacts:signup"),
        reverse("contacts:password_reset"),
        reverse("marketplace:listing_public", args=[listing.code]),
        reverse("relay:privacy"),
        reverse("relay:privacy_code") + "?r=K7Q2MX9DAB12",  # the link a code message holds
        "/no-such-page/",
    ):
        check(browser, live_server, path, found)
    check(browser, live_server, reverse("relay:buyer_chat_start", args=[listing.code]), found)
    chat = buyer_writes(browser)
    conversation = Conversation.objects.get()
    roads.seller_reply(seller=seller, conversation=conversation, text="Masih, silakan.")
    check(browser, live_server, chat, found)
    check(browser, live_server, reverse("relay:privacy"), found)  # now with "my web chats"
    browser.find_element(By.CSS_SELECTOR, "form[action$='/privacy/web/'] button").click()
    WebDriverWait(browser, 15).until(lambda driver: "/privacy/mine/" in driver.current_url)
    check_here(browser, found, reverse("relay:privacy_mine"))
    check(browser, live_server, reverse("relay:privacy_erase"), found)

    # The seller.
    sign_in(browser, live_server, seller, language)
    for path in (
        reverse("marketplace:dashboard"),
        reverse("marketplace:listing_new"),
        reverse("marketplace:listing_edit", args=[listing.code]),
        reverse("contacts:channels"),
        reverse("contacts:add_phone"),
        reverse("contacts:verify", args=[things["pending"].code]),
        reverse("relay:inbox"),
        reverse("relay:conversation", args=[conversation.code]),
        reverse("api:tokens"),
    ):
        check(browser, live_server, path, found)
    check_csrf_failure(browser, live_server, found)

    # The moderator, with a report to triage.
    report = moderation.file_report(
        conversation=conversation, reporter_side="seller", reason="spam"
    )
    sign_in(browser, live_server, things["moderator"], language)
    for path in (
        reverse("relay:moderation_queue"),
        reverse("relay:moderation_report", args=[report.code]),
        reverse("relay:moderation_audit"),
    ):
        check(browser, live_server, path, found)

    assert not found, "axe found critical or serious violations:\n" + "\n".join(found)


def check_csrf_failure(browser: Any, live_server: Any, found: list[str]) -> None:
    """The page a person meets after a form went stale (the CSRF check refused it)."""
    browser.get(live_server.url + reverse("contacts:channels"))
    browser.execute_script(
        "var form = document.createElement('form');"
        "form.method = 'post'; form.action = arguments[0];"
        "var token = document.createElement('input');"
        "token.name = 'csrfmiddlewaretoken'; token.value = 'stale'; form.append(token);"
        "document.body.append(form); form.submit();",
        reverse("contacts:link_code"),
    )
    WebDriverWait(browser, 15).until(lambda driver: "/channels/link/" in driver.current_url)
    check_here(browser, found, reverse("contacts:link_code"))


@pytest.mark.parametrize("language", ["en", "id"])
def test_api_docs_have_no_critical_or_serious_axe_violation_closed_or_open(
    browser: Any, live_server: Any, language: str
) -> None:
    """/api/docs is Swagger UI (drf-spectacular-sidecar's copy), styled and configured by us in
    templates/drf_spectacular/swagger_ui.html and SPECTACULAR_SETTINGS: checked with nothing
    excluded, first as it opens, then with an operation and its request body opened."""
    sign_in(browser, live_server, None, language)
    found: list[str] = []
    browser.get(live_server.url + reverse("api:docs"))
    WebDriverWait(browser, 20).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")
    )
    failing = serious(run_axe(browser))
    if failing:
        found.append(describe("/api/docs", failing))
    browser.find_element(By.CSS_SELECTOR, ".opblock-post .opblock-summary-control").click()
    WebDriverWait(browser, 15).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".opblock-post .opblock-body")
    )
    failing = serious(run_axe(browser))
    if failing:
        found.append(describe("/api/docs with a POST operation open", failing))
    assert not found, "axe found critical or serious violations:\n" + "\n".join(found)


def photo_page_path(seller: User, listing: Any) -> str:
    """The page an SMS buyer's text links to (a seller's photo), as a path on this site."""
    from relay.models import Delivery
    from relay.services import media, media_links
    from relay.services.conversations import create_conversation
    from tests.photo_samples import jpeg_with_gps

    relay.add_relay_identity(channel="sms", provider_id="+15550002222", address="+15550002222")
    buyer, _ = contacts.get_or_create_endpoint(channel="sms", address="+6281299990000")
    texted, _ = create_conversation(listing=listing, buyer=buyer, buyer_identity=None)
    photo = media.store(conversation=texted, data=jpeg_with_gps(1200, 900), sender_side="seller")
    sent = roads.seller_reply(seller=seller, conversation=texted, text="fotonya", media=[photo])
    assert sent.message_id is not None
    delivery = Delivery.objects.get(message_id=sent.message_id, kind="relay")
    photo.refresh_from_db()
    return urlsplit(media_links.page_url(photo, delivery.pk)).path


def franked_report(seller: User, listing: Any) -> str:
    """A report with every kind of evidence: a verified and an altered end-to-end claim, and
    the relay's sealed copies of the buyer's text and photo. Returns the report's code."""
    from relay.models import Report, Side
    from relay.services import media
    from tests.photo_samples import jpeg_with_gps
    from tests.relay.e2ee_world import Chat, e2ee_message

    seller_client = Client()
    seller_client.force_login(seller)
    chat = Chat(listing, seller_client)  # a listing of its own: one conversation on it
    photo = media.store_upload(
        conversation=chat.conversation, sender_side=Side.BUYER, data=jpeg_with_gps(900, 1200)
    )
    roads.buyer_message(
        buyer=chat.conversation.buyer_endpoint,
        conversation=chat.conversation,
        text="Ini buktinya",
        media=[photo],
    )
    _message, claim = e2ee_message(chat.conversation, Side.BUYER, "Transfer dulu atau batal")
    chat.seller_reports([claim, {**claim, "m": "Saya tidak pernah bilang begini"}])
    return Report.objects.get().code


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_photo_page_and_a_report_with_franked_evidence_have_no_serious_axe_violation(
    browser: Any, live_server: Any, language: str
) -> None:
    things = world()
    seller, listing = things["seller"], things["listing"]
    found: list[str] = []
    sign_in(browser, live_server, None, language)
    check(browser, live_server, photo_page_path(seller, listing), found)
    assert browser.find_element(By.CSS_SELECTOR, ".photo-page-image").get_attribute("alt")

    helmet = marketplace.create_listing(seller=seller, title="Helm sepeda", price=Decimal(150000))
    code = franked_report(seller, helmet)
    sign_in(browser, live_server, things["moderator"], language)
    path = reverse("relay:moderation_report", args=[code])
    browser.get(live_server.url + path)
    browser.find_element(By.CSS_SELECTOR, f"form[action$='{code}/evidence/'] button").click()
    WebDriverWait(browser, 15).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, "[data-testid=evidence-item]")
    )
    kinds = {
        item.get_attribute("data-kind")
        for item in browser.find_elements(By.CSS_SELECTOR, "[data-testid=evidence-item]")
    }
    assert {"verified", "unverified", "relay_sealed"} <= kinds, kinds
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=evidence-photo]")
    failing = serious(run_axe(browser))
    if failing:
        found.append(describe(path + " (evidence shown)", failing))
    assert not found, "axe found critical or serious violations:\n" + "\n".join(found)
