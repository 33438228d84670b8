"""The adapter registry: one adapter per channel, configured from settings.PLATFORMS."""

from __future__ import annotations

from django.conf import settings

from relay.adapters.base import Adapter, PlatformConfig
from relay.adapters.instagram import InstagramAdapter
from relay.adapters.messenger import MessengerAdapter
from relay.adapters.sms import SmsAdapter
from relay.adapters.whatsapp import WhatsAppAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    "whatsapp": WhatsAppAdapter,
    "messenger": MessengerAdapter,
    "instagram": InstagramAdapter,
    "sms": SmsAdapter,
}


class PlatformDisabled(LookupError):
    """The platform has no credentials configured, so it is off."""


def platform_config(channel: str) -> PlatformConfig:
    raw = dict(settings.PLATFORMS.get(channel, {}))
    raw.setdefault("timeout_seconds", settings.RELAY_HTTP_TIMEOUT_SECONDS)
    return PlatformConfig(channel=channel, **raw)  # type: ignore[arg-type]


def adapter_for(channel: str) -> Adapter:
    """The adapter for a channel; raises PlatformDisabled when the platform is not configured."""
    if channel not in ADAPTERS:
        raise PlatformDisabled(channel)
    config = platform_config(channel)
    if not config.enabled:
        raise PlatformDisabled(channel)
    return ADAPTERS[channel](config)
