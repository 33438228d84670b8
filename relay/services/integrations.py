"""Outbound webhooks for integrators: signed, timestamped POSTs of metadata, retried.

Payloads carry codes, times and channels only: never a message body, a phone number or a
platform id (privacy invariant 1). The broker carries the delivery row's id only.

Webhook URLs pass the SSRF guard (relay/adapters/url_guard.py) when registered and again at
every send, since DNS answers and RELAY_OUTBOUND_ALLOWED_NETWORKS can change in between; the
POST goes to the address the guard checked, and a redirect is a failure, never followed.

Signature: `X-Perantara-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`
with `X-Perantara-Timestamp: <unix seconds>`; receivers should reject stale timestamps.

The secret is sealed in the address vault (associated data `integrator-webhook:<code>`) and
opened only to sign a delivery. Its owner sees it once, when the webhook is added or its secret
rotated; afterwards only its first 8 characters are shown.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import random
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from contacts import vault
from contacts.models import User
from relay.adapters import http, url_guard
from relay.adapters.base import TransientSendError
from relay.models import (
    IntegratorWebhook,
    IntegratorWebhookDelivery,
    Message,
    Report,
)
from relay.services import snapshot
from relay.services.errors import RelayError

EVENTS = ("conversation.created", "message.created", "report.resolved")
State = IntegratorWebhookDelivery.State


# --- Managing webhooks ------------------------------------------------------------------------


class UnsafeWebhookUrl(RelayError):
    """The URL is not one the relay will call (see relay/adapters/url_guard.py)."""


@dataclass(frozen=True)
class IssuedWebhookSecret:
    """A webhook and its signing secret in plaintext: show the secret to its owner now, once."""

    webhook: IntegratorWebhook
    secret: str


def _secret_aad(code: str) -> bytes:
    return f"integrator-webhook:{code}".encode()


def _seal_new_secret(webhook: IntegratorWebhook) -> str:
    """Draw a secret, seal it onto the (unsaved) row, and return it in plaintext."""
    secret = secrets.token_hex(32)
    webhook.secret_sealed = vault.seal(secret.encode(), aad=_secret_aad(webhook.code))
    webhook.secret_prefix = secret[:8]
    return secret


def webhook_secret(webhook: IntegratorWebhook) -> str:
    """The signing secret, opened from the vault. Raises vault.VaultError once it was erased."""
    if webhook.secret_sealed is None:
        raise vault.VaultError("the webhook's secret was erased")
    return vault.open_sealed(webhook.secret_sealed, aad=_secret_aad(webhook.code)).decode()


def reseal_webhook_secret(webhook: IntegratorWebhook) -> bool:
    """Re-seal the secret under the current key id (rotate_keys); False if already there."""
    assert webhook.secret_sealed is not None
    if vault.sealed_key_id(webhook.secret_sealed) == vault.current_key_id():
        return False
    webhook.secret_sealed = vault.seal(
        webhook_secret(webhook).encode(), aad=_secret_aad(webhook.code)
    )
    webhook.save(update_fields=["secret_sealed"])
    return True


def add_integrator_webhook(*, user: User, url: str) -> IssuedWebhookSecret:
    """Register `url` for the user's events; raise `UnsafeWebhookUrl` saying why it is refused
    (not http(s), a user name in it, or a host that is or resolves to a non-public address)."""
    try:
        checked = url_guard.check_url(url)
    except url_guard.RefusedUrl as refused:
        raise UnsafeWebhookUrl(refused.message) from None
    snapshot.invalidate()
    webhook = IntegratorWebhook(user=user, url=checked.url)
    secret = _seal_new_secret(webhook)
    webhook.save()
    return IssuedWebhookSecret(webhook=webhook, secret=secret)


def rotate_integrator_webhook_secret(*, user: User, code: str) -> IssuedWebhookSecret | None:
    """Replace an active webhook's secret; the old one stops verifying at once. None if the
    user has no such webhook."""
    with transaction.atomic():
        webhook = (
            IntegratorWebhook.objects.select_for_update()
            .filter(user=user, code=code, active=True)
            .first()
        )
        if webhook is None:
            return None
        secret = _seal_new_secret(webhook)
        webhook.save(update_fields=["secret_sealed", "secret_prefix"])
    return IssuedWebhookSecret(webhook=webhook, secret=secret)


def remove_integrator_webhook(*, user: User, webhook_id: int) -> bool:
    """Deactivate the webhook and drop its sealed secret: nothing is signed with it again."""
    snapshot.invalidate()
    return bool(
        IntegratorWebhook.objects.filter(user=user, pk=webhook_id, active=True).update(
            active=False, secret_sealed=None, secret_prefix=""
        )
    )


def erase_integrator_webhooks(*, user: User) -> int:
    """Deactivate the user's webhooks and drop their sealed secrets (account deletion):
    nothing signed in the user's name can be sent afterwards. Returns how many were erased."""
    snapshot.invalidate()
    return IntegratorWebhook.objects.filter(user=user).update(
        active=False, secret_sealed=None, secret_prefix=""
    )


