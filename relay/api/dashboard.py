"""The dashboard page for API tokens and integrator webhooks (session login, HTML)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.selectors import signed_in
from relay.api import tokens
from relay.models import ApiToken, IntegratorWebhook, IntegratorWebhookDelivery
from relay.services import integrations
from relay.services.errors import RelayError


def _page(request: HttpRequest, **extra: object) -> HttpResponse:
    user = signed_in(request)
    context = {
        "tokens": ApiToken.objects.filter(user=user),
        "webhooks": IntegratorWebhook.objects.filter(user=user, active=True),
        "deliveries": IntegratorWebhookDelivery.objects.filter(webhook__user=user)
        .select_related("webhook")
        .order_by("-created_at")[:50],
        "events": integrations.EVENTS,
        **extra,
    }
    return render(request, "relay/api_tokens.html", context)


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    issued = tokens.create_api_token(user=signed_in(request), name=request.POST.get("name", ""))
    # The secret is on this one response only; it is stored as a hash.
    return _page(request, new_secret=issued.secret, new_token=issued.token)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    if tokens.revoke_api_token(user=signed_in(request), prefix=prefix):
        messages.success(request, _("Token revoked. Requests with it now get 401."))
    return redirect("api:tokens")


@login_required
@require_POST
def webhook_add(request: HttpRequest) -> HttpResponse:
    try:
        issued = integrations.add_integrator_webhook(
            user=signed_in(request), url=request.POST.get("url", "")
        )
    except RelayError as error:
        messages.error(request, error.message)
        return redirect("api:tokens")
    # The secret is on this one response only; it is stored sealed and never shown again.
    return _page(request, new_webhook=issued.webhook, new_webhook_secret=issued.secret)


@login_required
@require_POST
def webhook_rotate_secret(request: HttpRequest, code: str) -> HttpResponse:
    issued = integrations.rotate_integrator_webhook_secret(user=signed_in(request), code=code)
    if issued is None:
        return redirect("api:tokens")
    return _page(request, new_webhook=issued.webhook, new_webhook_secret=issued.secret)


@login_required
@require_POST
def webhook_remove(request: HttpRequest, webhook_id: int) -> HttpResponse:
    integrations.remove_integrator_webhook(user=signed_in(request), webhook_id=webhook_id)
    return redirect("api:tokens")
