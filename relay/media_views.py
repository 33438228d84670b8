"""Photos on the web roads: the upload a page's script makes before sending, and the photo
addresses of the inbox and the chat (a thumbnail and the full cleaned image).

An upload answers JSON: {"uid", "thumbnail"} or {"error"} in the sender's words (400), never a
500. A photo is served only to a participant who may see it (relay/selectors.py,
photo_for_viewer): the seller of the conversation, signed in, or the buyer's chat link;
anything else is a 404, a signed-out visitor included (no login redirect telling them that a
photo is there). Photos are never cached outside the viewer's browser session.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from contacts.selectors import signed_in
from marketplace.images import clean_image
from relay import crypto, selectors
from relay.models import Conversation, MediaFile, Side
from relay.services import media
from relay.services.errors import RelayError
from relay.views import _json_login_required, _with_chat_link, store_browser_photo


def _uploaded(
    request: HttpRequest, conversation: Conversation, side: str, thumbnail_base: str
) -> HttpResponse:
    upload = request.FILES.get("photo")
    if upload is None:
        return JsonResponse({"error": _no_file()}, status=400)
    try:
        stored = store_browser_photo(conversation, side, upload)
    except RelayError as error:
        return JsonResponse({"error": error.message}, status=400)
    return JsonResponse(
        {"uid": str(stored.uid), "thumbnail": f"{thumbnail_base}{stored.uid}/thumb/"}
    )


def _no_file() -> str:
    return gettext("Choose a photo to send.")


@require_POST
@_json_login_required
def conversation_upload(request: HttpRequest, code: str) -> HttpResponse:
    current = selectors.conversation_for_seller(signed_in(request), code)
    base = reverse("relay:conversation", args=[code]) + "photos/"
    return _uploaded(request, current, Side.SELLER, base)


@require_POST
@_with_chat_link
def buyer_chat_upload(request: HttpRequest, access: selectors.ChatAccess) -> HttpResponse:
    base = reverse("relay:buyer_chat", args=[access.token]) + "photos/"
    return _uploaded(request, access.conversation, Side.BUYER, base)


def _served(photo: MediaFile, conversation: Conversation, *, thumbnail: bool) -> HttpResponse:
    try:
        data = media.read(photo, conversation=conversation)
    except crypto.BodyUnreadable:
        raise Http404("The photo is gone") from None  # shredded with its conversation
    content_type = photo.content_type
    if thumbnail:
        # Made at view time from the cleaned image, not stored: one sealed file per photo to
        # shred, and a small decode (at most 2,048 px) per view, which the browser then keeps
        # for the page it shows.
        small = clean_image(data, max_side=selectors.THUMBNAIL_SIDE)
        data, content_type = small.data, small.content_type
    extension = {"image/png": "png", "image/webp": "webp"}.get(content_type, "jpg")
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # The name the sender gave stays sealed: the page names the file by its random uid.
    response["Content-Disposition"] = f'inline; filename="photo-{photo.uid.hex[:12]}.{extension}"'
    return response


@require_GET
def conversation_photo(
    request: HttpRequest, code: str, uid: str, thumbnail: bool = False
) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404("No such photo")
    current = selectors.conversation_for_seller(signed_in(request), code)
    photo = selectors.photo_for_viewer(current, viewer_side=Side.SELLER, uid=uid)
    return _served(photo, current, thumbnail=thumbnail)


@require_GET
@_with_chat_link
def buyer_chat_photo(
    request: HttpRequest, access: selectors.ChatAccess, uid: str, thumbnail: bool = False
) -> HttpResponse:
    photo = selectors.photo_for_viewer(access.conversation, viewer_side=Side.BUYER, uid=uid)
    return _served(photo, access.conversation, thumbnail=thumbnail)
