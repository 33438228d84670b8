"""The "Your data" pages: a buyer without an account downloads or erases their data.

The proof is a one-time code the relay sent to the address (relay/services/data_requests.py),
or, for a web-chat buyer, the browser cookie that already names their endpoint. What was
proved is kept in the session as a short-lived grant naming endpoint codes (public, random);
erasing changes those codes, so the grant dies with the data.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.forms import CodeForm, PhoneForm
from contacts.models import Channel, Endpoint
from relay.models import Conversation
from relay.services import accounts, data_requests, web

REFERENCE = "data_request_reference"
TRIES = "data_request_tries"
GRANT = "data_request_grant"
GRANT_SECONDS = 30 * 60  # long enough to read the page and download; a new code after that


def _network(request: HttpRequest) -> str:
    return web.network_key(web.client_address(request))


def _grant(request: HttpRequest, endpoint: Endpoint) -> None:
    """Add a proved endpoint to the session's grant (a WhatsApp and an SMS proof add up)."""
    codes = [code for code in _granted_codes(request) if code != endpoint.code]
    until = timezone.now() + dt.timedelta(seconds=GRANT_SECONDS)
    request.session[GRANT] = {"endpoints": [*codes, endpoint.code], "until": until.isoformat()}
    request.session.pop(REFERENCE, None)
    request.session.pop(TRIES, None)


def _granted_codes(request: HttpRequest) -> list[str]:
    grant = request.session.get(GRANT) or {}
    until = grant.get("until")
    if not until or dt.datetime.fromisoformat(until) <= timezone.now():
        return []
    return list(grant.get("endpoints", []))


def _granted(request: HttpRequest) -> list[Endpoint]:
    codes = _granted_codes(request)
    return list(Endpoint.objects.filter(code__in=codes).order_by("id")) if codes else []


def privacy(request: HttpRequest) -> HttpResponse:
    """Step one: the channel and the number. The answer is the same whether we know it."""
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reference = data_requests.request_code(
                channel=form.cleaned_data["channel"],
                raw_address=form.cleaned_data["e164"],
                network_key=_network(request),
            )
        except data_requests.DataRequestError as error:
            form.add_error(None, error.message)
        else:
            request.session[REFERENCE] = reference
            request.session[TRIES] = 0
            messages.info(
                request,
                _("If we know this number, a code is on its way to it. It expires in 10 minutes."),
            )
            return redirect("relay:privacy_code")
    known_browser = web.known_browser_endpoint(request.COOKIES.get(web.BROWSER_COOKIE))
    return render(
        request, "relay/privacy.html", {"form": form, "web_chat": known_browser is not None}
    )


def privacy_code(request: HttpRequest) -> HttpResponse:
    """Step two: the code. A link from the app (?r=) names the request it answers."""
    reference = request.GET.get("r", "").strip().upper()
    if reference:
        request.session[REFERENCE] = reference[:12]
        request.session[TRIES] = 0
        return redirect("relay:privacy_code")  # the reference leaves the address bar
    if not request.session.get(REFERENCE):
        return redirect("relay:privacy")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = data_requests.confirm_code(
                reference=request.session[REFERENCE],
                code=form.cleaned_data["code"],
                network_key=_network(request),
                tries=int(request.session.get(TRIES, 0)),
            )
        except data_requests.DataRequestError as error:
            request.session[TRIES] = int(request.session.get(TRIES, 0)) + 1
            form.add_error("code", error.message)
        else:
            _grant(request, endpoint)
            return redirect("relay:privacy_mine")
    return render(request, "relay/privacy_code.html", {"form": form})


@require_POST
def privacy_web(request: HttpRequest) -> HttpResponse:
    """A web-chat buyer: the browser's cookie already proves the endpoint."""
    endpoint = web.known_browser_endpoint(request.COOKIES.get(web.BROWSER_COOKIE))
    if endpoint is None:
        messages.error(request, _("This browser has no chats with us."))
        return redirect("relay:privacy")
    _grant(request, endpoint)
    return redirect("relay:privacy_mine")


def privacy_mine(request: HttpRequest) -> HttpResponse:
    endpoints = _granted(request)
    if not endpoints:
        return _ask_again(request)
    conversations = Conversation.objects.filter(buyer_endpoint__in=endpoints)
    return render(
        request,
        "relay/privacy_mine.html",
        {
            "channels": sorted({Channel(endpoint.channel).label for endpoint in endpoints}),
            "conversations": conversations.count(),
            "erasable": data_requests.erasable(endpoints),
        },
    )


def privacy_export(request: HttpRequest) -> HttpResponse:
    endpoints = _granted(request)
    if not endpoints:
        return _ask_again(request)
    document = accounts.export_endpoint_data(endpoints=endpoints)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="perantara-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


def privacy_erase(request: HttpRequest) -> HttpResponse:
    """GET: what erasing does and that it cannot be undone. POST: erase."""
    endpoints = _granted(request)
    if not endpoints:
        return _ask_again(request)
    if not data_requests.erasable(endpoints):
        messages.error(request, _("This address belongs to a seller account: delete the account."))
        return redirect("relay:privacy_mine")
    if request.method != "POST":
        return render(request, "relay/privacy_erase.html")
    accounts.erase_endpoint_data(endpoints=endpoints)
    request.session.pop(GRANT, None)
    messages.success(
        request,
        _("Your data is erased. If you write to a listing again, it starts a new conversation."),
    )
    response = redirect("relay:privacy")
    response.delete_cookie(web.BROWSER_COOKIE)
    return response


def _ask_again(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Confirm it is you first: ask for a code."))
    return redirect("relay:privacy")
