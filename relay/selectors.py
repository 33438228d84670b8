"""Relay reads that depend on who asks. A conversation is found only through its participant."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import get_language, gettext

from contacts.models import Channel, Endpoint, User
from marketplace.models import Listing
from relay import crypto, franking
from relay.models import Conversation, Delivery, MediaFile, Message, RelayIdentity, Side
from relay.notices import render_notice

CHAT_SALT = "relay.buyer-chat"


def active_identities() -> QuerySet[RelayIdentity]:
    return RelayIdentity.objects.filter(active=True).order_by("channel", "id")


def conversations_for_seller(user: User) -> QuerySet[Conversation]:
    return (
        Conversation.objects.filter(listing__seller=user)
        .select_related("listing")
        .order_by("-last_activity_at")
    )


def conversation_for_seller(user: User, code: str) -> Conversation:
    conversation = conversations_for_seller(user).filter(code=code).first()
    if conversation is None:
        raise Http404("No such conversation")
    return conversation


# A link is renewed once it has lived this share of RELAY_CHAT_LINK_DAYS, so the address bar
# of a buyer who keeps using the chat always holds a link with most of its life ahead.
CHAT_LINK_RENEW_FRACTION = 0.1


class ChatLinkRefused(Exception):
    """A chat link that opens nothing; the page says why and what the buyer can do next."""

    class Reason(StrEnum):
        INVALID = "invalid"  # 404: not a link the relay issued (altered, cut short, made up)
        EXPIRED = "expired"  # 410: issued more than RELAY_CHAT_LINK_DAYS ago
        # 410: the conversation was ended, blocked or closed since (by the seller, a moderator
        # or time; a buyer who did it themselves was handed the new link), or is gone.
        ENDED = "ended"

    def __init__(self, reason: Reason, listing: Listing | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.listing = listing

    @property
    def status(self) -> int:
        return 404 if self.reason == self.Reason.INVALID else 410


Refusal = ChatLinkRefused.Reason


@dataclass(frozen=True)
class ChatAccess:
    """What a valid chat link opens, and the link the page carries on with (a renewed one once
    the old one has lived CHAT_LINK_RENEW_FRACTION of its life)."""

    buyer: Endpoint
    conversation: Conversation
    token: str
    renewed: bool
    epoch: int  # the link generation it was opened at (the conversation may move on)


def chat_token(*, endpoint: Endpoint, conversation: Conversation) -> str:
    """The buyer's link to their chat, bound to the conversation's current link generation.
    `signing.dumps` stamps the time, so `open_chat_link` can refuse it once it is too old."""
    payload = {"e": endpoint.code, "c": conversation.code, "g": conversation.chat_epoch}
    return signing.dumps(payload, salt=CHAT_SALT)


def _issued_at(token: str) -> float:
    """The time a token whose signature was checked was signed (value:timestamp:signature)."""
    return float(signing.b62_decode(token.rsplit(signing.Signer().sep, 2)[-2]))


def _listing_to_start_again(listing: Listing) -> Listing | None:
    """The listing page the buyer can start a new chat from, if it is still shown."""
    if listing.taken_down or listing.status == Listing.Status.DRAFT:
        return None
    return listing


def _conversation_named(data: object) -> Conversation | None:
    if not isinstance(data, dict):
        return None
    return (
        Conversation.objects.select_related("listing", "buyer_endpoint")
        .filter(code=str(data.get("c")), buyer_endpoint__code=str(data.get("e")))
        .first()
    )


def _expired(token: str) -> ChatLinkRefused:
    conversation = _conversation_named(signing.loads(token, salt=CHAT_SALT))
    listing = conversation.listing if conversation is not None else None
    return ChatLinkRefused(Refusal.EXPIRED, listing and _listing_to_start_again(listing))


def open_chat_link(token: str) -> ChatAccess:
    """The buyer's web chat, from the signed link, or ChatLinkRefused saying why not.

    A link opens only while it is younger than RELAY_CHAT_LINK_DAYS, names a conversation of
    that buyer that is not closed, and carries the conversation's current link generation.
    """
    max_age = dt.timedelta(days=settings.RELAY_CHAT_LINK_DAYS)
    try:
        data = signing.loads(token, salt=CHAT_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise _expired(token) from None
    except signing.BadSignature:
        raise ChatLinkRefused(Refusal.INVALID) from None
    conversation = _conversation_named(data)
    if conversation is None:  # signed by the relay, so it existed: shredded or erased since
        raise ChatLinkRefused(Refusal.ENDED)
    assert isinstance(data, dict)
    if (
        conversation.status == Conversation.Status.CLOSED
        or conversation.wrapped_key is None
        or data.get("g", 0) != conversation.chat_epoch
    ):
        raise ChatLinkRefused(Refusal.ENDED, _listing_to_start_again(conversation.listing))
    age = time.time() - _issued_at(token)
    renewed = age > max_age.total_seconds() * CHAT_LINK_RENEW_FRACTION
    if renewed:
        token = chat_token(endpoint=conversation.buyer_endpoint, conversation=conversation)
    return ChatAccess(
        conversation.buyer_endpoint, conversation, token, renewed, conversation.chat_epoch
    )


def _the_buyers_doing(conversation: Conversation) -> bool:
    """Whether the buyer can carry on from here: open, or ended or blocked by the buyer."""
    Status = Conversation.Status
    if conversation.status == Status.ENDED:
        return conversation.ended_by == Side.BUYER
    if conversation.status == Status.BLOCKED:
        return conversation.blocked_by == Side.BUYER
    return conversation.status == Status.OPEN


def chat_token_after_buyer_action(access: ChatAccess) -> str:
    """The link to send the buyer back to after they acted on their chat (wrote, typed STOP or
    BLOCK, blocked, unblocked, resumed, reported).

    If their own action moved the conversation to a new link generation they get a link of the
    new generation: they proved they hold the chat a moment ago, and they must be able to
    resume or unblock. If the seller, a moderator or time ended, blocked or closed it
    meanwhile, they keep the old link, which now opens the "this chat has ended" page."""
    conversation = access.conversation
    conversation.refresh_from_db(fields=["status", "blocked_by", "ended_by", "chat_epoch"])
    if conversation.chat_epoch == access.epoch or not _the_buyers_doing(conversation):
        return access.token
    return chat_token(endpoint=access.buyer, conversation=conversation)


THUMBNAIL_SIDE = 320  # the longest side of a bubble's thumbnail, in pixels


@dataclass(frozen=True)
class ShownPhoto:
    """A photo in a bubble: its uid names it in the page's photo addresses (which check who
    asks); the thumbnail's size lets the page reserve its box before it loads."""

    uid: str
    width: int
    height: int

    @property
    def thumbnail_size(self) -> tuple[int, int]:
        scale = min(1.0, THUMBNAIL_SIDE / max(self.width, self.height, 1))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))

    @property
    def thumbnail_width(self) -> int:
        return self.thumbnail_size[0]

    @property
    def thumbnail_height(self) -> int:
        return self.thumbnail_size[1]


