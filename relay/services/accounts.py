"""A user's own data on request: export it, or erase it.

Export gives the user what they can already see in the product: their profile, their own
addresses, their listings and the conversations on them (the other side only as a pseudonym,
never an address). Erasure shreds: the user's conversation keys are deleted, their addresses
are overwritten, and the account is anonymised and deactivated. Rows that other people's
conversations point at are kept (as tombstones), so foreign keys and the other side's history
stay intact.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from nacl.utils import random as random_bytes

from contacts import vault
from contacts.models import (
    Channel,
    DataRequestCode,
    Endpoint,
    LinkCode,
    User,
    VerificationCode,
    random_code,
)
from contacts.services import endpoint_address
from marketplace import photos as listing_photos
from marketplace.models import Listing, RelayHandle
from relay import crypto
from relay.models import Conversation, Delivery, IdempotencyRecord, MediaFile, Message, Side
from relay.services import evidence, media
from relay.services.integrations import erase_integrator_webhooks

Progress = Callable[[int], None]
ERASED_ADDRESS = b"(erased)"


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


E2EE_EXPORT_NOTE = "end-to-end encrypted: the relay cannot read it"


def _author(conversation: Conversation, message: Message, *, my_side: str) -> str:
    if message.sender_side == my_side:
        return "you"
    if message.sender_side == Side.BUYER:
        return conversation.buyer_pseudonym
    if message.sender_side == Side.SELLER:
        return conversation.seller_pseudonym
    return "Relay"


def _encrypted_entry(
    conversation: Conversation, message: Message, *, my_side: str
) -> dict[str, Any]:
    return {
        "from": _author(conversation, message, my_side=my_side),
        "channel": message.channel,
        "at": _when(message.created_at),
        "text": None,
        "expired": False,
        "end_to_end_encrypted": True,
        "note": E2EE_EXPORT_NOTE,
    }


OTHER_SIDES_PHOTO_NOTE = "sent to you: shown in the conversation, not part of your data"


def _photo_entry(conversation: Conversation, photo: MediaFile, *, my_side: str) -> dict[str, Any]:
    """A photo of a message: what it is for everyone; the cleaned image itself (base64) only
    for the person who sent it. The other side's photo is theirs: the export lists that it came,
    never its bytes."""
    entry: dict[str, Any] = {
        "id": str(photo.uid),
        "at": _when(photo.created_at),
        "content_type": photo.content_type,
        "width": photo.width,
        "height": photo.height,
        "size": photo.byte_size,
    }
    if photo.sender_side != my_side:
        entry["note"] = OTHER_SIDES_PHOTO_NOTE
        return entry
    try:
        data = media.read(photo, conversation=conversation)
    except crypto.BodyUnreadable:  # the conversation's key or the file is gone
        entry.update(data_base64=None, expired=True)
        return entry
    entry.update(data_base64=base64.b64encode(data).decode("ascii"), expired=False)
    return entry


def _photos_by_message(conversation: Conversation, *, my_side: str) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    files = MediaFile.objects.filter(conversation=conversation, message__isnull=False)
    for photo in files.order_by("id"):
        assert photo.message_id is not None
        entry = _photo_entry(conversation, photo, my_side=my_side)
        found.setdefault(photo.message_id, []).append(entry)
    return found


def _messages(conversation: Conversation, *, my_side: str) -> list[dict[str, Any]]:
    shown = _message_entries(conversation, my_side=my_side)
    photos = _photos_by_message(conversation, my_side=my_side)
    for message_id, entry in shown:
        entry["photos"] = photos.get(message_id, [])
    return [entry for _message_id, entry in shown]


def _message_entries(
    conversation: Conversation, *, my_side: str
) -> list[tuple[int, dict[str, Any]]]:
    try:
        key: bytes | None = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    except crypto.BodyUnreadable:
        key = None
    shown = []
    for message in conversation.messages.order_by("id"):
        text: str | None = None
        if message.e2ee:
            # Web ↔ web end to end: the stored body is ciphertext to the relay; the person's
            # own browser holds what it said. Never decrypted and passed on as if it were text.
            shown.append((message.pk, _encrypted_entry(conversation, message, my_side=my_side)))
            continue
        if key is not None:
            try:
                text = crypto.decrypt_body(key, message.uid, message.body_sealed)
            except crypto.BodyUnreadable:
                text = None
        shown.append(
            (
                message.pk,
                {
                    "from": _author(conversation, message, my_side=my_side),
                    "channel": message.channel,
                    "at": _when(message.created_at),
                    "text": text,
                    "expired": text is None,
                },
            )
        )
    return shown


def _conversation(conversation: Conversation, *, my_side: str) -> dict[str, Any]:
    return {
        "code": conversation.code,
        "listing": conversation.listing.title,
        "other_side": (
            conversation.buyer_pseudonym
            if my_side == Side.SELLER
            else conversation.seller_pseudonym
        ),
        "status": conversation.status,
        "started_at": _when(conversation.created_at),
        "last_activity_at": _when(conversation.last_activity_at),
        "closed_at": _when(conversation.closed_at),
        "messages": _messages(conversation, my_side=my_side),
    }


def export_user_data(*, user: User, progress: Progress | None = None) -> dict[str, Any]:
    """The user's own data as a JSON-ready document, bodies and their own addresses decrypted."""
    endpoints = list(user.endpoints.order_by("id"))
    listings = list(Listing.objects.filter(seller=user).order_by("id"))
    as_buyer = list(
        Conversation.objects.filter(buyer_endpoint__in=endpoints)
        .select_related("listing")
        .order_by("id")
    )
    document: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "language": user.language,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
            "is_active": user.is_active,
        },
        "endpoints": [],
        "listings": [],
        "conversations_as_buyer": [],
    }
    for endpoint in endpoints:
        try:
            address: str | None = endpoint_address(endpoint)
        except vault.VaultError:
            address = None
        document["endpoints"].append(
            {
                "channel": endpoint.channel,
                "address": address,
                "verified": endpoint.verified,
                "preferred": endpoint.preferred,
                "language": endpoint.language,
                "opted_out": endpoint.opted_out,
                "created_at": _when(endpoint.created_at),
            }
        )
    for listing in listings:
        conversations = list(listing.conversations.select_related("listing").order_by("id"))
        document["listings"].append(
            {
                "code": listing.code,
                "title": listing.title,
                "description": listing.description,
                "price": str(listing.price),
                "currency": listing.currency,
                "city": listing.city,
                "status": listing.status,
                "created_at": _when(listing.created_at),
                "handles": [
                    {"handle": handle.display, "status": handle.status}
                    for handle in listing.handles.order_by("id")
                ],
                "photos": _listing_photos(listing),
                "conversations": [
                    _conversation(conversation, my_side=Side.SELLER)
                    for conversation in conversations
                ],
            }
        )
        if progress is not None:
            progress(1)
    for conversation in as_buyer:
        document["conversations_as_buyer"].append(_conversation(conversation, my_side=Side.BUYER))
        if progress is not None:
            progress(1)
    return document


