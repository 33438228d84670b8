"""Relay reads that depend on who asks."""

from __future__ import annotations

from django.db.models import QuerySet

from relay.models import RelayIdentity


def active_identities() -> QuerySet[RelayIdentity]:
    return RelayIdentity.objects.filter(active=True).order_by("channel", "id")
