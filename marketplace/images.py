"""Cleaning an image before anything keeps it: a photo in a chat, a photo on a listing.

A phone camera's JPEG carries where it was taken (EXIF GPS, often the seller's home), the
device and the time; XMP and IPTC blocks can carry more, and an embedded thumbnail can still
show what was cropped away. `clean_image` decodes the bytes with Pillow (what they claim to be
is never trusted: the decoder says what they are), refuses anything but a real JPEG, PNG or
WebP, applies the EXIF orientation, converts to sRGB, bounds the dimensions and re-encodes the
pixels into a new file that carries no metadata at all. What comes out is all that is stored.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# What the decoder must say the bytes are; nothing else is opened (no SVG, GIF, TIFF, HEIC…).
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MAX_SIDE = 2048  # the longest side after cleaning, in pixels
# Refused before decoding: a 1 KB PNG can declare 50,000 by 50,000 pixels (a decompression bomb).
MAX_PIXELS = 40_000_000
MAX_BYTES = 16 * 1024 * 1024  # what the relay reads at all (the platforms' largest image limit)
JPEG_QUALITY = 85


class ImageRefused(Exception):
    """The bytes are not an image the relay carries; `reason` is a code, `message` the words."""

    MESSAGES = {
        "too_large": _("The photo is too large (at most 16 MB)."),
        "not_an_image": _("That file is not a photo the relay can carry."),
        "unsupported_type": _("Only JPEG, PNG and WebP photos can be sent."),
        "too_many_pixels": _("The photo has too many pixels to be a real photo."),
        "damaged": _("The photo is damaged or incomplete."),
        "empty": _("The file is empty."),
    }

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return str(self.MESSAGES[self.reason])


@dataclass(frozen=True)
class CleanImage:
    data: bytes  # the re-encoded file: pixels only, no metadata
    content_type: str  # image/jpeg, image/png or image/webp
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def clean_image(data: bytes, *, max_side: int = MAX_SIDE) -> CleanImage:
    """The image in `data`, cleaned, or ImageRefused saying why not."""
    if not data:
        raise ImageRefused("empty")
    if len(data) > MAX_BYTES:
        raise ImageRefused("too_large")
    image = _open(data)
    content_type = ALLOWED_FORMATS[image.format or ""]
    image = _decoded(image)
    image = _to_srgb(image)
    image = _displayable(image, content_type)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A new image made from the pixels alone: no info dict, no EXIF, XMP, IPTC, ICC, comment
    # or thumbnail can ride along into the encoder.
    fresh = Image.frombytes(image.mode, image.size, image.tobytes())
    return CleanImage(_encode(fresh, content_type), content_type, *fresh.size)


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused("too_many_pixels") from error
    except UnidentifiedImageError as error:
        raise ImageRefused(_refusal_for(data)) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageRefused("damaged") from error
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise ImageRefused("too_many_pixels")
    return image


def _refusal_for(data: bytes) -> str:
    """Not one of the three formats: a known image of another kind, or not an image at all."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(data))
    except Exception:
        head = data[:256].lstrip().lower()
        return "unsupported_type" if head.startswith((b"<svg", b"<?xml")) else "not_an_image"
    return "unsupported_type"


def _decoded(image: Image.Image) -> Image.Image:
    """The first frame, fully decoded (a truncated file fails here), upright."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused("too_many_pixels") from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageRefused("damaged") from error
    return upright if upright is not None else image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Pixels in an embedded colour profile are converted to sRGB, so dropping the profile
    keeps the colours people saw."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(image, source, target, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are, drop the profile
    return converted if converted is not None else image


def _displayable(image: Image.Image, content_type: str) -> Image.Image:
    """A mode each encoder writes: RGB for JPEG; RGB or RGBA for PNG and WebP."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if content_type == "image/jpeg" or not has_alpha:
        return image.convert("RGB") if image.mode != "RGB" else image
    return image.convert("RGBA") if image.mode != "RGBA" else image


def _encode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif content_type == "image/png":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=JPEG_QUALITY)
    return out.getvalue()
