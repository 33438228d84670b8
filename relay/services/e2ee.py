"""Web ↔ web end to end: device keys, a conversation's mode, envelopes and their franking.

The browser side is static/e2ee.js; the envelope's byte layout is documented in its header and
in the README ("End-to-end encryption between web participants"). The server never holds a
private key and never sees the plaintext: it stores the sender's envelope (sealed once more
under the conversation key, so retention and shredding apply), the franking commitment and its
own reporting tag (relay/franking.py). What it checks is what it can check without a body: the
envelope's shape and size, and that it names exactly the current devices of both sides.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Channel, Endpoint
from relay import franking
from relay.models import Conversation, DeviceKey, Message, Side
from relay.services import franked_reports
from relay.services.conversations import recipient_endpoint_for_seller
from relay.services.errors import RelayError
from relay.services.web import seller_web_endpoint

PUBLIC_KEY_BYTES = 32  # raw X25519
ENVELOPE_VERSION = 1
SAFETY_LABEL = "perantara-safety-v1"


class E2EEError(RelayError):
    """A request the E2EE road refuses; `code` names why for the page's script."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _b64(value: str, *, refusal: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise E2EEError("malformed", refusal) from None


def fingerprint_of(public_key: bytes) -> str:
    """How envelopes name a device: hex SHA-256 of its raw public key."""
    return hashlib.sha256(public_key).hexdigest()


# --- Devices -------------------------------------------------------------------------------------


def register_device(*, endpoint: Endpoint, public_key_b64: object) -> tuple[DeviceKey, bool]:
    """Register a browser's public key for a web participant; (device, created).

    The same key again is idempotent (a retired one comes back, as the newest). A participant
    keeps at most RELAY_E2EE_MAX_DEVICES live devices: a new or returning one beyond that
    retires the oldest other, which then gets no new messages."""
    if endpoint.channel != Channel.WEB:
        raise E2EEError("not_web", _("Only web participants have device keys."))
    if not isinstance(public_key_b64, str):
        raise E2EEError("malformed", _("Send the device's public key as base64 text."))
    raw = _b64(public_key_b64, refusal=_("A device public key is 32 bytes (raw X25519)."))
    if len(raw) != PUBLIC_KEY_BYTES:
        raise E2EEError("malformed", _("A device public key is 32 bytes (raw X25519)."))
    fingerprint = fingerprint_of(raw)
    with transaction.atomic():
        found = DeviceKey.objects.select_for_update().filter(fingerprint=fingerprint).first()
        if found is not None:
            if found.endpoint_id != endpoint.pk:
                raise E2EEError("taken", _("This key is registered to another participant."))
            if found.retired_at is not None:
                found.retired_at = None
                found.save(update_fields=["retired_at"])
                _retire_beyond_limit(endpoint, keep=found.pk)
            return found, False
        try:
            with transaction.atomic():
                device = DeviceKey.objects.create(
                    endpoint=endpoint, public_key=raw, fingerprint=fingerprint
                )
        except IntegrityError:  # the same key registered twice at once: one row
            return DeviceKey.objects.get(fingerprint=fingerprint), False
        _retire_beyond_limit(endpoint)
    return device, True


def _retire_beyond_limit(endpoint: Endpoint, *, keep: int | None = None) -> None:
    """Retire the oldest live devices beyond the limit; `keep` (a device just back in use)
    counts as the newest."""
    live = list(
        DeviceKey.objects.filter(endpoint=endpoint, retired_at__isnull=True)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )
    if keep is not None and keep in live:
        live.remove(keep)
        live.insert(0, keep)
    extra = live[settings.RELAY_E2EE_MAX_DEVICES :]
    if extra:
        DeviceKey.objects.filter(id__in=extra).update(retired_at=timezone.now())


def live_devices(endpoint: Endpoint | None) -> list[DeviceKey]:
    if endpoint is None:
        return []
    return list(DeviceKey.objects.filter(endpoint=endpoint, retired_at__isnull=True).order_by("id"))


