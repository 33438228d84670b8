"""How the relay names the two sides of a conversation, in the reader's language.

A pseudonym is the only name either side, or a moderator, ever sees: "Buyer K7Q2" /
"Pembeli K7Q2", "Seller · Sepeda" / "Penjual · Sepeda". The msgids are the ones the web
templates use (templates/relay/_author.html), so a page and a relayed message agree.
`Conversation.buyer_pseudonym` stays English: the REST API carries it as a stable string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext as _

from relay.models.core import Side

if TYPE_CHECKING:
    from relay.models import Conversation


def buyer_name(tag: str, language: str | None = None) -> str:
    """ "Buyer K7Q2" in `language` (the active language when None)."""
    with translation.override(language or translation.get_language()):
        return _("Buyer %(tag)s") % {"tag": tag}


def seller_name(title: str, language: str | None = None) -> str:
    """ "Seller · <listing title>" in `language`; `title` must already be the public title."""
    with translation.override(language or translation.get_language()):
        return _("Seller · %(title)s") % {"title": title}


def relay_name(language: str | None = None) -> str:
    """The relay itself as the author of an automatic report or notice."""
    with translation.override(language or translation.get_language()):
        return _("the relay (automatic)")


def visitor_name(language: str | None = None) -> str:
    """Someone who reported a listing from its public page, with no conversation."""
    with translation.override(language or translation.get_language()):
        return _("a visitor of the listing page")


def pseudonym(side: str, conversation: Conversation, language: str | None = None) -> str:
    """The name of `side` in `conversation`, as a reader of `language` sees it. Moderation
    pages call this with the page's language; relayed messages with the recipient's."""
    with translation.override(language or translation.get_language()):
        if side == Side.BUYER:
            return buyer_name(conversation.tag)
        if side == Side.SELLER:
            return seller_name(conversation.listing.public_title)
        return relay_name()


def stored_in_language(name: str, language: str | None = None) -> str:
    """A pseudonym kept in its stable English form (Conversation.buyer_pseudonym, sealed report
    evidence, a franking context's sender) as a reader of `language` sees it; any other text
    is returned as it is."""
    if name.startswith("Buyer ") and name[6:].isalnum():
        return buyer_name(name[6:], language)
    if name.startswith("Seller · "):
        return seller_name(name[len("Seller · ") :], language)
    return name
