"""What enters the pipeline (a Submission), what a guard answers (a Stop), what comes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from django.db import models

from contacts.models import Endpoint
from marketplace.handles import HandleCandidate
from marketplace.models import Listing, RelayHandle
from relay.adapters.base import InboundMessage
from relay.models import Conversation, MediaFile, RelayIdentity
from relay.services.e2ee import Envelope


class Road(StrEnum):
    """Every way a person's message reaches the relay. A new road is added here and nowhere
    else: the guards do not know roads, only what a submission carries."""

    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    SMS = "sms"
    WEB_CHAT = "web_chat"  # a buyer on the listing page, no account
    WEB_INBOX = "web_inbox"  # a seller in the dashboard
    API = "api"  # a seller's marketplace backend

    @property
    def is_platform(self) -> bool:
        return self in PLATFORM_ROADS


PLATFORM_ROADS = frozenset({Road.WHATSAPP, Road.MESSENGER, Road.INSTAGRAM, Road.SMS})


class Outcome(models.TextChoices):
    """How a submission ended. Exactly one per submission."""

    RELAYED = "relayed", "relayed to the other side"
    HELD = "held", "held as spam (kept sealed, not delivered)"
    DUPLICATE = "duplicate", "a platform retry of a message already accepted"
    IGNORED = "ignored", "sent to an identity the relay does not have"
    BANNED = "banned", "the sender is banned"
    SUSPENDED = "suspended", "the sender is suspended"
    OTHER_SIDE_SUSPENDED = "other_suspended", "the other side is suspended"
    LINK_CONNECTED = "link_connected", "a link code connected the sender's chat"
    UNSUPPORTED = "unsupported", "content the relay cannot carry"
    EMPTY = "empty", "empty or invisible-only text"
    HELP = "help", "the HELP keyword"
    LANGUAGE_SET = "language_set", "BAHASA / ENGLISH chose the language the relay writes in"
    DATA_REQUEST = "data_request", "MYDATA: a one-time code for the data page was sent"
    REPORT_MENU = "report_menu", "REPORT: the reason menu was sent"
    REPORT_FILED = "report_filed", "a numbered answer filed the waiting report"
    STOPPED = "stopped", "STOP ended the conversation"
    OPTED_OUT = "opted_out", "a carrier opt-out keyword (SMS)"
    RESUMED = "resumed", "START resumed the conversation"
    BLOCKED = "blocked", "BLOCK blocked the conversation"
    UNBLOCKED = "unblocked", "UNBLOCK reopened the conversation"
    NOT_OPEN = "not_open", "the conversation is ended, blocked or closed"
    RATE_LIMITED = "rate_limited", "over an abuse limit"
    NOT_ROUTED = "not_routed", "no conversation applies (help, unknown handle, ambiguous)"
    REFERRED = "referred", "a deep link named a listing; the next message goes there"
    RELEASED = "released", "a reply to a WhatsApp template: the held message goes out instead"
    E2EE_UNAVAILABLE = "e2ee_unavailable", "end to end, but the conversation is not web ↔ web now"
    E2EE_STALE_KEYS = "e2ee_stale_keys", "end to end, to devices that are not the current ones"


@dataclass(frozen=True)
class Notice:
    """What the relay tells the sender: a code of relay/notices.py and its safe parameters."""

    code: str
    params: dict[str, str] = field(default_factory=dict)
    # Shown in this language whatever the page's: the answer to BAHASA / ENGLISH is in the
    # language just chosen. Platform notices follow the sender's stored language anyway.
    language: str = ""


@dataclass(frozen=True)
class Submission:
    """One message a person sent, by any road.

    Platform roads carry the adapter's `event` (the sender and identity are resolved from it);
    web roads carry the `sender` endpoint and either the `conversation` written in (web inbox,
    API, web chat follow-up) or the `listing` a web chat starts on.
    """

    road: Road
    text: str
    event: InboundMessage | None = None
    sender: Endpoint | None = None
    conversation: Conversation | None = None
    listing: Listing | None = None
    # A web chat's start: the keyed hash of the network address it came from (never the raw
    # address); the browser is the sender endpoint itself.
    network_key: str = ""
    has_media: bool = False
    # Photos a web road already received, cleaned and sealed (relay/services/media.py) but not
    # yet tied to a message: the pipeline attaches them to the message it relays.
    media: tuple[MediaFile, ...] = ()
    # Web ↔ web end to end: the sender's browser envelope (relay/services/e2ee.py). `text` is
    # then empty: the body guards ran in the browser, the server runs those that need no body.
    e2ee: Envelope | None = None


@dataclass(frozen=True)
class Stop:
    """A guard's answer when the message goes no further."""

    outcome: Outcome
    notice: Notice | None = None
    conversation: Conversation | None = None  # the notice belongs to this stream


@dataclass
class Context:
    """The submission as the pipeline learns about it; guards read it and may fill it in."""

    submission: Submission
    sender: Endpoint | None = None
    identity: RelayIdentity | None = None
    new_sender: bool = False
    text: str = ""
    keyword: str | None = None
    conversation: Conversation | None = None
    side: str | None = None
    created: bool = False  # this message opens its conversation
    wrote_handle: bool = False  # the listing's handle (or its page) named the conversation
    candidates: list[HandleCandidate] | None = None  # handle-like words, found once
    typed_handle: RelayHandle | Literal[False] | None = False  # False: not looked up yet
    body: str = ""  # what will be relayed (tag removed, details masked)
    hold: bool = False
    released_templates: set[str] = field(default_factory=set)  # WhatsApp templates answered
    notices: list[Notice] = field(default_factory=list)  # told to the sender, message relayed

    @property
    def road(self) -> Road:
        return self.submission.road

    @property
    def listing(self) -> Listing:
        assert self.conversation is not None
        return self.conversation.listing


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    message_id: int | None = None
    conversation: Conversation | None = None
    notices: tuple[Notice, ...] = ()  # what the sender was told, in order

    @property
    def delivered(self) -> bool:
        return self.outcome == Outcome.RELAYED
