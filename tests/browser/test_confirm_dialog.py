"""In a real browser: Block asks first; Cancel and Escape leave the conversation open."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from marketplace import services as marketplace
from relay.models import Conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def dialog_open(browser: Any) -> bool:
    return bool(browser.execute_script("return document.querySelector('dialog.confirm').open"))


def test_block_opens_a_dialog_cancel_keeps_the_buyer_and_confirming_blocks(
    browser: Any, live_server: Any
) -> None:
    seller = contacts.register_user(
        username="sari", email="sari@example.com", password="pw-sari-12345", display_name="Sari"
    )
    listing = marketplace.create_listing(seller=seller, title="Mountain bike", price=Decimal(1))
    Client().post(reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Masih ada?"})
    conversation = Conversation.objects.get()
    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("contacts:login"))
    browser.find_element(By.NAME, "username").send_keys("sari")
    browser.find_element(By.NAME, "password").send_keys("pw-sari-12345")
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: "/accounts/login/" not in driver.current_url)
    browser.get(live_server.url + reverse("relay:conversation", args=[conversation.code]))
    block = browser.find_element(By.XPATH, "//form[contains(@action, '/block/')]/button")

    block.click()

    WebDriverWait(browser, 5).until(dialog_open)
    dialog = browser.find_element(By.CSS_SELECTOR, "dialog.confirm")
    assert "The buyer can no longer write to you here." in dialog.text
    focused = browser.switch_to.active_element
    assert focused.text == "Cancel"  # focus moved into the dialog, onto the safe choice
    focused.click()
    WebDriverWait(browser, 5).until(lambda driver: not dialog_open(driver))
    conversation.refresh_from_db()
    assert conversation.status == "open"

    block.click()
    WebDriverWait(browser, 5).until(dialog_open)
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda driver: not dialog_open(driver))
    conversation.refresh_from_db()
    assert conversation.status == "open"

    block.click()
    WebDriverWait(browser, 5).until(dialog_open)
    dialog.find_element(By.CSS_SELECTOR, "[data-confirm-submit]").click()

    WebDriverWait(browser, 15).until(
        lambda driver: not driver.find_elements(By.CSS_SELECTOR, "dialog.confirm")
    )
    conversation.refresh_from_db()
    assert conversation.status == "blocked"
