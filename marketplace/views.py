from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts import selectors as contact_selectors
from contacts.channel_text import messages_reach_you
from contacts.selectors import signed_in
from marketplace import handles, photos, selectors, services
from marketplace.forms import ListingForm
from marketplace.models import Listing, ListingPhoto
from marketplace.public_text import hidden_details_warning


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("marketplace:dashboard")
    return render(request, "marketplace/home.html")


def find_listing(request: HttpRequest) -> HttpResponse:
    """A buyer typed a handle on the home page: open that listing's public page."""
    query = request.GET.get("handle", "").strip()[:40]
    if not query:
        return redirect("marketplace:home")
    listing = selectors.listing_for_handle(query)
    if listing is not None:
        return redirect("marketplace:listing_public", code=listing.code)
    error = _("No listing has the handle %(handle)s. Check the code and try again.") % {
        "handle": query
    }
    return render(
        request,
        "marketplace/home.html",
        {"handle_query": query, "handle_error": error},
        status=404,
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    seller = signed_in(request)
    # The template adds each listing's activity chart (relay/templatetags/listing_activity.py).
    rows = selectors.dashboard_rows(seller)
    # Said where the seller looks first, so nobody wonders why WhatsApp stays quiet.
    reach = messages_reach_you(contact_selectors.preferred_endpoint(seller))
    return render(request, "marketplace/dashboard.html", {"rows": rows, "reach": reach})


@login_required
def listing_new(request: HttpRequest) -> HttpResponse:
    form = ListingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        listing = services.create_listing(
            seller=request.user,  # type: ignore[arg-type]
            publish="1" in request.POST.getlist("publish", ["1"]),
            **form.cleaned_data,
        )
        messages.success(request, _("Listing created."))
        _warn_about_contact_details(request, listing)
        return redirect("marketplace:listing_edit", code=listing.code)
    return render(request, "marketplace/listing_form.html", {"form": form, "listing": None})


@login_required
def listing_edit(request: HttpRequest, code: str) -> HttpResponse:
    listing = selectors.listing_for_seller(request.user, code)  # type: ignore[arg-type]
    form = ListingForm(request.POST or None, instance=listing)
    if request.method == "POST" and form.is_valid():
        services.update_listing(listing=listing, **form.cleaned_data)
        messages.success(request, _("Changes saved."))
        _warn_about_contact_details(request, listing)
        return redirect("marketplace:listing_edit", code=listing.code)
    return render(
        request,
        "marketplace/listing_form.html",
        {
            "form": form,
            "listing": listing,
            "handle": handles.live_handle(listing),
            "photos": photos.photos_of(listing),
            "max_photos": ListingPhoto.MAX_PER_LISTING,
        },
    )


def _warn_about_contact_details(request: HttpRequest, listing: Listing) -> None:
    """The save went through; tell the seller what buyers will not see on the public page."""
    warning = hidden_details_warning(listing)
    if warning:
        messages.warning(request, warning)


ACTIONS = {
    "publish": (services.publish_listing, _("Listing is live. Buyers can write to its handle.")),
    "sold": (services.mark_listing_sold, _("Marked as sold. Its handle is paused.")),
    "close": (services.close_listing, _("Listing closed. Its handle is paused.")),
    "rotate": (
        services.rotate_listing_handle,
        _("New handle issued. The old one now tells buyers it has changed."),
    ),
}


@login_required
@require_POST
def listing_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("No such action")
    listing = selectors.listing_for_seller(request.user, code)  # type: ignore[arg-type]
    operation, done = ACTIONS[action]
    try:
        operation(listing=listing)
    except services.ListingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(done))
    return redirect("marketplace:listing_edit", code=listing.code)


def listing_public(request: HttpRequest, code: str) -> HttpResponse:
    listing = selectors.public_listing(code)
    handle = handles.live_handle(listing)
    # The template adds a deep link per relay identity (relay/templatetags/relay_identities.py).
    taking_messages = handle is not None and listing.is_open
    return render(
        request,
        "marketplace/listing_public.html",
        {
            "listing": listing,
            "handle": handle,
            "photos": photos.photos_of(listing),
            "web_chat_url": reverse("relay:buyer_chat_start", args=[listing.code])
            if taking_messages
            else "",
        },
    )
