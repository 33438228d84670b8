"""Relay reads that depend on who asks. A conversation is found only through its participant."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import get_language, gettext

from contacts.models import Channel, Endpoint, User
from marketplace.models import Listing
from relay import crypto
from relay.models import Conversation, Delivery, Message, RelayIdentity, Side
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

    @property
    def state_label(self) -> str:
        return str(Delivery.State(self.state).label) if self.state else ""


def messages_for(conversation: Conversation, *, viewer_side: str) -> list[ShownMessage]:
    """Decrypted messages of a conversation as the viewer sees them (pseudonyms only)."""
    messages = list(Message.objects.filter(conversation=conversation).order_by("id"))
    states = dict(
        Delivery.objects.filter(message__in=messages, kind=Delivery.Kind.RELAY).values_list(
            "message_id", "state"
        )
    )
    try:
        key: bytes | None = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    except crypto.BodyUnreadable:
        key = None
    shown = []
    for message in messages:
        mine = message.sender_side == viewer_side
        if key is None:
            text = gettext("(this message has expired)")
        else:
            try:
                text = crypto.decrypt_body(key, message.uid, message.body_sealed)
            except crypto.BodyUnreadable:
                text = gettext("(this message cannot be read)")
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
                text=text,
                created_at=message.created_at,
                state=states.get(message.pk, "") if mine else "",
            )
        )
    return shown


def stream_for(conversation: Conversation, *, viewer_side: str) -> list[ShownMessage]:
    """What a web participant's page shows: the messages, and the relay's words to that side
    of the conversation in between (the other side ended it, came back, a moderator closed
    it), in the page's language."""
    notices = Delivery.objects.filter(
        conversation=conversation,
        kind=Delivery.Kind.NOTICE,
        recipient_side=viewer_side,
        recipient_endpoint__channel=Channel.WEB,
    ).order_by("id")
    language = (get_language() or "en")[:2]
    said = [
        ShownMessage(
            id=-notice.pk,  # never a message's id
            mine=False,
            author="Perantara",
            text=render_notice(notice.notice_code, language, notice.notice_params),
            created_at=notice.created_at,
            state="",
            side=Side.RELAY,
            relay=True,
        )
        for notice in notices
    ]
    messages = messages_for(conversation, viewer_side=viewer_side)
    return sorted([*messages, *said], key=lambda shown: shown.created_at)  # type: ignore[arg-type,return-value]