def _listing_photos(listing: Listing) -> list[dict[str, Any]]:
    """The listing's photos as the public page shows them (cleaned), cover first."""
    shown = []
    for photo in listing_photos.photos_of(listing):
        try:
            with listing_photos.storage().open(photo.storage_name, "rb") as handle:
                data: str | None = base64.b64encode(handle.read()).decode("ascii")
        except OSError:
            data = None
        shown.append(
            {
                "position": photo.position,
                "at": _when(photo.created_at),
                "content_type": photo.content_type,
                "width": photo.width,
                "height": photo.height,
                "size": photo.byte_size,
                "data_base64": data,
            }
        )
    return shown


def export_size(user: User) -> int:
    """How many progress steps export_user_data takes (listings and buyer conversations)."""
    return (
        Listing.objects.filter(seller=user).count()
        + Conversation.objects.filter(buyer_endpoint__user=user).count()
    )


@dataclass
class ErasureSummary:
    conversations_shredded: int = 0
    messages_overwritten: int = 0
    endpoints_erased: int = 0
    deliveries_cancelled: int = 0
    handles_deleted: int = 0
    listings_closed: int = 0
    conversations_closed: int = 0
    reports_shredded: int = 0  # report evidence and notes on or by or against the user
    reports_held: int = 0  # under an active legal hold: shredded on schedule once it ends
    photos_deleted: int = 0  # rows and stored files
    listing_photos_deleted: int = 0  # rows, and their public files after commit


