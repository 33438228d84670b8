"""The platforms' media flows, as documented, for the relay to meet in tests and the demo.

Inbound (a person sends a photo):
- WhatsApp Cloud API: the webhook carries `image.id`; `GET /<media-id>` with the bearer token
  answers `{url, mime_type, sha256, file_size, id}`, and the URL downloads only with the same
  bearer token (developers.facebook.com/docs/whatsapp/cloud-api/reference/media, "Retrieve
  media URL", "Download media"). Without the token: 401.
- Messenger and Instagram: `attachments[].payload.url`, a CDN URL that expires (Messenger
  Platform webhook "messages"): here after `attachment_url_seconds`, then 403 "URL signature
  expired", as Meta's CDN answers.
- Twilio: `MediaUrl0` (+ `MediaContentType0`, `NumMedia`) under the account's Messages
  resource; with HTTP Basic authentication on for media (the default here) it needs the
  Account SID and Auth Token, then redirects to the file on a CDN that needs none
  (twilio.com/docs/messaging/guides/webhook-request; "HTTP Basic Authentication for Media").

Outbound (the relay sends a photo):
- WhatsApp: `POST /<phone-number-id>/media` (multipart: messaging_product=whatsapp, type,
  file) answers `{id}`; then a message of type image names that id. Images: image/jpeg and
  image/png, at most 5 MB (Cloud API "Supported media types").
- Messenger: the Send API with a file (multipart: recipient, message with an attachment,
  filedata), images at most 8 MB; or an attachment by `payload.url`, fetched by the platform.
- Instagram: an image by `attachment.payload.url` (png, jpeg; 8 MB), fetched by the platform.
- Twilio: `MediaUrl` on Messages.json, fetched by Twilio, 5 MB in all for the message.
Every photo the sandbox receives is kept with the send record (base64), so tests read the very
bytes a person's phone would show.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import struct
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy

from sandbox.web import Request

IMAGE_TYPES = {
    "whatsapp": ("image/jpeg", "image/png"),
    "messenger": ("image/jpeg", "image/png", "image/gif"),
    "instagram": ("image/jpeg", "image/png"),
    "sms": ("image/jpeg", "image/png", "image/gif"),
}
IMAGE_LIMITS = {
    "whatsapp": 5 * 1024 * 1024,
    "messenger": 8 * 1024 * 1024,
    "instagram": 8 * 1024 * 1024,
    "sms": 5 * 1024 * 1024,
}
FETCH_TIMEOUT = 10.0


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


# A photo sent without one of the test's own (the phones page's "photo" box): a small grey
# square, a PNG the standard library can write.
SIMULATED_PHOTO = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress((b"\x00" + b"\x9a" * 8) * 8))
    + _png_chunk(b"IEND", b"")
)


@dataclass
class StoredMedia:
    data: bytes
    content_type: str
    created: float  # time.monotonic()
    delay_ms: int = 0  # answer this late (a slow platform CDN)
    uploaded_by: str = ""  # the phone number id that uploaded it (WhatsApp uploads only)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class MediaStore:
    """Files people sent (served to the relay) and files the relay uploaded."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    files: dict[str, StoredMedia] = field(default_factory=dict)
    # What the relay uploaded (id -> phone number id) and which of those it deleted, in order.
    uploads: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def put(self, data: bytes, content_type: str, delay_ms: int = 0, uploaded_by: str = "") -> str:
        media_id = str(1_000_000_000_000_000 + secrets.randbelow(10**15))
        stored = StoredMedia(data, content_type, time.monotonic(), delay_ms, uploaded_by)
        with self.lock:
            self.files[media_id] = stored
            if uploaded_by:
                self.uploads[media_id] = uploaded_by
        return media_id

    def delete(self, media_id: str) -> bool:
        with self.lock:
            if self.files.pop(media_id, None) is None:
                return False
            if media_id in self.uploads:
                self.deleted.append(media_id)
            return True

    def upload_records(self) -> list[dict[str, object]]:
        with self.lock:
            return [
                {"id": media_id, "phone_number_id": phone, "deleted": media_id in self.deleted}
                for media_id, phone in self.uploads.items()
            ]

    def get(self, media_id: str) -> StoredMedia | None:
        with self.lock:
            return self.files.get(media_id)

    def clear(self) -> None:
        with self.lock:
            self.files.clear()
            self.uploads.clear()
            self.deleted.clear()


def sniff(data: bytes) -> str:
    """What the bytes are by their first bytes (as the platforms check), not their label."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def encoded(data: bytes, content_type: str) -> dict[str, str | int]:
    return {
        "content_type": content_type,
        "size": len(data),
        "data": base64.b64encode(data).decode(),
    }


def multipart_parts(request: Request) -> dict[str, tuple[str, bytes]]:
    """name → (content type, bytes) of a multipart/form-data body."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ValueError("expected multipart/form-data")
    message = BytesParser(policy=default_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
    )
    parts: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = (part.get_content_type(), payload)
    return parts


class FetchFailed(Exception):
    pass


def fetch(url: str, *, max_bytes: int) -> bytes:
    """Download a photo the relay named by URL, as Twilio and Instagram do."""
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:  # noqa: S310 (tests)
            data: bytes = answer.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise FetchFailed(f"could not fetch the media URL: {error}") from error
    if len(data) > max_bytes:
        raise FetchFailed("the media is larger than the limit")
    return data
