"""Photos in conversations: cleaned, sealed under the conversation key, kept in a storage.

`store` takes bytes from any road (a platform download, a web upload), cleans them
(marketplace/images.py: metadata stripped, dimensions bounded) and keeps only ciphertext: the
bytes are XChaCha20-Poly1305 under the conversation's data key with the media uid as associated
data, the file name likewise, so neither opens for another row or after the conversation's key
is shredded. `read` opens them for a delivery or a page. `delete_files` removes the stored
ciphertexts of conversations being shredded.
"""

from __future__ import annotations

import secrets
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db.models import QuerySet

from marketplace.images import CleanImage, clean_image
from relay import crypto
from relay.models import Conversation, MediaFile, Message

STORAGE_ALIAS = "relay_media"


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
) -> MediaFile:
    """Clean `data` and keep it sealed; raises marketplace.images.ImageRefused."""
    clean = clean_image(data)
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
    """Delete the stored ciphertexts of these rows (the rows go with their conversation)."""
    names = list(files.values_list("storage_name", flat=True))
    store_ = storage()
    for name in names:
        store_.delete(name)
    return len(names)
