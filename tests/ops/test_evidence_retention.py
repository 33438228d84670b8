"""Report evidence, reporters' notes and moderators' notes die on schedule, survive while a
legal hold lasts, and stay readable across a rotation of the moderation key.

"Unreadable" is proven with the real open functions and every key this process holds, not
by looking at what a page shows.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import io
import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from contacts.models import User
from relay import evidence_crypto
from relay.api import tokens
from relay.models import AuditEntry, LegalHold, Report
from relay.services import evidence, legal_holds, moderation, retention
from tests.api.conftest import Api
from tests.config.test_env import run_settings
from tests.ops.conftest import Shop

pytestmark = pytest.mark.django_db
BUYER_SAYS = "send me your bank PIN and I pay"
NOTE = "asked for my bank PIN"
MODERATOR_NOTE = "warned: phishing for a PIN, case 77"
HOLD_REASON = "police request 2026/881, Bandung"


@pytest.fixture
def moderator(db: None) -> User:
    user = User.objects.create_user(username="mod", email="mod@example.com", password="pw-mod-123")
    group, _created = Group.objects.get_or_create(name="moderator")
    user.groups.add(group)
    return user


@pytest.fixture
def mod_client(moderator: User) -> Client:
    client = Client()
    client.force_login(moderator)
    return client


def file_and_warn(shop: Shop, moderator: User, buyer: str = "+6281234567001") -> Report:
    """A seller reports a buyer (evidence: the buyer's message), a moderator warns them."""
    conversation = shop.write(buyer, BUYER_SAYS)
    report = moderation.file_report(
        conversation=conversation, reporter_side="seller", reason="scam", note=NOTE
    )
    with shop.capture(execute=False):
        moderation.warn(report=report, moderator=moderator, reason=MODERATOR_NOTE)
    report.refresh_from_db()
    return report


def note_rows(report: Report) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(target_code=report.code, reason_sealed__isnull=False))


def every_private_key() -> list[bytes]:
    """Every key this process holds that could open anything: the moderation private keys and
    the relay key ring (and the index key, for good measure)."""
    return [
        *django_settings.RELAY_MODERATION_KEYS.values(),
        *django_settings.RELAY_KEYRING.values(),
        django_settings.RELAY_INDEX_KEY,
    ]


def readable(report: Report) -> tuple[list[str], str | None, list[str]]:
    report.refresh_from_db()
    opened = evidence.open_report_fields(report)
    notes = evidence.moderator_notes(note_rows(report))
    return [item["text"] for item in opened.evidence], opened.note, list(notes.values())


def assert_unreadable(report: Report, blobs: dict[str, bytes]) -> None:
    """Nothing of the report opens: the columns are empty, the open functions refuse, and the
    ciphertexts captured before shredding open with no key the process has."""
    report.refresh_from_db()
    assert report.evidence_shredded_at is not None
    assert (report.wrapped_key, report.public_key) == (None, None)
    assert (report.evidence_sealed, report.note_sealed) == (None, None)
    with pytest.raises(evidence_crypto.EvidenceShredded):
        evidence.open_report_fields(report)
    with pytest.raises(evidence_crypto.EvidenceShredded):
        evidence_crypto.unwrap_report_key(report.wrapped_key, report.code)
    assert set(evidence.moderator_notes(note_rows(report)).values()) == {evidence.SHREDDED}
    fields = {"evidence": "evidence", "note": "note"}
    for entry in note_rows(report):
        fields[f"audit-{entry.pk}"] = f"moderator-note:{entry.action}"
        blobs[f"audit-{entry.pk}"] = bytes(entry.reason_sealed or b"")
    for name, blob in blobs.items():
        assert BUYER_SAYS.encode() not in blob and NOTE.encode() not in blob
        for key in every_private_key():
            with pytest.raises(evidence_crypto.EvidenceError):
                evidence_crypto.open_field(key, report.code, fields[name], blob)
            with pytest.raises(Exception):  # noqa: B017 - any refusal will do
                SealedBox(PrivateKey(key)).decrypt(blob)
            with pytest.raises(CryptoError):  # a ring key used as the field's AEAD key
                bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                    blob[57:], f"report:{report.code}:{fields[name]}".encode(), blob[33:57], key
                )


