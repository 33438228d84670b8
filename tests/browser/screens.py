"""Screenshots of the pages issues #15 and #16 changed, as a person sees them: not a test of
the suite (pytest collects test_*.py only); run it on purpose:

    /work/main/.venv/bin/python -m pytest tests/browser/screens.py -p no:cacheprovider

It writes full-page PNGs to /tmp/shots-final/ (SHOTS_DIR to change), desktop (1280 by 900) and
phone (390 by 844), English and Indonesian: the buyer's end-to-end web chat with messages, a photo
and the safety-code panel open; the seller's inbox conversation (product card with the listing
photo, a photo bubble); both after the seller moved to WhatsApp; the moderation report with
verified, unverified, relay-sealed and photo evidence; the listing edit and public pages; the
photo page an SMS buyer opens. It also prints axe's serious and critical findings per page.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from contacts.models import Endpoint, User
from marketplace import photos
from marketplace import services as marketplace
from relay import services as relay
from relay.models import Conversation, Delivery, Report, Side
from relay.pipeline import roads
from relay.services import media, media_links, snapshot
from relay.services.conversations import create_conversation
from tests.browser.axe import describe, run_axe, serious
from tests.browser.conftest import CHROMEDRIVER, CHROMIUM
from tests.photo_samples import jpeg_with_gps
from tests.relay.e2ee_world import e2ee_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots-final"))
PASSWORD = "pw-sari-12345"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
FINDINGS: list[str] = []
# Elements reaching past the right edge of the viewport (a phone's sideways scroll).
OVERFLOW = """
var width = document.documentElement.clientWidth, found = [];
document.querySelectorAll("body *").forEach(function (el) {
  var box = el.getBoundingClientRect();
  if (box.width && box.right > width + 1) found.push(el.tagName.toLowerCase() +
    (typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "") +
    " right=" + Math.round(box.right));
});
return found.slice(0, 5);
"""


@pytest.fixture
def profiles() -> Iterator[Callable[[], Any]]:
    """Separate Chromium profiles (own cookies and IndexedDB): the buyer, the seller, a mod."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened: list[tuple[Any, str]] = []

    def new() -> Any:
        folder = tempfile.mkdtemp(prefix="perantara-shots-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                     f"--user-data-dir={folder}", "--window-size=1280,900"):  # fmt: skip
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.implicitly_wait(2)
        opened.append((driver, folder))
        return driver

    yield new
    for driver, folder in opened:
        driver.quit()
        shutil.rmtree(folder, ignore_errors=True)


def wait(browser: Any, check: Callable[[Any], Any], what: str, timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout).until(check, message=what)


def loaded(browser: Any) -> None:
    # A full-page capture paints below the fold too: lazy images must load first.
    browser.execute_script(
        "document.querySelectorAll('img').forEach(function (i) { i.loading = 'eager'; })"
    )
    script = (
        "return document.readyState === 'complete' && Array.from(document.images)"
        ".every(function (i) { return i.complete && i.naturalWidth > 0; })"
    )
    wait(browser, lambda b: b.execute_script(script), "the page and its images")


def language(browser: Any, live_server: Any, code: str) -> None:
    browser.get(live_server.url + "/healthz")
    browser.add_cookie({"name": settings.LANGUAGE_COOKIE_NAME, "value": code, "path": "/"})


def shoot(browser: Any, name: str, before: Callable[[Any], None] | None = None) -> None:
    """Full-page PNGs of the current page at both sizes (phone emulated as a phone)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in SIZES.items():
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1,
             "mobile": label == "phone"},
        )  # fmt: skip
        browser.refresh()
        loaded(browser)
        if before is not None:
            before(browser)
        browser.execute_script("window.scrollTo(0, 0)")
        shot = browser.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        (SHOTS / f"{name}-{label}.png").write_bytes(base64.b64decode(shot["data"]))
        wide = browser.execute_script(OVERFLOW)
        if wide:
            FINDINGS.append(f"{name}-{label}: past the right edge: {wide}")
        failing = serious(run_axe(browser))
        if failing:
            FINDINGS.append(describe(f"{name}-{label}", failing))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def ready(browser: Any) -> None:
    wait(browser, lambda b: b.find_element(By.ID, "e2ee").get_attribute("data-ready") == "1",
         "the page's device key registered")  # fmt: skip


def send(browser: Any, text: str) -> None:
    box = browser.find_element(By.CSS_SELECTOR, "form.composer textarea[name=text]")
    box.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "form.composer button[type=submit]").click()
    wait(browser, lambda b: b.execute_script(
        "var t = document.querySelector('form.composer textarea[name=text]');"
        "return !t || t.value === '';"), "the message went")  # fmt: skip


def opened_count(browser: Any) -> int:
    script = "return document.querySelectorAll('.bubble[data-e2ee-status=\"open\"]').length"
    return int(browser.execute_script(script))


def open_safety(browser: Any) -> None:
    wait(browser, lambda b: b.find_element(By.ID, "e2ee").get_attribute("data-ready") == "1",
         "ready")  # fmt: skip
    wait(browser, lambda b: opened_count(b) >= 2, "the messages opened")
    browser.execute_script("var d = document.querySelector('#e2ee-safety'); if (d) d.open = true;")


def start_chat(browser: Any, url: str) -> None:
    """The buyer's first message; once more if the first post did not go (seen once in a run
    on a loaded machine: a CSRF refusal of a freshly loaded form)."""
    for attempt in (1, 2):
        browser.get(url)
        browser.find_element(By.NAME, "text").send_keys("Halo, masih ada?")
        browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
        try:
            wait(browser, lambda b: "/start/" not in b.current_url, "chat", timeout=10)
            return
        except Exception:
            if attempt == 2:
                raise


def log_in(browser: Any, live_server: Any, user: User) -> None:
    client = Client()
    client.force_login(user)
    browser.get(live_server.url + "/healthz")
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": session, "path": "/"})


def test_screens(profiles: Callable[[], Any], live_server: Any) -> None:
    seller = contacts.register_user(
        username="sari", email="sari@example.com", password=PASSWORD, display_name="Sari"
    )
    listing = marketplace.create_listing(
        seller=seller, title="Sepeda lipat Brompton M6L", price=Decimal("12500000"),
        city="Bandung", description="Jarang dipakai, lengkap dengan tas dan kunci.",
    )  # fmt: skip
    for colour, size in (((180, 60, 40), (1200, 900)), ((40, 110, 170), (900, 1200)),
                         ((60, 150, 80), (1000, 1000))):  # fmt: skip
        photos.add_photo(listing=listing, data=jpeg_with_gps(*size, colour=colour, noise=True))
    buyer, seller_browser, moderator_browser = profiles(), profiles(), profiles()

    # The buyer starts the chat, the seller opens it: end to end.
    language(buyer, live_server, "en")
    start_chat(buyer, live_server.url + reverse("relay:buyer_chat_start", args=[listing.code]))
    ready(buyer)
    chat = buyer.current_url
    conversation = Conversation.objects.get()
    log_in(seller_browser, live_server, seller)
    language(seller_browser, live_server, "en")
    inbox = live_server.url + reverse("relay:conversation", args=[conversation.code])
    seller_browser.get(inbox)
    ready(seller_browser)
    wait(buyer, lambda b: b.find_element(By.ID, "e2ee").get_attribute("data-mode") == "e2ee",
         "the buyer's page sees the seller's device")  # fmt: skip
    send(buyer, "Bisa COD di Bandung besok jam 10? Ada goresan di rangka?")
    wait(seller_browser, lambda b: opened_count(b) >= 1, "the seller opens it")
    send(seller_browser, "Bisa, kak. Goresannya kecil, saya kirim fotonya.")
    wait(buyer, lambda b: opened_count(b) >= 2, "the buyer opens the answer")
    stored = media.store_upload(conversation=conversation, sender_side=Side.SELLER,
                                data=jpeg_with_gps(1200, 900, noise=True))  # fmt: skip
    roads.seller_reply(
        seller=seller, conversation=conversation, text="Ini goresannya", media=[stored]
    )
    send(buyer, "Oke, terima kasih!")

    for code in ("en", "id"):
        language(buyer, live_server, code)
        buyer.get(chat)
        shoot(buyer, f"chat-e2ee-{code}", open_safety)
        language(seller_browser, live_server, code)
        seller_browser.get(inbox)
        shoot(seller_browser, f"inbox-e2ee-{code}", open_safety)

    # The seller moves to WhatsApp: relay-mediated from here on, and both pages say so.
    relay.add_relay_identity(channel="whatsapp", provider_id="wa-main", address="+14155550100")
    endpoint, _ = contacts.get_or_create_endpoint(channel="whatsapp", address="+6281234567890")
    contacts.claim_endpoint(user=seller, endpoint=endpoint)
    contacts.set_preferred_endpoint(user=seller, endpoint=endpoint)
    snapshot.invalidate()
    roads.buyer_message(
        buyer=conversation.buyer_endpoint, conversation=conversation, text="Jadi besok ya?"
    )
    for code in ("en", "id"):
        language(seller_browser, live_server, code)
        seller_browser.get(inbox)
        shoot(seller_browser, f"inbox-switched-{code}")
        language(buyer, live_server, code)
        buyer.get(chat)
        shoot(buyer, f"chat-switched-{code}")

    # A report with each kind of evidence: a verified and a forged claim, the relay's own
    # sealed copies (the buyer's plain messages and photo).
    shown = media.store_upload(conversation=conversation, sender_side=Side.BUYER,
                               data=jpeg_with_gps(900, 1200, colour=(40, 110, 170)))  # fmt: skip
    sent = roads.buyer_message(buyer=conversation.buyer_endpoint, conversation=conversation,
                               text="Ini bukti transfernya", media=[shown])  # fmt: skip
    _message, claim = e2ee_message(conversation, Side.BUYER, "Transfer dulu atau batal!")
    forged = {**claim, "m": "Saya tidak pernah bilang begini"}
    seller_client = Client()
    seller_client.force_login(seller)
    seller_client.post(
        reverse("relay:conversation_report", args=[conversation.code]),
        {"reason": "harassment", "franked": json.dumps([claim, forged])},
    )
    report = Report.objects.get()
    moderator = User.objects.create_user(username="moderator", password=PASSWORD)
    moderator.groups.add(Group.objects.get_or_create(name="moderator")[0])
    log_in(moderator_browser, live_server, moderator)
    page = live_server.url + reverse("relay:moderation_report", args=[report.code])
    for code in ("en", "id"):
        language(moderator_browser, live_server, code)
        moderator_browser.get(page)
        moderator_browser.find_element(
            By.CSS_SELECTOR, f"form[action$='{report.code}/evidence/'] button"
        ).click()
        wait(moderator_browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".evidence-legend"),
             "the evidence shown")  # fmt: skip
        shoot_posted(moderator_browser, f"report-{code}")

    # The listing's pages.
    for code in ("en", "id"):
        language(seller_browser, live_server, code)
        seller_browser.get(
            live_server.url + reverse("marketplace:listing_edit", args=[listing.code])
        )
        shoot(seller_browser, f"listing-edit-{code}")
        language(buyer, live_server, code)
        buyer.get(live_server.url + reverse("marketplace:listing_public", args=[listing.code]))
        shoot(buyer, f"listing-public-{code}")

    # The page an SMS buyer opens from the link in their text.
    relay.add_relay_identity(channel="sms", provider_id="+15550002222", address="+15550002222")
    sms_buyer, _ = contacts.get_or_create_endpoint(channel="sms", address="+6281299990000")
    texted, _ = create_conversation(listing=listing, buyer=sms_buyer, buyer_identity=None)
    assert isinstance(sms_buyer, Endpoint)
    photo = media.store(conversation=texted, data=jpeg_with_gps(1200, 900), sender_side="seller")
    sent = roads.seller_reply(seller=seller, conversation=texted, text="fotonya", media=[photo])
    assert sent.message_id is not None
    delivery = Delivery.objects.get(message_id=sent.message_id, kind="relay")
    photo.refresh_from_db()
    link = media_links.page_url(photo, delivery.pk)
    for code in ("en", "id"):
        language(buyer, live_server, code)
        buyer.get(live_server.url + "/" + link.split("/", 3)[3])
        shoot(buyer, f"photo-page-{code}")

    print("\n".join(FINDINGS) or "axe: no serious or critical finding")
    print(sorted(path.name for path in SHOTS.glob("*.png")))


def shoot_posted(browser: Any, name: str) -> None:
    """The evidence is the answer to a POST: shoot it without reloading (which would re-post)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in SIZES.items():
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1,
             "mobile": label == "phone"},
        )  # fmt: skip
        loaded(browser)
        shot = browser.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        (SHOTS / f"{name}-{label}.png").write_bytes(base64.b64decode(shot["data"]))
        wide = browser.execute_script(OVERFLOW)
        if wide:
            FINDINGS.append(f"{name}-{label}: past the right edge: {wide}")
        failing = serious(run_axe(browser))
        if failing:
            FINDINGS.append(describe(f"{name}-{label}", failing))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
