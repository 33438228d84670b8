"""Relay reads that depend on who asks. A conversation is found only through its participant."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import get_language

from contacts.models import Channel, Endpoint, User
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


def chat_token(*, endpoint: Endpoint, conversation: Conversation) -> str:
    return signing.dumps({"e": endpoint.code, "c": conversation.code}, salt=CHAT_SALT)


def conversation_for_chat_token(token: str) -> tuple[Endpoint, Conversation]:
    """The buyer's web chat, from the signed link; a forged or altered token is a 404."""
    try:
        data = signing.loads(token, salt=CHAT_SALT)
    except signing.BadSignature:
        raise Http404("This chat link is not valid") from None
    conversation = (
        Conversation.objects.select_related("listing", "buyer_endpoint")
        .filter(code=data.get("c"), buyer_endpoint__code=data.get("e"))
        .first()
    )
    if conversation is None:
        raise Http404("This chat link is not valid")
    return conversation.buyer_endpoint, conversation


@dataclass(frozen=True)
class ShownMessage:
    id: int
    mine: bool
    author: str  # the pseudonym in English, as the API and the platforms carry it
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
            text = "(this message has expired)"
        else:
            try:
                text = crypto.decrypt_body(key, message.uid, message.body_sealed)
            except crypto.BodyUnreadable:
                text = "(this message cannot be read)"
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
