"""Fitting a cleaned photo to what the recipient's platform takes (issue #16).

Each platform documents its own image limits: WhatsApp takes JPEG and PNG up to 5 MB (Cloud
API "Supported media types"), Messenger and Instagram PNG and JPEG up to 8 MB (Instagram
Messaging "Send a Message"), Twilio 5 MB for a whole MMS (Twilio "Accepted content types for
media"). None takes WebP as a photo. A photo that does not fit is re-encoded from its pixels
(it is already clean: nothing but pixels goes back in), as JPEG unless it has transparency a
PNG can keep, and made smaller step by step until it fits.
"""

from __future__ import annotations

import io

from PIL import Image

# Steps down from the cleaned size; the last one (a quarter of 2,048 px) fits any limit above.
SCALES = (1.0, 0.8, 0.64, 0.5, 0.4, 0.32, 0.25)
QUALITIES = (85, 70)


class PhotoDoesNotFit(Exception):
    """Even the smallest step is larger than the limit (a limit far below the documented ones)."""


def fit(
    data: bytes, content_type: str, *, accepted: frozenset[str], max_bytes: int
) -> tuple[bytes, str]:
    """(bytes, content type) of the photo as the platform takes it."""
    if content_type in accepted and len(data) <= max_bytes:
        return data, content_type
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        image = Image.frombytes(opened.mode, opened.size, opened.tobytes())
    keep_alpha = image.mode == "RGBA" and "image/png" in accepted
    target = "image/png" if keep_alpha else "image/jpeg"
    if not keep_alpha and image.mode != "RGB":
        image = image.convert("RGB")
    for scale in SCALES:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        step = image if scale == 1.0 else image.resize(size, Image.Resampling.LANCZOS)
        for quality in QUALITIES if target == "image/jpeg" else (None,):
            encoded = _encode(step, target, quality)
            if len(encoded) <= max_bytes:
                return encoded, target
    raise PhotoDoesNotFit(content_type)


def _encode(image: Image.Image, content_type: str, quality: int | None) -> bytes:
    out = io.BytesIO()
    if content_type == "image/png":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
