"""In a real browser, in Indonesian: a moderator filters the queue, opens a report, warns the
reported side and reads the history in words; a dismissed report offers only reopening."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from contacts import services as contacts
from contacts.models import User
from marketplace import services as marketplace
from relay.services import moderation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(browser: Any, name: str) -> None:
    """Screenshots for a person to look at, when SCREENSHOTS_DIR names a folder."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def log_in_as_indonesian_moderator(browser: Any, live_server: Any) -> None:
    moderator = User.objects.create_user(
        username="rina-mod", email="rina@example.com", password="pw-rina-12345"
    )
    moderator.groups.add(Group.objects.get_or_create(name="moderator")[0])
    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("contacts:login"))
    browser.add_cookie({"name": "django_language", "value": "id", "path": "/"})
    browser.get(live_server.url + reverse("contacts:login"))
    browser.find_element(By.NAME, "username").send_keys("rina-mod")
    browser.find_element(By.NAME, "password").send_keys("pw-rina-12345")
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: "/accounts/login/" not in driver.current_url)


def test_an_indonesian_moderator_warns_from_the_queue_and_reads_the_history_in_words(
    browser: Any, live_server: Any
) -> None:
    seller = contacts.register_user(
        username="sari", email="sari@example.com", password="pw-sari-12345", display_name="Sari"
    )
    listing = marketplace.create_listing(seller=seller, title="Sepeda gunung", price=Decimal(1))
    scam = moderation.file_report(listing=listing, reporter_side="public", reason="scam")
    spam = moderation.file_report(listing=listing, reporter_side="public", reason="spam")
    log_in_as_indonesian_moderator(browser, live_server)

    browser.get(live_server.url + reverse("relay:moderation_queue"))
    status = browser.find_element(By.ID, "filter-status")
    label = browser.find_element(By.CSS_SELECTOR, "label[for=filter-status]")
    assert label.text == "Status" and status.accessible_name == "Status"
    assert browser.find_element(By.ID, "filter-reason").accessible_name == "Alasan"
    assert "Penipuan" in browser.page_source and "Terbuka:" in browser.page_source
    shot(browser, "queue-id-phone")
    browser.find_element(By.CSS_SELECTOR, f"a[href$='/reports/{scam.code}/']").click()

    Select(browser.find_element(By.ID, "act-action")).select_by_visible_text("Turunkan iklan")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=act] textarea[name=reason]").send_keys(
        "Harga tidak masuk akal, minta transfer"
    )
    browser.find_element(By.CSS_SELECTOR, "[data-testid=act] button[type=submit]").click()

    WebDriverWait(browser, 10).until(
        lambda driver: "Iklan diturunkan." in driver.find_element(By.CSS_SELECTOR, ".flash").text
    )
    steps = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "[data-testid=history-step]")]
    assert steps[0].startswith("Laporan diajukan") and "Penipuan" in steps[0]
    assert steps[-1].startswith("Iklan diturunkan") and "rina-mod" in steps[-1]
    assert "Alasan: Harga tidak masuk akal, minta transfer" in steps[-1]
    offered = [o.text for o in Select(browser.find_element(By.ID, "act-action")).options]
    assert "Tolak laporan" not in offered and "Turunkan iklan" not in offered  # done already
    shot(browser, "report-id-phone")

    moderation.dismiss(report=spam, moderator=User.objects.get(username="rina-mod"), reason="x")
    browser.get(live_server.url + reverse("relay:moderation_report", args=[spam.code]))
    offered = [o.text for o in Select(browser.find_element(By.ID, "act-action")).options]
    assert offered == ["Buka kembali laporan"]