def _photos_of(messages: list[Message]) -> dict[int, tuple[ShownPhoto, ...]]:
    """The photos of these messages, in one statement."""
    found: dict[int, list[ShownPhoto]] = {}
    rows = (
        MediaFile.objects.filter(message__in=messages)
        .order_by("id")
        .values_list("message_id", "uid", "width", "height")
    )
    for message_id, uid, width, height in rows:
        found.setdefault(message_id, []).append(ShownPhoto(str(uid), width, height))
    return {message_id: tuple(photos) for message_id, photos in found.items()}


@dataclass(frozen=True)
class ShownMessage:
    id: int
    mine: bool
    author: str  # the pseudonym in English, as the API carries it (relay/pseudonyms.py)
    side: str  # who wrote it, so a page can name them in its own language
    text: str
    created_at: object
    state: str  # the delivery state of my own messages, "" otherwise
    relay: bool = False  # a word from the relay itself (the other side stopped, blocked, …)
    photos: tuple[ShownPhoto, ...] = ()  # cleaned by the relay, in the order they were sent
    # Web ↔ web end to end: `text` is a placeholder the page's script replaces with what it
    # opens from `envelope` (ciphertext only the devices can open), checked against the
    # franking `commitment`; `context` and `tag` are the server's, for a franked report.
    uid: str = ""
    e2ee: bool = False
    envelope: str = ""
    commitment: str = ""
    tag: str = ""
    context: str = ""

    @property
    def state_label(self) -> str:
        return str(Delivery.State(self.state).label) if self.state else ""


