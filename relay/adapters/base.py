"""The contract every platform adapter keeps.

Adapters are pure translators between a platform's wire format and the relay's events. They
never touch the database: webhooks hand them a `WebhookRequest`, the delivery task hands them an
`OutboundText`, and they answer with events, a `SendResult` or a named error. Whether an error
is worth retrying is the adapter's call (`TransientSendError` vs `PermanentSendError`); how
often and when to retry is the task's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

CHANNELS = ("whatsapp", "messenger", "instagram", "sms", "web")


@dataclass(frozen=True)
class PlatformConfig:
    """Credentials and base URL of one platform, read from settings.PLATFORMS[channel]."""

    channel: str
    api_base: str  # e.g. "https://graph.facebook.com/v26.0" or "https://api.twilio.com"
    access_token: str = ""  # Meta access token; for Twilio the Account SID
    app_secret: str = ""  # Meta App Secret; for Twilio the Auth Token
    verify_token: str = ""  # Meta webhook verify token (unused for Twilio)
    template_name: str = ""  # WhatsApp template sent outside the 24-hour window
    template_language: str = "en"
    status_callback_url: str = ""  # Twilio StatusCallback the relay asks for
    page_api_base: str = ""  # Instagram through a Facebook Page: graph.facebook.com/<version>
    timeout_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.app_secret and self.access_token)


@dataclass(frozen=True)
class WebhookRequest:
    """What an adapter needs of an HTTP request; built from Django's request by the view."""

    method: str
    url: str  # the full public URL the platform called (scheme, host, path, query)
    headers: Mapping[str, str]  # header names lower-cased
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)
    content_type: str = ""


class MessageKind(StrEnum):
    """What a person did, as the adapter read it (docs/platforms.md maps every shape here)."""

    TEXT = "text"  # typed text (a quoted reply, a quick-reply or button title, a caption too)
    MEDIA = "media"  # a photo, file, voice note, video, sticker, shared post (maybe a caption)
    LOCATION = "location"
    CONTACTS = "contacts"  # one or more contact cards
    REACTION = "reaction"  # an emoji on a message; `reply_to_provider_id` names the message
    POSTBACK = "postback"  # a menu or button tap; `text` is the keyword it stands for
    REFERRAL = "referral"  # a deep link (m.me / ig.me ?ref=) opened; `text` is the ref
    UNSUPPORTED = "unsupported"  # something the platform could not show us (poll, view-once)
    GROUP = "group"  # WhatsApp: a message in a group the business number is in
    EDIT = "edit"  # Messenger: the person edited an earlier message; `text` is the new text
    DELETE = "delete"  # the person unsent an earlier message
    STORY_REPLY = "story_reply"  # Instagram: a reply to our story
    STORY_MENTION = "story_mention"  # Instagram: the person mentioned us in their story
    UNSUPPORTED_SENDER = "unsupported_sender"  # a short code, an alphanumeric id, a guest


# Kinds the webhook reads and counts but does not hand to the pipeline yet: a reaction, an edit
# or an unsend must not earn an "empty message" notice, and an unsupported sender (an SMS short
# code or alphanumeric id, a Messenger chat-plugin guest) has no address the relay can answer.
# A pipeline rule for one of them takes it off this list.
HELD_BACK_KINDS = frozenset(
    {MessageKind.REACTION, MessageKind.EDIT, MessageKind.DELETE, MessageKind.UNSUPPORTED_SENDER}
)


@dataclass(frozen=True)
class MediaRef:
    """A file a person sent, as the platform names it: never logged, never on the broker (the
    relay seals it in a MediaFetch row until the download, relay/services/media_fetch.py)."""

    kind: str  # "image", or what else it is: audio, video, document, sticker, file
    # WhatsApp: the media id (GET /<media-id> gives a short-lived URL); Messenger, Instagram:
    # the attachment's payload.url (it expires); Twilio: MediaUrlN.
    reference: str

    @property
    def is_image(self) -> bool:
        return self.kind == "image"


@dataclass(frozen=True)
class OutboundMedia:
    """A cleaned photo to send beside (or as) the text."""

    data: bytes
    content_type: str  # image/jpeg or image/png: what every platform takes
    file_name: str  # a neutral name ("photo.jpg"): the sender's file name is not sent on
    # A public, signed, expiring URL the relay serves for this photo and this delivery only
    # (relay/services/media_links.py): for the platforms that fetch by URL (Twilio MMS,
    # Instagram), and a page showing it for SMS numbers MMS cannot reach.
    public_url: str = ""
    page_url: str = ""


class MediaUnavailable(Exception):
    """The platform will not hand over the file (expired, gone, refused): retrying won't help."""


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    provider_message_id: str  # wamid / mid / MessageSid: the dedupe key
    sender_address: str  # where to answer: E.164 ("+6281234567001") for whatsapp/sms, PSID, IGSID
    identity_provider_id: (
        str  # which of OUR identities: phone_number_id, page id, IG id, Twilio To (E.164)
    )
    text: str  # "" when the message carries only media
    timestamp: dt.datetime
    sender_key: str | None = None  # a stable alternative id (WhatsApp BSUID `user_id`) when present
    reply_to_provider_id: str | None = None  # context.id / reply_to.mid: the message being quoted
    has_media: bool = False
    referral: str | None = None  # a deep link's ?ref= value (the relay handle) when present
    kind: str = MessageKind.TEXT  # a MessageKind value
    postback_payload: str | None = None  # the raw payload of a postback / quick reply
    media: tuple[MediaRef, ...] = ()  # the files it carries, in the order sent


