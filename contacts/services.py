"""Business operations on people and their addresses."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from config import hotsql
from contacts import vault
from contacts.contact_guard import Shared
from contacts.models import (
    LANGUAGE_SOURCE_RANK,
    PHONE_CHANNELS,
    RELAY_LANGUAGES,
    Channel,
    Endpoint,
    LanguageSource,
    LinkCode,
    User,
    VerificationCode,
)
from contacts.phones import (
    InvalidPhoneNumber,
    bsuid_region,
    is_bsuid,
    normalize_phone,
    region_of,
)


class ContactsError(Exception):
    """A domain error whose message is safe to show to the user who caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VerificationError(ContactsError):
    pass


# --- Addresses in the vault ---------------------------------------------------------------


def normalize_address(*, channel: str, address: str, region: str | None = None) -> str:
    """Return the canonical form of an address; raise InvalidPhoneNumber for bad numbers."""
    if channel == Channel.WHATSAPP and is_bsuid(address):
        return address.strip()  # a username's user: no number, stored as Meta sent it
    if channel in PHONE_CHANNELS:
        return normalize_phone(address, region=region)
    cleaned = (address or "").strip()
    if not cleaned or len(cleaned) > 128 or not cleaned.replace("-", "").isalnum():
        raise ContactsError(_("That is not a valid account id."))
    return cleaned


def index_for(*, channel: str, normalized: str) -> str:
    if channel == Channel.WHATSAPP and is_bsuid(normalized):
        return vault.blind_index(f"bsuid:{normalized}")  # the same as a BSUID's second key
    # Phone channels share one index space so a ban on a number covers WhatsApp and SMS alike.
    kind = "phone" if channel in PHONE_CHANNELS else channel
    return vault.blind_index(f"{kind}:{normalized}")


def _aad(endpoint_channel: str, blind_index: str) -> bytes:
    return f"endpoint:{endpoint_channel}:{blind_index}".encode()


def endpoint_address(endpoint: Endpoint) -> str:
    """Open an endpoint's sealed address. Only delivery and the owner's own pages call this."""
    return vault.open_sealed(
        endpoint.address_sealed, aad=_aad(endpoint.channel, endpoint.blind_index)
    ).decode()


@cache
def _endpoint_select() -> str:
    return f"SELECT {hotsql.columns(Endpoint, 'e')} FROM contacts_endpoint AS e WHERE "  # noqa: S608


def endpoints_where(condition: str, params: list[object]) -> list[Endpoint]:
    """Endpoints matching a SQL condition on `e`, in plain SQL: the lookups every message makes
    (config/hotsql.py)."""
    return [
        hotsql.build(Endpoint, row)
        for row in hotsql.fetch_all(_endpoint_select() + condition, params)
    ]


def _endpoint_where(condition: str, params: list[object]) -> Endpoint | None:
    found = endpoints_where(f"{condition} LIMIT 1", params)
    return found[0] if found else None


def find_endpoint(*, channel: str, address: str, sender_key: str | None = None) -> Endpoint | None:
    return _find(channel, normalize_address(channel=channel, address=address), sender_key)


def _find(channel: str, normalized: str, sender_key: str | None) -> Endpoint | None:
    if sender_key:
        found = _endpoint_where(
            "e.channel = %s AND e.alternate_index = %s",
            [channel, vault.blind_index(f"bsuid:{sender_key}")],
        )
        if found is not None:
            return found
    return _endpoint_where(
        "e.channel = %s AND e.blind_index = %s",
        [channel, index_for(channel=channel, normalized=normalized)],
    )


def get_or_create_endpoint(
    *,
    channel: str,
    address: str,
    sender_key: str | None = None,
    inbound_at: dt.datetime | None = None,
) -> tuple[Endpoint, bool]:
    """Find the endpoint for an address, creating it (sealed) on first contact.

    `inbound_at`: the address just wrote to the relay; a new row starts with it (one write
    instead of an insert and an update on the webhook path)."""
    normalized = normalize_address(channel=channel, address=address)
    found = _find(channel, normalized, sender_key)
    if found is not None:
        return found, False
    return create_endpoint(
        channel=channel, normalized=normalized, sender_key=sender_key, inbound_at=inbound_at
    )


