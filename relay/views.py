from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from contacts.selectors import signed_in
from marketplace.selectors import public_listing
from relay import selectors
from relay.models import Conversation, Report, Side
from relay.pipeline import roads
from relay.services import lifecycle, moderation, notifications, web
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


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    conversations = selectors.conversations_for_seller(signed_in(request))
    return render(request, "relay/inbox.html", {"conversations": conversations, "current": None})


@login_required
def conversation(request: HttpRequest, code: str) -> HttpResponse:
    user = signed_in(request)
    current = selectors.conversation_for_seller(user, code)
    if request.method == "POST":
        try:
            result = roads.seller_reply(
                seller=user, conversation=current, text=request.POST.get("text", "")
            )
        except RelayError as error:
            messages.error(request, error.message)
        else:
            _show(request, result)
        return redirect("relay:conversation", code=code)
    notifications.mark_read_by_seller(current)
    return render(
        request,
        "relay/inbox.html",
        {
            "conversations": selectors.conversations_for_seller(user),
            "current": current,
            "shown": selectors.stream_for(current, viewer_side=Side.SELLER),
            "can_unblock": lifecycle.can_unblock(current, Side.SELLER),
            "can_resume": lifecycle.can_resume(current, Side.SELLER),
        },
    )


@login_required
def conversation_messages(request: HttpRequest, code: str) -> HttpResponse:
    current = selectors.conversation_for_seller(signed_in(request), code)
    shown = selectors.stream_for(current, viewer_side=Side.SELLER)
    notifications.mark_read_by_seller(current)  # the open tab shows what arrived: it is read
    return render(request, "relay/_bubbles.html", {"shown": shown, "current": current})


@login_required
@require_POST
def conversation_lifecycle(request: HttpRequest, code: str, action: str) -> HttpResponse:
    current = selectors.conversation_for_seller(signed_in(request), code)
    _transition(request, current, Side.SELLER, action)
    return redirect("relay:conversation", code=code)


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
            assert result.conversation is not None
            result.conversation.refresh_from_db(fields=["chat_epoch"])  # a STOP moved it on
            token = selectors.chat_token(endpoint=buyer, conversation=result.conversation)
            _show(request, result)
            messages.info(
                request, _("Keep this page's link: it is your private way back to this chat.")
            )
            response = redirect("relay:buyer_chat", token=token)
            response.set_cookie(
                BROWSER_COOKIE,
                web.browser_cookie(buyer),
                max_age=BROWSER_COOKIE_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
            return response
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
        try:
            result = roads.buyer_message(
                buyer=access.buyer, conversation=current, text=request.POST.get("text", "")
            )
        except RelayError as error:
            messages.error(request, error.message)
        else:
            _show(request, result)
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
        },
    )


@_with_chat_link
def buyer_chat_messages(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    current = access.conversation
    shown = selectors.stream_for(current, viewer_side=Side.BUYER)
    response = render(request, "relay/_bubbles.html", {"shown": shown, "current": current})
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


@login_required
@require_POST
def conversation_report(request: HttpRequest, code: str) -> HttpResponse:
    current = selectors.conversation_for_seller(signed_in(request), code)
    reason, note = _report_form(request)
    try:
        moderation.file_report(
            conversation=current,
            reporter_side=Side.SELLER,
            reporter=web.seller_web_endpoint(signed_in(request)),
            reason=reason,
            note=note,
        )
    except RelayError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you. Our moderators will look at it."))
    return redirect("relay:conversation", code=code)


@require_POST
@_with_chat_link
def buyer_chat_report(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    reason, note = _report_form(request)
    try:
        moderation.file_report(
            conversation=access.conversation,
            reporter_side=Side.BUYER,
            reporter=access.buyer,
            reason=reason,
            note=note,
        )
    except RelayError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you. Our moderators will look at it."))
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
