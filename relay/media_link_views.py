"""The public photo links (relay/services/media_links.py): the image itself for the platform
that fetches it, and a page showing it for an SMS number MMS cannot reach. Anything but a valid,
unexpired token for this very file and delivery is a plain 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from relay.services import media_links


@require_safe
def media_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data, content_type = media_links.photo_bytes(media_links.open_token(token))
    except media_links.LinkInvalid:
        raise Http404 from None
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = 'inline; filename="photo"'
    return response


@require_safe
def media_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        linked = media_links.open_token(token, salt=media_links.PAGE_SALT)
    except media_links.LinkInvalid:
        raise Http404 from None
    image = media_links.image_path(linked.media, linked.delivery.pk)  # the page's own host
    response = render(
        request,
        "relay/photo_page.html",
        {"image_url": image, "width": linked.media.width, "height": linked.media.height},
    )
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
