"""The relay's own public addresses, for pages that other apps render.

Contacts' channels page and a listing's public page show where to write; their views sit below
relay (the layers in pyproject.toml) and cannot import it, while templates sit above every
layer. Identities are public by design (models/core.py), so no participant's address is here.
"""

from __future__ import annotations

from django import template
from django.db.models import QuerySet

from relay.models import RelayIdentity
from relay.selectors import active_identities

register = template.Library()


@register.simple_tag
def relay_identities() -> QuerySet[RelayIdentity]:
    """`{% relay_identities as identities %}`: the active identities, by channel."""
    return active_identities()


@register.simple_tag
def message_links(handle_display: str) -> list[dict[str, object]]:
    """`{% message_links handle.display as links %}`: a deep link per active identity that
    opens its app with the handle typed in."""
    return [
        {"identity": identity, "url": identity.deep_link(handle_display)}
        for identity in active_identities()
    ]
