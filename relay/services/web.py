"""The web inbox: sellers answer from the dashboard, buyers chat from the listing page."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from contacts import services as contacts
from contacts.models import Channel, Endpoint, User
from marketplace.models import Listing
from relay.models import Conversation, Message, Side
from relay.services import outbound
from relay.services.conversations import block_conversation, open_conversation
from relay.services.errors import RelayError


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise RelayError(_("Write a message first."))
    if len(text) > settings.RELAY_MAX_TEXT_CHARS:
        raise RelayError(
            _("Messages can be at most %(limit)d characters.")
            % {"limit": settings.RELAY_MAX_TEXT_CHARS}
        )
    return text


def seller_web_endpoint(user: User) -> Endpoint:
    endpoint = user.endpoints.filter(channel=Channel.WEB).first()
    return endpoint or contacts.create_web_endpoint(user=user)


@transaction.atomic
def send_seller_reply(*, seller: User, conversation: Conversation, text: str) -> Message:
    text = _check_text(text)
    if conversation.status != Conversation.Status.OPEN:
        raise RelayError(_("This conversation has ended; the buyer will not get new messages."))
    return outbound.relay_message(
        conversation=conversation,
        sender_side=Side.SELLER,
        sender=seller_web_endpoint(seller),
        identity=None,
        text=text,
        channel=Channel.WEB,
    )


@transaction.atomic
def send_buyer_web_message(*, buyer: Endpoint, conversation: Conversation, text: str) -> Message:
    text = _check_text(text)
    if conversation.status != Conversation.Status.OPEN:
        raise RelayError(_("This conversation has ended; the seller will not get new messages."))
    return outbound.relay_message(
        conversation=conversation,
        sender_side=Side.BUYER,
        sender=buyer,
        identity=None,
        text=text,
        channel=Channel.WEB,
    )


@transaction.atomic
def start_web_chat(*, listing: Listing, text: str, language: str) -> Conversation:
    """A buyer without an account writes from the listing page: a web endpoint of their own."""
    text = _check_text(text)
    if not listing.is_open:
        raise RelayError(_("This listing is not taking messages."))
    buyer = contacts.create_web_endpoint(language=language)
    conversation, created = open_conversation(listing=listing, buyer=buyer, buyer_identity=None)
    outbound.relay_message(
        conversation=conversation,
        sender_side=Side.BUYER,
        sender=buyer,
        identity=None,
        text=text,
        channel=Channel.WEB,
        introduce=created,
    )
    return conversation


def block_from_web(*, conversation: Conversation, side: str) -> None:
    block_conversation(conversation=conversation, by_side=side)
