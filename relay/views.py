from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.selectors import signed_in
from marketplace.selectors import public_listing
from relay import selectors
from relay.models import Conversation, Report, Side
from relay.pipeline import roads
from relay.services import lifecycle, moderation, web
from relay.services.errors import RelayError

BROWSER_COOKIE = web.BROWSER_COOKIE
BROWSER_COOKIE_AGE = 365 * 24 * 3600


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


def buyer_chat(request: HttpRequest, token: str) -> HttpResponse:
    buyer, current = selectors.conversation_for_chat_token(token)
    if request.method == "POST":
        try:
            result = roads.buyer_message(
                buyer=buyer, conversation=current, text=request.POST.get("text", "")
            )
        except RelayError as error:
            messages.error(request, error.message)
        else:
            _show(request, result)
        return redirect("relay:buyer_chat", token=token)
    return render(
        request,
        "relay/chat.html",
        {
            "current": current,
            "token": token,
            "shown": selectors.stream_for(current, viewer_side=Side.BUYER),
            "can_unblock": lifecycle.can_unblock(current, Side.BUYER),
            "can_resume": lifecycle.can_resume(current, Side.BUYER),
        },
    )


def buyer_chat_messages(request: HttpRequest, token: str) -> HttpResponse:
    _buyer, current = selectors.conversation_for_chat_token(token)
    shown = selectors.stream_for(current, viewer_side=Side.BUYER)
    return render(request, "relay/_bubbles.html", {"shown": shown, "current": current})


@require_POST
def buyer_chat_lifecycle(request: HttpRequest, token: str, action: str) -> HttpResponse:
    _buyer, current = selectors.conversation_for_chat_token(token)
    _transition(request, current, Side.BUYER, action)
    return redirect("relay:buyer_chat", token=token)


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
def buyer_chat_report(request: HttpRequest, token: str) -> HttpResponse:
    buyer, current = selectors.conversation_for_chat_token(token)
    reason, note = _report_form(request)
    try:
        moderation.file_report(
            conversation=current, reporter_side=Side.BUYER, reporter=buyer, reason=reason, note=note
        )
    except RelayError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you. Our moderators will look at it."))
    return redirect("relay:buyer_chat", token=token)


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
