from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts import demo_phones, selectors, services
from contacts.channel_text import messages_reach_you, removal_warning, removed_now_reach_you
from contacts.forms import (
    CodeForm,
    LanguageForm,
    LinkForm,
    NotificationForm,
    PhoneForm,
    SignupForm,
    TimeZoneForm,
)
from contacts.models import MODERATOR_GROUP, User
from contacts.phones import last_digits, masked
from contacts.time_zones import zone_label, zone_name_for


def landing_url(user: object) -> str:
    """Where a user starts: a moderator's work is the queue, a seller's their listings."""
    groups = getattr(user, "groups", None)
    if groups is not None and groups.filter(name=MODERATOR_GROUP).exists():
        return reverse("relay:moderation_queue")
    return reverse("marketplace:dashboard")


class LoginView(auth_views.LoginView):
    """Django's log-in, minus two dead ends: a second tab that opens the log-in page after the
    first one logged in goes straight to the landing page, and a moderator lands on the queue
    rather than on an empty "Your listings"."""

    template_name = "contacts/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return landing_url(self.request.user)


@login_required
def landing(request: HttpRequest) -> HttpResponse:
    """LOGIN_REDIRECT_URL: for the redirects that cannot ask LoginView (a CSRF failure on the
    log-in form of a user who is already logged in)."""
    return redirect(landing_url(request.user))


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.register_user(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data.get("display_name", ""),
            language=(translation.get_language() or "en")[:2],
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
    user = selectors.signed_in(request)
    endpoints = []
    for endpoint in selectors.endpoints_for_user(user):
        label = _("Web inbox")
        if endpoint.channel in ("whatsapp", "sms"):
            label = masked(services.endpoint_address(endpoint))
        elif endpoint.channel != "web":
            label = _("Connected account")
        successor = (
            services.fallback_endpoint(user=user, without=endpoint) if endpoint.preferred else None
        )
        warning = removal_warning(endpoint, successor)
        endpoints.append({"endpoint": endpoint, "label": label, "removal_warning": warning})
    return render(
        request,
        "contacts/channels.html",
        {
            "endpoints": endpoints,
            "reach": messages_reach_you(selectors.preferred_endpoint(user)),
            "phone_form": PhoneForm(),
            "language_form": LanguageForm(initial={"language": user.language}),
            "time_zone_form": TimeZoneForm(current=zone_name_for(user)),
            "link_codes": user.link_codes.filter(used_at=None),
            "notification_form": NotificationForm(
                initial={
                    "email_notifications": selectors.wants_email_notifications(
                        selectors.signed_in(request)
                    )
                }
            ),
            "notify_after_minutes": settings.RELAY_NOTIFY_UNREAD_MINUTES,
        },
    )


@login_required
@require_POST
def notifications(request: HttpRequest) -> HttpResponse:
    """The seller's e-mail choice; an unchecked box posts nothing, which means off."""
    form = NotificationForm(request.POST)
    form.is_valid()  # a BooleanField that is not required cannot be invalid
    enabled = bool(form.cleaned_data.get("email_notifications"))
    services.set_email_notifications(user=selectors.signed_in(request), enabled=enabled)
    if enabled:
        messages.success(
            request, _("We will e-mail you about new conversations and unread messages.")
        )
    else:
        messages.success(request, _("E-mail notifications are off."))
    return redirect("contacts:channels")


@login_required
@require_POST
def time_zone(request: HttpRequest) -> HttpResponse:
    user = selectors.signed_in(request)
    form = TimeZoneForm(request.POST, current=zone_name_for(user))
    if form.is_valid():
        services.set_time_zone(user=user, time_zone=form.cleaned_data["time_zone"])
        label = zone_label(form.cleaned_data["time_zone"])
        messages.success(request, _("Times are now shown in %(zone)s.") % {"zone": label})
    else:
        messages.error(request, _("Choose a time zone from the list."))
    return redirect("contacts:channels")


@login_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The seller's language: their channels' messages and, through the language cookie, the
    pages they see from now on."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the languages in the list."))
        return redirect("contacts:channels")
    language = form.cleaned_data["language"]
    services.set_account_language(user=request.user, language=language)  # type: ignore[arg-type]
    with translation.override(language):
        messages.success(request, _("Saved. Perantara writes to you in this language now."))
    response = redirect("contacts:channels")
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response


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
    # The seller's own number, and even then only its tail: enough to see that the code went
    # to the right phone, nothing for someone looking over their shoulder.
    context = {
        "form": form,
        "endpoint": endpoint,
        "ending": last_digits(services.endpoint_address(endpoint)),
    }
    return render(request, "contacts/verify.html", context)


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
            messages.success(request, messages_reach_you(endpoint))
        else:
            successor = services.remove_endpoint(user=request.user, endpoint=endpoint)  # type: ignore[arg-type]
            messages.success(request, removed_now_reach_you(successor))
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
