"""Photos in conversations: cleaned, sealed under the conversation key, kept in a storage.

`store` takes bytes from any road (a platform download, a web upload), cleans them
(marketplace/images.py: metadata stripped, dimensions bounded) and keeps only ciphertext: the
bytes are XChaCha20-Poly1305 under the conversation's data key with the media uid as associated
data, the file name likewise, so neither opens for another row or after the conversation's key
is shredded. `read` opens them for a delivery or a page. `shred_media` deletes rows and their
stored ciphertexts together (purge, account and buyer erasure); `forget_unsent` and
`sweep_orphans` clean up after uploads no message took and rows deleted by other means.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.images import CleanImage, ImageRefused, clean_image
from relay import crypto
from relay.models import Conversation, MediaFile, Message
from relay.services.errors import RelayError

STORAGE_ALIAS = "relay_media"
# A web upload no message took within this many hours is deleted by `purge`.
UNSENT_UPLOAD_HOURS = 24
# A stored file no row names is deleted by `purge` once it is this old: younger, it may belong
# to an upload whose row is still being committed.
ORPHAN_GRACE = dt.timedelta(hours=1)


def storage() -> Storage:
    return storages[STORAGE_ALIAS]


def _name_aad(uid: uuid.UUID) -> uuid.UUID:
    # The file name's associated data differs from the bytes': neither opens as the other.
    return uuid.uuid5(uid, "file-name")


def store(
    *,
    conversation: Conversation,
    data: bytes,
    sender_side: str,
    message: Message | None = None,
    name: str = "",
    claimed_type: str = "",
) -> MediaFile:
    """Clean `data` and keep it sealed; raises marketplace.images.ImageRefused, and then
    nothing is stored. `name` and `claimed_type` are what the sender said the file is."""
    clean = clean_image(data, claimed_type=claimed_type, name=name)
    return store_clean(
        conversation=conversation, clean=clean, sender_side=sender_side, message=message, name=name
    )


def store_clean(
    *,
    conversation: Conversation,
    clean: CleanImage,
    sender_side: str,
    message: Message | None = None,
    name: str = "",
) -> MediaFile:
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    uid = uuid.uuid4()
    sealed = crypto.encrypt_bytes(key, uid, clean.data)
    stored_as = storage().save(f"{secrets.token_hex(16)}.bin", ContentFile(sealed))
    return MediaFile.objects.create(
        uid=uid,
        conversation=conversation,
        message=message,
        sender_side=sender_side,
        content_type=clean.content_type,
        width=clean.width,
        height=clean.height,
        byte_size=len(clean.data),
        storage_name=stored_as,
        name_sealed=crypto.encrypt_bytes(key, _name_aad(uid), name.encode()) if name else None,
    )


def read(media: MediaFile, *, conversation: Conversation | None = None) -> bytes:
    """The cleaned bytes; crypto.BodyUnreadable once the conversation key is shredded."""
    conversation = conversation or media.conversation
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    try:
        with storage().open(media.storage_name, "rb") as handle:
            sealed = handle.read()
    except (FileNotFoundError, OSError) as error:
        raise crypto.BodyUnreadable("the file is gone") from error
    return crypto.decrypt_bytes(key, media.uid, sealed)


def file_name(media: MediaFile, *, conversation: Conversation | None = None) -> str:
    if not media.name_sealed:
        return ""
    conversation = conversation or media.conversation
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    return crypto.decrypt_bytes(key, _name_aad(media.uid), media.name_sealed).decode()


def delete_files(files: QuerySet[MediaFile]) -> int:
    """Delete the stored ciphertexts of these rows (the rows stay: see `shred_media`)."""
    names = list(files.values_list("storage_name", flat=True))
    store_ = storage()
    for name in names:
        store_.delete(name)
    return len(names)


def shred_media(files: QuerySet[MediaFile]) -> int:
    """Delete these rows and their stored files; returns how many.

    The files go at once, inside the caller's transaction, not after its commit: a storage
    that fails raises and rolls the shredding back, to be retried by the next run, instead of
    leaving a ciphertext behind that a surviving conversation key could still open (a buyer's
    erasure keeps the conversation key). A rollback after the files went leaves rows whose
    file is gone; `read` says so (BodyUnreadable), and they were being shredded anyway."""
    rows = list(files.values_list("pk", "storage_name"))
    MediaFile.objects.filter(pk__in=[pk for pk, _name in rows]).delete()
    store_ = storage()
    for _pk, name in rows:
        store_.delete(name)
    return len(rows)


def of_conversations(conversation_ids: list[int]) -> QuerySet[MediaFile]:
    return MediaFile.objects.filter(conversation_id__in=conversation_ids)


def unsent_uploads(*, now: dt.datetime | None = None) -> QuerySet[MediaFile]:
    """Web uploads older than UNSENT_UPLOAD_HOURS that no message took."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=UNSENT_UPLOAD_HOURS)
    return MediaFile.objects.filter(message__isnull=True, created_at__lt=cutoff)


