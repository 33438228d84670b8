"""Test photos as a phone camera writes them: a JPEG carrying GPS, the camera's make and model
and the time it was taken, made with Pillow so the suite needs no binary fixtures."""

from __future__ import annotations

import io

from PIL import ExifTags, Image

CAMERA_MAKE = "PhoneMaker"
CAMERA_MODEL = "Pocket X200"


def jpeg_with_gps(
    width: int = 640,
    height: int = 480,
    colour: tuple[int, int, int] = (200, 80, 40),
    *,
    noise: bool = False,
) -> bytes:
    """A JPEG whose EXIF says where (Jakarta) and with what it was taken."""
    image = Image.new("RGB", (width, height), colour)
    if noise:  # a real photo's weight: noise does not compress, so the upload takes a while
        grain = Image.effect_noise((width, height), 90).convert("RGB")
        image = Image.blend(image, grain, 0.5)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    exif[ExifTags.Base.Model] = CAMERA_MODEL
    exif[ExifTags.Base.DateTime] = "2026:11:30 08:15:00"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (6.0, 12.0, 30.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (106.0, 49.0, 40.2),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def metadata_of(data: bytes) -> dict[str, object]:
    """What a reader of these bytes learns beyond the pixels: EXIF tags, GPS, other blocks."""
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    return {
        "exif": dict(exif),
        "gps": dict(exif.get_ifd(ExifTags.IFD.GPSInfo)),
        "info": {
            key: value
            for key, value in image.info.items()
            if key
            not in (
                "jfif",
                "jfif_version",
                "jfif_unit",
                "jfif_density",
                "dpi",
                "progressive",
                "progression",
            )
        },
        "camera_named": CAMERA_MODEL.encode() in data or CAMERA_MAKE.encode() in data,
    }


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