@dataclass(frozen=True)
class StatusUpdate:
    channel: str
    status: str  # "sent" | "delivered" | "read" | "failed"
    timestamp: dt.datetime
    provider_message_id: str | None = None  # None for watermark events (Messenger read)
    recipient_address: str | None = None  # set for watermark events
    watermark: dt.datetime | None = None  # every message to recipient sent before this is `status`
    error_code: str | None = None
    error_title: str | None = None


InboundEvent = InboundMessage | StatusUpdate


@dataclass(frozen=True)
class Ignored:
    """An event the relay skips on purpose (an echo of our own send, a standby copy...)."""

    where: str  # JSON path or form position, e.g. "entry[0].messaging[2]"; never a value
    what: str  # plain words: "echo of the page's own message"


@dataclass(frozen=True)
class Rejection:
    """An event that could not be read; the others in the same webhook still go on."""

    where: str  # JSON path, never a value
    reason: str  # names paths only, never values: it is logged


@dataclass
class Parsed:
    """One webhook, event by event: what to accept, what was skipped on purpose, what was bad."""

    events: list[InboundEvent] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def extend(self, other: Parsed) -> None:
        self.events += other.events
        self.ignored += other.ignored
        self.rejections += other.rejections


@dataclass(frozen=True)
class OutboundText:
    identity_provider_id: str  # our sending identity: phone_number_id, page id, IG id, Twilio From
    to_address: str  # recipient: E.164, PSID or IGSID
    text: str
    callback_data: str = ""  # our message code, echoed back where the platform allows
    reply_to_provider_id: str | None = None  # thread under this platform message when supported
    use_template: bool = False  # WhatsApp: send the approved template instead of free text
    template_parameters: tuple[str, ...] = ()
    outside_window: bool = False  # Messenger/Instagram: send with tag HUMAN_AGENT
    # Instagram through a Facebook Page: the Page's id, which the send posts to instead.
    via_page_id: str = ""
    media: tuple[OutboundMedia, ...] = ()  # photos; `text` is then their caption


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class MalformedPayload(ValueError):
    """The webhook body cannot be read as this platform's format."""


class SendError(Exception):
    def __init__(self, reason: str, *, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason  # plain words, safe to show the sender; never an address
        self.code = code


class TransientSendError(SendError):
    """Worth retrying: timeouts, connection errors, 429, 5xx.

    `may_have_sent`: the request left and its answer was lost (a read timeout, a reset, a 5xx),
    so the platform may have taken it. Neither Meta's Send API nor Twilio's Messages API takes
    an idempotency key (Twilio's error 20500 page: "sending an SMS ... not idempotent"), so a
    retry then may deliver twice: the relay counts such re-sends instead of hiding them."""

    def __init__(
        self,
        reason: str,
        *,
        code: str = "",
        retry_after: float | None = None,
        may_have_sent: bool = False,
    ) -> None:
        super().__init__(reason, code=code)
        self.retry_after = retry_after
        self.may_have_sent = may_have_sent


class PermanentSendError(SendError):
    """Retrying will not help: the recipient is unreachable, blocked us, or the request is wrong."""


class WindowClosedError(PermanentSendError):
    """Free-form text refused outside the 24-hour window (WhatsApp 131047): send the template."""


class Adapter:
    channel: ClassVar[str]
    # A photo this platform takes: the largest file (its documented limit) and the types.
    image_max_bytes: ClassVar[int] = 5 * 1024 * 1024
    image_types: ClassVar[frozenset[str]] = frozenset({"image/jpeg", "image/png"})

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config

    def handshake(self, request: WebhookRequest) -> tuple[int, str]:
        """Answer Meta's GET verification: (200, challenge) or (403, reason)."""
        raise NotImplementedError

    def verify(self, request: WebhookRequest) -> bool:
        """Return whether the request carries this platform's valid signature."""
        raise NotImplementedError

    def parse(self, request: WebhookRequest) -> Parsed:
        """Read a verified webhook event by event.

        A bad event becomes a `Rejection` and the others still count; only a body that is not
        this platform's at all (not JSON / not a form, the wrong envelope) raises
        MalformedPayload."""
        raise NotImplementedError

    def ack(self) -> tuple[int, str, str]:
        """The acknowledgement body: (status, content type, body)."""
        return 200, "text/plain", "EVENT_RECEIVED"

    def send(self, message: OutboundText) -> SendResult:
        """Send one text; raise TransientSendError, PermanentSendError or WindowClosedError."""
        raise NotImplementedError

    def download_media(self, ref: MediaRef, *, max_bytes: int, total_seconds: float) -> bytes:
        """The bytes of a file a person sent, by the platform's documented flow. Raise
        MediaUnavailable, TransientSendError, http.DownloadTooLarge / DownloadTooSlow, or
        url_guard.RefusedUrl for a URL that leads into a private network."""
        raise NotImplementedError
