"""Input and output serializers. Outputs carry codes and pseudonyms, never an address."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import translation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.contact_guard import Kind
from contacts.models import PHONE_CHANNELS, Endpoint
from marketplace import handles
from marketplace.models import Listing
from marketplace.public_text import hidden_from_buyers
from relay.models import (
    ApiToken,
    Conversation,
    IntegratorWebhook,
    IntegratorWebhookDelivery,
    LegalHold,
    Report,
)
from relay.services import legal_holds, moderation, moderation_story

# --- Errors (documentation only) -----------------------------------------------------------


class ErrorDetail(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorOutput(serializers.Serializer[dict[str, Any]]):
    error = ErrorDetail()


# --- Listings ---------------------------------------------------------------------------------


class ListingOutput(serializers.ModelSerializer[Listing]):
    handle = serializers.SerializerMethodField()
    handle_status = serializers.SerializerMethodField()
    hidden_from_buyers = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = Listing
        fields = (
            "code",
            "title",
            "description",
            "price",
            "currency",
            "city",
            "status",
            "taken_down",
            "mask_contact_details",
            "handle",
            "handle_status",
            "hidden_from_buyers",
            "photos",
            "created_at",
            "updated_at",
        )

    def get_handle(self, listing: Listing) -> str | None:
        """The handle as buyers type it (`K7Q2-M9XA`), or null when none is live."""
        live = handles.live_handle(listing)
        return live.display if live else None

    def get_handle_status(self, listing: Listing) -> str | None:
        live = handles.live_handle(listing)
        return live.status if live else None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(Kind))))
    def get_hidden_from_buyers(self, listing: Listing) -> list[str]:
        """Contact details in the title or description that the public page hides (phone,
        email, app_link); empty when buyers see the text as written."""
        return sorted(hidden_from_buyers(listing))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_photos(self, listing: Listing) -> list[str]:
        """The listing's photo addresses (paths on this site), cover first; read-only: photos
        are added on the listing's page, where they are cleaned."""
        return [
            reverse("marketplace:listing_photo", args=[listing.code, photo.storage_name])
            for photo in listing.photos.all()
        ]


class ListingCreateInput(serializers.Serializer[dict[str, Any]]):
    title = serializers.CharField(max_length=120)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = serializers.ChoiceField(choices=Listing.Currency.choices, default="IDR")
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    city = serializers.CharField(max_length=80, required=False, allow_blank=True)
    mask_contact_details = serializers.BooleanField(default=True)
    publish = serializers.BooleanField(default=True)


class ListingUpdateInput(serializers.Serializer[dict[str, Any]]):
    title = serializers.CharField(max_length=120, required=False)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = serializers.ChoiceField(choices=Listing.Currency.choices, required=False)
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    city = serializers.CharField(max_length=80, required=False, allow_blank=True)
    mask_contact_details = serializers.BooleanField(required=False)


# --- Conversations and messages -----------------------------------------------------------------


class ConversationOutput(serializers.ModelSerializer[Conversation]):
    listing = serializers.CharField(source="listing.code")
    listing_title = serializers.CharField(source="listing.title")
    buyer = serializers.CharField(source="buyer_pseudonym")
    seller = serializers.CharField(source="seller_pseudonym")

    class Meta:
        model = Conversation
        fields = (
            "code",
            "listing",
            "listing_title",
            "buyer",
            "seller",
            "status",
            "blocked_by",
            "created_at",
            "last_activity_at",
            "closed_at",
        )


class ReportInput(serializers.Serializer[dict[str, Any]]):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    franked = serializers.JSONField(
        required=False,
        default=list,
        help_text=(
            "End-to-end encrypted messages the reporter opened, as the web forms send them: a "
            'list of {"message": uid, "m": text, "kf": base64 franking key, "ctx": the '
            'relay\'s context, "r": base64 reporting tag}. Each is verified; one that does not '
            "verify is kept as an unverified claim."
        ),
    )