def captured(report: Report) -> dict[str, bytes]:
    return {
        "evidence": bytes(report.evidence_sealed or b""),
        "note": bytes(report.note_sealed or b""),
    }


def test_evidence_note_and_moderator_note_are_sealed_and_readable_with_the_moderation_key(
    shop: Shop, moderator: User
) -> None:
    report = file_and_warn(shop, moderator)

    assert BUYER_SAYS.encode() not in bytes(report.evidence_sealed or b"")
    entry = AuditEntry.objects.get(action="relay.report.warn")
    assert entry.reason == "" and MODERATOR_NOTE.encode() not in bytes(entry.reason_sealed or b"")
    assert (entry.actor, entry.target_code) == (moderator, report.code)
    texts, note, notes = readable(report)
    assert texts == [f"{shop.handle} {BUYER_SAYS}"]
    assert note == NOTE and notes == [MODERATOR_NOTE]


def test_purge_shreds_evidence_past_the_window_and_not_before(shop: Shop, moderator: User) -> None:
    report = file_and_warn(shop, moderator)
    blobs = captured(report)
    assert report.resolved_at is not None
    soon = report.resolved_at + dt.timedelta(days=179)
    later = report.resolved_at + dt.timedelta(days=181)

    dry = retention.purge_expired(days=90, now=later, dry_run=True)
    kept = retention.purge_expired(days=90, now=soon)

    assert (dry.reports_shredded, kept.reports_shredded) == (1, 0)
    assert readable(report)[1] == NOTE
    done = retention.purge_expired(days=90, now=later)
    assert (done.reports_shredded, done.reports_held) == (1, 0)
    assert_unreadable(report, blobs)


def test_the_purge_command_says_how_many_reports_it_shredded(shop: Shop, moderator: User) -> None:
    report = file_and_warn(shop, moderator)
    Report.objects.filter(pk=report.pk).update(resolved_at=timezone.now() - dt.timedelta(days=200))
    out = io.StringIO()

    call_command("purge", stdout=out, stderr=io.StringIO())

    assert "Shredded the evidence and notes of 1 reports" in out.getvalue()
    assert "0 more are under a legal hold" in out.getvalue()
    assert_unreadable(report, {})


def test_delete_user_shreds_reports_on_their_listings_and_keeps_a_held_one(
    shop: Shop, moderator: User
) -> None:
    erased = file_and_warn(shop, moderator, buyer="+6281234567001")
    held = file_and_warn(shop, moderator, buyer="+6281234567002")
    blobs = captured(erased)
    legal_holds.place_legal_hold(
        report=held,
        moderator=moderator,
        reason=HOLD_REASON,
        until=timezone.now() + dt.timedelta(days=30),
    )
    out = io.StringIO()

    call_command(
        "delete_user", username=shop.seller.username, yes=True, stdout=out, stderr=io.StringIO()
    )

    assert "shredded the evidence of 1 reports (1 kept under a legal hold)" in out.getvalue()
    assert_unreadable(erased, blobs)
    assert readable(held)[1] == NOTE
    # The hold ends; the report was resolved long ago, so the next purge shreds it.
    later = timezone.now() + dt.timedelta(days=400)
    assert retention.purge_expired(days=90, now=later).reports_shredded == 1
    assert_unreadable(held, {})