def _readable(key: bytes | None, message: Message) -> str:
    if key is None:
        return gettext("(this message has expired)")
    try:
        return crypto.decrypt_body(key, message.uid, message.body_sealed)
    except crypto.BodyUnreadable:
        return gettext("(this message cannot be read)")


def _sealed_fields(key: bytes | None, message: Message) -> dict[str, object]:
    """What the page needs to open an end-to-end message (the envelope is the outer layer
    the server can remove; the inner one only the devices can)."""
    if not message.e2ee:
        return {"text": _readable(key, message)}
    envelope = _readable(key, message) if key is not None else ""
    if not envelope.startswith("{"):
        envelope = ""  # expired or unreadable: the placeholder says so
    if envelope:
        text = gettext("(end-to-end encrypted: opening it in this browser…)")
    elif key is None:
        text = gettext("(this message has expired)")
    else:
        # Never what the row holds: whatever it is, it is not an envelope a browser opened,
        # and a bubble with the lock badge shows only text a browser decrypted.
        text = gettext("(this message cannot be read)")
    return {
        "text": text,
        "uid": str(message.uid),
        "e2ee": True,
        "envelope": envelope,
        "commitment": _b64(message.franking_commitment),
        "tag": _b64(message.reporting_tag),
        "context": franking.context_bytes(message.franking_context).decode()
        if message.franking_context
        else "",
    }


def _b64(value: bytes | memoryview | None) -> str:
    return base64.b64encode(bytes(value)).decode() if value is not None else ""


def _conversation_key(conversation: Conversation) -> bytes | None:
    try:
        return crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    except crypto.BodyUnreadable:
        return None


def readable_by(viewer_side: str, *, message: str = "pk") -> Q:
    """The messages a side may read: its own, and those of the other side the relay delivered.
    A message held as spam (guards.spam_hold) has no delivery: it is kept sealed as evidence
    and reaches its recipient on no road, the web inbox, its thread list and the API included.
    `message` names the message's id from where the filter applies ("message" for a photo)."""
    relayed = Delivery.objects.filter(message=OuterRef(message), kind=Delivery.Kind.RELAY)
    own = "sender_side" if message == "pk" else f"{message}__sender_side"
    return Q(**{own: viewer_side}) | Q(Exists(relayed))


def messages_for(conversation: Conversation, *, viewer_side: str) -> list[ShownMessage]:
    """Decrypted messages of a conversation as the viewer sees them (pseudonyms only)."""
    messages = list(
        Message.objects.filter(readable_by(viewer_side), conversation=conversation).order_by("id")
    )
    states = dict(
        Delivery.objects.filter(message__in=messages, kind=Delivery.Kind.RELAY).values_list(
            "message_id", "state"
        )
    )
    return _shown_messages(conversation, messages, states, viewer_side=viewer_side)


def _shown_messages(
    conversation: Conversation,
    messages: list[Message],
    states: dict[int, str],
    *,
    viewer_side: str,
) -> list[ShownMessage]:
    if not messages:
        return []
    key = _conversation_key(conversation)
    photos = _photos_of(messages)
    shown = []
    for message in messages:
        mine = message.sender_side == viewer_side
        author = (
            conversation.buyer_pseudonym
            if message.sender_side == Side.BUYER
            else conversation.seller_pseudonym
        )
        shown.append(
            ShownMessage(
                id=message.pk,
                mine=mine,
                author=author,
                side=message.sender_side,
                created_at=message.created_at,
                state=states.get(message.pk, "") if mine else "",
                photos=photos.get(message.pk, ()),
                **_sealed_fields(key, message),  # type: ignore[arg-type]
            )
        )
    return shown


def _notice_shown(notice: Delivery, language: str) -> ShownMessage:
    return ShownMessage(
        id=-notice.pk,  # never a message's id
        mine=False,
        author="Perantara",
        text=render_notice(notice.notice_code, language, notice.notice_params),
        created_at=notice.created_at,
        state="",
        side=Side.RELAY,
        relay=True,
    )


