"""In a real browser: sign up, create a listing, open its public page."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from contacts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_text(browser: Any, text: str) -> None:
    """Wait for the next page to show `text` (a click does not wait for navigation)."""
    WebDriverWait(browser, 15).until(lambda driver: text in driver.page_source)


def fill(browser: Any, name: str, value: str) -> None:
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def test_a_new_seller_lists_an_item_and_its_public_page_shows_the_handle_not_the_number(
    browser: Any, live_server: Any
) -> None:
    browser.get(live_server.url + "/accounts/signup/")
    fill(browser, "username", "dewi")
    fill(browser, "email", "dewi@example.com")
    fill(browser, "display_name", "Dewi Lestari")
    fill(browser, "password1", "a-long-enough-passphrase")
    fill(browser, "password2", "a-long-enough-passphrase")
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    wait_for_text(browser, "Welcome to Perantara")

    # The seller connects a WhatsApp number (verified directly: the code path is tested elsewhere).
    seller = User.objects.get(username="dewi")
    endpoint, code = contacts.start_phone_verification(
        user=seller, channel="whatsapp", raw_number="0812-3456-7890"
    )
    contacts.confirm_phone_verification(user=seller, endpoint=endpoint, code=code)

    browser.find_element(By.LINK_TEXT, "New listing").click()
    fill(browser, "title", "Sepeda lipat Brompton")
    fill(browser, "price", "15000000")
    fill(browser, "city", "Jakarta")
    fill(browser, "description", "Call me maybe")
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    wait_for_text(browser, "Listing created.")
    handle = browser.find_element(By.CSS_SELECTOR, "[data-testid=handle]").text
    assert len(handle) == 9 and handle[4] == "-"

    browser.find_element(By.LINK_TEXT, "Open public page").click()
    wait_for_text(browser, "Message the seller")
    page = browser.page_source
    assert "Sepeda lipat Brompton" in page
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=handle]").text == handle
    for private in ("81234567890", "0812-3456-7890", "Dewi Lestari", "dewi@example.com"):
        assert private not in page
    browser.save_screenshot(str(live_server_screenshot_path()))


def live_server_screenshot_path() -> Any:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "public-listing.png"