# --- Events ---------------------------------------------------------------------------------


def notify_integrators(user: User | int, event: str, payload: dict[str, Any]) -> int:
    """Queue `event` to each of the user's active webhooks; return how many were queued.

    `payload` must be metadata only (codes, times, channel). Safe to call inside or outside a
    transaction: the task is published after commit.
    """
    assert event in EVENTS, event
    user_id = user if isinstance(user, int) else user.pk
    webhooks = list(IntegratorWebhook.objects.filter(user_id=user_id, active=True))
    ids = [
        IntegratorWebhookDelivery.objects.create(
            webhook=webhook, event=event, payload=payload, next_attempt_at=timezone.now()
        ).pk
        for webhook in webhooks
    ]
    for delivery_id in ids:
        transaction.on_commit(functools.partial(publish_webhook_delivery, delivery_id))
    return len(ids)


def message_relayed(message_id: int) -> None:
    """A message was stored on a seller's listing: tell that seller's integrators.

    Called on commit by `relay_message`; the first message of a conversation also announces
    the conversation.
    """
    message = (
        Message.objects.select_related("conversation__listing")
        .filter(pk=message_id)
        .only(
            "uid",
            "sender_side",
            "channel",
            "created_at",
            "conversation__code",
            "conversation__created_at",
            "conversation__listing__code",
            "conversation__listing__seller_id",
        )
        .first()
    )
    if message is None:
        return
    conversation = message.conversation
    seller_id = conversation.listing.seller_id
    if not IntegratorWebhook.objects.filter(user_id=seller_id, active=True).exists():
        return
    base = {"conversation": conversation.code, "listing": conversation.listing.code}
    first = not Message.objects.filter(conversation=conversation, pk__lt=message.pk).exists()
    if first:
        notify_integrators(
            seller_id,
            "conversation.created",
            {**base, "created_at": conversation.created_at.isoformat()},
        )
    notify_integrators(
        seller_id,
        "message.created",
        {
            **base,
            "message": str(message.uid),
            "sender_side": message.sender_side,
            "channel": message.channel,
            "created_at": message.created_at.isoformat(),
        },
    )


def report_resolved(report_id: int) -> None:
    """A moderator decided a report: tell the integrators of the listing's seller."""
    report = Report.objects.select_related("listing", "conversation").filter(pk=report_id).first()
    if report is None or report.listing is None:
        return
    notify_integrators(
        report.listing.seller_id,
        "report.resolved",
        {
            "report": report.code,
            "listing": report.listing.code,
            "conversation": report.conversation.code if report.conversation else None,
            "reported_side": report.reported_side,
            "resolution": report.resolution,
            "resolved_at": report.resolved_at.isoformat() if report.resolved_at else None,
        },
    )


# --- Delivery -------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@dataclass(frozen=True)
class WebhookResult:
    outcome: str  # delivered | retry | failed | skipped
    retry_in: float | None = None


def _backoff(attempts: int) -> float:
    base = settings.RELAY_RETRY_BASE_SECONDS * (2 ** max(0, attempts - 1))
    return min(settings.RELAY_RETRY_MAX_SECONDS, base) * random.uniform(0.8, 1.2)


def claim_lease() -> dt.timedelta:
    """How long a claim holds: the POST's connect and read timeouts plus a margin for the
    database writes around it and clock skew between workers. Past it the sweeper reclaims."""
    connect, read = http.timeouts(settings.RELAY_HTTP_TIMEOUT_SECONDS)
    return dt.timedelta(seconds=connect + read + settings.API_WEBHOOK_CLAIM_MARGIN_SECONDS)


def deliver_webhook(*, delivery_id: int) -> WebhookResult:
    """Send one delivery. Claims the row by compare-and-set with a lease, so a duplicate task
    is a no-op and a worker that dies mid-POST is replaced once the lease runs out."""
    lease_ends = timezone.now() + claim_lease()
    claimed = IntegratorWebhookDelivery.objects.filter(pk=delivery_id, state=State.PENDING).update(
        state=State.SENDING, claimed_until=lease_ends
    )
    if not claimed:
        return WebhookResult("skipped")
    delivery = IntegratorWebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    delivery.attempts += 1
    if not delivery.webhook.active:
        delivery.state = State.FAILED
        delivery.last_error = "webhook removed"
        _finish(delivery, lease_ends)
        return WebhookResult("failed")
    answer = _post(delivery)
    if answer == "delivered":
        _finish(delivery, lease_ends)
        return WebhookResult("delivered")
    if answer == "transient" and delivery.attempts < settings.API_WEBHOOK_MAX_ATTEMPTS:
        retry_in = _backoff(delivery.attempts)
        delivery.state = State.PENDING
        delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=retry_in)
        if not _finish(delivery, lease_ends):
            return WebhookResult("skipped")
        return WebhookResult("retry", retry_in)
    delivery.state = State.FAILED
    delivery.next_attempt_at = None
    _finish(delivery, lease_ends)
    return WebhookResult("failed")


