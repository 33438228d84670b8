"""What a seller hands out to buyers: the public listing link, its QR code and share links.

Everything here carries the handle and the public listing URL only. The seller's number never
enters it (privacy invariant 1): a buyer who follows any of it lands on the listing page, which
offers every relay channel and the web chat, all through pseudonyms.

The QR code encodes the public listing URL rather than a wa.me deep link: a phone camera opens
it whatever apps the buyer has; it names the listing by its code, not by its handle, so a
printed code keeps working after the seller issues a new handle (the page shows the live one);
and it does not tie the poster to one relay number of the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from marketplace.models import Listing, RelayHandle


def public_listing_url(listing: Listing) -> str:
    """The absolute address of the listing's public page, on the relay's public origin."""
    path = reverse("marketplace:listing_public", args=[listing.code])
    return f"{settings.RELAY_PUBLIC_URL}{path}"


def share_text(handle: RelayHandle) -> str:
    return _("Message me about this listing with the handle %(handle)s, no numbers shared:") % {
        "handle": handle.display
    }


@dataclass(frozen=True)
class ShareLink:
    name: str
    url: str


def share_links(handle: RelayHandle, url: str) -> list[ShareLink]:
    """WhatsApp and Telegram share sheets, pre-filled with the handle and the listing URL."""
    text = share_text(handle)
    return [
        ShareLink(
            "WhatsApp", "https://wa.me/?" + urlencode({"text": f"{text} {url}"}, quote_via=quote)
        ),
        ShareLink(
            "Telegram",
            "https://t.me/share/url?" + urlencode({"url": url, "text": text}, quote_via=quote),
        ),
    ]


def qr_code(url: str) -> segno.QRCode:
    """`url` as a QR code. Error correction M (15 %) survives a crease or a smudge on a
    printed poster."""
    return segno.make(url, error="m", micro=False)


def qr_svg(code: segno.QRCode, *, label: str) -> SafeString:
    """`code` as inline SVG, labelled for screen readers, with the 4-module quiet zone that
    scanners expect."""
    svg = code.svg_inline(scale=4, border=4, dark="#1d2433", light="#ffffff", omitsize=True)
    # segno's output is numbers and a fixed path; the only text added here is escaped.
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))


@dataclass(frozen=True)
class Share:
    url: str
    text: str
    links: list[ShareLink]
    qr: SafeString
    qr_download: str  # a data: URI, so the download needs no second request


def share_for(listing: Listing, handle: RelayHandle) -> Share:
    url = public_listing_url(listing)
    code = qr_code(url)
    return Share(
        url=url,
        text=share_text(handle),
        links=share_links(handle, url),
        qr=qr_svg(
            code, label=_("QR code for the listing page of %(handle)s") % {"handle": handle.display}
        ),
        qr_download=code.svg_data_uri(scale=8, border=4),
    )
