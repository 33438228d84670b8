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
from relay.models.e2ee import DeviceKey
from relay.models.media import MediaFile
from relay.models.media_fetch import MediaFetch
from relay.models.moderation import AuditEntry, Ban, LegalHold, Report, Sanction

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Ban",
    "Conversation",
    "Delivery",
    "DeviceKey",
    "EarlyStatus",
    "IdempotencyRecord",
    "IntegratorWebhook",
    "IntegratorWebhookDelivery",
    "LegalHold",
    "MediaFetch",
    "MediaFile",
    "Message",
    "RelayIdentity",
    "Report",
    "Sanction",
    "Side",
    "SmsOptOut",
]
