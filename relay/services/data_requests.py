"""Buyers' data requests: prove an address with a one-time code sent through the relay, then
export or erase what the relay keeps about it.

Buyers have no account, so holding the address is the only proof there is: the relay sends a
6-digit code to it, on its own channel, as a notice (sealed at rest, like a verification code),
and only the person who reads that app can type it. WhatsApp and SMS buyers type their number
on the "Your data" page; Messenger and Instagram buyers do not know their platform id, so they
send MYDATA (DATAKU) in the app and get the code with the page's link. An operator's command
asks for the same code, so no one exports or erases a buyer without them.

The page answers alike whether or not the relay knows a number (no enumeration): a request for
an unknown number gets a reference that matches no code, and every wrong answer reads the same.
"""

from __future__ import annotations

import datetime as dt
import secrets
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts import services as contacts
from contacts import vault
from contacts.models import PHONE_CHANNELS, DataRequestCode, Endpoint, random_code
from relay.models import Message, RelayIdentity
from relay.services import limits, outbound
from relay.services.errors import RelayError

NOTICE = "data_request_code"


class DataRequestError(RelayError):
    """Why a data request cannot go on, in words safe to show to whoever asked."""


class Problem(Enum):
    """Why a code was refused. The page shows MISSING, EXPIRED and WRONG as one answer."""

    MISSING = "missing"
    EXPIRED = "expired"
    LOCKED = "locked"
    WRONG = "wrong"


def page_url(reference: str) -> str:
    """The "Your data" page's code step for one request, as the notice links it."""
    path = reverse("relay:privacy_code") + f"?r={reference}"
    return f"{settings.RELAY_PUBLIC_URL}{path}"


def _code_hash(reference: str, code: str) -> str:
    return vault.keyed_hash(f"{reference}:{code}".encode(), purpose="data-request-code")


def _last_identity(endpoint: Endpoint) -> RelayIdentity | None:
    """The relay identity the person last wrote to, so the code comes from a number or page
    they already talk to (None: the channel's default)."""
    last = (
        Message.objects.filter(sender_endpoint=endpoint, identity__isnull=False)
        .order_by("-id")
        .values_list("identity_id", flat=True)
        .first()
    )
    identity = outbound.identity_of(last)
    return identity if identity is not None and identity.active else None


def issue_code(*, endpoint: Endpoint, identity: RelayIdentity | None = None) -> DataRequestCode:
    """Send a fresh code to the endpoint through the relay; it replaces any earlier one."""
    now = timezone.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        DataRequestCode.objects.filter(endpoint=endpoint, consumed_at=None).update(consumed_at=now)
        issued = DataRequestCode(
            endpoint=endpoint,
            sent_at=now,
            expires_at=now + dt.timedelta(seconds=settings.VERIFICATION_CODE_TTL_SECONDS),
        )
        issued.code_hash = _code_hash(issued.reference, code)
        issued.save()
        outbound.queue_notice(
            recipient=endpoint,
            identity=identity or _last_identity(endpoint),
            code=NOTICE,
            secret_params={"code": code, "url": page_url(issued.reference)},
        )
    return issued


def _address_index(channel: str, raw_address: str, region: str | None = None) -> str:
    # InvalidPhoneNumber says what is wrong with a number, in the person's language; a WhatsApp
    # username's id (BSUID) is an address too.
    normalized = contacts.normalize_address(channel=channel, address=raw_address, region=region)
    return contacts.index_for(channel=channel, normalized=normalized)


def find_endpoint(*, channel: str, raw_address: str) -> Endpoint | None:
    """The endpoint an address has on a channel, without creating one. Raises
    InvalidPhoneNumber or ContactsError when the address cannot be one."""
    return contacts.find_endpoint(channel=channel, address=raw_address)


def request_code(
    *, channel: str, raw_address: str, network_key: str, region: str | None = None
) -> str:
    """The page's first step: send a code if the relay knows this number on this channel.

    Returns the reference the page keeps while the code is typed, a random one that matches
    nothing when the number is unknown. Raises InvalidPhoneNumber for what cannot be a number
    and DataRequestError over the limits (counted alike for known and unknown numbers)."""
    if channel not in PHONE_CHANNELS:
        raise DataRequestError(
            _("Messenger and Instagram: send MYDATA to us in the app to get your code.")
        )
    index = _address_index(channel, raw_address, region)
    if not limits.allow_data_request(address_key=index, network_key=network_key):
        raise DataRequestError(_("Too many codes were asked for. Try again in an hour."))
    endpoint = Endpoint.objects.filter(channel=channel, blind_index=index).first()
    if endpoint is None:
        return random_code()
    return issue_code(endpoint=endpoint).reference