class FrankedSummaryOutput(serializers.Serializer[dict[str, Any]]):
    verified = serializers.IntegerField()
    unverified = serializers.IntegerField()
    unreadable = serializers.BooleanField(help_text="The `franked` field could not be read.")


class FiledReportOutput(serializers.ModelSerializer[Report]):
    franked = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ("code", "reason", "status", "created_at", "franked")

    @extend_schema_field(FrankedSummaryOutput)
    def get_franked(self, report: Report) -> dict[str, Any]:
        """What became of the attached end-to-end messages."""
        summary = self.context.get("summary")
        return {
            "verified": getattr(summary, "verified", 0),
            "unverified": getattr(summary, "unverified", 0),
            "unreadable": getattr(summary, "unreadable", False),
        }


class EvidenceItemOutput(serializers.Serializer[dict[str, Any]]):
    """One evidence item with its kind, as the report page labels it."""

    kind = serializers.ChoiceField(
        choices=["verified", "unverified", "relay_sealed", "note"],
        help_text=(
            "verified: a franked message the relay checked; unverified: a claim it could not "
            "check; relay_sealed: a message the relay read and sealed when the report was "
            "filed; note: the reporter's note, or the relay's note on what is missing."
        ),
    )
    verified = serializers.BooleanField(allow_null=True, help_text="null: not a franked claim.")
    label = serializers.CharField(help_text="In the caller's language.")
    detail = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    author = serializers.CharField(allow_blank=True)
    sent_at = serializers.CharField(allow_blank=True)


class MessageOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField(help_text="The message's public id.")
    mine = serializers.BooleanField(help_text="Sent by the caller's side (the seller).")
    author = serializers.CharField(help_text="A pseudonym, never a name or an address.")
    text = serializers.CharField(
        help_text="The text; for an end-to-end encrypted message only a marker (see `e2ee`)."
    )
    e2ee = serializers.BooleanField(
        default=False,
        help_text=(
            "End-to-end encrypted between the buyer's and the seller's browsers: the relay "
            "cannot read it, so the API cannot show it."
        ),
    )
    created_at = serializers.DateTimeField()
    state = serializers.CharField(
        allow_blank=True, help_text="Delivery state of the caller's own messages, else empty."
    )
    notices = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="On a reply just sent: what the relay told the sender (e.g. a number hidden).",
    )


class DeviceKeyOutput(serializers.Serializer[dict[str, Any]]):
    fingerprint = serializers.CharField(help_text="Hex SHA-256 of the raw public key.")
    public_key = serializers.CharField(help_text="The raw X25519 public key, base64.")
    created_at = serializers.DateTimeField()


class SidesDevicesOutput(serializers.Serializer[dict[str, Any]]):
    buyer = DeviceKeyOutput(many=True)
    seller = DeviceKeyOutput(many=True)


class ConversationDevicesOutput(serializers.Serializer[dict[str, Any]]):
    mode = serializers.ChoiceField(
        choices=["e2ee", "relay"],
        help_text="e2ee: web ↔ web end to end now; relay: the relay reads messages to carry them.",
    )
    reason = serializers.CharField(
        help_text="Why: e2ee, buyer_app or seller_app (that side reads in an app), "
        "buyer_setup or seller_setup (on the web, no device key yet)."
    )
    app = serializers.CharField(
        allow_blank=True, help_text="The app the relay carries it to (WhatsApp …), if any."
    )
    conversation = serializers.CharField()
    devices = SidesDevicesOutput(help_text="Every live device key of both sides, as stored.")
    safety_code = serializers.CharField(
        allow_blank=True, help_text="The code both people compare (empty unless e2ee)."
    )


class KeywordOutput(serializers.Serializer[dict[str, Any]]):
    outcome = serializers.CharField(help_text="What the keyword did: stopped, blocked, help, …")
    notices = serializers.ListField(child=serializers.CharField())


class MessageInput(serializers.Serializer[dict[str, Any]]):
    text = serializers.CharField(trim_whitespace=True)


# --- Endpoints (the caller's channels) ----------------------------------------------------------