def _erase_endpoint(endpoint: Endpoint) -> None:
    """Overwrite the address with a tombstone under a random index, unlinking the number.

    The blind index is replaced too: it is a keyed hash of the number, so keeping it would let
    anyone holding the index key confirm the number. A later message from that number simply
    creates a new endpoint. The public code changes as well, so the web-chat cookie and chat
    links that named the endpoint stop working (a web buyer starts afresh too).
    """
    index = secrets.token_hex(32)
    endpoint.code = random_code()
    endpoint.pending_referral = ""
    endpoint.user = None
    endpoint.blind_index = index
    endpoint.alternate_index = None
    endpoint.address_sealed = vault.seal(
        ERASED_ADDRESS, aad=f"endpoint:{endpoint.channel}:{index}".encode()
    )
    endpoint.verified = False
    endpoint.preferred = False
    endpoint.opted_out = True
    endpoint.region = ""
    endpoint.last_inbound_at = None
    endpoint.save(
        update_fields=[
            "code",
            "pending_referral",
            "user",
            "blind_index",
            "alternate_index",
            "address_sealed",
            "verified",
            "preferred",
            "opted_out",
            "region",
            "last_inbound_at",
        ]
    )


def erase_user(*, user: User, progress: Progress | None = None) -> ErasureSummary:
    """Erase a user's data in one transaction; afterwards none of it can be read.

    - every conversation on the user's listings: key shredded, conversation blocked by the relay
      (so no route can reopen it and nothing new is written under a missing key), its photos
      deleted (rows and stored files);
    - messages the user sent into other people's conversations: ciphertext overwritten with
      random bytes (the other side's own messages stay readable to them), the photos they sent
      there deleted;
    - the user's endpoints: address and blind index overwritten (see `_erase_endpoint`),
      undelivered messages to them cancelled, their sealed notice parameters cleared;
    - reports on the user's listings and conversations, or by or against them: evidence and
      notes shredded, except under an active legal hold;
    - the user's idempotency records deleted, their integrator webhooks deactivated and their
      signing secrets erased;
    - the listings' handles and photos deleted (the photos' public files after commit), the
      listings closed and emptied of their text;
    - the account: anonymised, unusable password, inactive (its sessions stop authenticating).
    """
    summary = ErasureSummary()
    now = timezone.now()
    with transaction.atomic():
        endpoints = list(Endpoint.objects.select_for_update().filter(user=user))
        endpoint_ids = [endpoint.pk for endpoint in endpoints]
        own = Conversation.objects.filter(listing__seller=user)
        summary.conversations_shredded = own.filter(wrapped_key__isnull=False).count()
        own_ids = list(own.values_list("pk", flat=True))
        involved = evidence.reports_involving(endpoint_ids, user.pk)
        shredded = evidence.shred_reports(involved, now=now)
        summary.reports_shredded, summary.reports_held = shredded.shredded, shredded.held
        Conversation.objects.filter(pk__in=own_ids).update(
            wrapped_key=None, status=Conversation.Status.CLOSED, blocked_by=Side.RELAY
        )
        Conversation.objects.filter(pk__in=own_ids, closed_at__isnull=True).update(closed_at=now)
        if progress is not None:
            progress(1)

        sent_elsewhere = Message.objects.filter(sender_endpoint_id__in=endpoint_ids).exclude(
            conversation_id__in=own_ids
        )
        summary.messages_overwritten = _overwrite_bodies(sent_elsewhere)
        summary.photos_deleted = media.shred_media(
            media.of_conversations(own_ids)
            | MediaFile.objects.filter(message__sender_endpoint_id__in=endpoint_ids)
        )
        if progress is not None:
            progress(1)

        summary.deliveries_cancelled = _cancel_deliveries(
            endpoint_ids,
            own_ids,
            now=now,
            error=("account_deleted", "The account was deleted."),
        )
        for endpoint in endpoints:
            _erase_endpoint(endpoint)
        summary.endpoints_erased = len(endpoints)
        VerificationCode.objects.filter(Q(user=user) | Q(endpoint_id__in=endpoint_ids)).delete()
        DataRequestCode.objects.filter(endpoint_id__in=endpoint_ids).delete()
        LinkCode.objects.filter(user=user).delete()
        # Stored API responses (sealed, but they may quote the user's numbers and messages)
        # and the webhooks' signing secrets outlive nothing of the account.
        IdempotencyRecord.objects.filter(user=user).delete()
        erase_integrator_webhooks(user=user)
        if progress is not None:
            progress(1)

        summary.handles_deleted, _ = RelayHandle.objects.filter(listing__seller=user).delete()
        summary.listing_photos_deleted = listing_photos.delete_photos_of(
            Listing.objects.filter(seller=user)
        )
        summary.listings_closed = Listing.objects.filter(seller=user).update(
            status=Listing.Status.CLOSED,
            title="Deleted listing",
            description="",
            city="",
            updated_at=now,
        )
        if progress is not None:
            progress(1)

        tombstone = f"deleted-{secrets.token_hex(8)}"
        user.username = tombstone
        user.email = f"{tombstone}@invalid.invalid"
        user.first_name = ""
        user.last_name = ""
        user.display_name = ""
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.set_unusable_password()
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
        if progress is not None:
            progress(1)
    return summary


