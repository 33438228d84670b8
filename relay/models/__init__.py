from relay.models.api import (
    ApiToken,
    IdempotencyRecord,
    IntegratorWebhook,
    IntegratorWebhookDelivery,
)
from relay.models.core import (
    Conversation,
    Delivery,
    Message,
    RelayHandle,
    RelayIdentity,
    Side,
    SmsOptOut,
)
from relay.models.moderation import AuditEntry, Ban, Report, Sanction

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Ban",
    "Conversation",
    "Delivery",
    "IdempotencyRecord",
    "IntegratorWebhook",
    "IntegratorWebhookDelivery",
    "Message",
    "RelayHandle",
    "RelayIdentity",
    "Report",
    "Sanction",
    "Side",
    "SmsOptOut",
]