class EndpointOutput(serializers.ModelSerializer[Endpoint]):
    address = serializers.SerializerMethodField()

    class Meta:
        model = Endpoint
        fields = ("code", "channel", "verified", "preferred", "address", "created_at")

    def get_address(self, endpoint: Endpoint) -> str | None:
        """Masked (`+628•••••001`) for phone channels; null for the others."""
        labels: dict[int, str] = self.context.get("masked", {})
        return labels.get(endpoint.pk)


class PhoneInput(serializers.Serializer[dict[str, Any]]):
    channel = serializers.ChoiceField(choices=[channel.value for channel in PHONE_CHANNELS])
    number = serializers.CharField(max_length=40)
    region = serializers.CharField(max_length=2, required=False, allow_blank=True)


class VerifyInput(serializers.Serializer[dict[str, Any]]):
    code = serializers.RegexField(r"^\s*\d{6}\s*$")


class LinkCodeInput(serializers.Serializer[dict[str, Any]]):
    channel = serializers.ChoiceField(choices=["messenger", "instagram"])


class LinkCodeOutput(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField()
    channel = serializers.CharField()
    expires_at = serializers.DateTimeField()


# --- Moderation ---------------------------------------------------------------------------------


class LegalHoldOutput(serializers.ModelSerializer[LegalHold]):
    """A hold without its reason: the reason is a moderator's note, shown on the report page."""

    class Meta:
        model = LegalHold
        fields = ("code", "until", "placed_at", "released_at")


class LegalHoldInput(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField()
    until = serializers.DateTimeField()


class ReleaseInput(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField()


class ReportOutput(serializers.ModelSerializer[Report]):
    listing = serializers.CharField(source="listing.title", default=None, allow_null=True)
    reported = serializers.SerializerMethodField()
    legal_holds = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = (
            "code",
            "reason",
            "status",
            "urgent",
            "automatic",
            "listing",
            "reported",
            "evidence_count",
            "created_at",
            "resolution",
            "resolved_at",
            "evidence_shredded_at",
            "legal_holds",
            "allowed_actions",
        )

    def get_reported(self, report: Report) -> str:
        # The API's pseudonyms are stable English strings, whatever the caller's language.
        with translation.override("en"):
            return moderation_story.reported_name(report)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, report: Report) -> list[str]:
        """What the report's state accepts now (POST `action`)."""
        return moderation.allowed_actions(report)

    @extend_schema_field(LegalHoldOutput(many=True))
    def get_legal_holds(self, report: Report) -> list[dict[str, Any]]:
        """The active holds only."""
        return list(LegalHoldOutput(legal_holds.active_holds_of(report), many=True).data)


class ActionInput(serializers.Serializer[dict[str, Any]]):
    action = serializers.ChoiceField(choices=moderation.Action.values)
    reason = serializers.CharField()
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650)


# --- Tokens and webhooks (dashboard) --------------------------------------------------------------


class ApiTokenOutput(serializers.ModelSerializer[ApiToken]):
    class Meta:
        model = ApiToken
        fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at")


class WebhookDeliveryOutput(serializers.ModelSerializer[IntegratorWebhookDelivery]):
    class Meta:
        model = IntegratorWebhookDelivery
        fields = ("event", "state", "attempts", "status_code", "created_at", "delivered_at")


class WebhookInput(serializers.Serializer[dict[str, Any]]):
    url = serializers.CharField(max_length=500)


class WebhookOutput(serializers.ModelSerializer[IntegratorWebhook]):
    """A webhook as lists show it: the secret's first characters only, never the secret."""

    class Meta:
        model = IntegratorWebhook
        fields: tuple[str, ...] = ("code", "url", "secret_prefix", "created_at")


class NewWebhookSecretOutput(WebhookOutput):
    """The one response that carries the signing secret: creating a webhook or rotating it."""

    secret = serializers.CharField(
        help_text="HMAC-SHA256 key for X-Perantara-Signature. Shown only in this response."
    )

    class Meta(WebhookOutput.Meta):
        fields = (*WebhookOutput.Meta.fields, "secret")