def _relay_notices(conversation: Conversation, *, viewer_side: str) -> list[ShownMessage]:
    """The relay's words to the viewer's web endpoint, in the page's language."""
    notices = Delivery.objects.filter(
        conversation=conversation,
        kind=Delivery.Kind.NOTICE,
        recipient_side=viewer_side,
        recipient_endpoint__channel=Channel.WEB,
    ).order_by("id")
    language = (get_language() or "en")[:2]
    return [_notice_shown(notice, language) for notice in notices]


def _in_order(shown: list[ShownMessage]) -> list[ShownMessage]:
    return sorted(shown, key=lambda one: one.created_at)  # type: ignore[arg-type,return-value]


def stream_for(conversation: Conversation, *, viewer_side: str) -> list[ShownMessage]:
    """What a web participant's page shows: the messages, and the relay's words to that side
    of the conversation in between (the other side ended it, came back, a moderator closed
    it), in the page's language."""
    said = _relay_notices(conversation, viewer_side=viewer_side)
    return _in_order([*messages_for(conversation, viewer_side=viewer_side), *said])


# --- The live seller inbox: a thread list and an open conversation, asked every few seconds --


@dataclass(frozen=True)
class Thread:
    """One row of the seller's thread list."""

    conversation: Conversation
    channel: str  # the buyer's channel (contacts.models.Channel), never their address
    unread: int  # buyer messages above the seller's read mark
    preview: str  # the newest message, decrypted for this seller only ("" if none yet)
    preview_mine: bool  # the seller wrote it

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label)


@dataclass(frozen=True)
class ThreadList:
    version: str  # changes whenever anything a row shows changes
    threads: list[Thread] | None  # None: unchanged since the version the page has


def _thread_rows(user: User) -> list[Conversation]:
    """The seller's conversations with what a row shows, in one statement whatever their
    lengths: the newest message id and the unread count are subqueries on the
    (conversation, id) index."""
    in_it = Message.objects.filter(readable_by(Side.SELLER), conversation=OuterRef("pk"))
    newest = in_it.order_by("-id").values("id")[:1]
    unread = (
        in_it.filter(sender_side=Side.BUYER, id__gt=OuterRef("seller_read_message_id"))
        .values("conversation")
        .annotate(count=Count("id"))
        .values("count")
    )
    return list(
        conversations_for_seller(user).annotate(
            buyer_channel=F("buyer_endpoint__channel"),
            newest_message_id=Coalesce(Subquery(newest), Value(0)),
            unread=Coalesce(Subquery(unread), Value(0)),
        )
    )


def _version(rows: list[Conversation]) -> str:
    shown = "|".join(
        f"{row.code}:{row.status}:{row.newest_message_id}:{row.unread}:"  # type: ignore[attr-defined]
        f"{row.last_activity_at.isoformat()}:{row.listing.public_title}"
        for row in rows
    )
    return hashlib.blake2b(shown.encode(), digest_size=8).hexdigest()


def _previews(rows: list[Conversation]) -> dict[int, Message]:
    newest = [row.newest_message_id for row in rows if row.newest_message_id]  # type: ignore[attr-defined]
    if not newest:
        return {}
    return {
        message.conversation_id: message
        for message in Message.objects.filter(id__in=newest).only(
            "id", "uid", "conversation_id", "sender_side", "body_sealed", "e2ee"
        )
    }


def _preview(row: Conversation, newest: Message | None) -> str:
    if newest is None:
        return ""
    if newest.e2ee:  # the server cannot read it, and the list is no place to open it
        return gettext("Encrypted message")
    text = _readable(_conversation_key(row), newest)
    if not text and MediaFile.objects.filter(message=newest).exists():
        return gettext("Photo")  # a photo sent without a caption
    return text


def inbox_threads(user: User, *, known_version: str = "") -> ThreadList:
    """The seller's thread list, or only its version when the page already shows that one:
    an idle poll then costs one statement and decrypts nothing."""
    rows = _thread_rows(user)
    version = _version(rows)
    if version == known_version:
        return ThreadList(version=version, threads=None)
    previews = _previews(rows)
    threads = []
    for row in rows:
        newest = previews.get(row.pk)
        threads.append(
            Thread(
                conversation=row,
                channel=row.buyer_channel,  # type: ignore[attr-defined]
                unread=row.unread,  # type: ignore[attr-defined]
                preview=_preview(row, newest),
                preview_mine=newest is not None and newest.sender_side == Side.SELLER,
            )
        )
    return ThreadList(version=version, threads=threads)


