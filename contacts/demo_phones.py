"""The demo's simulated phones for every seller who signs up (`make run` only).

In the demo the platforms are the sandbox, and a seller who signs up has no phone there, so
they could not try the relay from their own side. With DEMO_SELLER_PHONES on (DEBUG with
PLATFORM_SANDBOX_URL set, as `make run` has it), signing up adds a WhatsApp number and an
Instagram account for them to the sandbox and connects both to their account, WhatsApp
preferred, as the seeded seller's are. The sandbox is a platform: it is reached over its HTTP
control API only, never imported (pyproject's import-linter contracts).

The numbers are made up (+62 813 and eight random digits; Instagram ids like the sandbox's
own), checked against the endpoints already stored. They are not logged: they are numbers like
any other to the relay's rules.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import transaction
from django.utils import translation

from contacts import services
from contacts.models import Channel, User

logger = logging.getLogger(__name__)
TIMEOUTS = (2.0, 5.0)  # connect, read: the sandbox is on loopback; signup must not hang on it
ATTEMPTS = 5


class DemoPhonesUnavailable(Exception):
    """The sandbox did not take the new phones; the account exists without them."""


@dataclass(frozen=True)
class DemoPhones:
    phones_url: str  # the sandbox's phones page
    name: str  # how the phones page lists the seller


def enabled() -> bool:
    return bool(getattr(settings, "DEMO_SELLER_PHONES", False) and settings.PLATFORM_SANDBOX_URL)


def give_demo_phones(*, user: User) -> DemoPhones:
    """Create the seller's WhatsApp and Instagram in the sandbox and connect them.

    Call only when `enabled()`. Raise DemoPhonesUnavailable when the sandbox refuses or does
    not answer; then nothing is connected (a channel that leads nowhere would lose replies).
    """
    base = settings.PLATFORM_SANDBOX_URL.rstrip("/")
    # The username too: two sellers may share a display name, and the page lists everyone.
    shown = f"{user.display_name} · {user.username}" if user.display_name else user.username
    name = f"{shown} (seller)"
    key = re.sub(r"[^a-z0-9]+", "-", user.username.lower()).strip("-") or str(user.pk)
    addresses = {
        Channel.WHATSAPP: _unused("whatsapp", lambda: "+62813" + _digits(8)),
        Channel.INSTAGRAM: _unused("instagram", lambda: "97" + _digits(14)),
    }
    language = (translation.get_language() or "en").split("-")[0]
    people = [
        {
            "key": f"{key}-{'wa' if channel == Channel.WHATSAPP else 'ig'}",
            "name": name,
            "channel": str(channel),
            "address": address,
            "language": language,
        }
        for channel, address in addresses.items()
    ]
    try:
        response = requests.post(
            f"{base}/control/people", json={"people": people}, timeout=TIMEOUTS
        )
        response.raise_for_status()
    except requests.RequestException as error:
        # Only the error's class: its text could carry the request, and the numbers are in it.
        logger.warning("demo phones: the sandbox did not take them (%s)", type(error).__name__)
        raise DemoPhonesUnavailable from error
    with transaction.atomic():
        for channel, address in addresses.items():  # WhatsApp first: it becomes preferred
            endpoint, _created = services.get_or_create_endpoint(
                channel=str(channel), address=address
            )
            services.claim_endpoint(user=user, endpoint=endpoint)
    return DemoPhones(phones_url=base + "/", name=name)


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def _unused(channel: str, make: Callable[[], str]) -> str:
    """A made-up address no stored endpoint has (a collision is unlikely; it is checked)."""
    for _attempt in range(ATTEMPTS):
        address = make()
        if services.find_endpoint(channel=channel, address=address) is None:
            return address
    raise DemoPhonesUnavailable("no free made-up address")