def test_a_held_report_survives_purge_until_the_hold_ends_or_is_released(
    shop: Shop, moderator: User
) -> None:
    report = file_and_warn(shop, moderator)
    assert report.resolved_at is not None
    past_window = report.resolved_at + dt.timedelta(days=200)
    hold = legal_holds.place_legal_hold(
        report=report,
        moderator=moderator,
        reason=HOLD_REASON,
        until=timezone.now() + dt.timedelta(days=300),
    )

    kept = retention.purge_expired(days=90, now=past_window)

    assert (kept.reports_shredded, kept.reports_held) == (0, 1)
    assert readable(report)[1] == NOTE
    assert evidence.open_hold_reason(report, hold) == HOLD_REASON
    legal_holds.release_legal_hold(hold=hold, moderator=moderator, reason="case closed")
    assert retention.purge_expired(days=90, now=past_window).reports_shredded == 1
    assert_unreadable(report, {})
    hold.refresh_from_db()
    assert hold.reason_sealed is None
    assert evidence.open_hold_reason(report, hold) == evidence.SHREDDED
    actions = list(AuditEntry.objects.filter(target_code=report.code).values_list("action"))
    assert ("relay.report.legal_hold_placed",) in actions
    assert ("relay.report.legal_hold_released",) in actions


@pytest.mark.parametrize(
    ("until_days", "reason", "error"),
    [
        (-1, HOLD_REASON, "must be in the future"),
        (800, HOLD_REASON, "at most 730 days"),
        (30, " ", "Give the reason"),
        (None, HOLD_REASON, "Say until when"),
    ],
)
def test_a_legal_hold_needs_a_reason_and_an_end_date_within_two_years(
    shop: Shop, moderator: User, until_days: int | None, reason: str, error: str
) -> None:
    report = file_and_warn(shop, moderator)
    until = None if until_days is None else timezone.now() + dt.timedelta(days=until_days)
    with pytest.raises(legal_holds.LegalHoldError, match=error):
        legal_holds.place_legal_hold(report=report, moderator=moderator, reason=reason, until=until)
    assert not LegalHold.objects.exists()


def _ring(settings: Any, private: dict[str, bytes], current: str) -> None:
    settings.RELAY_MODERATION_KEYS = dict(private)
    settings.RELAY_MODERATION_PUBLIC_KEYS = {
        key_id: bytes(PrivateKey(key).public_key) for key_id, key in private.items()
    }
    settings.RELAY_MODERATION_KEY_CURRENT = current


