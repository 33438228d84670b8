"""Relay business operations. Import from here: `from relay import services`."""

from relay.services.errors import RelayError
from relay.services.identities import (
    add_relay_identity,
    list_relay_identities,
    set_relay_identity_active,
)

__all__ = [
    "RelayError",
    "add_relay_identity",
    "list_relay_identities",
    "set_relay_identity_active",
]
