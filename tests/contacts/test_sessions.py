"""Logging in from two tabs, where each kind of user lands, and pages that a browser must not
keep after log-out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from contacts.models import User
from tests.conftest import PASSWORD


@pytest.fixture
def moderator(db: None) -> User:
    user = User.objects.create_user(username="mod", email="mod@example.com", password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="moderator")[0])
    return user


def open_login_form(client: Client, query: str = "") -> str:
    """GET the log-in page as a tab would; returns the CSRF token its form carries."""
    html = client.get(reverse("contacts:login") + query).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match
    return match.group(1)


def log_in(client: Client, token: str, username: str = "sari", **extra: str) -> Any:
    return client.post(
        reverse("contacts:login"),
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token, **extra},
    )


def test_the_second_tabs_log_in_lands_on_the_dashboard_not_on_a_csrf_error(seller: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    first_tab = open_login_form(browser)
    second_tab = open_login_form(browser)
    assert log_in(browser, first_tab)["Location"] == reverse("marketplace:dashboard")

    response = log_in(browser, second_tab)  # its token went stale when the first tab logged in
    assert response.status_code == 302
    landed = browser.get(response["Location"], follow=True)
    assert landed.redirect_chain[-1][0] == reverse("marketplace:dashboard")
    html = landed.content.decode()
    assert "You are already logged in." in html and "Your listings" in html


def test_the_second_tab_keeps_the_page_it_was_going_to(seller: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    channels = reverse("contacts:channels")
    first_tab = open_login_form(browser)
    second_tab = open_login_form(browser, f"?next={channels}")
    log_in(browser, first_tab)
    response = log_in(browser, second_tab, next=channels)
    assert response["Location"] == channels


def test_a_log_in_form_left_open_across_a_log_out_gives_a_fresh_form_and_a_reason(
    seller: User,
) -> None:
    browser = Client(enforce_csrf_checks=True, headers={"accept-language": "id"})
    first_tab = open_login_form(browser)
    stale_tab = open_login_form(browser)
    log_in(browser, first_tab)
    browser.post(
        reverse("contacts:logout"), {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value}
    )
    assert browser.get(reverse("marketplace:dashboard")).status_code == 302  # logged out

    response = log_in(browser, stale_tab, **{"next": reverse("relay:inbox")})
    assert response.status_code == 302
    fresh = browser.get(response["Location"])
    html = fresh.content.decode()
    assert "Formulir masuk itu sudah kedaluwarsa" in html
    assert f'value="{reverse("relay:inbox")}"' in html  # still going where it was going
    again = log_in(browser, open_login_form(browser), next=reverse("relay:inbox"))
    assert again["Location"] == reverse("relay:inbox")


def test_the_log_in_page_sends_a_logged_in_user_to_their_start_page(seller_client: Any) -> None:
    response = seller_client.get(reverse("contacts:login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("marketplace:dashboard")


def test_a_moderator_lands_on_the_moderation_queue(client: Any, moderator: User) -> None:
    response = client.post(reverse("contacts:login"), {"username": "mod", "password": PASSWORD})
    assert response["Location"] == reverse("relay:moderation_queue")
    assert client.get(reverse("contacts:login"))["Location"] == reverse("relay:moderation_queue")
    assert client.get(reverse("contacts:landing"))["Location"] == reverse("relay:moderation_queue")


def test_a_seller_lands_on_their_listings(client: Any, seller: User) -> None:
    response = client.post(reverse("contacts:login"), {"username": "sari", "password": PASSWORD})
    assert response["Location"] == reverse("marketplace:dashboard")


# --- caching ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "relay:inbox",
        "marketplace:dashboard",
        "contacts:channels",
        "api:tokens",
        "contacts:add_phone",
    ],
)
def test_no_page_for_a_logged_in_user_is_kept_by_the_browser(
    seller_client: Any, url_name: str
) -> None:
    response = seller_client.get(reverse(url_name))
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control


def test_the_log_out_answer_is_not_kept_either(seller_client: Any) -> None:
    response = seller_client.post(reverse("contacts:logout"))
    assert "no-store" in response["Cache-Control"]


def test_public_pages_for_anonymous_visitors_stay_cacheable(client: Any, db: None) -> None:
    response = client.get(reverse("marketplace:home"))
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_browser_that_refuses_cookies_is_told_so_instead_of_looping(seller: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    token = open_login_form(browser)
    del browser.cookies["csrftoken"]
    response = log_in(browser, token)
    assert response.status_code == 403
    assert "accepts cookies" in response.content.decode()
