from __future__ import annotations

from contacts.models import PHONE_CHANNELS, Channel
from contacts.phones import InvalidPhoneNumber, normalize_phone
from relay.models import RelayIdentity
from relay.services import snapshot
from relay.services.errors import RelayError


def add_relay_identity(
    *, channel: str, provider_id: str, address: str, label: str = "", page_id: str = ""
) -> RelayIdentity:
    """Add or update one of the relay's own accounts. `page_id`: an Instagram account reached
    through its Facebook Page (Messenger Platform's Instagram Messaging) sends via the Page."""
    if channel not in Channel.values or channel == Channel.WEB:
        raise RelayError(
            f"channel must be one of whatsapp, messenger, instagram, sms, got {channel!r}"
        )
    if channel in PHONE_CHANNELS:
        try:
            address = normalize_phone(address, region="US", strict=False)
        except InvalidPhoneNumber as error:
            raise RelayError(f"address: {error.message}") from None
    if channel == Channel.SMS:
        provider_id = address
    if not provider_id.strip():
        raise RelayError("provider id is required")
    if page_id and channel != Channel.INSTAGRAM:
        raise RelayError("a page id is only for an Instagram account reached through its Page")
    snapshot.invalidate()
    identity, _created = RelayIdentity.objects.update_or_create(
        channel=channel,
        provider_id=provider_id.strip(),
        defaults={
            "address": address.strip(),
            "label": label,
            "active": True,
            "page_id": page_id.strip(),
        },
    )
    return identity


def list_relay_identities() -> list[RelayIdentity]:
    return list(RelayIdentity.objects.order_by("channel", "id"))


def set_relay_identity_active(*, channel: str, provider_id: str, active: bool) -> bool:
    snapshot.invalidate()
    return bool(
        RelayIdentity.objects.filter(channel=channel, provider_id=provider_id).update(active=active)
    )
