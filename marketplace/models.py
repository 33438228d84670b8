from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.public_text import public_text


def listing_code() -> str:
    return secrets.token_urlsafe(8)


class Listing(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        SOLD = "sold", _("Sold")
        CLOSED = "closed", _("Closed")

    class Currency(models.TextChoices):
        IDR = "IDR", "IDR (Rp)"
        USD = "USD", "USD ($)"
        EUR = "EUR", "EUR (€)"
        SGD = "SGD", "SGD (S$)"
        MYR = "MYR", "MYR (RM)"

    code = models.CharField(max_length=16, unique=True, default=listing_code, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listings"
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default="IDR"
    )
    city = models.CharField(_("city"), max_length=80, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    # Moderators can take a listing down; the seller then cannot reactivate it.
    taken_down = models.BooleanField(default=False)
    # The seller's choice for the number guard: mask numbers/e-mails typed in messages.
    mask_contact_details = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["seller", "status"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="listing_price_positive")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def public_title(self) -> str:
        """The title as buyers and notices show it: contact details typed into it hidden."""
        return public_text(self.title)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.ACTIVE and not self.taken_down


class RelayHandle(models.Model):
    """A listing's public code: what buyers type or tap to write to its seller."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        RETIRED = "retired", _("Retired")

    # Stored canonical: 8 Crockford base32 characters, upper case, no dash.
    code = models.CharField(max_length=16, unique=True)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="handles")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The model moved here from relay; its table and rows stayed where they were.
        db_table = "relay_relayhandle"
        constraints = [
            models.UniqueConstraint(
                fields=["listing"], condition=~models.Q(status="retired"), name="handle_one_live"
            )
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"


class ListingPhoto(models.Model):
    """A photo on a listing's public page, cleaned before it is kept (marketplace/images.py):
    no location, camera or time travels with it. Public, so kept in the clear, in
    MARKETPLACE_PHOTO_STORAGE under a random name."""

    MAX_PER_LISTING = 8

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveSmallIntegerField(default=0)  # 0 first; the first is the cover
    storage_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["listing", "position"])]

    def __str__(self) -> str:
        return f"Photo {self.pk} of {self.listing_id}"
