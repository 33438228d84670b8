"""Production error pages (the suite runs with DEBUG off): branded, in the user's language,
each with a way onward; the CSRF failure explains itself instead of pointing at DEBUG=True."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from contacts.models import User


def title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "the page has no <title>"
    return match.group(1).strip()


def test_the_suite_sees_the_production_pages() -> None:
    assert settings.DEBUG is False


@pytest.mark.parametrize(
    ("language", "heading", "page_title", "button"),
    [
        ("en", "We could not find that page", "Page not found · Perantara", "Go to the home page"),
        (
            "id",
            "Kami tidak menemukan halaman itu",
            "Halaman tidak ditemukan · Perantara",
            "Ke halaman utama",
        ),
    ],
)
def test_a_missing_page_is_a_branded_404_in_the_users_language(
    client: Any, db: None, language: str, heading: str, page_title: str, button: str
) -> None:
    response = client.get("/no-such-page/", headers={"accept-language": language})
    html = response.content.decode()
    assert response.status_code == 404
    assert f'<html lang="{language}">' in html
    assert heading in html and button in html
    assert title(html) == page_title
    assert "The requested resource was not found" not in html  # Django's bare default


def test_a_logged_in_seller_gets_a_way_back_to_their_inbox_from_a_404(seller_client: Any) -> None:
    html = seller_client.get("/no-such-page/").content.decode()
    assert reverse("relay:inbox") in html and "Open your inbox" in html


@pytest.mark.parametrize(
    ("language", "heading", "hint"),
    [
        ("en", "You cannot open this page", "log in to see it"),
        ("id", "Anda tidak bisa membuka halaman ini", "masuk untuk melihatnya"),
    ],
)
def test_a_page_for_moderators_is_a_branded_403_with_a_log_in_link(
    client: Any, db: None, language: str, heading: str, hint: str
) -> None:
    queue = reverse("relay:moderation_queue")
    response = client.get(queue, headers={"accept-language": language})
    html = response.content.decode()
    assert response.status_code == 403
    assert heading in html and hint in html
    assert f"{reverse('contacts:login')}?next={queue}" in html
    assert "Moderators only" not in html  # the exception's English text stays internal


def test_a_seller_on_a_moderator_page_is_told_it_is_not_theirs(seller_client: Any) -> None:
    response = seller_client.get(
        reverse("relay:moderation_queue"), headers={"accept-language": "id"}
    )
    assert response.status_code == 403
    assert "khusus untuk moderator" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "We could not read that request"), ("id", "Kami tidak bisa membaca permintaan itu")],
)
def test_a_request_for_another_host_is_a_branded_400(db: None, language: str, heading: str) -> None:
    response = Client().get("/", headers={"host": "evil.example", "accept-language": language})
    html = response.content.decode()
    assert response.status_code == 400
    assert heading in html
    assert "Bad Request (400)" not in html


@pytest.mark.urls("tests.config.error_urls")
@pytest.mark.parametrize(
    ("language", "heading", "page_title"),
    [
        ("en", "Something went wrong on our side", "Something went wrong · Perantara"),
        ("id", "Terjadi kesalahan di sistem kami", "Terjadi kesalahan · Perantara"),
    ],
)
def test_a_bug_is_a_branded_500_in_the_users_language(
    db: None, language: str, heading: str, page_title: str
) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/test-bug/", headers={"accept-language": language})
    html = response.content.decode()
    assert response.status_code == 500
    assert heading in html and title(html) == page_title
    assert "a bug in a view" not in html
    assert "Server Error (500)" not in html


@pytest.mark.urls("tests.config.error_urls")
def test_a_database_outage_still_answers_503_with_retry_after(db: None) -> None:
    response = Client(raise_request_exception=False).get("/test-database-away/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


# --- CSRF failures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "heading", "back"),
    [
        ("en", "This form has expired", "Go back and try again"),
        ("id", "Formulir ini sudah kedaluwarsa", "Kembali dan coba lagi"),
    ],
)
def test_a_form_without_a_valid_token_explains_itself_and_links_back(
    seller: User, language: str, heading: str, back: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(seller)
    channels = "http://testserver" + reverse("contacts:channels")
    response = client.post(
        reverse("contacts:add_phone"),
        {"channel": "whatsapp", "region": "ID", "number": "0812 3456 7890"},
        headers={"accept-language": language, "referer": channels},
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert heading in html and back in html
    assert f'href="{channels}" data-testid="csrf-back"' in html
    assert "DEBUG" not in html and "CSRF verification failed" not in html
    assert not seller.endpoints.exclude(channel="web").exists()  # nothing was saved


def test_the_way_back_never_leads_to_another_site(seller: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(seller)
    response = client.post(
        reverse("contacts:add_phone"), {}, headers={"referer": "https://evil.example/phish"}
    )
    assert response.status_code == 403
    assert "evil.example" not in response.content.decode()
    assert 'href="/" data-testid="csrf-back"' in response.content.decode()


@pytest.mark.urls("tests.config.error_urls")
def test_a_refused_request_inside_a_view_is_the_same_branded_400(db: None) -> None:
    response = Client(raise_request_exception=False).get(
        "/test-suspicious/", headers={"accept-language": "id"}
    )
    assert response.status_code == 400
    assert "Kami tidak bisa membaca permintaan itu" in response.content.decode()