def create_endpoint(
    *,
    channel: str,
    normalized: str,
    sender_key: str | None = None,
    inbound_at: dt.datetime | None = None,
) -> tuple[Endpoint, bool]:
    """Create the endpoint for an address already normalised and just looked up in this
    transaction; (endpoint, created). A concurrent first message that inserted it first
    wins, and its row comes back with created False."""
    index = index_for(channel=channel, normalized=normalized)
    region = _region(channel, normalized)
    if channel == Channel.WHATSAPP and is_bsuid(normalized):
        sender_key = sender_key or normalized
    endpoint = Endpoint(
        channel=channel,
        blind_index=index,
        alternate_index=vault.blind_index(f"bsuid:{sender_key}") if sender_key else None,
        address_sealed=vault.seal(normalized.encode(), aad=_aad(channel, index)),
        region=region,
        language="id" if region == "ID" else settings.RELAY_DEFAULT_LANGUAGE,
        last_inbound_at=inbound_at,
    )
    if not hotsql.insert(endpoint, ignore_conflicts=True):
        # Two first messages from one sender raced: the other insert won; use its row.
        return Endpoint.objects.get(channel=channel, blind_index=index), False
    return endpoint, True


def _region(channel: str, normalized: str) -> str:
    """The region a number is from; for a BSUID (no number) the country it names."""
    if channel == Channel.WHATSAPP and is_bsuid(normalized):
        return bsuid_region(normalized)
    return region_of(normalized) if channel in PHONE_CHANNELS else ""


def create_web_endpoint(*, user: User | None = None, language: str = "en") -> Endpoint:
    token = "web-" + secrets.token_hex(16)
    index = index_for(channel=Channel.WEB, normalized=token)
    return Endpoint.objects.create(
        channel=Channel.WEB,
        user=user,
        blind_index=index,
        address_sealed=vault.seal(token.encode(), aad=_aad(Channel.WEB, index)),
        verified=user is not None,
        language=language,
    )


def reseal_endpoint(endpoint: Endpoint) -> bool:
    """Re-seal the address under the current key id; return whether anything changed."""
    if vault.sealed_key_id(bytes(endpoint.address_sealed)) == vault.current_key_id():
        return False
    aad = _aad(endpoint.channel, endpoint.blind_index)
    endpoint.address_sealed = vault.seal(
        vault.open_sealed(endpoint.address_sealed, aad=aad), aad=aad
    )
    endpoint.save(update_fields=["address_sealed"])
    return True


# --- Refused addresses ------------------------------------------------------------------------

# The ban list belongs to moderation, in relay, the layer above; it is keyed by the same blind
# index. Relay registers its check here in RelayConfig.ready(), so contacts asks without
# importing relay.
_refusal_checks: list[Callable[[str], bool]] = []


def register_address_refusal(check: Callable[[str], bool]) -> None:
    """Refuse to verify an address when `check(blind_index)` is true. Call from `ready()`."""
    if check not in _refusal_checks:
        _refusal_checks.append(check)


def address_refused(blind_index: str) -> bool:
    """Whether any registered check (the moderators' ban list) refuses this address."""
    return any(check(blind_index) for check in _refusal_checks)


# --- Accounts -------------------------------------------------------------------------------


def register_user(
    *, username: str, email: str, password: str, display_name: str = "", language: str = "en"
) -> User:
    """A new seller; `language` is the one they signed up in (the Channels page changes it)."""
    user = User.objects.create_user(
        username=username,
        email=email.lower(),
        password=password,
        display_name=display_name,
        language=language if language in RELAY_LANGUAGES else "en",
    )
    web = create_web_endpoint(user=user, language=user.language)
    web.preferred = True
    web.save(update_fields=["preferred"])
    return user


