"""People and the addresses where they can be reached.

No column here holds a plaintext phone number or platform id: an address is sealed in
`Endpoint.address_sealed` and found through `Endpoint.blind_index`.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def random_code(length: int = 12) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


# The Django group whose members moderate (relay/moderation_views.py) and land on the queue.
MODERATOR_GROUP = "moderator"


class User(AbstractUser):
    """A seller, moderator or operator. Buyers need no account."""

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    language = models.CharField(max_length=8, default="en")
    # E-mail about new conversations and unread buyer messages (relay/services/notifications.py).
    # None until the seller chooses: then it follows their preferred channel, on for the web
    # inbox (the one channel that cannot tap them on the shoulder), off for the apps.
    email_notifications = models.BooleanField(null=True, blank=True, default=None)
    # An IANA zone name ("Asia/Makassar"); blank means RELAY_DEFAULT_USER_TIME_ZONE, so a seller
    # who never chose follows the operator's default if it changes. Storage stays in UTC.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    MESSENGER = "messenger", "Messenger"
    INSTAGRAM = "instagram", "Instagram"
    SMS = "sms", "SMS"
    WEB = "web", _("Web inbox")


PHONE_CHANNELS = (Channel.WHATSAPP, Channel.SMS)

# The languages the relay writes in (config/settings.py LANGUAGES has the same two).
RELAY_LANGUAGES = ("en", "id")


class LanguageSource(models.TextChoices):
    """How an endpoint's language was chosen, weakest first: a stronger source is never
    overwritten by a weaker guess (a buyer who sent ENGLISH stays English whatever their
    number's region or the keywords they use later)."""

    REGION = "region", _("the number's region")
    PLATFORM = "platform", _("the platform's locale")
    KEYWORD = "keyword", _("a keyword they wrote")
    CHOSEN = "chosen", _("BAHASA or ENGLISH")
    ACCOUNT = "account", _("the account setting")


LANGUAGE_SOURCE_RANK = {
    LanguageSource.REGION: 0,
    LanguageSource.PLATFORM: 1,
    LanguageSource.KEYWORD: 2,
    LanguageSource.CHOSEN: 3,
    LanguageSource.ACCOUNT: 3,
}


class Endpoint(models.Model):
    """One address on one channel. Created by a buyer's first message or a seller's verification."""

    code = models.CharField(max_length=12, unique=True, default=random_code, editable=False)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="endpoints"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    address_sealed = models.BinaryField()
    blind_index = models.CharField(max_length=64)
    # WhatsApp's business-scoped user id (BSUID), when the platform sends one: a second key.
    alternate_index = models.CharField(max_length=64, null=True, blank=True)
    verified = models.BooleanField(default=False)
    # When the owner last proved they hold it: removing the preferred channel falls back to the
    # most recently verified one, the address they most likely still read.
    verified_at = models.DateTimeField(null=True, blank=True)
    preferred = models.BooleanField(default=False)
    region = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=8, default="en")
    language_source = models.CharField(
        max_length=8, choices=LanguageSource.choices, default=LanguageSource.REGION
    )
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # A deep link (m.me/ig.me ?ref=, a WhatsApp referral) named a listing handle before this
    # person wrote: their next message goes to that listing. A public code, never an address.
    pending_referral = models.CharField(max_length=8, blank=True)
    opted_out = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "blind_index"], name="endpoint_unique_address"
            ),
            models.UniqueConstraint(
                fields=["channel", "alternate_index"],
                condition=Q(alternate_index__isnull=False),
                name="endpoint_unique_alternate",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(preferred=True), name="endpoint_one_preferred"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} endpoint {self.code}"


class VerificationCode(models.Model):
    """A 6-digit code proving a user holds an address; only its keyed hash is stored."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="codes")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verification_codes")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "user", "-sent_at"])]


class LinkCode(models.Model):
    """A one-time code a seller writes to the relay's page or account to connect that channel."""

    code = models.CharField(max_length=16, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="link_codes")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class DataRequestCode(models.Model):
    """A one-time code proving that someone holds an address before its data is exported or
    erased (buyers have no account: the code, sent through the relay, is their only proof).

    Only a keyed hash of the code is stored. `reference` is random and public: the page link a
    Messenger or Instagram buyer gets carries it (they do not know their own platform id), and
    the "Your data" page keeps it in the session while the code is typed.
    """

    reference = models.CharField(max_length=12, unique=True, default=random_code, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="data_codes")
    code_hash = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "-sent_at"])]
