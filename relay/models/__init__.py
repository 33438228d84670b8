# RelayHandle is a listing's code and lives in marketplace (marketplace/models.py); this name
# stays for code written before the move. Relay may import marketplace, never the reverse.
from marketplace.models import RelayHandle
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
from relay.models.moderation import AuditEntry, Ban, Report, Sanction

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
    "Message",
    "RelayHandle",
    "RelayIdentity",
    "Report",
    "Sanction",
    "Side",
    "SmsOptOut",
]
