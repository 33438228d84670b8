"""A camera photo for the tests: GPS, camera model, an orientation tag and a size to bound.

Pillow writes it in the test run (no binary fixture to trust): a 2,400 by 60 pixel JPEG, red on
its left half and blue on its right, whose EXIF says "rotate 90° clockwise to show"
(Orientation 6), where it was taken (GPS IFD), and the camera (Make, Model). Shown upright it is
60 wide and 2,400 tall, red on top; cleaned it must be at most 2,048 pixels tall, upright,
and carry none of that EXIF.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE, MODEL = 0x010F, 0x0110


def camera_photo(width: int = 2400, height: int = 60) -> bytes:
    image = Image.new("RGB", (width, height), (0, 0, 255))
    ImageDraw.Draw(image).rectangle((0, 0, width // 2, height), fill=(255, 0, 0))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Camera 12 Pro"
    exif.get_ifd(GPS_IFD).update(
        {1: "S", 2: (6.0, 54.0, 9.0), 3: "E", 4: (107.0, 36.0, 28.0)}  # a house in Bandung
    )
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()


def assert_clean_and_upright(data: bytes) -> None:
    """What a recipient's phone shows: no metadata, upright, bounded."""
    assert b"PhoneMaker" not in data and b"Camera 12 Pro" not in data
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert not exif.get_ifd(GPS_IFD), "GPS position left in the photo"
        assert MAKE not in exif and MODEL not in exif and ORIENTATION not in exif
        assert "exif" not in image.info and "xmp" not in image.info
        width, height = image.size
        assert height > width, "not turned upright"
        assert max(width, height) <= 2048, "dimensions not bounded"
        rgb = image.convert("RGB")
        top, bottom = rgb.getpixel((width // 2, 5)), rgb.getpixel((width // 2, height - 5))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 80, f"the top should be red, is {top}"
    assert bottom[2] > 200 and bottom[0] < 80, f"the bottom should be blue, is {bottom}"
