"""Key rotation: re-seal everything the key ring protects under RELAY_KEY_CURRENT.

Four columns hold blobs sealed under a ring key: endpoint addresses, conversation data keys,
sealed notice parameters and integrator webhook signing secrets. Message bodies are sealed under
their conversation's data key, which does not change, so re-wrapping the data key is enough for
them.

The rotation runs while the relay serves traffic: the operator first adds the new key and
points RELAY_KEY_CURRENT at it (new data is sealed under it from then on), runs this, and
removes the old key from the ring only after `--check` shows nothing left under it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import models, transaction

from contacts import vault
from contacts.models import Endpoint
from contacts.services import reseal_endpoint
from relay import crypto
from relay.models import Conversation, Delivery, IntegratorWebhook
from relay.services.integrations import reseal_webhook_secret

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]


@dataclass
class RotationSummary:
    resealed: Counter[str] = field(default_factory=Counter)
    current: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)
    stopped_at_limit: bool = False

    @property
    def total_resealed(self) -> int:
        return sum(self.resealed.values())


def _reseal_conversation(conversation: Conversation) -> bool:
    assert conversation.wrapped_key is not None
    if vault.sealed_key_id(conversation.wrapped_key) == vault.current_key_id():
        return False
    conversation.wrapped_key = crypto.rewrap_key(conversation.wrapped_key, conversation.code)
    conversation.save(update_fields=["wrapped_key"])
    return True


def _reseal_delivery(delivery: Delivery) -> bool:
    assert delivery.sealed_params is not None
    if vault.sealed_key_id(delivery.sealed_params) == vault.current_key_id():
        return False
    # The associated data of relay.services.outbound.queue_notice.
    aad = f"notice:{delivery.recipient_endpoint_id}:{delivery.notice_code}".encode()
    delivery.sealed_params = vault.seal(vault.open_sealed(delivery.sealed_params, aad=aad), aad=aad)
    delivery.save(update_fields=["sealed_params"])
    return True


@dataclass(frozen=True)
class Target:
    name: str
    queryset: Callable[[], models.QuerySet[models.Model]]
    column: str
    reseal: Callable[[models.Model], bool]


TARGETS = (
    Target(
        "endpoint addresses",
        lambda: Endpoint.objects.all(),
        "address_sealed",
        reseal_endpoint,  # type: ignore[arg-type]
    ),
    Target(
        "conversation keys",
        lambda: Conversation.objects.filter(wrapped_key__isnull=False),
        "wrapped_key",
        _reseal_conversation,  # type: ignore[arg-type]
    ),
    Target(
        "notice parameters",
        lambda: Delivery.objects.filter(sealed_params__isnull=False),
        "sealed_params",
        _reseal_delivery,  # type: ignore[arg-type]
    ),
    Target(
        "integrator webhook secrets",
        lambda: IntegratorWebhook.objects.filter(secret_sealed__isnull=False),
        "secret_sealed",
        reseal_webhook_secret,  # type: ignore[arg-type]
    ),
)


def _batches(queryset: models.QuerySet[models.Model], size: int) -> Iterator[list[int]]:
    """Primary keys in ascending batches by keyset (`pk > last`), not one long cursor.

    No cursor stays open while the batches write and commit (a server-side cursor would pin a
    snapshot and break under PgBouncer's transaction pooling), and memory stays flat.
    """
    last = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def rows_to_scan() -> int:
    return sum(target.queryset().count() for target in TARGETS)


def rotate_keys(
    *, batch_size: int = 200, limit: int | None = None, progress: Progress | None = None
) -> RotationSummary:
    """Re-seal every row not yet under the current key id; safe to stop and run again.

    Each batch is one short transaction holding row locks (`select_for_update`), so a
    concurrent writer (a new message taking `next_seq`, `purge` shredding a key, `delete_user`
    erasing an address) waits for the batch or goes first, and the rotation then re-reads the
    row: it never writes back a value read before someone else changed it. `limit` stops after
    that many rows were re-sealed (for throttled runs, and to test resuming).
    """
    summary = RotationSummary()
    for target in TARGETS:
        for batch in _batches(target.queryset(), batch_size):
            with transaction.atomic():
                for row in target.queryset().select_for_update().filter(pk__in=batch):
                    if limit is not None and summary.total_resealed >= limit:
                        summary.stopped_at_limit = True
                        break
                    if getattr(row, target.column) is None:
                        continue  # shredded since the batch was listed
                    try:
                        changed = target.reseal(row)
                    except (vault.VaultError, crypto.BodyUnreadable):
                        summary.unreadable[target.name] += 1
                        logger.warning("rotate_keys: %s row %s does not open", target.name, row.pk)
                        continue
                    if changed:
                        summary.resealed[target.name] += 1
                    else:
                        summary.current += 1
            if progress is not None:
                progress(len(batch))
            if summary.stopped_at_limit:
                return summary
    return summary


def key_usage() -> dict[str, Counter[str]]:
    """How many rows of each kind are sealed under each key id (for `rotate_keys --check`)."""
    usage: dict[str, Counter[str]] = {}
    for target in TARGETS:
        counts: Counter[str] = Counter()
        blobs = target.queryset().values_list(target.column, flat=True).iterator(chunk_size=1000)
        for blob in blobs:
            try:
                counts[vault.sealed_key_id(blob)] += 1
            except vault.VaultError:
                counts["(not a sealed blob)"] += 1
        usage[target.name] = counts
    return usage
