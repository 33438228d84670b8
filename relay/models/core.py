"""Relay identities, conversations, messages and their deliveries.

Bodies live only in `Message.body_sealed` (XChaCha20-Poly1305 under the conversation's data
key, the message uid as associated data); the data key lives only wrapped under the key ring in
`Conversation.wrapped_key`. Deleting the wrapped key shreds every body of the conversation.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Channel, Endpoint, random_code
from marketplace.models import Listing


class RelayIdentity(models.Model):
    """One of the relay's own addresses: a WhatsApp number, SMS number, Messenger page, IG account.

    These are public (they appear in "message the seller" links), unlike participants' addresses.
    """

    channel = models.CharField(max_length=16, choices=Channel.choices)
    # The platform's id for it: WhatsApp phone_number_id, page id, IG account id, SMS E.164.
    provider_id = models.CharField(max_length=64)
    # What people type or tap: the E.164 number, or the page / account username.
    address = models.CharField(max_length=64)
    label = models.CharField(max_length=80, blank=True)
    # Instagram through a Facebook Page: the Page's id (sends post to graph.facebook.com/<it>/
    # messages). Empty: Instagram API with Instagram Login (graph.instagram.com/<IG id>).
    page_id = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "relay identities"
        constraints = [
            models.UniqueConstraint(fields=["channel", "provider_id"], name="identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.address}"

    def deep_link(self, handle_display: str) -> str:
        """A link that opens the app with the handle typed in (or carried as a referral)."""
        text = quote(handle_display)
        if self.channel == Channel.WHATSAPP:
            return f"https://wa.me/{self.address.lstrip('+')}?text={text}"
        if self.channel == Channel.MESSENGER:
            return f"https://m.me/{self.address}?ref={text}"
        if self.channel == Channel.INSTAGRAM:
            # Meta documents ?ref= for ig.me links too: it arrives as the chat's referral.
            return f"https://ig.me/m/{self.address}?ref={text}"
        return f"sms:{self.address}?body={text}"


class Side(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")
    RELAY = "relay", _("Relay")


class Conversation(models.Model):
    class Status(models.TextChoices):
        """The lifecycle (relay/services/lifecycle.py owns the transitions)."""

        OPEN = "open", _("Open")
        ENDED = "ended", _("Ended")  # a side sent STOP; that side can resume
        BLOCKED = "blocked", _("Blocked")  # the blocker can undo it
        CLOSED = "closed", _("Closed")  # idle after the listing ended, or idle long; final

    code = models.CharField(max_length=12, unique=True, default=random_code, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="conversations")
    buyer_endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="buyer_conversations"
    )
    # Short routing tag, also the buyer's pseudonym: "Buyer K7Q2", "#K7Q2".
    tag = models.CharField(max_length=4)
    buyer_identity = models.ForeignKey(
        RelayIdentity, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seller_identity = models.ForeignKey(
        RelayIdentity, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wrapped_key = models.BinaryField(null=True)  # NULL once shredded
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    blocked_by = models.CharField(max_length=8, choices=Side.choices, blank=True)
    ended_by = models.CharField(max_length=8, choices=Side.choices, blank=True)
    next_seq = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The generation of the buyer's web-chat links: every link carries the value it was issued
    # at, and ending, blocking or closing the conversation bumps it, so a link copied before
    # then opens no history afterwards (relay/selectors.py, open_chat_link).
    chat_epoch = models.PositiveIntegerField(default=0)
    # The creation time of the newest buyer message an e-mail has told the seller about, so a
    # message is mailed about at most once. NULL: no e-mail yet.
    seller_notified_up_to = models.DateTimeField(null=True, blank=True)
    # The seller's read mark: the newest message id the seller's inbox has shown them while in
    # front of them. Buyer messages above it are unread (the thread list's count). (A message
    # whose id was drawn before a newer one's but committed after it, which two writers to one
    # conversation in the same instant can cause, counts as read with it.)
    seller_read_message_id = models.PositiveBigIntegerField(default=0)

    # Not columns: what the transaction that opened this conversation already knows, so the
    # message that opened it needs no second lookup (services.conversations.create_conversation).
    opening_seq: int | None = None  # a sequence number reserved at INSERT for that message
    opening_seller_endpoint: Endpoint | None = None

    class Meta:
        constraints = [
            # A closed conversation is final: writing the handle again opens a new one.
            models.UniqueConstraint(
                fields=["listing", "buyer_endpoint"],
                condition=~Q(status="closed"),
                name="conversation_one_live_per_buyer",
            )
        ]
        indexes = [
            models.Index(fields=["buyer_endpoint", "status"]),
            models.Index(fields=["status", "last_activity_at"]),
            models.Index(fields=["listing", "-last_activity_at"]),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.code}"

    @property
    def buyer_pseudonym(self) -> str:
        return f"Buyer {self.tag}"

    @property
    def seller_pseudonym(self) -> str:
        return f"Seller · {self.listing.public_title}"


class SmsOptOut(models.Model):
    """A person who sent a carrier opt-out keyword (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
    QUIT) to one relay SMS number. Twilio refuses every send from that number to them (21610)
    until they send START, YES or UNSTOP, so the relay sends nothing there either."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+")
    identity = models.ForeignKey(RelayIdentity, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "identity"], name="sms_opt_out_unique")
        ]