def set_email_notifications(*, user: User, enabled: bool) -> None:
    """Record the seller's own choice; from now on it no longer follows the preferred channel."""
    user.email_notifications = enabled
    user.save(update_fields=["email_notifications"])


# --- Languages -------------------------------------------------------------------------------


def note_language(*, endpoint: Endpoint, language: str, source: str) -> bool:
    """Write to this endpoint in `language` from now on, unless its language was chosen by a
    stronger source (LANGUAGE_SOURCE_RANK): a keyword is a guess that overrides the number's
    region, never an explicit BAHASA/ENGLISH or the seller's account setting. Returns whether
    the stored language changed."""
    if language not in RELAY_LANGUAGES:
        return False
    if (
        LANGUAGE_SOURCE_RANK[LanguageSource(source)]
        < LANGUAGE_SOURCE_RANK[LanguageSource(endpoint.language_source)]
    ):
        return False
    if (endpoint.language, endpoint.language_source) == (language, source):
        return False
    endpoint.language, endpoint.language_source = language, source
    Endpoint.objects.filter(pk=endpoint.pk).update(language=language, language_source=source)
    return True


@transaction.atomic
def set_account_language(*, user: User, language: str) -> None:
    """The seller's choice on the Channels page: their pages and every channel of theirs
    (notices, relayed messages) use `language`, and no keyword or region overrides it."""
    if language not in RELAY_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    user.language = language
    user.save(update_fields=["language"])
    user.endpoints.update(language=language, language_source=LanguageSource.ACCOUNT)


# --- Phone verification -----------------------------------------------------------------------


def _code_hash(endpoint: Endpoint, code: str) -> str:
    return vault.keyed_hash(f"{endpoint.pk}:{code}".encode(), purpose="verification-code")


def _default_sender(endpoint: Endpoint, code: str) -> None:
    """Stand-in sender until a relay channel carries codes; the demo shows codes on the page."""


def send_verification_code(*, endpoint: Endpoint, code: str) -> None:
    """Hand the code to the configured sender (VERIFICATION_SENDER, a dotted path)."""
    path = getattr(settings, "VERIFICATION_SENDER", "")
    sender: Callable[[Endpoint, str], None] = import_string(path) if path else _default_sender
    sender(endpoint, code)