# --- A conversation's mode -----------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """Whether a conversation is web ↔ web end to end now, and if not, why not."""

    e2ee: bool
    # "e2ee"; or "buyer_app" / "seller_app" (that side reads in an app: the relay reads the
    # text to carry it), "buyer_setup" / "seller_setup" (on the web, no device key yet).
    reason: str
    buyer_channel: str
    seller_channel: str
    buyer_devices: list[DeviceKey] = field(default_factory=list)
    seller_devices: list[DeviceKey] = field(default_factory=list)

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(d.fingerprint for d in [*self.buyer_devices, *self.seller_devices])

    @property
    def safety_code(self) -> str:
        return safety_code(
            buyer=[d.fingerprint for d in self.buyer_devices],
            seller=[d.fingerprint for d in self.seller_devices],
        )


def conversation_mode(conversation: Conversation) -> Mode:
    """Web ↔ web end to end exactly when the buyer writes from the web chat, the seller reads
    in the web inbox (their preferred channel is the web, or the relay cannot reach the
    preferred one) and both sides have at least one live device key."""
    buyer = conversation.buyer_endpoint
    seller_reads = recipient_endpoint_for_seller(conversation.listing)
    channels = (buyer.channel, seller_reads.channel)
    if buyer.channel != Channel.WEB:
        return Mode(False, "buyer_app", *channels)
    if seller_reads.channel != Channel.WEB:
        return Mode(False, "seller_app", *channels)
    buyers, sellers = live_devices(buyer), live_devices(seller_reads)
    reason = "buyer_setup" if not buyers else "seller_setup" if not sellers else "e2ee"
    return Mode(reason == "e2ee", reason, *channels, buyers, sellers)


def seller_device_endpoint(conversation: Conversation) -> Endpoint:
    """The endpoint a seller's browsers register their keys on: their web endpoint."""
    return seller_web_endpoint(conversation.listing.seller)


def safety_code(*, buyer: list[str], seller: list[str]) -> str:
    """A short fingerprint of both sides' device keys that the two people can compare.

    SHA-256 over the UTF-8 text "perantara-safety-v1\\nbuyer:<fps>\\nseller:<fps>", where <fps>
    is the side's device fingerprints (lowercase hex SHA-256 of each raw public key), sorted
    and joined by ","; the first 8 bytes as a big-endian integer modulo 10^12, zero-padded to
    12 digits, in three groups of four. static/e2ee.js computes the same from the keys."""
    text = f"{SAFETY_LABEL}\nbuyer:{','.join(sorted(buyer))}\nseller:{','.join(sorted(seller))}"
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % 10**12
    digits = f"{number:012d}"
    return " ".join(digits[i : i + 4] for i in (0, 4, 8))


def state_for(conversation: Conversation) -> dict[str, Any]:
    """What a participant's page needs to encrypt: the mode and the devices it encrypts to
    (public keys only), exactly the rows the server stores."""
    mode = conversation_mode(conversation)

    def listed(devices: list[DeviceKey]) -> list[dict[str, str]]:
        return [
            {
                "fingerprint": d.fingerprint,
                "public_key": base64.b64encode(bytes(d.public_key)).decode(),
                "created_at": d.created_at.isoformat(),
            }
            for d in devices
        ]

    return {
        "mode": "e2ee" if mode.e2ee else "relay",
        "reason": mode.reason,
        "app": app_of(mode),
        "conversation": conversation.code,
        "devices": {
            Side.BUYER: listed(mode.buyer_devices),
            Side.SELLER: listed(mode.seller_devices),
        },
        "safety_code": mode.safety_code if mode.e2ee else "",
    }


# --- Envelopes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """A sender's sealed message as the server checked it (it cannot open it)."""

    text: str  # the envelope JSON, canonical, as stored
    commitment: bytes
    devices: frozenset[str]


