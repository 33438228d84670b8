"""An integrator's world: sellers with API tokens, listings, and buyers writing from the web."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from contacts.models import Endpoint, User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay.api import tokens
from relay.models import Conversation
from relay.pipeline import roads
from relay.services import web

SENT_CODES: list[tuple[str, str]] = []


def collect_code(endpoint: Endpoint, code: str) -> None:
    """VERIFICATION_SENDER for these tests: keep the code instead of sending it."""
    SENT_CODES.append((endpoint.code, code))


class Api:
    """A JSON client for /api/ with a bearer token."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.secret = secret

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if self.secret:
            merged.setdefault("Authorization", f"Bearer {self.secret}")
        return merged

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self._headers(None))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(headers),
        )

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", headers=self._headers(None)
        )

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self._headers(None))


@dataclass
class Shop:
    seller: User
    api: Api
    listing: Listing
    conversation: Conversation


def open_shop(seller: User, title: str) -> Shop:
    listing = marketplace.create_listing(
        seller=seller, title=title, price=Decimal("3500000"), city="Bandung"
    )
    buyer = web.browser_endpoint(signed=None, language="en")
    started = roads.start_chat(
        listing=listing, text="Is it still available?", buyer=buyer, network_key="test"
    )
    assert started.conversation is not None
    conversation = started.conversation
    secret = tokens.create_api_token(user=seller, name="backend").secret
    return Shop(seller, Api(secret), listing, conversation)


@pytest.fixture
def shop(seller: User) -> Shop:
    return open_shop(seller, "Mountain bike")


@pytest.fixture
def other_shop(other_seller: User) -> Shop:
    return open_shop(other_seller, "Rice cooker")


@pytest.fixture
def moderator(db: None) -> User:
    user = User.objects.create_user(
        username="mod", email="mod@example.com", password="mod-password-123"
    )
    group, _created = Group.objects.get_or_create(name="moderator")
    user.groups.add(group)
    return user


@pytest.fixture
def codes(settings: Any) -> list[tuple[str, str]]:
    settings.VERIFICATION_SENDER = "tests.api.conftest.collect_code"
    SENT_CODES.clear()
    return SENT_CODES


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Every 4xx has the shape {"error": {"code", "message", "fields"}}."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body["error"])