def start_phone_verification(
    *, user: User, channel: str, raw_number: str, region: str | None = None
) -> tuple[Endpoint, str]:
    """Create or reuse the endpoint for a number and send it a fresh code.

    Returns the endpoint and the code (the caller shows it only in the demo).
    Raises InvalidPhoneNumber or VerificationError with a message for the user.
    """
    if channel not in PHONE_CHANNELS:
        raise VerificationError(_("Only WhatsApp and SMS numbers are verified by code."))
    normalized = normalize_phone(raw_number, region=region)
    if address_refused(index_for(channel=channel, normalized=normalized)):
        raise VerificationError(_("This number can no longer be used on Perantara."))
    endpoint, _created = get_or_create_endpoint(channel=channel, address=normalized)
    if endpoint.user_id not in (None, user.pk) and endpoint.verified:
        raise VerificationError(_("This number is already connected to another account."))
    now = timezone.now()
    last = (
        VerificationCode.objects.filter(endpoint=endpoint, user=user).order_by("-sent_at").first()
    )
    wait = dt.timedelta(seconds=settings.VERIFICATION_RESEND_SECONDS)
    if last is not None and last.consumed_at is None and now - last.sent_at < wait:
        seconds = int((last.sent_at + wait - now).total_seconds()) + 1
        raise VerificationError(
            _("A code was just sent. You can ask for a new one in %(seconds)d seconds.")
            % {"seconds": seconds}
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    VerificationCode.objects.filter(endpoint=endpoint, user=user, consumed_at=None).update(
        consumed_at=now
    )
    VerificationCode.objects.create(
        endpoint=endpoint,
        user=user,
        code_hash=_code_hash(endpoint, code),
        sent_at=now,
        expires_at=now + dt.timedelta(seconds=settings.VERIFICATION_CODE_TTL_SECONDS),
    )
    send_verification_code(endpoint=endpoint, code=code)
    return endpoint, code


def confirm_phone_verification(*, user: User, endpoint: Endpoint, code: str) -> Endpoint:
    """Check a code; on success the endpoint becomes the user's, verified.

    A wrong try is committed before the error is raised, so the attempt limit holds.
    """
    with transaction.atomic():
        problem = _check_code(user=user, endpoint=endpoint, code=code)
        if problem is None:
            claim_endpoint(user=user, endpoint=endpoint)
    if problem is not None:
        raise VerificationError(problem)
    return endpoint


def _check_code(*, user: User, endpoint: Endpoint, code: str) -> str | None:
    """Return why the code fails (after counting the try), or None and consume it."""
    pending = (
        VerificationCode.objects.select_for_update()
        .filter(endpoint=endpoint, user=user, consumed_at=None)
        .order_by("-sent_at")
        .first()
    )
    if pending is None:
        return _("There is no code waiting for this number. Ask for a new one.")
    now = timezone.now()
    if now >= pending.expires_at:
        return _("This code has expired. Ask for a new one.")
    if pending.attempts >= settings.VERIFICATION_MAX_ATTEMPTS:
        return _("Too many wrong codes. Ask for a new one.")
    if not secrets.compare_digest(pending.code_hash, _code_hash(endpoint, code.strip())):
        pending.attempts += 1
        pending.save(update_fields=["attempts"])
        left = settings.VERIFICATION_MAX_ATTEMPTS - pending.attempts
        if left <= 0:
            return _("Too many wrong codes. Ask for a new one.")
        return _("That code is not right. %(left)d tries left.") % {"left": left}
    pending.consumed_at = now
    pending.save(update_fields=["consumed_at"])
    return None


def claim_endpoint(*, user: User, endpoint: Endpoint) -> None:
    """Attach a proven address to a user; the first connected channel becomes preferred."""
    if endpoint.user_id not in (None, user.pk) and endpoint.verified:
        raise VerificationError(_("This address is already connected to another account."))
    current = user.endpoints.filter(preferred=True).exclude(pk=endpoint.pk).first()
    endpoint.user = user
    endpoint.verified = True
    endpoint.verified_at = timezone.now()
    # A newly connected messaging app takes over from the web inbox, never from another app.
    if current is None or current.channel == Channel.WEB:
        user.endpoints.filter(preferred=True).update(preferred=False)
        endpoint.preferred = True
    update = ["user", "verified", "verified_at", "preferred"]
    if user.endpoints.filter(language_source=LanguageSource.ACCOUNT).exists():
        # The seller chose a language on the Channels page: a channel added later follows it.
        endpoint.language, endpoint.language_source = user.language, LanguageSource.ACCOUNT
        update += ["language", "language_source"]
    endpoint.save(update_fields=update)


@transaction.atomic
def set_preferred_endpoint(*, user: User, endpoint: Endpoint) -> None:
    if endpoint.user_id != user.pk or not endpoint.verified:
        raise ContactsError(_("Only a verified channel of yours can be preferred."))
    user.endpoints.filter(preferred=True).exclude(pk=endpoint.pk).update(preferred=False)
    endpoint.preferred = True
    endpoint.save(update_fields=["preferred"])


@transaction.atomic
def remove_endpoint(*, user: User, endpoint: Endpoint) -> Endpoint | None:
    """Disconnect a channel; return the one that now receives buyers' messages if that changed.

    Removing the preferred channel hands over to the seller's most recently verified other
    channel (the one they most likely still read), and only without one to the web inbox, so
    a seller who removes WhatsApp keeps getting messages on the Instagram they connected.
    """
    if endpoint.user_id != user.pk:
        raise ContactsError(_("That channel is not yours."))
    if endpoint.channel == Channel.WEB:
        raise ContactsError(_("The web inbox is always on and cannot be removed."))
    was_preferred = endpoint.preferred
    endpoint.user = None
    endpoint.verified = False
    endpoint.preferred = False
    endpoint.verified_at = None
    endpoint.save(update_fields=["user", "verified", "verified_at", "preferred"])
    if not was_preferred:
        return None
    successor = fallback_endpoint(user=user, without=endpoint)
    if successor is not None:
        set_preferred_endpoint(user=user, endpoint=successor)
    return successor


def fallback_endpoint(*, user: User, without: Endpoint) -> Endpoint | None:
    """The channel that takes over if `without` goes: the most recently verified other
    messaging channel, else the web inbox."""
    others = user.endpoints.filter(verified=True).exclude(pk=without.pk)
    app = (
        others.exclude(channel=Channel.WEB)
        .order_by(F("verified_at").desc(nulls_last=True), "-created_at")
        .first()
    )
    return app or others.filter(channel=Channel.WEB).first()


# --- Preferences ------------------------------------------------------------------------------


def set_time_zone(*, user: User, time_zone: str) -> None:
    """Show this user every time in `time_zone` (an IANA name the form has checked)."""
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])


