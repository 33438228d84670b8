from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from contacts.models import Endpoint
from contacts.selectors import signed_in
from marketplace.images import ImageRefused
from marketplace.selectors import public_listing
from marketplace.uploads import read_photo
from relay import pseudonyms, selectors
from relay.models import Conversation, Delivery, MediaFile, Report, Side
from relay.pipeline import roads
from relay.services import e2ee, franked_reports, lifecycle, media, moderation, read_marks, web
from relay.services.errors import RelayError

BROWSER_COOKIE = web.BROWSER_COOKIE
BROWSER_COOKIE_AGE = 365 * 24 * 3600
# A poll answered with a renewed chat link names it here (templates/relay/_live.html).
CHAT_LINK_HEADER = "X-Chat-Link"


def _show(request: HttpRequest, result: roads.Result) -> None:
    """What the pipeline told the sender, on the page they are on."""
    for text in roads.notice_texts(result):
        messages.warning(request, text)


def _transition(request: HttpRequest, conversation: Conversation, side: str, action: str) -> None:
    """Block or unblock from a web page; the page says what happened."""
    done = {
        "block": (lifecycle.block, _("Blocked. You can unblock this conversation at any time.")),
        "unblock": (lifecycle.unblock, _("Unblocked. You can write to each other again.")),
        "resume": (lifecycle.resume, _("Resumed. You can write to each other again.")),
    }
    change, said = done[action]
    try:
        change(conversation, by_side=side)
    except RelayError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, said)


def store_browser_photo(conversation: Conversation, side: str, upload: UploadedFile) -> MediaFile:
    """A photo file from a page, cleaned and sealed, waiting for its message; MediaRefused in
    the sender's words (too large, not a photo)."""
    try:
        data = read_photo(upload)
    except ImageRefused as refused:
        raise media.MediaRefused(refused.message) from None
    return media.store_upload(
        conversation=conversation, sender_side=side, data=data, name=upload.name or ""
    )


def _photos_to_send(request: HttpRequest, conversation: Conversation, side: str) -> list[MediaFile]:
    """The photos that go with a message: the uploads the page's script already made (their
    uids, checked to be this side's, in this conversation, not sent) and, without JavaScript,
    the files of the form itself. Raises MediaRefused."""
    files = request.FILES.getlist("photo")
    waiting = media.pending_uploads(
        conversation=conversation,
        sender_side=side,
        uids=request.POST.getlist("media"),
        also=len(files),
    )
    return [*waiting, *(store_browser_photo(conversation, side, one) for one in files)]


def _send(
    request: HttpRequest,
    conversation: Conversation,
    side: str,
    road: Callable[[list[MediaFile]], roads.Result],
) -> None:
    """Send the page's message with its photos; the page says what happened."""
    try:
        photos = _photos_to_send(request, conversation, side)
        result = road(photos)
    except RelayError as error:
        messages.error(request, error.message)
    else:
        _show(request, result)  # the pipeline made the photos the message's (Submission.media)


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


# A delivery's state is written before its transaction commits: a poll asks for states changed
# since this long before its previous answer, so a commit that lands late is not missed.
STATE_OVERLAP = dt.timedelta(seconds=5)


def _e2ee_page(current: Conversation | None, side: str, endpoint: Endpoint) -> dict[str, Any]:
    """What the page's end-to-end script starts from (static/e2ee.js, relay/_e2ee.html): the
    device slot, and in a conversation its mode, label and every sentence the script shows."""
    context: dict[str, Any] = {
        "e2ee_side": side,
        "e2ee_slot": e2ee.device_slot(endpoint),
        # The longest text a franked report verifies: a longer one is dropped when opened.
        "e2ee_max_chars": settings.RELAY_MAX_TEXT_CHARS,
    }
    if current is None:
        return context
    mode = e2ee.conversation_mode(current)
    other = pseudonyms.pseudonym(Side.BUYER if side == Side.SELLER else Side.SELLER, current)
    strings = e2ee.page_strings(viewer_side=side, other_name=other, mode=mode)
    return {
        **context,
        "e2ee_mode": mode,
        "e2ee_strings": strings,
        "e2ee_label": e2ee.label_for(strings, mode),
    }


