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
# MPO is a JPEG with more pictures appended (many Android and iPhone photos, for the depth map
# or a preview): Pillow names it apart, the first picture is an ordinary JPEG.
ALLOWED_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
# The decoders Pillow may try (its JPEG decoder is the one that names MPO).
OPENERS = ["JPEG", "PNG", "WEBP"]
# What a sender's file name or Content-Type may claim; a claim of one of these that the bytes
# contradict is refused (a polyglot file, or a script renaming files, not a camera).
CLAIMS = {
    "image/jpeg": "image/jpeg",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/png": "image/png",
    "image/webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}
# The ISO base media brands of HEIC, HEIF and AVIF photos (bytes 8-12, after "ftyp"): images,
# but not of a type the relay carries, so they get the "JPEG, PNG and WebP" answer.
HEIF_BRANDS = (
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"mif1",
    b"msf1",
    b"avif",
    b"avis",
)
# The first bytes of the three allowed formats: cut short, they are damaged, not foreign.
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
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
        "mismatch": _(
            "The file is not the kind of photo its name or type says; send the photo itself."
        ),
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


def clean_image(
    data: bytes,
    *,
    max_side: int = MAX_SIDE,
    claimed_type: str = "",
    name: str = "",
    as_jpeg: bool = False,
) -> CleanImage:
    """The image in `data`, cleaned, or ImageRefused saying why not.

    `claimed_type` (a Content-Type) and `name` (a file name) are what the sender says the file
    is; they decide nothing, but a claim of JPEG, PNG or WebP the bytes contradict is refused.
    `as_jpeg` re-encodes any of them as JPEG (transparency on white): a compact copy, e.g. for
    report evidence.
    """
    if not data:
        raise ImageRefused("empty")
    if len(data) > MAX_BYTES:
        raise ImageRefused("too_large")
    image = _open(data)
    content_type = ALLOWED_FORMATS[image.format or ""]
    if any(claim not in ("", content_type) for claim in _claims(claimed_type, name)):
        raise ImageRefused("mismatch")
    if as_jpeg:
        content_type = "image/jpeg"
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
            image = Image.open(io.BytesIO(data), formats=OPENERS)
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


def _claims(claimed_type: str, name: str) -> tuple[str, str]:
    """The allowed types the sender's Content-Type and file name claim ("" for no claim, or a
    claim of anything else: a HEIC name on a JPEG is a phone that converted the photo)."""
    media_type = claimed_type.split(";", 1)[0].strip().lower()
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CLAIMS.get(media_type, ""), CLAIMS.get(extension, "")


def _refusal_for(data: bytes) -> str:
    """Not one of the three formats: a known image of another kind, or not an image at all."""
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "unsupported_type"
    if data.startswith(SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return "damaged"  # one of ours, too short for the decoder to even name
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


def _eight_bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit greyscale scaled to 8 bits: Pillow's convert() clips them instead, and a
    16-bit PNG came out white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        image = image.convert("I")
    if image.mode == "I":
        return image.point(lambda value: value / 256).convert("L")
    if image.mode == "F":
        return image.convert("L")
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Pixels in an embedded colour profile are converted to sRGB, so dropping the profile
    keeps the colours people saw (a CMYK JPEG from a print workflow becomes RGB)."""
    image = _eight_bit(image)
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    output_mode = "RGB" if image.mode == "CMYK" else image.mode
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(image, source, target, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are, drop the profile
    return converted if converted is not None else image


def _displayable(image: Image.Image, content_type: str) -> Image.Image:
    """A mode each encoder writes: RGB for JPEG; RGB or RGBA for PNG and WebP."""
    # A tRNS chunk makes a palette, grey or RGB PNG transparent without an alpha channel.
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if content_type == "image/jpeg" and has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
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
