"""Reports, sanctions, bans, legal holds and the append-only audit log.

Evidence, reporters' notes, moderators' notes and legal-hold reasons are sealed to the report's
own key pair, whose private half is stored wrapped to a moderation key
(relay/evidence_crypto.py): the database, operators and the relay pipeline cannot read them,
only the processes holding a moderation private key, and every opening of evidence writes an
audit row. Shredding a report deletes its wrapped key and ciphertexts.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from contacts.models import Endpoint, random_code
from marketplace.models import Listing
from relay.models.core import Conversation, Side


class Report(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam")
        SCAM = "scam", _("Scam or fraud")
        HARASSMENT = "harassment", _("Harassment")
        PROHIBITED = "prohibited", _("Prohibited item")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        AWAITING_REASON = "awaiting", _("Waiting for the reporter's reason")
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")

    code = models.CharField(max_length=12, unique=True, default=random_code, editable=False)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    listing = models.ForeignKey(
        Listing, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    reporter_side = models.CharField(max_length=8, choices=[*Side.choices, ("public", "Public")])
    reporter_endpoint = models.ForeignKey(
        Endpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_side = models.CharField(max_length=8, choices=Side.choices)
    # Who is reported: a buyer's endpoint, or the seller (the listing's owner).
    reported_endpoint = models.ForeignKey(
        Endpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=12, choices=Reason.choices, blank=True)
    # The report key: private half wrapped to a moderation key (names its key id), public half
    # plain so that sealing-only processes can add notes. Both NULL once shredded.
    wrapped_key = models.BinaryField(null=True, blank=True)
    public_key = models.BinaryField(null=True, blank=True)
    note_sealed = models.BinaryField(null=True, blank=True)
    evidence_sealed = models.BinaryField(null=True, blank=True)
    evidence_shredded_at = models.DateTimeField(null=True, blank=True)
    evidence_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    urgent = models.BooleanField(default=False)
    automatic = models.BooleanField(default=False)  # filed by an abuse limit, not a person
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["reported_endpoint", "created_at"]),
            models.Index(fields=["reported_user", "created_at"]),
        ]
        permissions = [("unmask_address", "Can reveal a participant's real address")]


class Sanction(models.Model):
    """A warning or a suspension of one participant (an endpoint, or a seller account)."""

    class Kind(models.TextChoices):
        WARN = "warn", _("Warning")
        SUSPEND = "suspend", _("Suspension")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    endpoint = models.ForeignKey(
        Endpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="sanctions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sanctions",
    )
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL)
    until = models.DateTimeField(null=True, blank=True)
    automatic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)


class Ban(models.Model):
    """A banned address, by blind index only: re-registering the same number is refused."""

    blind_index = models.CharField(max_length=64)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["blind_index"])]


class LegalHold(models.Model):
    """While active (not released, `until` in the future) neither purge nor account erasure
    shreds the report's evidence; afterwards the normal schedule applies."""

    code = models.CharField(max_length=12, unique=True, default=random_code, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="legal_holds")
    reason_sealed = models.BinaryField(null=True, blank=True)  # under the report's key
    until = models.DateTimeField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["report", "until"])]


class AppendOnly(Exception):
    """The audit log is never updated or deleted through the app."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries cannot be deleted")


class AuditEntry(models.Model):
    action = models.CharField(max_length=64)  # e.g. "relay.report.resolved"
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_type = models.CharField(max_length=32)
    target_code = models.CharField(max_length=32)
    # A moderator's typed reason for an action on a report is sealed under the report's key
    # (reason_sealed) and dies with it; `reason` stays for system text and non-report rows.
    reason = models.TextField(blank=True)
    reason_sealed = models.BinaryField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)  # pseudonyms and codes only, never an address
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnly("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries cannot be deleted")