def check(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_moderation_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_rotation_rewraps_report_keys_and_old_evidence_opens_without_the_old_key(
    shop: Shop, moderator: User, settings: Any
) -> None:
    m1, m2 = bytes(PrivateKey.generate()), bytes(PrivateKey.generate())
    _ring(settings, {"m1": m1}, "m1")
    report = file_and_warn(shop, moderator)
    _ring(settings, {"m1": m1, "m2": m2}, "m2")
    assert "m1: 1" in check("--check") and "1 reports are not under" in check("--check")

    assert "Re-wrapped 1 report keys to moderation key m2" in check()

    assert "m2: 1" in check("--check") and "0 reports are not under" in check("--check")
    _ring(settings, {"m2": m2}, "m2")
    texts, note, notes = readable(report)
    assert texts == [f"{shop.handle} {BUYER_SAYS}"] and note == NOTE and notes == [MODERATOR_NOTE]
    again = check()  # resumable: a second run finds every key current
    assert "Re-wrapped 0 report keys" in again and "1 were already current" in again


def test_a_process_with_only_public_moderation_keys_files_reports_but_cannot_open_them(
    shop: Shop, moderator: User, settings: Any
) -> None:
    private = bytes(PrivateKey.generate())
    public = bytes(PrivateKey(private).public_key)
    settings.RELAY_MODERATION_KEYS = {}
    settings.RELAY_MODERATION_PUBLIC_KEYS = {"m7": public}
    settings.RELAY_MODERATION_KEY_CURRENT = "m7"
    conversation = shop.write("+6281234567009", BUYER_SAYS)

    report = moderation.file_report(conversation=conversation, reporter_side="seller")
    moderation.complete_report(report=report, reason="scam", note=NOTE)  # a worker's reply

    report.refresh_from_db()
    assert report.status == "open" and report.evidence_count == 1
    with pytest.raises(evidence_crypto.ModerationKeyMissing, match="RELAY_MODERATION_KEYS"):
        evidence.open_report_fields(report)
    with pytest.raises(evidence_crypto.ModerationKeyMissing):
        moderation.open_evidence(report=report, moderator=moderator)
    page = Client()
    page.force_login(moderator)
    refused = page.post(reverse("relay:moderation_evidence", args=[report.code]))
    assert refused.status_code == 503 and "RELAY_MODERATION_KEYS" in refused.content.decode()
    settings.RELAY_MODERATION_KEYS = {"m7": private}  # a moderation web process
    assert readable(report)[:2] == ([f"{shop.handle} {BUYER_SAYS}"], NOTE)


def test_the_report_page_shows_the_hold_and_the_audit_log_shows_shredded_notes(
    shop: Shop, moderator: User, mod_client: Client
) -> None:
    report = file_and_warn(shop, moderator)
    page_url = reverse("relay:moderation_report", args=[report.code])
    until = (timezone.now() + dt.timedelta(days=90)).date()

    too_long = mod_client.post(
        reverse("relay:moderation_hold", args=[report.code]),
        {"until": "2099-01-01", "reason": HOLD_REASON},
        follow=True,
    ).content.decode()
    assert "at most 730 days" in too_long
    placed = mod_client.post(
        reverse("relay:moderation_hold", args=[report.code]),
        {"until": until.isoformat(), "reason": HOLD_REASON},
        follow=True,
    ).content.decode()

    assert "Legal hold placed." in placed
    assert f"Evidence kept under a legal hold until {until:%Y-%m-%d}" in placed
    assert HOLD_REASON in placed and 'dialog class="confirm"' in placed
    log = mod_client.get(reverse("relay:moderation_audit")).content.decode()
    assert MODERATOR_NOTE in log and HOLD_REASON in log
    hold = LegalHold.objects.get()
    mod_client.post(
        reverse("relay:moderation_hold_release", args=[report.code, hold.code]),
        {"reason": "request withdrawn"},
    )
    assert "Evidence kept under a legal hold" not in mod_client.get(page_url).content.decode()

    evidence.shred_reports(Report.objects.filter(pk=report.pk))

    page = mod_client.get(page_url).content.decode()
    assert "(shredded)" in page and "Show the reported messages" not in page
    opened = mod_client.post(
        reverse("relay:moderation_evidence", args=[report.code]), follow=True
    ).content.decode()
    assert "evidence was shredded" in opened and BUYER_SAYS not in opened
    log = mod_client.get(reverse("relay:moderation_audit")).content.decode()
    csv_export = mod_client.get(reverse("relay:moderation_audit_csv")).content.decode()
    for shown in (log, csv_export):
        assert MODERATOR_NOTE not in shown and HOLD_REASON not in shown
        assert "(shredded)" in shown and "relay.report.warn" in shown


def test_a_moderator_places_and_releases_a_hold_through_the_api(
    shop: Shop, moderator: User
) -> None:
    report = file_and_warn(shop, moderator)
    api = Api(tokens.create_api_token(user=moderator, name="m").secret)
    base = f"/api/moderation/reports/{report.code}/"
    until = (timezone.now() + dt.timedelta(days=60)).isoformat()

    placed = api.post(base + "holds/", {"reason": HOLD_REASON, "until": until})

    assert placed.status_code == 201, placed.content
    code = placed.json()["code"]
    [listed] = api.get(base).json()["legal_holds"]
    assert listed["code"] == code and HOLD_REASON not in placed.content.decode()
    past = api.post(base + "holds/", {"reason": HOLD_REASON, "until": "2020-01-01T00:00:00Z"})
    assert past.status_code == 422 and "in the future" in past.content.decode()
    released = api.post(base + f"holds/{code}/release/", {"reason": "withdrawn"})
    assert released.status_code == 200 and released.json()["released_at"]
    assert api.get(base).json()["legal_holds"] == []


def test_the_migration_reseals_legacy_evidence_and_plaintext_moderator_reasons(
    shop: Shop, moderator: User
) -> None:
    migration = importlib.import_module("relay.migrations.0011_report_keys")
    legacy = SealedBox(PrivateKey(django_settings.RELAY_MODERATION_KEYS["m1"]).public_key)
    conversation = shop.write("+6281234567005", BUYER_SAYS)
    items = [{"author": "Buyer", "text": BUYER_SAYS, "sent_at": ""}]
    report = Report.objects.create(
        conversation=conversation,
        reporter_side="seller",
        reported_side="buyer",
        reason="scam",
        status="dismissed",
        evidence_count=1,
        evidence_sealed=legacy.encrypt(json.dumps(items).encode()),
        note_sealed=legacy.encrypt(json.dumps(NOTE).encode()),
    )
    for action, reason in (
        ("relay.report.dismiss", MODERATOR_NOTE),
        ("relay.participant.address_revealed", "court order 2026/123"),
    ):
        AuditEntry.objects.create(
            action=action,
            actor=moderator,
            target_type="report",
            target_code=report.code,
            reason=reason,
        )
    historical = MigrationExecutor(connection).loader.project_state(("relay", "0011_report_keys"))

    migration.key_reports(historical.apps, None)

    texts, note, notes = readable(report)
    assert texts == [BUYER_SAYS] and note == NOTE and notes == [MODERATOR_NOTE]
    dismissed = AuditEntry.objects.get(action="relay.report.dismiss")
    assert dismissed.reason == "" and dismissed.actor == moderator
    # Unmasking reasons stay as they were: they are the legal record of a reveal.
    revealed = AuditEntry.objects.get(action="relay.participant.address_revealed")
    assert revealed.reason == "court order 2026/123" and revealed.reason_sealed is None


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


PRODUCTION = {"SECRET_KEY": "x" * 50, "RELAY_KEYRING": f"k1:{_b64(b'k' * 32)}"}


def test_a_sealing_only_process_starts_with_public_moderation_keys_alone() -> None:
    public = bytes(PrivateKey.generate().public_key)
    result = run_settings(
        {
            **PRODUCTION,
            "RELAY_INDEX_KEY": _b64(b"i" * 32),
            "RELAY_MODERATION_PUBLIC_KEYS": f"m1:{_b64(public)}",
        }
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "RELAY_MODERATION_KEYS (or, in processes that only file reports"),
        (
            {
                "RELAY_MODERATION_KEYS": f"m1:{_b64(b'a' * 32)}",
                "RELAY_MODERATION_PUBLIC_KEYS": f"m1:{_b64(b'b' * 32)}",
            },
            "key 'm1' is not the public half",
        ),
        (
            {
                "RELAY_MODERATION_KEYS": f"m1:{_b64(b'a' * 32)},m2:{_b64(b'c' * 32)}",
            },
            "RELAY_MODERATION_KEY_CURRENT must name one",
        ),
        (
            {
                "RELAY_MODERATION_KEYS": f"m1:{_b64(b'a' * 32)}",
                "RELAY_MODERATION_KEY_CURRENT": "m9",
            },
            "RELAY_MODERATION_KEY_CURRENT='m9' is not in",
        ),
    ],
)
def test_production_refuses_a_missing_or_inconsistent_moderation_key_ring(
    extra: dict[str, str], message: str
) -> None:
    result = run_settings({**PRODUCTION, "RELAY_INDEX_KEY": _b64(b"i" * 32), **extra})
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("blob", [b"\x02\x01\xff", b"\x02\x09m1", b"\x02"])
def test_a_damaged_wrapped_key_is_unreadable_not_a_crash(blob: bytes) -> None:
    from relay import evidence_crypto

    with pytest.raises(evidence_crypto.EvidenceUnreadable):
        evidence_crypto.wrapped_key_id(blob)