def _inbox_page(request: HttpRequest, current: Conversation | None, **extra: Any) -> HttpResponse:
    """The inbox with its thread list and, if one is open, a conversation, plus the cursors the
    page's live script starts its polls from (templates/relay/_inbox_live.html)."""
    listed = selectors.inbox_threads(signed_in(request))
    context = {
        "threads": listed.threads,
        "threads_version": listed.version,
        "current": current,
        "since": (timezone.now() - STATE_OVERLAP).isoformat(),
        **_e2ee_page(current, Side.SELLER, web.seller_web_endpoint(signed_in(request))),
        **extra,
    }
    return render(request, "relay/inbox.html", context)


@never_cache  # a page of messages must not outlive the session in the back button or a proxy
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return _inbox_page(request, None)


@never_cache
@login_required
def conversation(request: HttpRequest, code: str) -> HttpResponse:
    user = signed_in(request)
    current = selectors.conversation_for_seller(user, code)
    if request.method == "POST":
        text = request.POST.get("text", "")
        _send(
            request,
            current,
            Side.SELLER,
            lambda photos: roads.seller_reply(
                seller=user, conversation=current, text=text, media=photos
            ),
        )
        return redirect("relay:conversation", code=code)
    seq = current.next_seq  # read before the stream: everything below it is in the stream
    shown = selectors.stream_for(current, viewer_side=Side.SELLER)
    read_marks.mark_seller_read(conversation=current, up_to=max([0, *(m.id for m in shown)]))
    return _inbox_page(
        request,
        current,
        shown=shown,
        seq=seq,
        can_unblock=lifecycle.can_unblock(current, Side.SELLER),
        can_resume=lifecycle.can_resume(current, Side.SELLER),
    )


def _json_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For requests a page's script makes: an ended session answers 401 in JSON, which the
    page explains ("You were logged out"), instead of a redirect to the login page, whose HTML
    the script would otherwise show as if it were messages."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            login = f"{resolve_url(settings.LOGIN_URL)}?next={reverse('relay:inbox')}"
            return JsonResponse({"error": "logged_out", "login": login}, status=401)
        return view(request, *args, **kwargs)

    return never_cache(checked)


@dataclass(frozen=True)
class PollQuery:
    """What the inbox page has: its open conversation, its cursors, what it has shown."""

    code: str
    seq: int  # the conversation's sequence number the page has everything below
    read: int  # the newest message id the page shows
    since: dt.datetime | None  # the server's time of its previous answer, less STATE_OVERLAP
    threads_version: str
    visible: bool  # the tab is in front of the seller

    @classmethod
    def parse(cls, query: Any) -> PollQuery:
        """Raise ValueError (or OverflowError, at the ends of time) on a cursor that is not a
        number or a time."""
        since = dt.datetime.fromisoformat(query["since"]) if query.get("since") else None
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("a cursor time carries its offset, as the server gave it")
            since = since.astimezone(dt.UTC)
        return cls(
            code=query.get("conversation", ""),
            seq=max(0, int(query.get("seq", "0"))),
            read=max(0, int(query.get("read", "0"))),
            since=since,
            threads_version=query.get("threads", ""),
            visible=query.get("visible") == "1",
        )


def _news(current: Conversation, asked: PollQuery) -> dict[str, Any]:
    news = selectors.stream_news(
        current, viewer_side=Side.SELLER, seq=asked.seq, states_since=asked.since
    )
    if asked.visible:  # the seller has the conversation in front of them: it is read
        shown = max([asked.read, *(one.id for one in news.shown)])
        read_marks.mark_seller_read(conversation=current, up_to=shown)
    bubbles = {"shown": news.shown, "current": current}
    return {
        "bubbles": render_to_string("relay/_bubbles.html", bubbles) if news.shown else "",
        "seq": news.seq,
        "states": {
            str(message_id): render_to_string(
                "relay/_delivery_state.html",
                {"state": state, "label": Delivery.State(state).label},
            )
            for message_id, state in news.states.items()
        },
    }