def sweep_orphans(*, now: dt.datetime | None = None) -> int:
    """Delete stored files no MediaFile names and older than ORPHAN_GRACE: left by a
    transaction that rolled back after the file was saved, or by rows deleted outside the
    services (a conversation deleted in the admin). Returns how many."""
    store_ = storage()
    try:
        _folders, names = store_.listdir("")
    except (FileNotFoundError, NotImplementedError):
        return 0  # nothing stored yet, or a backend that cannot list
    known: set[str] = set()
    for start in range(0, len(names), 500):  # bounded IN lists
        chunk = names[start : start + 500]
        known.update(
            MediaFile.objects.filter(storage_name__in=chunk).values_list("storage_name", flat=True)
        )
    cutoff = (now or timezone.now()) - ORPHAN_GRACE
    swept = 0
    for name in names:
        if name in known or not name.endswith(".bin") or _modified(store_, name) >= cutoff:
            continue
        store_.delete(name)
        swept += 1
    return swept


def _modified(store_: Storage, name: str) -> dt.datetime:
    try:
        return store_.get_modified_time(name)
    except (NotImplementedError, FileNotFoundError, OSError):
        return timezone.now()  # unknown age: kept, never deleted by guess


# --- Web uploads: a photo waits for the message it belongs to ---------------------------------

MAX_PER_MESSAGE = 4


class MediaRefused(RelayError):
    """The photos named with a message cannot go with it; `message` says why."""


def pending_uploads(
    *, conversation: Conversation, sender_side: str, uids: Sequence[str], also: int = 0
) -> list[MediaFile]:
    """The uploads named by `uids`: only this conversation's, from this side, not yet sent.

    A uid that is malformed, another conversation's, the other side's or already sent is
    refused as a whole (nothing is attached), so a forged list never borrows someone's file.
    `also` counts the photos coming with the same message another way (a form's files).
    """
    wanted = list(dict.fromkeys(uid.strip() for uid in uids if uid.strip()))
    if len(wanted) + also > MAX_PER_MESSAGE:
        raise MediaRefused(
            gettext("At most %(count)d photos can go with one message.")
            % {"count": MAX_PER_MESSAGE}
        )
    try:
        parsed = [uuid.UUID(uid) for uid in wanted]
    except ValueError:
        raise MediaRefused(_not_waiting()) from None
    rows = list(
        MediaFile.objects.filter(
            conversation=conversation,
            sender_side=sender_side,
            message__isnull=True,
            uid__in=parsed,
        )
    )
    if len(rows) != len(parsed):
        raise MediaRefused(_not_waiting())
    order = {uid: index for index, uid in enumerate(parsed)}
    return sorted(rows, key=lambda row: order[row.uid])


def _not_waiting() -> str:
    return gettext("That photo is no longer waiting to be sent. Add it again, then send.")


# Uploads of one side waiting for their message at once: a page holds at most MAX_PER_MESSAGE,
# a few more cover a refused send retried; past it a script cannot fill the storage with files
# nobody sends (shredding them on a schedule is the retention job's, issue #16).
MAX_WAITING = 3 * MAX_PER_MESSAGE


def store_upload(
    *, conversation: Conversation, sender_side: str, data: bytes, name: str = ""
) -> MediaFile:
    """A photo uploaded from a web page, cleaned and sealed, waiting for its message;
    MediaRefused (in the sender's words) if it is not a photo the relay carries."""
    waiting = MediaFile.objects.filter(
        conversation=conversation, sender_side=sender_side, message__isnull=True
    ).count()
    if waiting >= MAX_WAITING:
        raise MediaRefused(gettext("Too many photos are waiting to be sent. Send them first."))
    try:
        return store(conversation=conversation, data=data, sender_side=sender_side, name=name[:200])
    except ImageRefused as refused:
        raise MediaRefused(refused.message) from None
