from relay.models.core import (
    Conversation,
    Delivery,
    Message,
    RelayHandle,
    RelayIdentity,
    Side,
)
from relay.models.moderation import AuditEntry, Ban, Report, Sanction

__all__ = [
    "AuditEntry",
    "Ban",
    "Conversation",
    "Delivery",
    "Message",
    "RelayHandle",
    "RelayIdentity",
    "Report",
    "Sanction",
    "Side",
]