def _finish(delivery: IntegratorWebhookDelivery, lease_ends: dt.datetime) -> bool:
    """Write the attempt's outcome if this worker still holds the claim; return whether it did.

    A POST that outlived its lease was handed to another worker by the sweeper: that worker's
    outcome is the one that counts (the receiver dedupes on the `delivery` id it got twice).
    """
    return bool(
        IntegratorWebhookDelivery.objects.filter(
            pk=delivery.pk, state=State.SENDING, claimed_until=lease_ends
        ).update(
            state=delivery.state,
            attempts=delivery.attempts,
            status_code=delivery.status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            claimed_until=None,
        )
    )


def sweep_integrator_webhooks(*, now: dt.datetime | None = None) -> int:
    """Re-publish deliveries a lost publish or a dead worker left behind; return how many.

    A `sending` row whose claim's lease ran out goes back to pending, its lost attempt counted
    (at least once: the receiver may get it twice and dedupes on the `delivery` id), or fails
    once that was the last attempt. A `pending` row whose next attempt is more than
    RELAY_SWEEP_PENDING_SECONDS overdue lost its publish: it is published again (a duplicate
    task finds the row claimed and does nothing).
    """
    now = now or timezone.now()
    # No lease: claimed by a worker older than the claimed_until column; treat it as run out.
    lapsed = Q(state=State.SENDING) & (Q(claimed_until__lt=now) | Q(claimed_until__isnull=True))
    reclaimed = list(
        IntegratorWebhookDelivery.objects.filter(lapsed).values_list("pk", flat=True)[:1000]
    )
    if reclaimed:
        lost = IntegratorWebhookDelivery.objects.filter(lapsed, pk__in=reclaimed)
        lost.filter(attempts__gte=settings.API_WEBHOOK_MAX_ATTEMPTS - 1).update(
            state=State.FAILED,
            attempts=F("attempts") + 1,
            last_error="the worker sending it stopped",
            next_attempt_at=None,
            claimed_until=None,
        )
        lost.update(
            state=State.PENDING, attempts=F("attempts") + 1, next_attempt_at=now, claimed_until=None
        )
    overdue = now - dt.timedelta(seconds=settings.RELAY_SWEEP_PENDING_SECONDS)
    unpublished = IntegratorWebhookDelivery.objects.filter(state=State.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=overdue)
    )
    stuck = set(unpublished.values_list("pk", flat=True)[:1000])
    stuck.update(
        IntegratorWebhookDelivery.objects.filter(pk__in=reclaimed, state=State.PENDING).values_list(
            "pk", flat=True
        )
    )
    for delivery_id in sorted(stuck):
        publish_webhook_delivery(delivery_id)
    return len(stuck)


def _signed_request(delivery: IntegratorWebhookDelivery) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "event": delivery.event,
            "delivery": delivery.pk,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Perantara-Event": delivery.event,
        "X-Perantara-Timestamp": timestamp,
        "X-Perantara-Signature": sign(webhook_secret(delivery.webhook), timestamp, body),
    }
    return body, headers


def _post(delivery: IntegratorWebhookDelivery) -> str:
    """POST the delivery and record the answer on it (unsaved): delivered | transient |
    permanent.

    The URL is checked again first: a refused one fails permanently with the guard's reason and
    nothing is sent; a host name that does not resolve now is retried (DNS has bad minutes).
    """
    try:
        checked = url_guard.check_url(delivery.webhook.url)
    except url_guard.RefusedUrl as refused:
        delivery.status_code = None
        delivery.last_error = refused.reason
        return "transient" if isinstance(refused, url_guard.HostNotFound) else "permanent"
    try:
        body, headers = _signed_request(delivery)
    except vault.VaultError:
        delivery.status_code = None
        delivery.last_error = "the signing secret does not open"
        return "permanent"
    try:
        response = http.post(
            checked,
            content=body,
            headers=headers,
            timeout=settings.RELAY_HTTP_TIMEOUT_SECONDS,
        )
    except TransientSendError as error:
        delivery.status_code = None
        delivery.last_error = error.reason[:200]
        return "transient"
    delivery.status_code = response.status_code
    if 300 <= response.status_code < 400:
        # Following it would go to an address nobody checked; the integrator must give the
        # final URL.
        delivery.last_error = f"redirect not followed (HTTP {response.status_code})"
        return "permanent"
    delivery.last_error = "" if response.ok else f"HTTP {response.status_code}"
    if response.ok:
        delivery.state = State.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
        return "delivered"
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        return "transient"
    return "permanent"


def publish_webhook_delivery(delivery_id: int, countdown: float = 0.0) -> None:
    """Publish the delivery task now; callers inside a transaction wrap this in on_commit."""
    from relay.tasks import deliver_integrator_webhook

    deliver_integrator_webhook.apply_async((delivery_id,), countdown=countdown)
