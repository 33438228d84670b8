"""Listing photos: the seller adds, reorders and deletes them on the edit page; anyone sees them
on the public page. Adding answers JSON to the page's script ({"redirect"}, the page then shows
what happened) and a redirect to a plain form post, so it works without JavaScript."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from contacts.selectors import signed_in
from marketplace import photos, selectors
from marketplace.images import ImageRefused
from marketplace.uploads import read_photo


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def photo_add(request: HttpRequest, code: str) -> HttpResponse:
    listing = selectors.listing_for_seller(signed_in(request), code)
    files = request.FILES.getlist("photos")
    added = 0
    for upload in files:
        try:
            photos.add_photo(listing=listing, data=read_photo(upload))
        except (ImageRefused, photos.PhotoRefused) as refused:
            messages.error(request, f"{upload.name}: {refused.message}")
        else:
            added += 1
    if added:
        done = ngettext("%(count)d photo added.", "%(count)d photos added.", added)
        messages.success(request, done % {"count": added})
    elif not files:
        messages.error(request, _("Choose one or more photos to add."))
    back = reverse("marketplace:listing_edit", args=[listing.code]) + "#photos"
    if _wants_json(request):
        return JsonResponse({"redirect": back, "added": added}, status=200 if added else 400)
    return redirect(back)


@login_required
@require_POST
def photo_change(request: HttpRequest, code: str, name: str, action: str) -> HttpResponse:
    if action not in ("up", "down", "delete"):
        raise Http404("No such action")
    photo = selectors.listing_photo_for_seller(signed_in(request), code, name)
    if action == "delete":
        photos.delete_photo(photo=photo)
        messages.success(request, _("Photo deleted."))
    else:
        photos.move_photo(photo=photo, by=-1 if action == "up" else 1)
    return redirect(reverse("marketplace:listing_edit", args=[code]) + "#photos")


@require_GET
def listing_photo(request: HttpRequest, code: str, name: str) -> HttpResponse:
    """A listing photo, cleaned. Public ones are cacheable for long: a photo's bytes never
    change under its random name (a new upload gets a new name)."""
    photo, public = selectors.listing_photo(request.user, code, name)
    try:
        with photos.storage().open(photo.storage_name, "rb") as handle:
            data = handle.read()
    except OSError:  # FileNotFoundError included: the file went with a deletion under way
        raise Http404("No such photo") from None
    response = HttpResponse(data, content_type=photo.content_type)
    if public:
        seconds = settings.MARKETPLACE_PHOTO_CACHE_SECONDS
        response["Cache-Control"] = f"public, max-age={seconds}, immutable"
    else:  # a draft's photo, shown to its seller only
        response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="{photo.storage_name}"'
    return response
