"""In a real browser, production mode: a 404 that speaks the visitor's language and fits a
phone, and two tabs logging in without a CSRF dead end."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from contacts import services as contacts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_missing_page_is_branded_switches_to_indonesian_and_fits_a_phone(
    browser: Any, live_server: Any
) -> None:
    assert settings.DEBUG is False
    browser.delete_all_cookies()
    browser.get(live_server.url + "/no-such-page/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "We could not find that page"
    assert browser.title == "Page not found · Perantara"

    Select(browser.find_element(By.NAME, "language")).select_by_value("id")
    WebDriverWait(browser, 10).until(
        lambda driver: (
            driver.find_element(By.TAG_NAME, "h1").text == "Kami tidak menemukan halaman itu"
        )
    )
    assert browser.current_url.endswith("/no-such-page/")
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    ), "the 404 page scrolls sideways on a phone"
    browser.find_element(By.LINK_TEXT, "Ke halaman utama").click()
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url == live_server.url + "/")


def test_logging_in_from_a_second_tab_lands_on_the_dashboard(
    browser: Any, live_server: Any
) -> None:
    contacts.register_user(
        username="sari", email="sari@example.com", password="pw-sari-12345", display_name="Sari"
    )
    browser.delete_all_cookies()
    login = live_server.url + reverse("contacts:login")
    browser.get(login)
    first_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(login)
    second_tab = browser.current_window_handle
    for tab in (first_tab, second_tab):
        browser.switch_to.window(tab)
        browser.find_element(By.NAME, "username").send_keys("sari")
        browser.find_element(By.NAME, "password").send_keys("pw-sari-12345")
        browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
        WebDriverWait(browser, 15).until(
            lambda driver: "/accounts/login/" not in driver.current_url
        )
    assert browser.current_url == live_server.url + reverse("marketplace:dashboard")
    assert "You are already logged in." in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert browser.find_element(By.TAG_NAME, "h1").text == "Your listings"
    browser.close()
    browser.switch_to.window(first_tab)


def test_back_after_logging_out_does_not_show_the_inbox(browser: Any, live_server: Any) -> None:
    contacts.register_user(
        username="sari", email="sari@example.com", password="pw-sari-12345", display_name="Sari"
    )
    browser.delete_all_cookies()
    browser.get(live_server.url + reverse("contacts:login") + "?next=" + reverse("relay:inbox"))
    browser.find_element(By.NAME, "username").send_keys("sari")
    browser.find_element(By.NAME, "password").send_keys("pw-sari-12345")
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda driver: driver.current_url.endswith("/inbox/"))
    browser.find_element(By.XPATH, "//form[contains(@action, '/logout/')]/button").click()
    WebDriverWait(browser, 15).until(lambda driver: driver.current_url == live_server.url + "/")

    browser.back()

    WebDriverWait(browser, 15).until(lambda driver: "/accounts/login/" in driver.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Log in"


def test_the_tokens_page_with_a_new_secret_fits_a_phone(browser: Any, live_server: Any) -> None:
    contacts.register_user(
        username="sari", email="sari@example.com", password="pw-sari-12345", display_name="Sari"
    )
    browser.delete_all_cookies()
    browser.set_window_size(390, 844)
    try:
        browser.get(live_server.url + reverse("contacts:login") + "?next=" + reverse("api:tokens"))
        browser.find_element(By.NAME, "username").send_keys("sari")
        browser.find_element(By.NAME, "password").send_keys("pw-sari-12345")
        browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
        browser.find_element(By.NAME, "name").send_keys("shop backend")
        browser.find_element(By.XPATH, "//button[contains(., 'Create a token')]").click()
        secret = browser.find_element(By.CSS_SELECTOR, "[data-testid=new-token]")
        assert secret.text.replace("\n", "").startswith("prt_")
        assert "Authorization: Bearer <token>" in browser.find_element(By.TAG_NAME, "main").text
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        ), "the tokens page scrolls sideways on a phone"
    finally:
        browser.set_window_size(412, 915)
