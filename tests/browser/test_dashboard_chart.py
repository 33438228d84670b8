"""In a real browser: the seller's dashboard draws the chart and copies a handle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contacts import services as contacts
from marketplace import handles
from marketplace import services as marketplace
from relay.pipeline import roads
from relay.services import web

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_chart_is_visible_with_real_counts_and_the_handle_copies(
    browser: Any, live_server: Any
) -> None:
    seller = contacts.register_user(
        username="wati", email="wati@example.com", password="a-long-enough-passphrase"
    )
    bike = marketplace.create_listing(seller=seller, title="Sepeda gunung", price=Decimal(10))
    two_days_ago = timezone.now() - dt.timedelta(days=2)
    for number in range(2):
        buyer = web.browser_endpoint(signed=None, language="id")
        with time_machine.travel(two_days_ago + dt.timedelta(minutes=number), tick=False):
            roads.start_chat(
                listing=bike, text="Masih ada?", buyer=buyer, network_key=f"net-{number}"
            )

    browser.get(live_server.url + "/")
    browser.delete_all_cookies()  # the session is shared: start logged out, in English
    browser.get(live_server.url + "/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys("wati")
    browser.find_element(By.NAME, "password").send_keys("a-long-enough-passphrase")
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: "Your listings" in driver.page_source)

    chart = browser.find_element(By.CSS_SELECTOR, "[data-testid=chart]")
    assert chart.is_displayed() and chart.size["width"] > 200 and chart.size["height"] > 40
    day = timezone.localdate(two_days_ago).isoformat()
    bar = browser.find_element(By.CSS_SELECTOR, f'.chart-day[data-day="{day}"] .bar-messages')
    assert bar.is_displayed() and bar.size["height"] > 30  # the busiest day: full height
    assert bar.find_element(By.XPATH, "..").get_attribute("data-messages") == "2"
    stats = browser.find_element(By.CSS_SELECTOR, "[data-testid=conversation-total]").text
    assert stats == "2 conversations"

    handle = handles.live_handle(bike)
    assert handle is not None
    copy = browser.find_element(By.CSS_SELECTOR, f'button[data-copy="{handle.display}"]')
    copy.send_keys(" ")  # by keyboard: focus and Space
    status = copy.find_element(By.XPATH, "following-sibling::*[@role='status']")
    WebDriverWait(browser, 5).until(lambda driver: status.text == "Copied")
