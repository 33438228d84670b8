from relay.models.api import (
    ApiToken,
    IdempotencyRecord,
    IntegratorWebhook,
    IntegratorWebhookDelivery,
)
from relay.models.core import (
    Conversation,
    Delivery,
    EarlyStatus,
    Message,
    RelayIdentity,
    Side,
    SmsOptOut,
)
from relay.models.moderation import AuditEntry, Ban, LegalHold, Report, Sanction

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Ban",
    "Conversation",
    "Delivery",
    "EarlyStatus",
    "IdempotencyRecord",
    "IntegratorWebhook",
    "IntegratorWebhookDelivery",
    "LegalHold",
    "Message",
    "RelayIdentity",
    "Report",
    "Sanction",
    "Side",
    "SmsOptOut",
]
