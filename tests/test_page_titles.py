"""Every page is titled "<page> · Perantara", once; the favicon is there; the API tokens page
shows its header example literally and fits a phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "the page has no <title>"
    return " ".join(match.group(1).split())


def test_every_page_template_names_its_own_title() -> None:
    untitled = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if not path.name.startswith("_")  # a layout (errors/_page.html); its pages have titles
        and '{% extends "base.html" %}' in (text := path.read_text())
        and "{% block title %}" not in text
    ]
    assert not untitled, f"these pages would be titled 'Perantara · Perantara': {untitled}"


@pytest.mark.parametrize(
    ("url_name", "expected"),
    [
        ("marketplace:home", "Sell without sharing your number · Perantara"),
        ("contacts:login", "Log in · Perantara"),
        ("contacts:signup", "Sign up · Perantara"),
        ("contacts:password_reset", "Reset password · Perantara"),
        ("contacts:password_reset_done", "Check your email · Perantara"),
        ("relay:privacy", "Your data · Perantara"),
    ],
)
def test_public_pages_say_what_they_are_then_perantara_once(
    client: Any, db: None, url_name: str, expected: str
) -> None:
    assert title(client.get(reverse(url_name)).content.decode()) == expected


@pytest.mark.parametrize(
    ("url_name", "expected"),
    [
        ("marketplace:dashboard", "Your listings · Perantara"),
        ("relay:inbox", "Inbox · Perantara"),
        ("contacts:channels", "Channels · Perantara"),
        ("contacts:add_phone", "Add a phone number · Perantara"),
        ("api:tokens", "API tokens · Perantara"),
    ],
)
def test_a_sellers_pages_say_what_they_are_then_perantara_once(
    seller_client: Any, url_name: str, expected: str
) -> None:
    html = seller_client.get(reverse(url_name)).content.decode()
    assert title(html) == expected
    assert title(html).count("Perantara") == 1


def test_every_page_links_the_favicon(client: Any, db: None) -> None:
    html = client.get(reverse("marketplace:home")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    favicon = client.get("/static/favicon.svg")
    assert favicon.status_code == 200
    assert b"<svg" in b"".join(favicon.streaming_content)


def test_the_tokens_page_shows_the_header_with_its_placeholder(seller_client: Any) -> None:
    html = seller_client.get(reverse("api:tokens")).content.decode()
    assert "Authorization: Bearer &lt;token&gt;" in html
    assert "<token>" not in html  # a browser would swallow it as an unknown tag