ERASE_STEPS = 5


# --- Buyers: no account, an address proved by a code (relay/services/data_requests.py) ---------


def export_endpoint_data(*, endpoints: list[Endpoint]) -> dict[str, Any]:
    """A buyer's own data as a JSON-ready document: their addresses and their conversations as
    a buyer with the bodies decrypted, the seller only as a pseudonym (like the buyer part of
    `export_user_data`). The caller has checked that the person holds these endpoints."""
    conversations = (
        Conversation.objects.filter(buyer_endpoint__in=endpoints)
        .select_related("listing")
        .order_by("id")
    )
    addresses = []
    for endpoint in endpoints:
        address: str | None = None
        if endpoint.channel != Channel.WEB:  # a browser's random id is no address of theirs
            try:
                address = endpoint_address(endpoint)
            except vault.VaultError:
                address = None
        addresses.append(
            {
                "channel": endpoint.channel,
                "address": address,
                "language": endpoint.language,
                "opted_out": endpoint.opted_out,
                "created_at": _when(endpoint.created_at),
            }
        )
    return {
        "exported_at": timezone.now().isoformat(),
        "addresses": addresses,
        "conversations_as_buyer": [
            _conversation(conversation, my_side=Side.BUYER) for conversation in conversations
        ],
    }


def _overwrite_bodies(messages: Any) -> int:
    """Replace each message's ciphertext with random bytes of the same length: no key opens it
    any more, and the row (its place in the other side's history) stays."""
    overwritten = 0
    for message in messages.only("pk", "body_sealed").iterator(chunk_size=500):
        Message.objects.filter(pk=message.pk).update(
            body_sealed=random_bytes(len(bytes(message.body_sealed)))
        )
        overwritten += 1
    return overwritten