def send_code_to(*, endpoint: Endpoint, identity: RelayIdentity | None = None) -> bool:
    """A known endpoint asked (MYDATA in an app, or an operator's command on the buyer's
    behalf): send it a code. False when over the per-address limit."""
    if not limits.allow_data_request(address_key=endpoint.blind_index):
        return False
    issue_code(endpoint=endpoint, identity=identity)
    return True


def _check(pending: DataRequestCode | None, code: str, *, consume: bool) -> Problem | None:
    """Why the code fails (after counting a wrong try), or None; a good code is used up only
    when `consume`. Call inside a transaction with `pending` locked."""
    if pending is None or pending.consumed_at is not None:
        return Problem.MISSING
    if timezone.now() >= pending.expires_at:
        return Problem.EXPIRED
    if pending.attempts >= settings.VERIFICATION_MAX_ATTEMPTS:
        return Problem.LOCKED
    if not secrets.compare_digest(pending.code_hash, _code_hash(pending.reference, code.strip())):
        pending.attempts += 1
        pending.save(update_fields=["attempts"])
        if pending.attempts >= settings.VERIFICATION_MAX_ATTEMPTS:
            return Problem.LOCKED
        return Problem.WRONG
    if consume:
        pending.consumed_at = timezone.now()
        pending.save(update_fields=["consumed_at"])
    return None


def confirm_code(*, reference: str, code: str, network_key: str, tries: int = 0) -> Endpoint:
    """The page's second step: the endpoint the code proves, the code used up.

    `tries`: the wrong codes this page session already typed, so an unknown number (no code to
    count them on) locks after as many tries as a known one. Raises DataRequestError."""
    if not limits.allow_data_code_try(network_key):
        raise DataRequestError(_("Too many tries from your network. Try again in an hour."))
    with transaction.atomic():
        pending = (
            DataRequestCode.objects.select_for_update()
            .select_related("endpoint")
            .filter(reference=reference)
            .first()
        )
        problem = _check(pending, code, consume=True)
    if problem is None:
        assert pending is not None
        return pending.endpoint
    if problem == Problem.LOCKED or tries + 1 >= settings.VERIFICATION_MAX_ATTEMPTS:
        raise DataRequestError(_("Too many wrong codes. Ask for a new one."))
    raise DataRequestError(
        _("That code is not right, or it has expired. Check it, or ask for a new one.")
    )


OPERATOR_PROBLEMS = {
    Problem.MISSING: "No code is waiting for this buyer: run without --code to send one.",
    Problem.EXPIRED: "That code has expired: run without --code to send a new one.",
    Problem.LOCKED: "Too many wrong codes: run without --code to send a new one.",
    Problem.WRONG: "That code is not right (ask the buyer to read it again).",
}


def check_code_for_operator(*, endpoint: Endpoint, code: str, consume: bool) -> None:
    """An operator's command: the code the buyer received must match the endpoint's latest one.
    Raises DataRequestError with the exact reason (an operator may know the address exists)."""
    with transaction.atomic():
        pending = (
            DataRequestCode.objects.select_for_update()
            .filter(endpoint=endpoint)
            .order_by("-sent_at", "-id")
            .first()
        )
        problem = _check(pending, code, consume=consume)
    if problem is not None:
        raise DataRequestError(OPERATOR_PROBLEMS[problem])


def erasable(endpoints: list[Endpoint]) -> bool:
    """Buyer endpoints only: one connected to an account is erased with the account."""
    return all(endpoint.user_id is None for endpoint in endpoints)


def finished_data_request_codes(*, now: dt.datetime | None = None) -> QuerySet[DataRequestCode]:
    """Codes that can no longer be used: expired or already used."""
    now = now or timezone.now()
    return DataRequestCode.objects.filter(Q(expires_at__lte=now) | Q(consumed_at__isnull=False))


def purge_data_request_codes(*, now: dt.datetime | None = None) -> int:
    """Delete used and expired codes (with their references); return how many. For `purge`."""
    deleted, _rows = finished_data_request_codes(now=now).delete()
    return deleted
