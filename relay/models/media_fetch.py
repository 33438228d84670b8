"""A photo a person sent on a platform, waiting to be downloaded (issue #16).

The webhook must answer within seconds, and a download can take longer, so the photo is
fetched by a task (relay/services/media_fetch.py). Until then the platform's reference (a
WhatsApp media id, an attachment or MMS URL: it can lead back to the sender) is kept sealed
under the conversation key, never in the clear and never on the broker; it is erased once the
fetch ends, whatever the outcome. The message's deliveries wait for their photos.
"""

from __future__ import annotations

import uuid

from django.db import models

from relay.models.core import Conversation, Message


class MediaFetch(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "waiting to be downloaded"
        FETCHING = "fetching", "being downloaded"
        DONE = "done", "stored (a MediaFile of the message)"
        FAILED = "failed", "refused or unavailable; the sender was told"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="media_fetches")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16)
    position = models.PositiveSmallIntegerField(default=0)  # its place among the message's files
    reference_sealed = models.BinaryField(null=True, blank=True)  # erased when the fetch ends
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Why it failed: a code of relay/notices.py PROBLEMS (never a URL or a platform answer).
    problem = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["message", "state"])]

    def __str__(self) -> str:
        return f"Media fetch {self.uid} ({self.state})"
