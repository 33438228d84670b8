"""Relay business operations. Import from here: `from relay import services`."""

from relay.services.errors import RelayError
from relay.services.identities import (
    add_relay_identity,
    list_relay_identities,
    set_relay_identity_active,
)
from relay.services.statuses import accept_status

__all__ = [
    "RelayError",
    "accept_status",
    "add_relay_identity",
    "list_relay_identities",
    "set_relay_identity_active",
]
