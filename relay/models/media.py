"""Photos in conversations: cleaned (marketplace/images.py), then sealed under the
conversation's data key like a body, bytes and file name both, and kept through Django's
storage API (RELAY_MEDIA_STORAGE). Shredding the conversation key makes every file of it
unreadable; the files themselves are deleted with the conversation (relay/services/media.py).
"""

from __future__ import annotations

import uuid

from django.db import models

from relay.models.core import Conversation, Message, Side


class MediaFile(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="media_files"
    )
    # The message it travels with (its caption is that message's body). NULL while a web
    # upload waits for the message it belongs to.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="media_files"
    )
    sender_side = models.CharField(max_length=8, choices=Side.choices)
    content_type = models.CharField(max_length=32)  # after cleaning: image/jpeg, png or webp
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveIntegerField()  # of the cleaned file, before sealing
    # Where the sealed bytes are in the storage: a random name that says nothing.
    storage_name = models.CharField(max_length=200)
    name_sealed = models.BinaryField(null=True, blank=True)  # the sender's file name, sealed
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "id"])]

    def __str__(self) -> str:
        return f"Media {self.uid}"