# The documented bytes of an envelope's fields (static/e2ee.js): base64 of exactly this many
# bytes, or at least this many for the ciphertext (its 16-byte AES-GCM tag). A recipient's page
# is handed only envelopes of this shape, so a sender cannot make it trip over a field.
IV_BYTES = 12
GCM_TAG_BYTES = 16
WRAPPED_KEY_BYTES = 32 + GCM_TAG_BYTES
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def _decodes_to(value: object, size: int, *, at_least: bool = False) -> bool:
    if not isinstance(value, str):
        return False
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    return len(raw) >= size if at_least else len(raw) == size


def _entry_is_well_formed(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("d"), str)
        and FINGERPRINT.fullmatch(entry["d"]) is not None
        and _decodes_to(entry.get("epk"), PUBLIC_KEY_BYTES)
        and _decodes_to(entry.get("iv"), IV_BYTES)
        and _decodes_to(entry.get("wk"), WRAPPED_KEY_BYTES)
    )


def _envelope_shape(data: object) -> dict[str, Any]:
    bad = E2EEError("malformed", _("The encrypted message is not in the expected format."))
    if not isinstance(data, dict) or data.get("v") != ENVELOPE_VERSION:
        raise bad
    if not _decodes_to(data.get("iv"), IV_BYTES):
        raise bad
    if not _decodes_to(data.get("ct"), GCM_TAG_BYTES, at_least=True):
        raise bad
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys:
        raise bad
    if not all(_entry_is_well_formed(entry) for entry in keys):
        raise bad
    return data


def parse_envelope(*, envelope: object, commitment: object) -> Envelope:
    """Check a posted envelope's size and shape and its commitment (32 bytes, base64).

    Raises E2EEError with what the sender is told; never reads the ciphertext."""
    if not isinstance(envelope, str) or not isinstance(commitment, str):
        raise E2EEError("malformed", _("The encrypted message or its commitment is missing."))
    try:
        size = len(envelope.encode())
    except UnicodeEncodeError:  # a lone surrogate ("\\ud800"): not text a browser encrypted
        raise E2EEError(
            "malformed", _("The encrypted message is not in the expected format.")
        ) from None
    if size > settings.RELAY_E2EE_MAX_ENVELOPE_BYTES:
        raise E2EEError(
            "too_large",
            _("The encrypted message is too large (the limit is %(limit)s bytes).")
            % {"limit": settings.RELAY_E2EE_MAX_ENVELOPE_BYTES},
        )
    try:
        data = _envelope_shape(json.loads(envelope))
    except (ValueError, RecursionError):
        raise E2EEError(
            "malformed", _("The encrypted message is not in the expected format.")
        ) from None
    c = _b64(commitment, refusal=_("A franking commitment is 32 bytes."))
    if len(c) != franking.TAG_BYTES:
        raise E2EEError("malformed", _("A franking commitment is 32 bytes."))
    devices = [str(entry["d"]) for entry in data["keys"]]
    if len(set(devices)) != len(devices):
        raise E2EEError("malformed", _("The encrypted message names a device twice."))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return Envelope(text=canonical, commitment=c, devices=frozenset(devices))


def frank(message: Message, conversation: Conversation) -> None:
    """Bind a stored E2EE message's commitment to the server's own context: store the context
    and the reporting tag over it. Must be called inside the transaction that stored it."""
    assert message.franking_commitment is not None
    message.conversation = conversation
    # One definition of the context, the one a report is checked against; stored, because the
    # seller's pseudonym holds the listing title, which may be edited later.
    ctx = franked_reports.context_for(message)
    tag = franking.reporting_tag(bytes(message.franking_commitment), ctx)
    Message.objects.filter(pk=message.pk).update(reporting_tag=tag, franking_context=ctx)
    message.reporting_tag = tag
    message.franking_context = ctx


# --- What the pages say (static/e2ee.js reads these from a json_script block) --------------------


