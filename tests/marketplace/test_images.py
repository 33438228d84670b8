"""What comes out of clean_image carries pixels only, upright and bounded; what is not a real
JPEG, PNG or WebP is refused with words a sender understands.

Every file is judged by its bytes (tests/fixtures/photos.py parses the JPEG segments, PNG
chunks and WebP RIFF chunks itself), and every fixture is first shown to carry what the
cleaner must remove, so each test could fail.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.utils import translation
from PIL import Image

from marketplace.images import MAX_BYTES, MAX_SIDE, ImageRefused, clean_image
from tests.fixtures import photos
from tests.fixtures.photos import (
    CAMERA_MAKE,
    CAMERA_MODEL,
    PLACE,
    TAKEN_AT,
    camera_jpeg,
    camera_png,
    camera_webp,
    metadata_in,
    pixel,
    quadrants,
)

CAMERA_FILES = {"jpeg": camera_jpeg, "png": camera_png, "webp": camera_webp}


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close(value: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(value[:3], colour, strict=True))


@pytest.mark.parametrize("kind", sorted(CAMERA_FILES))
def test_a_camera_photo_comes_out_with_no_metadata_block_at_all(kind: str) -> None:
    original = CAMERA_FILES[kind]()
    # The fixture carries everything a phone and an editor write: the test can fail.
    assert len(metadata_in(original)) >= 3, metadata_in(original)
    for written in (CAMERA_MAKE, CAMERA_MODEL, TAKEN_AT, PLACE):
        assert written.encode() in original, written
    exif = decoded(original).getexif()
    assert exif.get_ifd(0x8825), "the fixture has a GPS position"

    cleaned = clean_image(original)

    assert metadata_in(cleaned.data) == []
    for secret in (CAMERA_MAKE, CAMERA_MODEL, TAKEN_AT, PLACE, "6,55", "Bandung", "adobe"):
        assert secret.encode() not in cleaned.data, secret
    image = decoded(cleaned.data)
    assert not image.getexif(), "no EXIF of any kind"
    assert image.getexif().get_ifd(0x8825) == {}, "no GPS"
    assert "icc_profile" not in image.info and "exif" not in image.info
    assert "xmp" not in image.info and "comment" not in image.info
    assert cleaned.content_type == f"image/{kind}"


def test_the_jpeg_keeps_only_its_jfif_header_and_no_embedded_thumbnail() -> None:
    original = camera_jpeg()
    exif_payload = next(p for m, p in photos.jpeg_segments(original) if m == 0xE1)
    assert exif_payload.count(b"\xff\xd8") == 1, "the EXIF block embeds a thumbnail JPEG"

    cleaned = clean_image(original).data

    markers = [marker for marker, _payload in photos.jpeg_segments(cleaned)]
    assert {hex(m) for m in markers if 0xE0 <= m <= 0xEF or m == 0xFE} <= {"0xe0"}  # JFIF only
    assert cleaned.count(b"\xff\xd8") == 1, "one picture: no thumbnail rides along"


def test_the_committed_gps_photo_carries_gps_and_comes_out_clean_and_upright() -> None:
    original = photos.GPS_PHOTO.read_bytes()
    exif = decoded(original).getexif()
    assert exif.get_ifd(0x8825)[2] == (6.0, 55.0, 12.34)  # a latitude near Bandung
    assert exif[0x0112] == 6

    cleaned = clean_image(original)

    assert metadata_in(cleaned.data) == []
    assert (cleaned.width, cleaned.height) == (32, 64)  # tagged "rotate 90°": now portrait


def test_colours_in_a_foreign_profile_are_converted_to_srgb_before_the_profile_goes() -> None:
    # The swapped profile says (220, 20, 20) means green: people saw green, so green it stays.
    cleaned = decoded(clean_image(camera_jpeg()).data)
    assert close(pixel(cleaned, (4, 4)), (20, 220, 20), tolerance=60)


# Where the stored corners (red TL, green TR, blue BL, white BR) are seen after EXIF
# orientation 1-8 (TIFF 6.0, tag 274), as (top-left, top-right, bottom-left, bottom-right).
R, G, B, W = (photos.QUADRANT_COLOURS[k] for k in photos.QUADRANT_COLOURS)
SEEN = {
    1: (R, G, B, W),
    2: (G, R, W, B),
    3: (W, B, G, R),
    4: (B, W, R, G),
    5: (R, B, G, W),
    6: (B, R, W, G),
    7: (W, G, B, R),
    8: (G, W, R, B),
}


@pytest.mark.parametrize("orientation", sorted(SEEN))
def test_the_exif_orientation_is_applied_to_the_pixels(orientation: int) -> None:
    plain = camera_jpeg(quadrants(64, 32), orientation=orientation, profile=srgb_profile())

    cleaned = clean_image(plain)

    image = decoded(cleaned.data)
    width, height = image.size
    assert (width, height) == ((64, 32) if orientation <= 4 else (32, 64))
    corners = [(3, 3), (width - 4, 3), (3, height - 4), (width - 4, height - 4)]
    for corner, colour in zip(corners, SEEN[orientation], strict=True):
        assert close(pixel(image, corner), colour), (orientation, corner, pixel(image, corner))


def srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize(
    ("size", "expected"), [((3000, 1000), (2048, 683)), ((900, 4000), (461, 2048))]
)
def test_the_longest_side_is_bounded(size: tuple[int, int], expected: tuple[int, int]) -> None:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 200)).save(out, "JPEG")
    cleaned = clean_image(out.getvalue())
    assert (cleaned.width, cleaned.height) == expected
    assert decoded(cleaned.data).size == expected
    assert max(expected) == MAX_SIDE


def test_a_small_photo_keeps_its_size() -> None:
    assert clean_image(camera_jpeg()).width == 64


def png_bytes(image: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **params)
    return out.getvalue()


def test_a_16_bit_png_keeps_its_grey_instead_of_turning_white() -> None:
    cleaned = decoded(clean_image(png_bytes(Image.new("I;16", (8, 8), 40000))).data)
    assert close(pixel(cleaned, (1, 1)), (156, 156, 156), tolerance=3)


def test_a_palette_png_with_a_transparent_colour_stays_transparent() -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.paste(1, (4, 0, 8, 8))
    cleaned = decoded(clean_image(png_bytes(image, transparency=0)).data)
    assert cleaned.mode == "RGBA"
    assert pixel(cleaned, (1, 1))[3] == 0
    assert pixel(cleaned, (6, 1)) == (0, 0, 255, 255)


def test_an_rgb_png_with_a_transparent_colour_key_stays_transparent() -> None:
    cleaned = decoded(
        clean_image(png_bytes(Image.new("RGB", (4, 4), (1, 2, 3)), transparency=(1, 2, 3))).data
    )
    assert pixel(cleaned, (0, 0))[3] == 0


def test_a_cmyk_jpeg_becomes_an_rgb_jpeg_of_the_same_colour() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(out, "JPEG")  # pure red in ink
    cleaned = clean_image(out.getvalue())
    image = decoded(cleaned.data)
    assert image.mode == "RGB" and cleaned.content_type == "image/jpeg"
    assert close(pixel(image, (2, 2)), (255, 0, 0))


def test_a_phones_multi_picture_jpeg_is_a_jpeg_of_its_first_picture() -> None:
    first, second = (
        Image.new("RGB", (40, 30), (200, 10, 10)),
        Image.new("RGB", (40, 30), (0, 0, 255)),
    )
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert decoded(out.getvalue()).format == "MPO"

    cleaned = clean_image(out.getvalue())

    assert cleaned.content_type == "image/jpeg"
    assert close(pixel(decoded(cleaned.data), (5, 5)), (200, 10, 10))
    assert cleaned.data.count(b"\xff\xd8") == 1, "the second picture is gone"


@pytest.mark.parametrize("kind", ["PNG", "WEBP"])
def test_an_animated_image_becomes_its_first_frame(kind: str) -> None:
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, kind, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert getattr(decoded(out.getvalue()), "n_frames", 1) == 2

    cleaned = clean_image(out.getvalue()).data

    assert getattr(decoded(cleaned), "n_frames", 1) == 1
    if kind == "PNG":
        assert {b"acTL", b"fcTL", b"fdAT"}.isdisjoint(k for k, _p in photos.png_chunks(cleaned))
    else:
        assert {b"ANIM", b"ANMF"}.isdisjoint(k for k, _p in photos.webp_chunks(cleaned))
    assert close(pixel(decoded(cleaned).convert("RGB"), (5, 5)), (255, 0, 0))


# --- Refusals -----------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png() -> bytes:
    """A few hundred bytes declaring 50,000 x 50,000 pixels (2.5 billion: 7.5 GB decoded)."""
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 5000))
        + _chunk(b"IEND", b"")
    )


def other_format(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, kind)
    return out.getvalue()


HEIC = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 200
REFUSALS = {
    "empty": (b"", "", "", "empty", "The file is empty."),
    "png named jpg": (
        png_bytes(quadrants()),
        "image/jpeg",
        "photo.jpg",
        "mismatch",
        "The file is not the kind of photo its name or type says; send the photo itself.",
    ),
    "html named png": (
        b"<!doctype html><html><script>alert(1)</script></html>",
        "image/png",
        "photo.png",
        "not_an_image",
        "That file is not a photo the relay can carry.",
    ),
    "svg": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        "image/svg+xml",
        "logo.svg",
        "unsupported_type",
        "Only JPEG, PNG and WebP photos can be sent.",
    ),
    "bomb": (
        bomb_png(),
        "image/png",
        "x.png",
        "too_many_pixels",
        "The photo has too many pixels to be a real photo.",
    ),
    "truncated jpeg": (
        camera_jpeg(Image.effect_noise((256, 256), 80).convert("RGB"))[:-1500],
        "image/jpeg",
        "cut.jpg",
        "damaged",
        "The photo is damaged or incomplete.",
    ),
    "jpeg cut after its header": (
        camera_jpeg()[:40],
        "image/jpeg",
        "cut.jpg",
        "damaged",
        "The photo is damaged or incomplete.",
    ),
    "gif": (other_format("GIF"), "image/gif", "a.gif", "unsupported_type", ""),
    "tiff": (other_format("TIFF"), "image/tiff", "a.tif", "unsupported_type", ""),
    "bmp": (other_format("BMP"), "image/bmp", "a.bmp", "unsupported_type", ""),
    "heic": (HEIC, "image/heic", "IMG_0001.HEIC", "unsupported_type", ""),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_what_is_not_a_real_jpeg_png_or_webp_is_refused_with_words_that_say_why(case: str) -> None:
    data, claimed_type, name, reason, words = REFUSALS[case]
    with pytest.raises(ImageRefused) as refused:
        clean_image(data, claimed_type=claimed_type, name=name)
    assert refused.value.reason == reason
    assert refused.value.message == (words or "Only JPEG, PNG and WebP photos can be sent.")
    with translation.override("id"):
        assert refused.value.message != (words or "Only JPEG, PNG and WebP photos can be sent.")


def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded() -> None:
    data = camera_jpeg() + b"\0" * (MAX_BYTES)
    with pytest.raises(ImageRefused) as refused:
        clean_image(data)
    assert refused.value.reason == "too_large"
    assert "16 MB" in refused.value.message


def test_a_jpeg_named_heic_by_a_phone_that_converted_it_is_accepted() -> None:
    cleaned = clean_image(camera_jpeg(), claimed_type="image/heic", name="IMG_0001.HEIC")
    assert cleaned.content_type == "image/jpeg"


def test_a_type_claim_that_agrees_with_the_bytes_is_accepted() -> None:
    cleaned = clean_image(camera_png(), claimed_type="image/png; charset=binary", name="A.PNG")
    assert cleaned.content_type == "image/png"