# --- Messenger / Instagram link codes -----------------------------------------------------------


LINK_PREFIX = "LINK-"
LINK_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread
LINK_LENGTH = 6
# Shared with the sender's browser, which sends a link code as a command, not as content.
LINK_CODE_RULE = Shared(rf"{LINK_PREFIX}[{LINK_ALPHABET}]{{{LINK_LENGTH}}}", "i")
LINK_CODE = LINK_CODE_RULE.compile()


def create_link_code(*, user: User, channel: str) -> LinkCode:
    if channel not in (Channel.MESSENGER, Channel.INSTAGRAM):
        raise ContactsError(_("Link codes connect Messenger and Instagram only."))
    code = LINK_PREFIX + "".join(secrets.choice(LINK_ALPHABET) for _ in range(LINK_LENGTH))
    return LinkCode.objects.create(
        code=code, user=user, channel=channel, expires_at=timezone.now() + dt.timedelta(hours=1)
    )


def is_link_code(text: str) -> bool:
    """`text` is written as a link code (any case, spaces around it): "link-7k2q9m "."""
    return LINK_CODE.fullmatch(text.strip()) is not None


def redeem_link_code(*, endpoint: Endpoint, text: str) -> User | None:
    """If `text` is a live link code for the endpoint's channel, connect the endpoint."""
    if not is_link_code(text):
        return None
    link = (
        LinkCode.objects.select_related("user")
        .filter(code=text.strip().upper(), channel=endpoint.channel, used_at=None)
        .first()
    )
    if link is None or link.expires_at <= timezone.now():
        return None
    claim_endpoint(user=link.user, endpoint=endpoint)
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return link.user


def remember_referral(*, endpoint: Endpoint, code: str) -> None:
    """Keep the handle a deep link named until the person's next message."""
    endpoint.pending_referral = code
    Endpoint.objects.filter(pk=endpoint.pk).update(pending_referral=code)


def recall_referral(*, endpoint: Endpoint) -> str:
    """The remembered handle, once: the message that uses it clears it."""
    code = endpoint.pending_referral
    if code:
        endpoint.pending_referral = ""
        Endpoint.objects.filter(pk=endpoint.pk).update(pending_referral="")
    return code


__all__ = [
    "ContactsError",
    "InvalidPhoneNumber",
    "VerificationError",
    "address_refused",
    "claim_endpoint",
    "confirm_phone_verification",
    "create_endpoint",
    "create_link_code",
    "create_web_endpoint",
    "endpoint_address",
    "endpoints_where",
    "fallback_endpoint",
    "find_endpoint",
    "get_or_create_endpoint",
    "index_for",
    "is_link_code",
    "normalize_address",
    "recall_referral",
    "redeem_link_code",
    "register_address_refusal",
    "register_user",
    "remember_referral",
    "remove_endpoint",
    "reseal_endpoint",
    "set_preferred_endpoint",
    "set_time_zone",
    "start_phone_verification",
]