class Message(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender_side = models.CharField(max_length=8, choices=Side.choices)
    sender_endpoint = models.ForeignKey(
        Endpoint, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The relay identity it arrived on (None for the web inbox).
    identity = models.ForeignKey(
        RelayIdentity, null=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    provider_message_id = models.CharField(max_length=128, null=True, blank=True)
    body_sealed = models.BinaryField()
    # Web ↔ web end to end (relay/franking.py, static/e2ee.js): body_sealed holds the sender's
    # browser envelope (ciphertext to every device of both sides), sealed once more under the
    # conversation key so shredding works as for any body. The server cannot read it; it keeps
    # the sender's franking commitment and its own reporting tag over it.
    e2ee = models.BooleanField(default=False)
    franking_commitment = models.BinaryField(null=True, blank=True)  # HMAC-SHA-256(k_f, m)
    reporting_tag = models.BinaryField(null=True, blank=True)  # HMAC(K_srv, c ‖ context)
    # The server's own facts the tag binds (franking.context): kept, not recomputed, so a later
    # change of the listing's title (in the seller's pseudonym) cannot unverify a report.
    franking_context = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_dedupe_provider_id",
            )
        ]
        indexes = [models.Index(fields=["conversation", "id"])]


class Delivery(models.Model):
    """One message (or relay notice) on its way to one recipient endpoint."""

    class State(models.TextChoices):
        PENDING = "pending", _("Queued")
        SENDING = "sending", _("Sending")
        # Outside the 24-hour window: a template went out; the text follows when they answer.
        WAITING = "waiting", _("Waiting for the recipient to answer")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    class Kind(models.TextChoices):
        RELAY = "relay", _("Relayed message")
        NOTICE = "notice", _("Relay notice")

    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient_side = models.CharField(max_length=8, choices=Side.choices)
    recipient_endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+")
    identity = models.ForeignKey(
        RelayIdentity, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.RELAY)
    # Notices carry a code and safe parameters (listing title, a reason), never a body.
    notice_code = models.CharField(max_length=32, blank=True)
    notice_params = models.JSONField(default=dict, blank=True)
    # Parameters that must not rest in plaintext (a verification code), sealed in the vault.
    sealed_params = models.BinaryField(null=True, blank=True)
    # Send the approved template instead of free text (WhatsApp outside the 24-hour window).
    force_template = models.BooleanField(default=False)
    seq = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # A `sending` row belongs to its worker until then (services/delivery.py LEASE_SECONDS);
    # past it the sweeper hands it back, so a dead worker holds its conversation for seconds.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)  # the worker (services/workers.py)
    # Re-sends after an attempt that may have reached the platform (a lost answer, an expired
    # lease): the duplicates the relay could not rule out, counted.
    uncertain_sends = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=128, null=True, blank=True)
    reply_to_provider_id = models.CharField(max_length=128, null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="delivery_unique_provider_id",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "recipient_side", "seq"]),
            models.Index(fields=["state", "updated_at"]),
        ]

    FINAL_STATES = ("sent", "delivered", "read", "failed")
    # States that hold back later deliveries of the same conversation and direction.
    BLOCKING_STATES = ("pending", "sending", "waiting")


class EarlyStatus(models.Model):
    """A status webhook whose message id matched no delivery yet (issue #11).

    Platforms answer the send and fire its status webhooks in parallel, so `delivered` or `read`
    may arrive before the worker has stored the id. The status waits here until the worker
    takes it (relay/services/early_statuses.py) or `purge` forgets it. The id is the same keyed
    hash as `Delivery.provider_message_id`, never the platform's raw id.
    """

    channel = models.CharField(max_length=16, choices=Channel.choices)
    provider_message_id = models.CharField(max_length=128)
    status = models.CharField(max_length=10)
    error_code = models.CharField(max_length=32, blank=True)
    error_title = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "early statuses"
        constraints = [
            # At most one row per id and status: a platform retrying its webhook adds nothing.
            models.UniqueConstraint(
                fields=["channel", "provider_message_id", "status"],
                name="early_status_once_per_id",
            )
        ]
