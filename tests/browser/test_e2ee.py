"""In real browsers, each with its own profile: a buyer in the web chat and a seller in the web
inbox talk end to end (static/e2ee.js); the server, the broker and the logs never hold the text.

A seller's second browser reads what comes after it was set up, not what came before, and the
buyer is told the seller's keys changed. Messages the server tampered with, miscommitted or
replayed are dropped by the recipient's browser with a notice. When the seller moves to
WhatsApp, both pages say the conversation is relay-mediated from now on.
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
from django.db import connection
from django.urls import reverse
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import crypto, franking
from relay import services as relay
from relay.models import Conversation, DeviceKey, Message, Side
from relay.services import e2ee, snapshot
from tests.browser.axe import AXE_SCRIPT, run_axe, serious
from tests.browser.conftest import CHROMEDRIVER, CHROMIUM
from tests.relay import e2ee_reference as ref
from tests.relay.e2ee_world import delivered_on_web

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-sari-12345"
FROM_BUYER = "Rahasia-dari-pembeli Q7ZK: bisa COD besok?"
FROM_SELLER = "Rahasia-dari-penjual W3XP: bisa, jam sepuluh"
AFTER_SECOND_DEVICE = "Rahasia-ketiga M9TD: saya sudah di jalan"


@pytest.fixture
def profiles() -> Iterator[Callable[[], Any]]:
    """Separate Chromium profiles (their own IndexedDB and cookies): one per person or device."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but Chromium is not installed")
        pytest.skip("Chromium not installed: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened: list[tuple[Any, str]] = []

    def new() -> Any:
        folder = tempfile.mkdtemp(prefix="perantara-e2ee-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={folder}",
            "--window-size=412,915",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.implicitly_wait(2)
        opened.append((driver, folder))
        return driver

    yield new
    for driver, folder in opened:
        driver.quit()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def sari(transactional_db: None) -> User:
    return contacts.register_user(
        username="sari", email="sari@example.com", password=PASSWORD, display_name="Sari"
    )


@pytest.fixture
def bike(sari: User) -> Listing:
    return marketplace.create_listing(seller=sari, title="Sepeda lipat", price=Decimal(1))


def wait(browser: Any, check: Callable[[Any], Any], what: str, timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout).until(check, message=what)


def ready(browser: Any) -> None:
    wait(browser, lambda b: b.find_element(By.ID, "e2ee").get_attribute("data-ready") == "1",
         "the page's device key registered")  # fmt: skip


def buyer_starts(browser: Any, live_server: Any, listing: Listing) -> Conversation:
    browser.get(live_server.url + reverse("relay:buyer_chat_start", args=[listing.code]))
    browser.find_element(By.NAME, "text").send_keys("Halo, masih ada?")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(browser, lambda b: "/chat/" in b.current_url and "/start/" not in b.current_url, "chat")
    ready(browser)
    return Conversation.objects.get()


def seller_opens(browser: Any, live_server: Any, conversation: Conversation) -> None:
    browser.get(live_server.url + reverse("contacts:login"))
    browser.find_element(By.NAME, "username").send_keys("sari")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    wait(browser, lambda b: "/accounts/login/" not in b.current_url, "logged in")
    browser.get(live_server.url + reverse("relay:conversation", args=[conversation.code]))
    ready(browser)


def mode(browser: Any) -> str:
    return str(browser.find_element(By.ID, "e2ee").get_attribute("data-mode"))


def send(browser: Any, text: str) -> None:
    box = browser.find_element(By.CSS_SELECTOR, "form.composer textarea[name=text]")
    box.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "form.composer button[type=submit]").click()

    def went(_browser: Any) -> bool:
        try:
            return box.get_attribute("value") == ""
        except StaleElementReferenceException:  # a plain post: the page was loaded again
            return True

    wait(browser, went, "the message went")


def bubbles(browser: Any) -> list[dict[str, str]]:
    """Each bubble of an end-to-end message: what the reader sees, and the script's verdict."""
    return list(
        browser.execute_script(
            "return Array.from(document.querySelectorAll('.bubble[data-e2ee=\"1\"]')).map("
            "function (b) { return {text: b.querySelector('.bubble-text').innerText,"
            " status: b.dataset.e2eeStatus || '', uid: b.dataset.uid}; });"
        )
    )


def shows(browser: Any, text: str) -> bool:
    return any(b["text"] == text and b["status"] == "open" for b in bubbles(browser))


def test_web_to_web_messages_are_end_to_end_and_the_server_never_holds_the_text(
    profiles: Callable[[], Any],
    live_server: Any,
    bike: Listing,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    assert "Relay-mediated for now" in buyer.find_element(By.ID, "e2ee-label").text
    seller_opens(seller, live_server, conversation)
    assert mode(seller) == "e2ee"
    assert "End-to-end encrypted" in seller.find_element(By.ID, "e2ee-label").text
    wait(buyer, lambda b: mode(b) == "e2ee", "the buyer's page sees the seller's device")

    send(buyer, FROM_BUYER)
    wait(seller, lambda b: shows(b, FROM_BUYER), "the seller's browser opens the buyer's message")
    send(seller, FROM_SELLER)
    wait(buyer, lambda b: shows(b, FROM_SELLER), "the buyer's browser opens the seller's answer")
    wait(buyer, lambda b: shows(b, FROM_BUYER), "the buyer's own message, opened on its device")

    # Both show the same safety code, the one the server computes from the keys it stores.
    seller.find_element(By.CSS_SELECTOR, "#e2ee-safety summary").click()
    buyer.find_element(By.CSS_SELECTOR, "#e2ee-safety summary").click()
    code = e2ee.conversation_mode(conversation).safety_code
    assert seller.find_element(By.ID, "e2ee-code").text == code
    wait(buyer, lambda b: b.find_element(By.ID, "e2ee-code").text == code, "buyer's code")
    assert "run in your browser before encryption" in seller.page_source

    # A franked report would carry exactly what the reader's browser opened.
    opened = seller.execute_script("return window.PerantaraE2EE.openedBy('buyer');")
    assert [o["text"] for o in opened] == [FROM_BUYER]
    stored = Message.objects.get(e2ee=True, sender_side=Side.BUYER)
    assert opened[0]["tag"] == base64.b64encode(bytes(stored.reporting_tag or b"")).decode()
    assert opened[0]["ctx"] == stored.franking_context
    # The report form carries them as its hidden `franked` field, and they verify.
    franked = json.loads(
        seller.execute_script(
            "var form = document.querySelector('details.report form');"
            "form.addEventListener('submit', function (e) { e.preventDefault(); });"
            "form.dispatchEvent(new Event('submit', {cancelable: true}));"
            "return form.querySelector('input[name=franked]').value;"
        )
    )
    assert [(f["message"], f["m"]) for f in franked] == [(str(stored.uid), FROM_BUYER)]
    verdict = franking.verify(
        message=franked[0]["m"],
        franking_key=base64.b64decode(franked[0]["kf"]),
        ctx=franked[0]["ctx"],
        tag=base64.b64decode(franked[0]["r"]),
        conversation=conversation.code,
    )
    assert verdict.verified and verdict.sender == conversation.buyer_pseudonym

    for secret in (FROM_BUYER, FROM_SELLER):
        assert_nowhere(secret, caplog.text + "".join(capfd.readouterr()))

    # The seller's second device (a third profile) reads what is sent from now on only.
    laptop = profiles()
    seller_opens(laptop, live_server, conversation)
    wait(laptop, lambda b: len(bubbles(b)) == 2, "the two earlier messages listed")
    assert {b["status"] for b in bubbles(laptop)} == {"before_device"}
    assert "Sent before this device was set up" in laptop.find_element(By.ID, "bubbles").text
    assert DeviceKey.objects.filter(retired_at=None).count() == 3
    changed = buyer.find_element(By.ID, "e2ee-keys-changed")
    wait(buyer, lambda b: changed.is_displayed(), "the buyer is told the seller's keys changed")
    assert "device keys changed" in changed.text
    send(buyer, AFTER_SECOND_DEVICE)
    wait(laptop, lambda b: shows(b, AFTER_SECOND_DEVICE), "the new device reads the new message")
    wait(seller, lambda b: shows(b, AFTER_SECOND_DEVICE), "and so does the first device")
    assert_nowhere(AFTER_SECOND_DEVICE, caplog.text + "".join(capfd.readouterr()))


def assert_nowhere(secret: str, logs: str) -> None:
    """Not in any column of any table, not in the broker's files, not in the logs."""
    needle = secret.encode()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value)
                    found = needle in raw if isinstance(raw, bytes) else secret in raw
                    assert not found, f"{secret!r} found in {table}"
    broker = Path(settings.BROKER_DIR)
    for path in broker.rglob("*") if broker.exists() else []:
        if path.is_file():
            content = path.read_bytes()
            assert needle not in content, f"{secret!r} in the broker's {path.name}"
            assert base64.b64encode(needle)[:24] not in content
    assert secret not in logs


def inject(conversation: Conversation, envelope: str, commitment: str) -> Message:
    """A message written straight into the database, as a server that misbehaved would."""
    message = Message(
        conversation=conversation,
        sender_side=Side.BUYER,
        sender_endpoint=conversation.buyer_endpoint,
        channel="web",
        e2ee=True,
        franking_commitment=base64.b64decode(commitment),
    )
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    message.body_sealed = crypto.encrypt_body(key, message.uid, envelope)
    message.save()
    e2ee.frank(message, conversation)
    delivered_on_web(message)  # as the relay stores it (a message without one was held)
    return message


def test_tampered_miscommitted_and_replayed_messages_are_dropped_with_a_notice(
    profiles: Callable[[], Any], live_server: Any, bike: Listing, sari: User
) -> None:
    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    seller_opens(seller, live_server, conversation)
    keys = [bytes(d.public_key) for d in DeviceKey.objects.order_by("id")]
    code = conversation.code

    genuine = inject(
        conversation, *ref.seal("Asli: ini pesan yang benar", to=keys, conversation=code)
    )
    envelope, c = ref.seal("Diubah di jalan", to=keys, conversation=code)
    altered = json.loads(envelope)
    ct = bytearray(base64.b64decode(altered["ct"]))
    ct[3] ^= 0x01
    altered["ct"] = base64.b64encode(bytes(ct)).decode()
    tampered = inject(conversation, json.dumps(altered), c)
    cheat = ref.seal("Tidak bisa dilaporkan", to=keys, conversation=code,
                     claimed_commitment=b"\x07" * 32)  # fmt: skip
    miscommitted = inject(conversation, *cheat)
    nonce = b"\x01" * 16
    original = inject(
        conversation, *ref.seal("Sekali saja", to=keys, conversation=code, nonce=nonce)
    )
    genuine_env = crypto.decrypt_body(
        crypto.unwrap_key(conversation.wrapped_key, code), original.uid, original.body_sealed
    )
    replayed = inject(
        conversation,
        genuine_env,
        base64.b64encode(bytes(original.franking_commitment or b"")).decode(),
    )

    seller.refresh()
    ready(seller)
    wait(seller, lambda b: all(x["status"] for x in bubbles(b)) and len(bubbles(b)) == 5, "opened")
    verdicts = {x["uid"]: (x["status"], x["text"]) for x in bubbles(seller)}
    assert verdicts[str(genuine.uid)] == ("open", "Asli: ini pesan yang benar")
    assert verdicts[str(original.uid)] == ("open", "Sekali saja")
    for message, status, reason in (
        (tampered, "dropped-tampered", "altered on the way"),
        (miscommitted, "dropped-commitment", "franking commitment does not match"),
        (replayed, "dropped-replay", "repeats an earlier message"),
    ):
        shown_status, text = verdicts[str(message.uid)]
        assert shown_status == status
        assert text.startswith("A message was dropped because it failed its integrity check")
        assert reason in text
    visible = seller.find_element(By.ID, "bubbles").text
    assert "Diubah di jalan" not in visible and "Tidak bisa dilaporkan" not in visible
    assert visible.count("A message was dropped") == 3
    if AXE_SCRIPT.exists():  # the drop notices and labels read at AA contrast (make test)
        found = serious(run_axe(seller))
        assert not found, [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def test_a_seller_moving_to_whatsapp_is_shown_to_both_sides_as_relay_mediated(
    profiles: Callable[[], Any], live_server: Any, bike: Listing, sari: User
) -> None:
    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    seller_opens(seller, live_server, conversation)
    wait(buyer, lambda b: mode(b) == "e2ee", "end to end")
    send(buyer, FROM_BUYER)
    wait(seller, lambda b: shows(b, FROM_BUYER), "opened")

    relay.add_relay_identity(channel="whatsapp", provider_id="wa-main", address="+14155550100")
    phone, _ = contacts.get_or_create_endpoint(channel="whatsapp", address="+6281234567890")
    contacts.claim_endpoint(user=sari, endpoint=phone)
    contacts.set_preferred_endpoint(user=sari, endpoint=phone)
    snapshot.invalidate()

    wait(buyer, lambda b: mode(b) == "relay", "the buyer's page sees the change")
    label = buyer.find_element(By.ID, "e2ee-label").text
    assert "the seller reads on WhatsApp" in label and "relay reads your messages" in label
    lines = [one.text for one in buyer.find_elements(By.CSS_SELECTOR, "#bubbles .e2ee-divider")]
    assert lines[0] == "From here on, messages were end-to-end encrypted."
    assert lines[-1].startswith("The seller now reads on WhatsApp: new messages are relay-")
    wait(seller, lambda b: mode(b) == "relay", "the seller's page too")
    assert "you read this conversation on WhatsApp" in seller.find_element(By.ID, "e2ee-label").text
    assert "You now read on WhatsApp" in seller.find_element(By.ID, "bubbles").text
    # The next message goes relay-mediated, and says so.
    send(buyer, "Oke, lewat relay")
    last = (
        "var all = document.querySelectorAll('#bubbles .bubble[data-message]:not(.relay)');"
        "var b = all[all.length - 1]; return b.innerText;"
    )
    wait(buyer, lambda b: "Oke, lewat relay" in b.execute_script(last), "sent")
    assert "Relay-mediated" in buyer.execute_script(last)
    assert Message.objects.filter(e2ee=False).count() == 2


def test_a_franked_report_sent_from_the_sellers_browser_reaches_the_moderator_verified(
    profiles: Callable[[], Any], live_server: Any, bike: Listing
) -> None:
    """The whole road of a verifiable report: the buyer's browser franks, the seller's browser
    opens and reports it through the real form, the relay checks both tags, and a moderator
    reading the evidence sees "Verified: sent by Buyer …" above the exact text."""
    from django.contrib.auth.models import Group

    from contacts.models import MODERATOR_GROUP
    from relay.models import Report
    from relay.services import evidence_labels, moderation

    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    seller_opens(seller, live_server, conversation)
    wait(buyer, lambda b: mode(b) == "e2ee", "the buyer's page sees the seller's device")
    send(buyer, FROM_BUYER)
    wait(seller, lambda b: shows(b, FROM_BUYER), "the seller's browser opens the buyer's message")

    seller.find_element(By.CSS_SELECTOR, "details.report summary").click()
    form = seller.find_element(By.CSS_SELECTOR, "details.report form")
    form.find_element(By.CSS_SELECTOR, "select[name=reason] option[value=harassment]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(seller, lambda b: Report.objects.exists(), "the report was filed")

    moderator = contacts.register_user(
        username="mod", email="mod@example.com", password=PASSWORD, display_name="Mod"
    )
    moderator.groups.add(Group.objects.get_or_create(name=MODERATOR_GROUP)[0])
    report = Report.objects.get()
    shown = evidence_labels.shown_all(moderation.open_evidence(report=report, moderator=moderator))
    verified = [item for item in shown if item.kind == "verified"]
    assert [item.text for item in verified] == [FROM_BUYER]
    assert verified[0].label.startswith(f"Verified: sent by {conversation.buyer_pseudonym} at ")
    # The stored evidence is sealed: the text is nowhere in the report's row.
    assert FROM_BUYER.encode() not in bytes(report.evidence_sealed or b"")


def test_a_photo_in_an_end_to_end_conversation_is_labelled_alone_and_the_newest_stays_in_view(
    profiles: Callable[[], Any], live_server: Any, bike: Listing, sari: User
) -> None:
    """A photo always goes through the relay: its bubble says so, but it does not draw "from
    here on, relay-mediated" lines around it, since the conversation did not change mode. The
    list, taller once messages are opened, still shows the newest message."""
    from relay.pipeline import roads
    from relay.services import media
    from tests.photo_samples import jpeg_with_gps

    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    seller_opens(seller, live_server, conversation)
    wait(buyer, lambda b: mode(b) == "e2ee", "end to end")
    send(buyer, FROM_BUYER)
    wait(seller, lambda b: shows(b, FROM_BUYER), "opened")
    photo = media.store_upload(
        conversation=conversation, sender_side=Side.SELLER, data=jpeg_with_gps(1200, 900)
    )
    roads.seller_reply(seller=sari, conversation=conversation, text="Ini", media=[photo])
    for n in range(8):  # enough to scroll the list
        send(buyer, f"Pesan {n}: {'panjang ' * 20}")
    buyer.refresh()
    wait(buyer, lambda b: sum(x["status"] == "open" for x in bubbles(b)) == 9, "all opened")
    lines = [one.text for one in buyer.find_elements(By.CSS_SELECTOR, "#bubbles .e2ee-divider")]
    assert lines == ["From here on, messages were end-to-end encrypted."]  # after the first
    assert (
        "Relay-mediated" in buyer.find_element(By.CSS_SELECTOR, ".bubble:has(.bubble-photos)").text
    )
    gap = buyer.execute_script(
        "var box = document.getElementById('bubbles');"
        "return box.scrollHeight - box.scrollTop - box.clientHeight;"
    )
    assert box_scrolls(buyer) and gap < 40, gap


def box_scrolls(browser: Any) -> bool:
    return bool(
        browser.execute_script(
            "var box = document.getElementById('bubbles');"
            "return box.scrollHeight > box.clientHeight + 40;"
        )
    )
