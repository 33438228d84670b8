"""In a real browser: the seller's open inbox follows buyers live and notices an ended session.

The page is never reloaded: a buyer writing in another conversation lights that thread up with
an unread count and a preview; a message in the open conversation appears in it; logging out
from another client makes the page say "You were logged out" with a way back in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay.models import Conversation
from relay.pipeline import roads
from relay.services import web

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-sari-12345"


def open_chat(listing: Listing, text: str, network: str) -> tuple[Any, Conversation]:
    buyer = web.browser_endpoint(signed=None, language="id")
    result = roads.start_chat(
        listing=listing, text=text, buyer=buyer, network_key=web.network_key(network)
    )
    assert result.conversation is not None
    return buyer, result.conversation


def log_in(browser: Any, live_server: Any, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("contacts:login"))
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: "/accounts/login/" not in driver.current_url)


def thread(browser: Any, conversation: Conversation) -> dict[str, str]:
    """A thread list row as the seller sees it: its text and its unread count ("" if none).
    Read in one script: the list is replaced whenever it changes."""
    return dict(
        browser.execute_script(
            "var row = document.querySelector('a[data-conversation=\"' + arguments[0] + '\"]');"
            "var count = row && row.querySelector('[data-testid=unread]');"
            "return {text: row ? row.innerText : '', unread: count ? count.innerText : ''};",
            conversation.code,
        )
    )


@pytest.fixture
def sari(transactional_db: None) -> User:
    return contacts.register_user(
        username="sari", email="sari@example.com", password=PASSWORD, display_name="Sari"
    )


def test_a_buyers_new_message_lights_up_its_thread_in_the_open_inbox_without_a_reload(
    browser: Any, live_server: Any, sari: User
) -> None:
    bike = marketplace.create_listing(seller=sari, title="Sepeda lipat", price=Decimal(1))
    chair = marketplace.create_listing(seller=sari, title="Kursi rotan", price=Decimal(2))
    ana, open_one = open_chat(bike, "Masih ada?", "10.0.0.1")
    budi, other = open_chat(chair, "Halo", "10.0.0.2")
    log_in(browser, live_server, "sari")
    browser.get(live_server.url + reverse("relay:conversation", args=[open_one.code]))
    browser.execute_script("document.body.dataset.sameDocument = 'yes'")  # gone on a reload
    assert thread(browser, open_one)["unread"] == ""

    roads.buyer_message(buyer=budi, conversation=other, text="Bisa kirim ke Bandung?")
    roads.buyer_message(buyer=ana, conversation=open_one, text="Saya ambil sore ini")

    def caught_up(driver: Any) -> bool:
        bubbles = driver.find_element(By.ID, "bubbles").text
        return "Bisa kirim ke Bandung?" in thread(driver, other)["text"] and (
            "Saya ambil sore ini" in thread(driver, open_one)["text"]
            and "Saya ambil sore ini" in bubbles
        )

    WebDriverWait(browser, 15).until(caught_up)
    lit = thread(browser, other)
    assert lit["unread"] == "2"  # "Halo" and the new one: the seller has not opened it
    assert "Kursi rotan" in lit["text"] and "Web chat" in lit["text"]
    # The open conversation is being read: its thread carries no unread count.
    assert thread(browser, open_one)["unread"] == ""
    assert browser.execute_script("return document.body.dataset.sameDocument") == "yes"


def test_logging_out_elsewhere_makes_the_open_inbox_say_so(
    browser: Any, live_server: Any, sari: User
) -> None:
    bike = marketplace.create_listing(seller=sari, title="Sepeda lipat", price=Decimal(1))
    _, conversation = open_chat(bike, "Masih ada?", "10.0.0.3")
    log_in(browser, live_server, "sari")
    browser.get(live_server.url + reverse("relay:conversation", args=[conversation.code]))
    assert not browser.find_element(By.ID, "logged-out").is_displayed()

    other_tab = Client()  # the same session, logged out from somewhere else
    other_tab.cookies["sessionid"] = browser.get_cookie("sessionid")["value"]
    other_tab.post(reverse("contacts:logout"))

    notice = browser.find_element(By.ID, "logged-out")
    WebDriverWait(browser, 15).until(lambda driver: notice.is_displayed())
    assert "You were logged out." in notice.text
    link = notice.find_element(By.LINK_TEXT, "Log in again")
    assert reverse("contacts:login") in link.get_attribute("href")
    bubbles = browser.find_element(By.ID, "bubbles").text
    assert "Masih ada?" in bubbles and "Username" not in bubbles and "Password" not in bubbles
    assert not browser.find_element(By.CSS_SELECTOR, "form.composer").is_displayed()
