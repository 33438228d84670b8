"""The public API's rows: tokens, idempotency records, integrators' webhooks and their log."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A per-user bearer token. Only the sha256 of the secret is stored; the prefix is shown."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an `Idempotency-Key`, replayed on retries.

    Nothing here is readable on its own (privacy invariant 5): the key and the request are
    keyed hashes, and the response is sealed under a key derived from the client's raw
    Idempotency-Key, which is never stored (relay/api/idempotency.py). Deleting the row, as
    `purge` does after API_IDEMPOTENCY_HOURS and `delete_user` does at once, is the shredding.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=64)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_sealed = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key_hash"], name="idempotency_user_key_hash_unique"
            )
        ]


def new_webhook_code() -> str:
    return secrets.token_urlsafe(12)


class IntegratorWebhook(models.Model):
    """Where a seller's backend wants to hear about new conversations, messages and reports."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integrator_webhooks"
    )
    # The public id, and the sealed secret's associated data: known before the row is inserted.
    code = models.CharField(max_length=24, unique=True, default=new_webhook_code)
    url = models.URLField(max_length=500)
    # The HMAC-SHA256 signing secret, sealed in the address vault (aad
    # `integrator-webhook:<code>`); opened only to sign a delivery. Shown to its owner once.
    secret_sealed = models.BinaryField(null=True, blank=True)
    # The first characters of the secret, so the owner can tell which one is in use.
    secret_prefix = models.CharField(max_length=8, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class IntegratorWebhookDelivery(models.Model):
    """One event for one webhook. The payload is metadata only: codes, times, channel."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(
        IntegratorWebhook, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While `sending`: the claim's lease. A worker that dies mid-POST leaves the row sending;
    # once the lease has run out the sweeper puts it back to pending.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
