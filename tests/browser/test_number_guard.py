"""In a real browser: a web-chat buyer types a phone number; the relay hides it from the seller.

The buyer reads the relay's notice on the chat page; the seller, in their own session, reads
the message in the inbox with the placeholder where the number was, in the seller's language
(the reader's), which is the placeholder the buyer's notice quotes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from contacts import services as contacts
from marketplace import services as marketplace
from relay.models import Conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SELLER_PASSWORD = "pw-sari-12345"
# Pieces of the two numbers as the buyer typed them; none may reach the seller's screen.
NUMBER_PIECES = ("0812", "3456", "7890", "415", "555", "0188")

NOTICE = {
    "en": "To keep both sides safe, we hid a phone number in your message: the other side sees "
    "[hidden] in its place. Keep talking here; your number stays private.",
    "id": "Demi keamanan kedua pihak, kami menyembunyikan nomor telepon di pesan Anda: pihak "
    "lain melihat [disembunyikan] sebagai gantinya. Lanjutkan di sini; nomor Anda tetap rahasia.",
}
PLACEHOLDER = {"en": "[hidden]", "id": "[disembunyikan]"}
CHAT_ON_THE_WEB = {"en": "Chat on the web", "id": "Chat lewat web"}


def wait_for_text(browser: Any, text: str) -> None:
    WebDriverWait(browser, 15).until(lambda driver: text in visible_text(driver))


# Each read is one script, so a navigation or the inbox's live refresh (which replaces the
# bubbles) cannot leave a stale element between finding it and reading it.
def visible_text(browser: Any) -> str:
    return str(browser.execute_script("return document.body.innerText;"))


def flashes(browser: Any) -> list[str]:
    return list(
        browser.execute_script(
            "return [...document.querySelectorAll('.flash li')].map(li => li.innerText);"
        )
    )


def bubbles(browser: Any) -> list[str]:
    """Each message's text as shown, without its author and time line."""
    return list(
        browser.execute_script(
            "return [...document.querySelectorAll('#bubbles .bubble')]"
            ".map(bubble => bubble.firstChild.textContent);"
        )
    )


def send(browser: Any, text: str) -> None:
    field = browser.find_element(By.NAME, "text")
    field.send_keys(text)
    field.find_element(By.XPATH, "ancestor::form//button[@type='submit']").click()


def switch_language(browser: Any, language: str) -> None:
    """The header's language menu, as a person uses it (it submits on change)."""
    Select(browser.find_element(By.NAME, "language")).select_by_value(language)
    WebDriverWait(browser, 15).until(
        lambda driver: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    )


def log_in_as_seller(browser: Any, live_server: Any) -> None:
    browser.delete_all_cookies()  # a fresh session: the seller's browser, not the buyer's
    browser.get(live_server.url + reverse("contacts:login"))
    browser.find_element(By.NAME, "username").send_keys("sari")
    browser.find_element(By.NAME, "password").send_keys(SELLER_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: "/accounts/login/" not in driver.current_url)


@pytest.mark.parametrize(
    ("language", "first", "second"),
    [
        ("en", "Is it still available? my WA is {}", "or call {} after 5"),
        ("id", "Boleh minta WA? saya {}", "atau telepon {} sore ini"),
    ],
)
def test_a_web_chat_buyer_types_numbers_and_the_seller_sees_only_the_placeholder(
    browser: Any, live_server: Any, language: str, first: str, second: str
) -> None:
    seller = contacts.register_user(
        username="sari",
        email="sari@example.com",
        password=SELLER_PASSWORD,
        display_name="Sari",
        language=language,  # the seller signed up in the buyer's language
    )
    listing = marketplace.create_listing(seller=seller, title="Sepeda lipat", price=Decimal(1))
    placeholder = PLACEHOLDER[language]

    # The buyer, with no account, opens the listing's public page and starts the web chat.
    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("marketplace:listing_public", args=[listing.code]))
    if language != "en":
        switch_language(browser, language)
    browser.find_element(By.LINK_TEXT, CHAT_ON_THE_WEB[language]).click()
    send(browser, first.format("0812-3456-7890"))
    WebDriverWait(browser, 15).until(lambda driver: "/chat/start/" not in driver.current_url)

    assert NOTICE[language] in flashes(browser)
    assert bubbles(browser) == [first.format(placeholder)]  # the buyer sees what was sent

    send(browser, second.format("(415) 555-0188"))
    wait_for_text(browser, second.format(placeholder))
    assert flashes(browser) == [NOTICE[language]]

    # The seller, in their own session, opens the conversation in the inbox.
    log_in_as_seller(browser, live_server)
    conversation = Conversation.objects.get()
    browser.get(live_server.url + reverse("relay:conversation", args=[conversation.code]))
    wait_for_text(browser, second.format(placeholder))

    assert bubbles(browser) == [first.format(placeholder), second.format(placeholder)]
    on_screen = visible_text(browser)
    for piece in NUMBER_PIECES:
        assert piece not in on_screen
    shown_digits = "".join(ch for ch in on_screen if ch.isdigit())
    assert "81234567890" not in shown_digits and "4155550188" not in shown_digits