@_json_login_required
def inbox_poll(request: HttpRequest) -> HttpResponse:
    """The live inbox's one request per tick: what is new in the open conversation (only what
    comes after the page's cursors) and the thread list when it changed (else only its
    version). An idle tick decrypts nothing and its statements do not grow with history."""
    try:
        asked = PollQuery.parse(request.GET)
    except (ValueError, OverflowError):
        return JsonResponse({"error": "bad_cursor"}, status=400)
    user = signed_in(request)
    current = selectors.conversation_for_seller(user, asked.code) if asked.code else None
    answer: dict[str, Any] = {"since": (timezone.now() - STATE_OVERLAP).isoformat()}
    if current is not None:
        answer.update(_news(current, asked))
    listed = selectors.inbox_threads(user, known_version=asked.threads_version)
    answer["threads_version"] = listed.version
    if listed.threads is not None:
        context = {"threads": listed.threads, "current": current}
        answer["threads"] = render_to_string("relay/_threads.html", context, request=request)
    return JsonResponse(answer)


@login_required
@require_POST
def conversation_lifecycle(request: HttpRequest, code: str, action: str) -> HttpResponse:
    current = selectors.conversation_for_seller(signed_in(request), code)
    _transition(request, current, Side.SELLER, action)
    return redirect("relay:conversation", code=code)