def page_strings(*, viewer_side: str, other_name: str, mode: Mode) -> dict[str, str]:
    """Every sentence the page's script shows, translated here (there is no JS catalogue).

    `other_name` is the other side's pseudonym in the page's language."""
    # The app is filled in by the script from the state it fetches ("{app}"): the mode can
    # change while the page is open.
    params = {"other": other_name, "app": "{app}"}
    said = {
        "mode_e2ee": _(
            "End-to-end encrypted: you and %(other)s both write on the web, so only your "
            "browsers can read these messages, not Perantara."
        ),
        "mode_seller_app": _(
            "Relay-mediated: the seller reads on %(app)s, so the relay reads your messages to "
            "deliver them to %(app)s."
        ),
        "mode_buyer_app": _(
            "Relay-mediated: the buyer writes from %(app)s, so the relay reads these messages "
            "to deliver them to %(app)s."
        ),
        "mode_buyer_setup": _(
            "Relay-mediated for now: end-to-end encryption starts once the buyer's browser has "
            "set up its keys."
        ),
        "mode_seller_setup": _(
            "Relay-mediated for now: end-to-end encryption starts once the seller's browser has "
            "set up its keys."
        ),
        "mode_relay": _("Relay-mediated: the relay reads these messages to deliver them."),
        "from_e2ee": _("From here on, messages were end-to-end encrypted."),
        "from_relay": _("From here on, messages were relay-mediated (the relay read them)."),
        "now_e2ee": _("This conversation is now end-to-end encrypted."),
        "now_seller_app": _(
            "The seller now reads on %(app)s: new messages are relay-mediated, the relay reads "
            "them to deliver them to %(app)s."
        ),
        "now_buyer_app": _(
            "The buyer writes from %(app)s: new messages are relay-mediated, the relay reads "
            "them to deliver them."
        ),
        "now_relay": _(
            "This conversation is no longer end-to-end encrypted: new messages are relay-mediated."
        ),
        "keys_changed": _(
            "%(other)s's device keys changed (a new or removed browser). Compare the safety "
            "code again."
        ),
        "dropped": _("A message was dropped because it failed its integrity check:"),
        "dropped_tampered": _("it was altered on the way and does not open."),
        "dropped_commitment": _(
            "its franking commitment does not match, so it could not be reported."
        ),
        "dropped_replay": _("it repeats an earlier message (a replay)."),
        "before_device": _("Sent before this device was set up; it cannot be read here."),
        "not_for_device": _("This message was not encrypted for this device."),
        "empty": _("Write a message first."),
        "not_sent": _("Your message was not sent; it is still in the box. Try again."),
        "no_device": _(
            "This browser cannot keep encryption keys (a private window, or storage is off): "
            "messages from here are relay-mediated."
        ),
    }
    if viewer_side == Side.SELLER:  # the seller's own choice of app, in their words
        said["mode_seller_app"] = _(
            "Relay-mediated: you read this conversation on %(app)s, so the relay reads these "
            "messages to deliver them to %(app)s."
        )
        said["now_seller_app"] = _(
            "You now read on %(app)s: new messages are relay-mediated, the relay reads them to "
            "deliver them to %(app)s."
        )
    return {key: value % params if "%(" in value else value for key, value in said.items()}


def app_of(mode: Mode) -> str:
    """The app the relay carries this conversation to, if one side reads in an app."""
    channel = mode.seller_channel if mode.reason == "seller_app" else mode.buyer_channel
    return str(Channel(channel).label) if channel != Channel.WEB else ""


def label_for(strings: dict[str, str], mode: Mode) -> str:
    said = strings.get(f"mode_{mode.reason}", strings["mode_relay"])
    return said.replace("{app}", app_of(mode))


def device_slot(endpoint: Endpoint) -> str:
    """Names this participant's key record in the browser's storage (one browser may hold a
    seller's key and a buyer's), without putting the endpoint's code there."""
    return hashlib.blake2b(endpoint.code.encode(), digest_size=8, person=b"e2ee-slot").hexdigest()