@dataclass(frozen=True)
class StreamNews:
    """What an open conversation gained since the page's cursor."""

    shown: list[ShownMessage]  # new messages and relay notices, in order
    seq: int  # the cursor the page asks from next time
    states: dict[int, str]  # delivery state of the viewer's own messages that changed


# How far back a poll looks for delivery states that changed: the last this many deliveries
# of the conversation (both directions). An older message's state shows on the next page load.
STATE_WINDOW = 200


def stream_news(
    conversation: Conversation, *, viewer_side: str, seq: int, states_since: dt.datetime | None
) -> StreamNews:
    """Only what is new in an open conversation since cursor `seq`, and the delivery states of
    the viewer's messages touched since `states_since`.

    The cursor is the conversation's sequence number (Delivery.seq, Conversation.next_seq),
    not a message id: it is taken under the conversation's row lock and becomes visible when
    its transaction commits, so everything below `conversation.next_seq` as this request read
    it has committed and nothing is skipped; message ids, drawn before that lock, may commit
    out of order. One statement reads a bounded range of the (conversation, recipient_side,
    seq) index whatever the history's length and returns only new or changed rows; only new
    messages are decrypted.
    `conversation` must be freshly read: its next_seq is the next cursor.
    """
    upto = conversation.next_seq
    other = Side.BUYER if viewer_side == Side.SELLER else Side.SELLER
    changed_since = Q(pk__in=[])  # matches nothing: the page asked for no states
    if states_since is not None:
        changed_since = Q(kind=Delivery.Kind.RELAY, recipient_side=other) & Q(
            updated_at__gte=states_since
        )
    rows = list(
        Delivery.objects.filter(
            Q(seq__gte=seq) | changed_since,
            conversation=conversation,
            recipient_side__in=(Side.BUYER, Side.SELLER),
            seq__gte=min(seq, max(0, upto - STATE_WINDOW)),
            seq__lt=upto,
        ).select_related("recipient_endpoint")
    )
    fresh = [row for row in rows if row.seq >= seq]
    relayed = [row for row in fresh if row.kind == Delivery.Kind.RELAY and row.message_id]
    messages = list(
        Message.objects.filter(id__in=[row.message_id for row in relayed]).order_by("id")
        if relayed
        else []
    )
    language = (get_language() or "en")[:2]
    notices = [
        _notice_shown(row, language)
        for row in fresh
        if row.kind == Delivery.Kind.NOTICE
        and row.recipient_side == viewer_side
        and row.recipient_endpoint.channel == Channel.WEB
    ]
    changed = [
        row
        for row in rows
        if row.seq < seq
        and row.kind == Delivery.Kind.RELAY
        and row.recipient_side == other
        and states_since is not None
        and row.updated_at >= states_since
    ]
    states = {row.message_id: row.state for row in relayed if row.message_id is not None}
    shown = _shown_messages(conversation, messages, states, viewer_side=viewer_side)
    return StreamNews(
        shown=_in_order([*shown, *notices]),
        seq=max(seq, upto),
        states={row.message_id: row.state for row in changed if row.message_id},
    )


def photo_for_viewer(conversation: Conversation, *, viewer_side: str, uid: str) -> MediaFile:
    """A photo of this conversation that this side may see: one that went with a message, or
    the viewer's own upload still waiting to be sent (its preview in the composer). Anything
    else, a malformed uid included, is indistinguishable from a missing one (Http404)."""
    try:
        parsed = uuid.UUID(uid)
    except ValueError:
        raise Http404("No such photo") from None
    visible = Q(sender_side=viewer_side) | Q(
        readable_by(viewer_side, message="message"), message__isnull=False
    )
    photo = MediaFile.objects.filter(visible, conversation=conversation, uid=parsed).first()
    if photo is None:
        raise Http404("No such photo")
    return photo