def _keeping_browser(response: HttpResponse, request: HttpRequest, buyer: Endpoint) -> HttpResponse:
    """The browser keeps its endpoint (a signed cookie), so its bans and limits follow it."""
    response.set_cookie(
        BROWSER_COOKIE,
        web.browser_cookie(buyer),
        max_age=BROWSER_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def buyer_chat_start(request: HttpRequest, listing_code: str) -> HttpResponse:
    listing = public_listing(listing_code)
    error = ""
    if request.method == "POST":
        buyer = web.browser_endpoint(
            signed=request.COOKIES.get(BROWSER_COOKIE), language=get_language() or "en"
        )
        try:
            result = roads.start_chat(
                listing=listing,
                text=request.POST.get("text", ""),
                buyer=buyer,
                network_key=web.network_key(web.client_address(request)),
            )
        except RelayError as problem:
            error = problem.message
        else:
            _show(request, result)
            if result.conversation is None:
                # A keyword answered before any conversation existed (HELP, BAHASA, MYDATA):
                # its answer is on this page, and the buyer writes their question next.
                start = redirect("relay:buyer_chat_start", listing_code=listing.code)
                return _keeping_browser(start, request, buyer)
            result.conversation.refresh_from_db(fields=["chat_epoch"])  # a STOP moved it on
            token = selectors.chat_token(endpoint=buyer, conversation=result.conversation)
            messages.info(
                request, _("Keep this page's link: it is your private way back to this chat.")
            )
            return _keeping_browser(redirect("relay:buyer_chat", token=token), request, buyer)
    return render(request, "relay/chat_start.html", {"listing": listing, "error": error})


ChatView = Callable[..., HttpResponse]


def _with_chat_link(view: ChatView) -> ChatView:
    """Open the buyer's chat link before the view, or answer the page that says why it does not
    open (404 altered, 410 expired or ended), with no history. Never cached: a page of history
    must not outlive the link in a shared proxy or the back button."""

    @functools.wraps(view)
    def opened(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
        try:
            access = selectors.open_chat_link(token)
        except selectors.ChatLinkRefused as refused:
            context = {
                "reason": refused.reason,
                "listing": refused.listing,
                "chat_link_days": settings.RELAY_CHAT_LINK_DAYS,
            }
            return render(request, "relay/chat_gone.html", context, status=refused.status)
        return view(request, access, **kwargs)

    return never_cache(opened)


def _back_to_chat(access: selectors.ChatAccess) -> HttpResponse:
    return redirect("relay:buyer_chat", token=selectors.chat_token_after_buyer_action(access))


@_with_chat_link
def buyer_chat(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    current = access.conversation
    if request.method == "POST":
        text = request.POST.get("text", "")
        _send(
            request,
            current,
            Side.BUYER,
            lambda photos: roads.buyer_message(
                buyer=access.buyer, conversation=current, text=text, media=photos
            ),
        )
        return _back_to_chat(access)
    return render(
        request,
        "relay/chat.html",
        {
            "current": current,
            "token": access.token,
            "shown": selectors.stream_for(current, viewer_side=Side.BUYER),
            "can_unblock": lifecycle.can_unblock(current, Side.BUYER),
            "can_resume": lifecycle.can_resume(current, Side.BUYER),
            **_e2ee_page(current, Side.BUYER, access.buyer),
        },
    )


@_with_chat_link
def buyer_chat_messages(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    current = access.conversation
    shown = selectors.stream_for(current, viewer_side=Side.BUYER)
    context = {"shown": shown, "current": current, "token": access.token}
    response = render(request, "relay/_bubbles.html", context)
    if access.renewed:  # the page's script moves its address, forms and polls to this link
        response[CHAT_LINK_HEADER] = reverse("relay:buyer_chat", args=[access.token])
    return response


@require_POST
@_with_chat_link
def buyer_chat_lifecycle(
    request: HttpRequest, access: selectors.ChatAccess, action: str
) -> HttpResponse:
    _transition(request, access.conversation, Side.BUYER, action)
    return _back_to_chat(access)


REPORT_REASONS = Report.Reason.choices


def _report_form(request: HttpRequest) -> tuple[str, str]:
    return request.POST.get("reason", ""), request.POST.get("note", "")


def _franked(request: HttpRequest) -> franked_reports.ParsedField:
    """The end-to-end messages the reporter's browser attached (hidden field `franked`)."""
    return franked_reports.parse_field(request.POST.get("franked", ""))


def _thank_reporter(request: HttpRequest, summary: moderation.EvidenceSummary) -> None:
    if summary.unverified or summary.unreadable:
        messages.warning(
            request,
            _(
                "Thank you. Our moderators will look at it. Some of the messages your browser "
                "attached could not be verified: moderators will see them marked as unverified."
            ),
        )
    else:
        messages.success(request, _("Thank you. Our moderators will look at it."))


@login_required
@require_POST
def conversation_report(request: HttpRequest, code: str) -> HttpResponse:
    current = selectors.conversation_for_seller(signed_in(request), code)
    reason, note = _report_form(request)
    try:
        _report, summary = moderation.file_conversation_report(
            conversation=current,
            reporter_side=Side.SELLER,
            reporter=web.seller_web_endpoint(signed_in(request)),
            reason=reason,
            note=note,
            franked=_franked(request),
        )
    except RelayError as error:
        messages.error(request, error.message)
    else:
        _thank_reporter(request, summary)
    return redirect("relay:conversation", code=code)


@require_POST
@_with_chat_link
def buyer_chat_report(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    reason, note = _report_form(request)
    try:
        _report, summary = moderation.file_conversation_report(
            conversation=access.conversation,
            reporter_side=Side.BUYER,
            reporter=access.buyer,
            reason=reason,
            note=note,
            franked=_franked(request),
        )
    except RelayError as error:
        messages.error(request, error.message)
    else:
        _thank_reporter(request, summary)
    return _back_to_chat(access)


@require_POST
def listing_report(request: HttpRequest, listing_code: str) -> HttpResponse:
    listing = public_listing(listing_code)
    reason, note = _report_form(request)
    try:
        moderation.file_report(listing=listing, reporter_side="public", reason=reason, note=note)
    except RelayError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you. Our moderators will look at this listing."))
    return redirect("marketplace:listing_public", code=listing_code)
