"""The web roads into the pipeline: the seller's web inbox and API, the buyer's web chat.

Each builds a Submission and calls `submit()`, like the webhooks do. A refused message raises
`Refused`, carrying the result, whose notices the page or the API shows in the sender's words.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import get_language

from contacts.models import Endpoint, User
from marketplace.models import Listing
from relay.models import Conversation, MediaFile
from relay.notices import render_notice
from relay.pipeline.submit import submit
from relay.pipeline.types import Notice, Outcome, Result, Road, Submission
from relay.services import web
from relay.services.e2ee import Envelope
from relay.services.errors import RelayError

# Outcomes that mean "done what you asked" though nothing was relayed (STOP typed in the chat).
ACCEPTED = frozenset(
    {
        Outcome.RELAYED,
        Outcome.STOPPED,
        Outcome.RESUMED,
        Outcome.BLOCKED,
        Outcome.UNBLOCKED,
        Outcome.HELP,
        Outcome.LANGUAGE_SET,
        Outcome.DATA_REQUEST,
        Outcome.REPORT_MENU,
        Outcome.REPORT_FILED,
    }
)


class Refused(RelayError):
    """The pipeline did not relay the message; `message` is what the sender is told."""

    def __init__(self, result: Result) -> None:
        super().__init__(" ".join(notice_texts(result)) or str(result.outcome.label))
        self.result = result


def notice_texts(result: Result, language: str | None = None) -> list[str]:
    """The notices of a result as the sender reads them (the page's language by default)."""
    return [_render(notice, language or get_language() or "en") for notice in result.notices]


def _render(notice: Notice, language: str) -> str:
    return render_notice(notice.code, (notice.language or language)[:2], notice.params)


def _checked(result: Result) -> Result:
    if result.outcome not in ACCEPTED:
        raise Refused(result)
    return result


def seller_reply(
    *,
    seller: User,
    conversation: Conversation,
    text: str,
    road: Road = Road.WEB_INBOX,
    media: Sequence[MediaFile] = (),
    envelope: Envelope | None = None,
) -> Result:
    """The seller answers from the web inbox or the API (end to end: `envelope`, no text)."""
    sender = web.seller_web_endpoint(seller)
    sender.user = seller
    return _checked(
        submit(
            Submission(
                road=road,
                text=text,
                sender=sender,
                conversation=conversation,
                media=tuple(media),
                e2ee=envelope,
            )
        )
    )


def buyer_message(
    *,
    buyer: Endpoint,
    conversation: Conversation,
    text: str,
    media: Sequence[MediaFile] = (),
    envelope: Envelope | None = None,
) -> Result:
    """A web-chat buyer writes in their conversation (end to end: `envelope`, no text)."""
    return _checked(
        submit(
            Submission(
                road=Road.WEB_CHAT,
                text=text,
                sender=buyer,
                conversation=conversation,
                media=tuple(media),
                e2ee=envelope,
            )
        )
    )


def start_chat(*, listing: Listing, text: str, buyer: Endpoint, network_key: str) -> Result:
    """A web-chat buyer writes from the listing page: their browser's endpoint, the listing."""
    return _checked(
        submit(
            Submission(
                road=Road.WEB_CHAT,
                text=text,
                sender=buyer,
                listing=listing,
                network_key=network_key,
            )
        )
    )
