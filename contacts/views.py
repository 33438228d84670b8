from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts import demo_phones, selectors, services
from contacts.forms import CodeForm, LinkForm, PhoneForm, SignupForm
from contacts.models import User
from contacts.phones import masked


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.register_user(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data.get("display_name", ""),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to Perantara! Create your first listing."))
        if demo_phones.enabled():
            _give_demo_phones(request, user)
        return redirect("marketplace:dashboard")
    return render(request, "contacts/signup.html", {"form": form})


def _give_demo_phones(request: HttpRequest, user: User) -> None:
    """The demo only: the new seller's simulated phones, and where to find them."""
    try:
        phones = demo_phones.give_demo_phones(user=user)
    except demo_phones.DemoPhonesUnavailable:
        messages.warning(
            request,
            _(
                "Demo: your simulated phones could not be created (the sandbox did not "
                "answer). Add a phone number on the Channels page instead."
            ),
        )
        return
    messages.info(
        request,
        _(
            "Demo: you have a simulated WhatsApp number and Instagram account of your own, "
            "both connected to your account (WhatsApp is preferred). Open them on the phones "
            "page, %(url)s, as “%(name)s”."
        )
        % {"url": phones.phones_url, "name": phones.name},
    )


@login_required
def channels(request: HttpRequest) -> HttpResponse:
    endpoints = []
    for endpoint in selectors.endpoints_for_user(request.user):  # type: ignore[arg-type]
        label = _("Web inbox")
        if endpoint.channel in ("whatsapp", "sms"):
            label = masked(services.endpoint_address(endpoint))
        elif endpoint.channel != "web":
            label = _("Connected account")
        endpoints.append({"endpoint": endpoint, "label": label})
    return render(
        request,
        "contacts/channels.html",
        {
            "endpoints": endpoints,
            "phone_form": PhoneForm(),
            "link_codes": request.user.link_codes.filter(used_at=None),  # type: ignore[union-attr]
        },
    )


@login_required
def add_phone(request: HttpRequest) -> HttpResponse:
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, code = services.start_phone_verification(
                user=request.user,  # type: ignore[arg-type]
                channel=form.cleaned_data["channel"],
                raw_number=form.cleaned_data["e164"],
            )
        except services.ContactsError as error:
            form.add_error("number", error.message)
        else:
            messages.info(request, _("We sent a 6-digit code. It is valid for 10 minutes."))
            if settings.VERIFICATION_SHOW_CODE:
                messages.warning(request, _("Demo mode: your code is %(code)s") % {"code": code})
            return redirect("contacts:verify", code=endpoint.code)
    return render(request, "contacts/add_phone.html", {"form": form})


@login_required
def verify(request: HttpRequest, code: str) -> HttpResponse:
    endpoint = selectors.endpoint_for_user(request.user, code)  # type: ignore[arg-type]
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.confirm_phone_verification(
                user=request.user,  # type: ignore[arg-type]
                endpoint=endpoint,
                code=form.cleaned_data["code"],
            )
        except services.ContactsError as error:
            form.add_error("code", error.message)
        else:
            messages.success(request, _("Number verified."))
            return redirect("contacts:channels")
    return render(request, "contacts/verify.html", {"form": form, "endpoint": endpoint})


@login_required
@require_POST
def resend(request: HttpRequest, code: str) -> HttpResponse:
    endpoint = selectors.endpoint_for_user(request.user, code)  # type: ignore[arg-type]
    try:
        _endpoint, new_code = services.start_phone_verification(
            user=request.user,  # type: ignore[arg-type]
            channel=endpoint.channel,
            raw_number=services.endpoint_address(endpoint),
        )
    except services.ContactsError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, _("A new code is on its way."))
        if settings.VERIFICATION_SHOW_CODE:
            messages.warning(request, _("Demo mode: your code is %(code)s") % {"code": new_code})
    return redirect("contacts:verify", code=endpoint.code)


@login_required
@require_POST
def endpoint_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    if action not in ("prefer", "remove"):
        raise Http404("No such action")
    endpoint = selectors.endpoint_for_user(request.user, code)  # type: ignore[arg-type]
    try:
        if action == "prefer":
            services.set_preferred_endpoint(user=request.user, endpoint=endpoint)  # type: ignore[arg-type]
            messages.success(request, _("New messages will reach you there."))
        else:
            services.remove_endpoint(user=request.user, endpoint=endpoint)  # type: ignore[arg-type]
            messages.success(request, _("Channel removed."))
    except services.ContactsError as error:
        messages.error(request, error.message)
    return redirect("contacts:channels")


@login_required
@require_POST
def link_code(request: HttpRequest) -> HttpResponse:
    form = LinkForm(request.POST)
    if form.is_valid():
        link = services.create_link_code(
            user=request.user,  # type: ignore[arg-type]
            channel=form.cleaned_data["channel"],
        )
        messages.info(
            request,
            _("Send %(code)s to our %(channel)s account within an hour to connect it.")
            % {"code": link.code, "channel": link.get_channel_display()},
        )
    return redirect("contacts:channels")