def _close_buyer_conversations(conversation_ids: list[int], *, now: Any) -> int:
    """Closed is final: no route reopens them, and a new message starts a new conversation."""
    closed = (
        Conversation.objects.filter(pk__in=conversation_ids)
        .exclude(status=Conversation.Status.CLOSED)
        .update(status=Conversation.Status.CLOSED, blocked_by=Side.RELAY)
    )
    Conversation.objects.filter(pk__in=conversation_ids, closed_at__isnull=True).update(
        closed_at=now
    )
    return closed


def _cancel_deliveries(
    endpoint_ids: list[int],
    conversation_ids: list[int],
    *,
    now: Any,
    error: tuple[str, str] = ("data_erased", "The buyer erased their data."),
) -> int:
    """Nothing more goes to the erased addresses or through their conversations, and the sealed
    notice parameters (a code) queued for them are forgotten. `error`: the code and reason the
    cancelled deliveries end with."""
    concerned = Q(recipient_endpoint_id__in=endpoint_ids) | Q(conversation_id__in=conversation_ids)
    cancelled = Delivery.objects.filter(concerned, state__in=Delivery.BLOCKING_STATES).update(
        state=Delivery.State.FAILED,
        error_code=error[0],
        error_reason=error[1],
        updated_at=now,
    )
    Delivery.objects.filter(concerned, sealed_params__isnull=False).update(sealed_params=None)
    return cancelled


def erase_endpoint_data(
    *, endpoints: list[Endpoint], progress: Progress | None = None
) -> ErasureSummary:
    """Erase a buyer's data in one transaction; afterwards none of it can be read.

    - the bodies the buyer wrote are overwritten with random bytes and the photos they sent
      deleted (rows and stored files). Their conversations' keys are not shredded: that would
      destroy the seller's own messages too, which are the seller's record, not the buyer's;
      the buyer's words and photos are gone either way;
    - their conversations are closed (final); undelivered deliveries to them or in those
      conversations are cancelled, sealed notice parameters to them cleared;
    - report evidence and notes about, by or on them are shredded (`evidence.shred_reports`),
      except under a legal hold;
    - their verification and data-request codes are deleted;
    - the endpoints' address, blind index and public code are overwritten (`_erase_endpoint`):
      the same number writing again is a stranger, the web chat's cookie names no one.

    Endpoints attached to an account belong to it: erase those with `erase_user`.
    """
    summary = ErasureSummary()
    now = timezone.now()
    with transaction.atomic():
        locked = list(Endpoint.objects.select_for_update().filter(pk__in=[e.pk for e in endpoints]))
        ids = [endpoint.pk for endpoint in locked]
        conversation_ids = list(
            Conversation.objects.filter(buyer_endpoint_id__in=ids).values_list("pk", flat=True)
        )
        written = Message.objects.filter(
            Q(sender_endpoint_id__in=ids)
            | Q(conversation_id__in=conversation_ids, sender_side=Side.BUYER)
        )
        summary.messages_overwritten = _overwrite_bodies(written)
        summary.photos_deleted = media.shred_media(
            MediaFile.objects.filter(
                Q(message__sender_endpoint_id__in=ids)
                | Q(conversation_id__in=conversation_ids, sender_side=Side.BUYER)
            )
        )
        if progress is not None:
            progress(1)
        summary.conversations_closed = _close_buyer_conversations(conversation_ids, now=now)
        summary.deliveries_cancelled = _cancel_deliveries(ids, conversation_ids, now=now)
        shredded = evidence.shred_reports(evidence.reports_involving(ids, None), now=now)
        summary.reports_shredded, summary.reports_held = shredded.shredded, shredded.held
        if progress is not None:
            progress(1)
        VerificationCode.objects.filter(endpoint_id__in=ids).delete()
        DataRequestCode.objects.filter(endpoint_id__in=ids).delete()
        for endpoint in locked:
            _erase_endpoint(endpoint)
        summary.endpoints_erased = len(locked)
        if progress is not None:
            progress(1)
    return summary


ERASE_ENDPOINT_STEPS = 3
