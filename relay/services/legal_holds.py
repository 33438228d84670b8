"""Legal holds: a moderator keeps a report's evidence past its schedule, for a stated reason and
until a stated date.

While a hold is active (not released, its end date not reached) neither `purge` nor account
erasure shreds the report's evidence; once it ends the normal schedule applies again (a report
resolved long ago is shredded by the next `purge`). Placing and releasing are audited; the
reason is sealed under the report's key like every moderator's note.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import User
from relay.models import LegalHold, Report
from relay.services import audit, evidence
from relay.services.errors import RelayError

MAX_HOLD_DAYS = 730  # two years; a longer request is renewed with a new hold


class LegalHoldError(RelayError):
    pass


def active_holds_of(report: Report, *, now: dt.datetime | None = None) -> list[LegalHold]:
    return list(evidence.active_holds(now=now).filter(report=report).order_by("until"))


@transaction.atomic
def place_legal_hold(
    *,
    report: Report,
    moderator: User,
    reason: str,
    until: dt.datetime | None,
    now: dt.datetime | None = None,
) -> LegalHold:
    """Hold the report's evidence until `until` (in the future, at most MAX_HOLD_DAYS away)."""
    now = now or timezone.now()
    if not reason.strip():
        raise LegalHoldError(_("Give the reason for the hold (the legal request)."))
    if until is None:
        raise LegalHoldError(_("Say until when the evidence must be kept."))
    if until <= now:
        raise LegalHoldError(_("The end of the hold must be in the future."))
    if until > now + dt.timedelta(days=MAX_HOLD_DAYS):
        raise LegalHoldError(
            _("A legal hold lasts at most %(days)d days; place a new one when it ends.")
            % {"days": MAX_HOLD_DAYS}
        )
    if report.evidence_shredded_at is not None:
        raise LegalHoldError(_("This report's evidence was already shredded; nothing to hold."))
    hold = LegalHold.objects.create(
        report=report,
        reason_sealed=evidence.seal_hold_reason(report, reason.strip()),
        until=until,
        placed_by=moderator,
    )
    audit.record_on_report(
        action="relay.report.legal_hold_placed",
        actor=moderator,
        report=report,
        note=reason,
        data={"hold": hold.code, "until": until.isoformat()},
    )
    return hold


@transaction.atomic
def release_legal_hold(*, hold: LegalHold, moderator: User, reason: str) -> LegalHold:
    """End the hold now; the report's evidence goes back to its normal schedule."""
    if not reason.strip():
        raise LegalHoldError(_("Every action needs a reason."))
    released = LegalHold.objects.filter(pk=hold.pk, released_at=None).update(
        released_at=timezone.now(), released_by=moderator
    )
    if not released:
        raise LegalHoldError(_("This hold was already released."))
    hold.refresh_from_db()
    audit.record_on_report(
        action="relay.report.legal_hold_released",
        actor=moderator,
        report=hold.report,
        note=reason,
        data={"hold": hold.code},
    )
    return hold
