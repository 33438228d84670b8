"""In a real browser: the chat page keeps its link fresh, and a link that died shows no history.

The page's script moves the address bar, its forms and its poll to each renewed link the server
hands it, and when the seller blocks, the open page reloads into "This chat has ended".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from marketplace import services as marketplace
from relay import selectors
from relay.models import Conversation, Side
from relay.pipeline import roads
from relay.services import lifecycle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "Jemput di Jalan Kenanga nomor tujuh"


def where(browser: Any) -> dict[str, str]:
    """The address, the page's link, its poll and its report form, read in one script so a
    renewal cannot land between two reads."""
    return dict(
        browser.execute_script(
            "var box = document.getElementById('bubbles');"
            "var report = document.querySelector('form[action$=\"/report/\"]');"
            "return {path: location.pathname, link: box && box.dataset.chatLink,"
            " poll: box && box.dataset.poll, report: report && report.getAttribute('action')};"
        )
    )


def test_the_chat_page_follows_its_renewed_link_and_dies_with_the_sellers_block(
    browser: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every use renews the link (the server thread shares this module), so the page has to
    # follow one renewal after another.
    monkeypatch.setattr(selectors, "CHAT_LINK_RENEW_FRACTION", 0.0)
    seller = contacts.register_user(
        username="sari", email="sari@example.com", password="pw-sari-12345", display_name="Sari"
    )
    listing = marketplace.create_listing(seller=seller, title="Sepeda lipat", price=Decimal(1))

    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("relay:buyer_chat_start", args=[listing.code]))
    browser.find_element(By.NAME, "text").send_keys("Masih ada?")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: "/chat/start/" not in driver.current_url)
    landed = where(browser)["path"]
    roads.seller_reply(seller=seller, conversation=Conversation.objects.get(), text=SECRET)
    WebDriverWait(browser, 15).until(lambda driver: SECRET in driver.page_source)

    WebDriverWait(browser, 15).until(lambda driver: where(driver)["path"] != landed)
    now = where(browser)
    assert now["link"] == now["path"]
    assert now["poll"] == now["path"] + "messages/" and now["report"] == now["path"] + "report/"

    lifecycle.block(Conversation.objects.get(), by_side=Side.SELLER)
    WebDriverWait(browser, 15).until(lambda driver: "This chat has ended" in driver.page_source)
    assert SECRET not in browser.page_source
    assert browser.find_elements(By.ID, "bubbles") == []
