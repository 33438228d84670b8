"""Photos uploaded from a browser: read with a cap, so a huge file costs neither memory nor disk.

Django writes an upload larger than FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file before any
view runs (the CSRF check already parses the form). `CappedUploadHandler` keeps at most
`images.MAX_BYTES` of each file and counts the rest, so the view sees the real size and refuses
it with words ("The photo is too large") instead of a disk filled by one request.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from marketplace.images import MAX_BYTES, ImageRefused


class CappedUploadHandler(TemporaryFileUploadHandler):
    """Writes the first MAX_BYTES of each file; the file's `size` is what the browser sent."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received <= MAX_BYTES:
            self.file.write(raw_data)
        return None


def read_photo(upload: UploadedFile) -> bytes:
    """The bytes of an uploaded photo, or ImageRefused("too_large") past the cap."""
    if (upload.size or 0) > MAX_BYTES:
        raise ImageRefused("too_large")
    upload.seek(0)
    return upload.read(MAX_BYTES + 1)
