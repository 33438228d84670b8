"""The guards: each states one rule, and either lets the message go on (None) or ends it with
an outcome and what its sender hears (a Stop). The order is the policy; relay/pipeline/__init__
documents why it is this one.

Guards before routing know only the sender; guards after it know the conversation and side.
No guard knows which road the message came by, except where a rule is the road's own (the
carrier's opt-out words are SMS's; the 24-hour window is the platforms').
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from contacts import contact_guard
from contacts import services as contacts
from contacts.models import Channel, Endpoint, LanguageSource
from marketplace import handles
from relay import crypto
from relay.adapters.base import MessageKind
from relay.models import Conversation, Report, Side
from relay.pipeline import keywords
from relay.pipeline.types import Context, Notice, Outcome, Road, Stop
from relay.services import (
    data_requests,
    e2ee,
    lifecycle,
    limits,
    moderation,
    optout,
    outbound,
    snapshot,
)
from relay.services.conversations import recipient_endpoint_for_seller

Guard = Callable[[Context], Stop | None]

# "2", "2 asked for a transfer", "2. scam": a digit standing alone. A handle that starts with
# a digit ("3K7Q-W2XP") is not an answer.
# Shared with the sender's browser, which sends such an answer as a command while a report
# waits for it (relay/pipeline/guard_rules.py).
REASON_REPLY_RULE = contact_guard.Shared(r"^\s*([1-5])(?![0-9A-Za-z])[\s.,:;-]*(.*)$", "s")
REASON_REPLY = REASON_REPLY_RULE.compile()
REASON_WINDOW = dt.timedelta(minutes=30)
# Characters that show nothing: NUL and other controls, zero-width spaces and joiners, the
# word joiner, BOM, and the invisible formatting marks (Unicode category Cf).
# The browser's copy of this guard reads the same categories (relay/pipeline/guard_rules.py).
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})
VISIBLE_CONTROLS = "\n\t"


def _title(ctx: Context) -> dict[str, str]:
    return {"title": ctx.listing.public_title}


# --- Before routing: the sender ------------------------------------------------------------------


def sender_banned(ctx: Context) -> Stop | None:
    """A banned address (its blind index is on the ban list) or a deactivated account sends
    nothing through the relay, on any road."""
    sender = ctx.sender
    assert sender is not None
    user = sender.user if sender.user_id is not None and ctx.road in WEB_ACCOUNT_ROADS else None
    if sender.blind_index in snapshot.current().banned or (user and not user.is_active):
        return Stop(Outcome.BANNED, Notice("banned"))
    return None


WEB_ACCOUNT_ROADS = frozenset({Road.WEB_INBOX, Road.API})


def sender_suspended(ctx: Context) -> Stop | None:
    """A suspended participant (their endpoint or account) is told until when; nothing they
    send is forwarded."""
    sender = ctx.sender
    assert sender is not None
    suspended, until = snapshot.current().suspension(endpoint_id=sender.pk, user_id=sender.user_id)
    if not suspended:
        return None
    with override(sender.language or settings.RELAY_DEFAULT_LANGUAGE):  # a parameter, not a notice
        shown = f"{until:%Y-%m-%d %H:%M} UTC" if until else _("a review")
    return Stop(Outcome.SUSPENDED, Notice("suspended_until", {"until": shown}))


def link_code(ctx: Context) -> Stop | None:
    """A live LINK- code sent to the relay's page or account connects that chat to the seller
    who made it (Messenger and Instagram have no number to verify)."""
    assert ctx.sender is not None
    if contacts.redeem_link_code(endpoint=ctx.sender, text=ctx.text) is None:
        return None
    return Stop(Outcome.LINK_CONNECTED, Notice("link_connected"))


def group_message(ctx: Context) -> Stop | None:
    """The relay carries one-to-one chats: a WhatsApp group message is politely refused (its
    members would otherwise all talk to one seller as one buyer)."""
    event = ctx.submission.event
    if event is None or event.kind != MessageKind.GROUP:
        return None
    return Stop(Outcome.UNSUPPORTED, Notice("group_unsupported"))


# Content that is not a photo or file and not text: a location or a contact card (which holds
# a phone number), a poll, a story mention.
NOT_TEXT = frozenset(
    {
        MessageKind.LOCATION,
        MessageKind.CONTACTS,
        MessageKind.UNSUPPORTED,
        MessageKind.STORY_MENTION,
    }
)


def carries_photos(ctx: Context) -> bool:
    """Photos go with the message: a web road's stored ones, or a platform's to download."""
    event = ctx.submission.event
    platform_photos = event is not None and any(
        ref.is_image and ref.reference for ref in event.media
    )
    return bool(ctx.submission.media) or platform_photos


def carriable_content(ctx: Context) -> Stop | None:
    """Text up to RELAY_MAX_TEXT_CHARS and photos are relayed: a file that is not a photo
    (audio, video, a document, a sticker) with no text, a location, a contact card or a text
    too long is refused with a notice that says so."""
    event = ctx.submission.event
    if event is not None and event.kind in NOT_TEXT and not ctx.text.strip():
        return Stop(Outcome.UNSUPPORTED, Notice("content_unsupported"))
    if ctx.submission.has_media and not ctx.text.strip() and not carries_photos(ctx):
        return Stop(Outcome.UNSUPPORTED, Notice("media_unsupported"))
    if len(ctx.text.strip()) > settings.RELAY_MAX_TEXT_CHARS:
        limit = str(settings.RELAY_MAX_TEXT_CHARS)
        return Stop(Outcome.UNSUPPORTED, Notice("too_long", {"limit": limit}))
    return None


def visible_text(ctx: Context) -> Stop | None:
    """Invisible characters (NUL, zero-width, formatting marks) are removed, so they can
    neither hide a number from the number guard nor make an empty message look full; a
    message with nothing left is refused, unless photos go with it (a web upload: a photo
    needs no caption)."""
    cleaned = "".join(
        ch
        for ch in ctx.text
        if ch in VISIBLE_CONTROLS or unicodedata.category(ch) not in INVISIBLE_CATEGORIES
    ).strip()
    ctx.text = cleaned
    event = ctx.submission.event
    if cleaned or ctx.submission.media:
        return None
    if event is not None and event.referral:  # a deep link opened the chat
        return None
    if carries_photos(ctx):  # a photo without a caption
        return None
    return Stop(Outcome.EMPTY, Notice("empty_message"))


def carrier_keywords(ctx: Context) -> Stop | None:
    """SMS: Twilio's STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT opt the sender out of the
    whole relay number (Twilio refuses every send there until START, YES, UNSTOP), so the relay
    records it, ends their conversations on that number and sends nothing there; Twilio itself
    confirms. Opting back in resumes what the opt-out ended."""
    if ctx.road != Road.SMS or ctx.identity is None:
        return None
    assert ctx.sender is not None
    word = keywords.sms_carrier_word(ctx.text)
    if word == "out":
        optout.opt_out(endpoint=ctx.sender, identity=ctx.identity)
        return Stop(Outcome.OPTED_OUT)
    if word == "in" and optout.opted_out(endpoint=ctx.sender, identity=ctx.identity):
        optout.opt_in(endpoint=ctx.sender, identity=ctx.identity)
        return Stop(Outcome.RESUMED, Notice("opted_in"))
    return None


def template_answer(ctx: Context) -> Stop | None:
    """A reply quoting the WhatsApp template that stood in for a message ("reply to read it")
    asks for that message, which is now on its way: it is not itself relayed. A keyword typed
    as the reply (STOP, REPORT, BAHASA …) is still that keyword: the guards after this act on it."""
    event = ctx.submission.event
    if event is None or not event.reply_to_provider_id or not ctx.released_templates:
        return None
    if keywords.keyword_of(ctx.text) is not None:
        return None
    if crypto.provider_key(event.reply_to_provider_id) not in ctx.released_templates:
        return None
    return Stop(Outcome.RELEASED)


def language_keyword(ctx: Context) -> Stop | None:
    """BAHASA / ENGLISH switch the language the relay writes to the sender in, and are
    answered in the new language. Any other keyword written in one language (BANTUAN, HELP)
    makes that the sender's language, unless they chose one explicitly; the keyword then goes
    on to its own guard. On every road (a web page shows the answer in the chosen language
    too, though the page itself follows the browser's)."""
    assert ctx.sender is not None
    word = keywords.keyword_of(ctx.text)
    chosen = keywords.CHOSEN_LANGUAGE.get(word or "")
    if chosen is not None:
        contacts.note_language(endpoint=ctx.sender, language=chosen, source=LanguageSource.CHOSEN)
        return Stop(Outcome.LANGUAGE_SET, Notice("language_set", language=chosen))
    event = ctx.submission.event
    if event is not None and event.kind == MessageKind.POSTBACK:
        return None  # a button tap: the page chose the word, not the person
    written = keywords.language_of_keyword(ctx.text)
    if written is not None:
        contacts.note_language(endpoint=ctx.sender, language=written, source=LanguageSource.KEYWORD)
    return None


def help_keyword(ctx: Context) -> Stop | None:
    """HELP / BANTUAN explains the relay, whatever conversation the sender is in."""
    ctx.keyword = keywords.keyword_of(ctx.text)
    if ctx.keyword != keywords.HELP:
        return None
    return Stop(Outcome.HELP, Notice("help"))


def data_request_keyword(ctx: Context) -> Stop | None:
    """MYDATA / DATAKU answers in the sender's own app with a one-time code and the link of
    the "Your data" page, where they download or erase their data (at most
    RELAY_LIMIT_DATA_REQUESTS_PER_ADDRESS_PER_HOUR codes). The code travels sealed, never as
    a plain notice parameter. On the web roads the answer names the page: a web-chat browser
    proves itself with its cookie, and sellers sign in."""
    if ctx.keyword != keywords.MY_DATA:
        return None
    assert ctx.sender is not None
    if not ctx.road.is_platform:
        url = settings.RELAY_PUBLIC_URL + reverse("relay:privacy")
        return Stop(Outcome.DATA_REQUEST, Notice("data_request_web", {"url": url}))
    if not data_requests.send_code_to(endpoint=ctx.sender, identity=ctx.identity):
        return Stop(Outcome.RATE_LIMITED, Notice("slow_down"))
    return Stop(Outcome.DATA_REQUEST)


def report_reason_answer(ctx: Context) -> Stop | None:
    """A numbered answer within 30 minutes of REPORT files the report that waits for it."""
    match = REASON_REPLY.match(ctx.text)
    if match is None:
        return None
    assert ctx.sender is not None
    waiting = waiting_report(ctx.sender)
    if waiting is None:
        return None
    moderation.complete_report(
        report=waiting,
        reason=moderation.REASON_BY_NUMBER[match.group(1)],
        note=match.group(2) or "",
    )
    title = waiting.listing.public_title if waiting.listing else ""
    return Stop(Outcome.REPORT_FILED, Notice("report_filed", {"title": title}))


def waiting_report(reporter: Endpoint) -> Report | None:
    """The report `reporter` filed with REPORT in the last REASON_WINDOW that waits for its
    numbered reason, the newest first."""
    return (
        Report.objects.select_related("listing")
        .filter(
            reporter_endpoint=reporter,
            status=Report.Status.AWAITING_REASON,
            created_at__gte=timezone.now() - REASON_WINDOW,
        )
        .order_by("-created_at")
        .first()
    )


# --- After routing: the conversation -------------------------------------------------------------


def other_side_suspended(ctx: Context) -> Stop | None:
    """While the other side is suspended the conversation is paused: nothing reaches them."""
    conversation = ctx.conversation
    assert conversation is not None
    hot = snapshot.current()
    suspended, _until = (
        hot.suspension(endpoint_id=conversation.buyer_endpoint_id)
        if ctx.side == Side.SELLER
        else hot.suspension(user_id=ctx.listing.seller_id)
    )
    if not suspended:
        return None
    return Stop(Outcome.OTHER_SIDE_SUSPENDED, Notice("conversation_paused", _title(ctx)))


def conversation_keywords(ctx: Context) -> Stop | None:
    """REPORT, STOP, START, BLOCK, UNBLOCK act on the conversation the message routed to."""
    action = _KEYWORD_ACTIONS.get(ctx.keyword or "")
    return None if action is None else action(ctx)


def _report(ctx: Context) -> Stop:
    assert ctx.conversation is not None and ctx.side is not None
    moderation.file_report(
        conversation=ctx.conversation, reporter_side=ctx.side, reporter=ctx.sender
    )
    return Stop(Outcome.REPORT_MENU, Notice("report_menu"), ctx.conversation)


def _stop(ctx: Context) -> Stop | None:
    assert ctx.conversation is not None and ctx.side is not None
    if ctx.conversation.status != lifecycle.Status.OPEN:
        return None  # the state guard says what state it is in
    lifecycle.end(ctx.conversation, by_side=ctx.side)
    return Stop(Outcome.STOPPED, Notice("stopped", _resume_hint(ctx)), ctx.conversation)


def _start(ctx: Context) -> Stop | None:
    assert ctx.conversation is not None and ctx.side is not None
    if not lifecycle.can_resume(ctx.conversation, ctx.side):
        return None
    lifecycle.resume(ctx.conversation, by_side=ctx.side)
    return Stop(Outcome.RESUMED, Notice("resumed", _title(ctx)), ctx.conversation)


def _block(ctx: Context) -> Stop | None:
    assert ctx.conversation is not None and ctx.side is not None
    if ctx.conversation.status not in (lifecycle.Status.OPEN, lifecycle.Status.ENDED):
        return None
    lifecycle.block(ctx.conversation, by_side=ctx.side)
    return Stop(Outcome.BLOCKED, Notice(f"blocked_by_{ctx.side}", _title(ctx)), ctx.conversation)


def _unblock(ctx: Context) -> Stop | None:
    assert ctx.conversation is not None and ctx.side is not None
    if not lifecycle.can_unblock(ctx.conversation, ctx.side):
        return None
    lifecycle.unblock(ctx.conversation, by_side=ctx.side)
    return Stop(Outcome.UNBLOCKED, Notice("unblocked", _title(ctx)), ctx.conversation)


_KEYWORD_ACTIONS: dict[str, Callable[[Context], Stop | None]] = {
    keywords.REPORT: _report,
    keywords.STOP: _stop,
    keywords.START: _start,
    keywords.BLOCK: _block,
    keywords.UNBLOCK: _unblock,
}


def _resume_hint(ctx: Context) -> dict[str, str]:
    live = handles.live_handle(ctx.listing)
    return {**_title(ctx), "handle": live.display if live else ""}


def conversation_state(ctx: Context) -> Stop | None:
    """Only an open conversation carries messages. Ended by the sender: the handle written
    again resumes it, anything else is told how (START). Otherwise the sender hears, in plain
    words, that it ended, was blocked (and by them: how to undo it) or was closed."""
    conversation = ctx.conversation
    assert conversation is not None and ctx.side is not None
    status = conversation.status
    if status == lifecycle.Status.OPEN:
        return None
    if ctx.wrote_handle and lifecycle.can_resume(conversation, ctx.side):
        lifecycle.resume(conversation, by_side=ctx.side)
        ctx.notices.append(Notice("resumed", _title(ctx)))
        return None
    return Stop(Outcome.NOT_OPEN, Notice(_state_notice(ctx), _resume_hint(ctx)), conversation)


def _state_notice(ctx: Context) -> str:
    conversation = ctx.conversation
    assert conversation is not None
    status = conversation.status
    if status == lifecycle.Status.CLOSED:
        return "closed_buyer" if ctx.side == Side.BUYER else "closed_seller"
    if status == lifecycle.Status.ENDED and conversation.ended_by == ctx.side:
        return "you_ended"
    if status == lifecycle.Status.BLOCKED and conversation.blocked_by == ctx.side:
        return "you_blocked"
    return "conversation_blocked"


def message_rate(ctx: Context) -> Stop | None:
    """At most RELAY_LIMIT_MESSAGES_PER_MINUTE messages per conversation and side."""
    assert ctx.conversation is not None and ctx.side is not None
    if limits.allow_message(ctx.conversation.code, ctx.side):
        return None
    return Stop(Outcome.RATE_LIMITED, Notice("slow_down"))


def media_rate(ctx: Context) -> Stop | None:
    """At most RELAY_LIMIT_MEDIA_PER_HOUR photos per sender in an hour, on every road: a web
    road's photos (Submission.media) each count, a platform message carrying media counts one.
    Past the limit the whole message is refused, caption too, so nothing arrives half."""
    photos = len(ctx.submission.media) or (1 if ctx.submission.has_media else 0)
    if not photos:
        return None
    assert ctx.sender is not None
    if limits.allow_media(ctx.sender.pk, photos=photos):
        return None
    limit = str(settings.RELAY_LIMIT_MEDIA_PER_HOUR)
    return Stop(Outcome.RATE_LIMITED, Notice("media_slow_down", {"limit": limit}))


def end_to_end(ctx: Context) -> Stop | None:
    """An end-to-end encrypted message (its body guards ran in the sender's browser) goes only
    by a web road, while the conversation is web ↔ web, and only if it is encrypted to exactly
    the current devices of both sides: a stale key list is refused, so the page fetches the
    keys again; a conversation that left the mode is refused, so the page shows the change.
    Either way the sender keeps their text."""
    envelope = ctx.submission.e2ee
    if envelope is None:
        return None
    assert ctx.conversation is not None
    mode = e2ee.conversation_mode(ctx.conversation)
    if ctx.road not in (Road.WEB_CHAT, Road.WEB_INBOX) or not mode.e2ee:
        return Stop(Outcome.E2EE_UNAVAILABLE, Notice("e2ee_unavailable"))
    if envelope.devices != mode.fingerprints:
        return Stop(Outcome.E2EE_STALE_KEYS, Notice("e2ee_keys_changed"))
    return None


def number_guard(ctx: Context) -> Stop | None:
    """On a listing that asks for it (the default), phone numbers, e-mail addresses and
    messaging-app links or handles are replaced by a placeholder in the language of whoever
    reads the message (the other side), and the sender is told exactly what that side sees in
    its place. The message still goes."""
    if not ctx.listing.mask_contact_details:
        return None
    assert ctx.sender is not None
    assert ctx.conversation is not None and ctx.side is not None
    _remember_opening_seller(ctx)
    with override(reader_language(ctx.conversation, ctx.side)):
        placeholder = _("[hidden]")
    masked = contact_guard.mask_contact_details(
        ctx.body, regions=contact_guard.regions_for(ctx.sender.region), placeholder=placeholder
    )
    if masked.changed:
        ctx.body = masked.text
        kinds = ",".join(sorted(masked.kinds))
        ctx.notices.append(Notice("contact_masked", {"kinds": kinds, "placeholder": placeholder}))
    return None


def reader_language(conversation: Conversation, side: str) -> str:
    """The language of the side that will read what `side` writes in `conversation` (also
    for the browser's guard rules, relay/pipeline/guard_rules.py: it changes nothing)."""
    if side == Side.SELLER:
        reader = conversation.buyer_endpoint
    else:
        reader = conversation.opening_seller_endpoint or recipient_endpoint_for_seller(
            conversation.listing
        )
    return reader.language or settings.RELAY_DEFAULT_LANGUAGE


def _remember_opening_seller(ctx: Context) -> None:
    """The seller's app, kept on the conversation so relaying it asks no second time."""
    conversation = ctx.conversation
    assert conversation is not None
    if ctx.side != Side.SELLER and conversation.opening_seller_endpoint is None:
        conversation.opening_seller_endpoint = recipient_endpoint_for_seller(conversation.listing)


# What each app accepts in one message, from the platforms' send API references: WhatsApp text
# 4,096 characters; Messenger 2,000 characters; Instagram 1,000 bytes (UTF-8); Twilio SMS
# 1,600 characters (it splits into segments itself). The relay's header (pseudonym, #TAG, and
# on a first message the listing's introduction) travels in the same message.
APP_LIMITS: dict[str, tuple[int, str]] = {
    Channel.WHATSAPP: (4096, "chars"),
    Channel.MESSENGER: (2000, "chars"),
    Channel.INSTAGRAM: (1000, "bytes"),
    Channel.SMS: (1600, "chars"),
}
APP_NAMES = {"whatsapp": "WhatsApp", "messenger": "Messenger", "instagram": "Instagram"}
HEADER_ROOM = 160  # the relay's own words around a body, besides the listing title


def fits_the_other_app(ctx: Context) -> Stop | None:
    """A message longer than the other side's app takes is refused with the limit in the
    notice, never cut: the sender can split it. (The relay's limit, RELAY_MAX_TEXT_CHARS,
    holds for the web.)"""
    channel = _destination_channel(ctx)
    if channel not in APP_LIMITS:
        return None
    limit, unit = APP_LIMITS[channel]
    room = limit - HEADER_ROOM - len(ctx.listing.public_title.encode())
    size = len(ctx.body.encode()) if unit == "bytes" else len(ctx.body)
    if size <= room:
        return None
    app = APP_NAMES.get(channel, "SMS")
    return Stop(Outcome.UNSUPPORTED, Notice("too_long_for_app", {"limit": str(room), "app": app}))


def _destination_channel(ctx: Context) -> str:
    conversation = ctx.conversation
    assert conversation is not None
    if ctx.side == Side.SELLER:
        identity = outbound.identity_of(conversation.buyer_identity_id)
        return identity.channel if identity is not None else Channel.WEB
    _remember_opening_seller(ctx)
    assert conversation.opening_seller_endpoint is not None
    return conversation.opening_seller_endpoint.channel


def spam_hold(ctx: Context) -> Stop | None:
    """A buyer's text sent to RELAY_DUPLICATE_LISTINGS_PER_HOUR listings within an hour is held
    (kept sealed as evidence, never delivered) and reported as spam."""
    if ctx.side == Side.BUYER and limits.repeated_across_listings(ctx.body, ctx.listing.pk):
        ctx.hold = True
    return None


BEFORE_ROUTING: tuple[Guard, ...] = (
    sender_banned,
    sender_suspended,
    link_code,
    group_message,
    carriable_content,
    visible_text,
    carrier_keywords,
    template_answer,
    language_keyword,
    help_keyword,
    data_request_keyword,
    report_reason_answer,
)
AFTER_ROUTING: tuple[Guard, ...] = (
    conversation_keywords,
    other_side_suspended,
    conversation_state,
    message_rate,
    media_rate,
    end_to_end,
    number_guard,
    fits_the_other_app,
    spam_hold,
)

# What reads the body: an end-to-end encrypted message has none the server can read, so these
# run in the sender's browser before encryption (static/guards.js, the same rules) and are
# skipped here. Every other guard (ban, suspensions, lifecycle, rates) holds on that road too.
BODY_GUARDS: frozenset[Guard] = frozenset(
    {
        link_code,
        carriable_content,
        visible_text,
        language_keyword,
        help_keyword,
        data_request_keyword,
        report_reason_answer,
        conversation_keywords,
        number_guard,
        fits_the_other_app,
        spam_hold,
    }
)
