"""Each platform gets a photo it takes: its types (no WebP anywhere) and its size limit."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace.images import clean_image
from relay.adapters.meta import MetaMessagingAdapter
from relay.adapters.whatsapp import WhatsAppAdapter
from relay.services.media_fit import PhotoDoesNotFit, fit


def encoded(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def test_a_photo_that_fits_is_sent_as_it_was_stored() -> None:
    clean = clean_image(encoded(Image.new("RGB", (40, 30), (9, 9, 9)), "JPEG"))
    assert fit(
        clean.data, clean.content_type, accepted=WhatsAppAdapter.image_types, max_bytes=10**6
    ) == (clean.data, "image/jpeg")


def test_a_webp_photo_becomes_a_jpeg_or_a_png_that_keeps_its_transparency() -> None:
    opaque = clean_image(encoded(Image.new("RGB", (40, 30), (200, 9, 9)), "WEBP"))
    see_through = clean_image(encoded(Image.new("RGBA", (40, 30), (200, 9, 9, 100)), "WEBP"))
    assert opaque.content_type == see_through.content_type == "image/webp"
    types = MetaMessagingAdapter.image_types
    data, kind = fit(opaque.data, opaque.content_type, accepted=types, max_bytes=10**6)
    assert kind == "image/jpeg" and Image.open(io.BytesIO(data)).format == "JPEG"
    data, kind = fit(see_through.data, see_through.content_type, accepted=types, max_bytes=10**6)
    assert kind == "image/png" and Image.open(io.BytesIO(data)).mode == "RGBA"


def test_a_photo_over_the_platforms_limit_is_made_smaller_until_it_fits() -> None:
    noise = Image.effect_noise((1200, 900), 90).convert("RGB")  # compresses badly
    clean = clean_image(encoded(noise, "PNG"))
    limit = 150_000
    assert len(clean.data) > limit
    data, kind = fit(
        clean.data,
        clean.content_type,
        accepted=frozenset({"image/png", "image/jpeg"}),
        max_bytes=limit,
    )
    assert len(data) <= limit and kind == "image/jpeg"
    with Image.open(io.BytesIO(data)) as smaller:
        assert smaller.width <= 1200 and not smaller.getexif()
    with pytest.raises(PhotoDoesNotFit):
        fit(clean.data, clean.content_type, accepted=frozenset({"image/jpeg"}), max_bytes=100)
