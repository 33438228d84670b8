"""The report page tells what happened (who, when, why), a report refuses contradictory
actions on the page and in the API, and moderators read words, not codes, in both languages."""

from __future__ import annotations

import csv
import html
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import User
from relay.api import tokens
from relay.models import AuditEntry, Report, Sanction
from relay.services import evidence, moderation
from tests.api.conftest import Api, Shop, open_shop

# Every machine code a moderator could have been shown before; none may appear as text.
RAW_CODES = [
    "dismiss",
    "takedown",
    "warn",
    "suspend",
    "unban",
    "Done:",
    "relay.report",
    "relay.participant",
    "awaiting",
    "pending review",
]


@pytest.fixture
def moderator(db: None) -> User:
    user = User.objects.create_user(
        username="rina-mod", email="rina@example.com", password="mod-password-123"
    )
    group, _created = Group.objects.get_or_create(name="moderator")
    user.groups.add(group)
    return user


@pytest.fixture
def mod_client(moderator: User) -> Client:
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture
def shop(seller: User) -> Shop:
    return open_shop(seller, "Mountain bike")


def visible_text(page: str) -> str:
    """What a person reads: no tags, no attributes, no scripts."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def act(client: Client, report: Report, **form: str) -> str:
    response = client.post(reverse("relay:moderation_act", args=[report.code]), form, follow=True)
    assert response.status_code == 200
    return str(response.content.decode())


def history_of(page: str) -> list[str]:
    steps = re.findall(r'<li data-testid="history-step">(.*?)</li>', page, flags=re.S)
    return [" ".join(visible_text(step).split()) for step in steps]


def test_after_warn_suspend_and_lift_the_report_page_tells_all_three_with_who_when_and_why(
    shop: Shop, mod_client: Client
) -> None:
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="harassment"
    )
    act(mod_client, report, action="warn", reason="rude first message")
    act(mod_client, report, action="suspend", days="3", reason="rude again after the warning")
    page = act(mod_client, report, action="lift", reason="appeal accepted, apologised")

    steps = history_of(page)
    assert [step.split(" · ")[0] for step in steps] == [
        "Report filed",
        "Warned",
        "Suspended (3 days)",
        "Suspension lifted",
    ]
    assert "Why: rude first message" in steps[1] and "rina-mod" in steps[1]
    assert "Why: rude again after the warning" in steps[2] and "rina-mod" in steps[2]
    assert "Why: appeal accepted, apologised" in steps[3]
    assert "Why: Harassment" in steps[0]  # the reporter's reason, filed by the seller's side
    # The page shows times in the moderator's zone (WIB unless they chose another).
    zone = ZoneInfo(settings.RELAY_DEFAULT_USER_TIME_ZONE)
    when = timezone.localtime(AuditEntry.objects.get(action="relay.report.warn").created_at, zone)
    assert f"{when:%Y-%m-%d %H:%M}" in steps[1]
    assert "The suspension was lifted." in page

    found = re.search(r'data-testid="prior-actions">(.*?)</ul>', page, re.S)
    assert found is not None
    prior = visible_text(found[1])
    assert "none" not in prior
    for words in ("Warned", "Suspended (3 days)", "Suspension lifted"):
        assert words in prior


def test_a_dismissed_report_refuses_a_takedown_on_the_page_and_nothing_changes(
    shop: Shop, mod_client: Client
) -> None:
    report = moderation.file_report(listing=shop.listing, reporter_side="public", reason="scam")
    act(mod_client, report, action="dismiss", reason="a normal price, not a scam")

    page = act(mod_client, report, action="takedown", reason="changed my mind")

    assert "This report was dismissed, so nobody can be sanctioned on it." in page
    shop.listing.refresh_from_db()
    report.refresh_from_db()
    assert not shop.listing.taken_down
    assert (report.status, report.resolution) == ("dismissed", "dismiss")
    assert not AuditEntry.objects.filter(action="relay.report.takedown").exists()
    select = re.search(r'<select id="act-action".*?</select>', page, re.S)
    assert select is not None
    offered = re.findall(r'<option value="([a-z]+)">', select[0])
    assert offered == ["reopen"]  # the page offers only what the state allows


def test_a_resolved_report_cannot_be_dismissed_and_a_reopened_one_can_be_acted_on(
    shop: Shop, moderator: User
) -> None:
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="spam"
    )
    moderation.warn(report=report, moderator=moderator, reason="spam links")
    with pytest.raises(moderation.ActionNotAllowed, match="cannot be dismissed"):
        moderation.dismiss(report=report, moderator=moderator, reason="oops")
    assert Report.objects.get(pk=report.pk).status == "resolved"

    other = moderation.file_report(listing=shop.listing, reporter_side="public", reason="scam")
    moderation.dismiss(report=other, moderator=moderator, reason="not a scam")
    moderation.reopen(report=other, moderator=moderator, reason="the buyer sent proof")
    moderation.take_down(report=other, moderator=moderator, reason="proof of a fake listing")
    shop.listing.refresh_from_db()
    assert shop.listing.taken_down


def test_the_api_answers_409_with_words_when_a_dismissed_report_is_taken_down(
    shop: Shop, moderator: User
) -> None:
    report = moderation.file_report(listing=shop.listing, reporter_side="public", reason="scam")
    api = Api(tokens.create_api_token(user=moderator, name="mod").secret)
    base = f"/api/moderation/reports/{report.code}/"
    dismissed = api.post(base, {"action": "dismiss", "reason": "fine"})
    assert dismissed.status_code == 200 and dismissed.json()["allowed_actions"] == ["reopen"]

    refused = api.post(base, {"action": "takedown", "reason": "x"})

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "not_allowed_now" and "was dismissed" in error["message"]
    shop.listing.refresh_from_db()
    assert not shop.listing.taken_down


def test_lifting_a_suspension_that_is_not_in_force_is_refused_in_words(
    shop: Shop, mod_client: Client
) -> None:
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="spam"
    )
    page = act(mod_client, report, action="lift", reason="just in case")
    assert "not suspended: there is nothing to lift" in page
    assert not AuditEntry.objects.filter(action="relay.participant.suspension_lifted").exists()
    assert not Sanction.objects.exists()


@pytest.mark.parametrize("acted", ["warn", "dismiss"])
def test_the_indonesian_report_queue_and_audit_pages_show_no_raw_action_codes(
    shop: Shop, mod_client: Client, acted: str
) -> None:
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="scam"
    )
    mod_client.post(reverse("set_language"), {"language": "id"})
    answer = act(mod_client, report, action=acted, reason="alasan moderator")
    pages = {
        "report": answer,
        "queue": mod_client.get(reverse("relay:moderation_queue"), {"status": ""}).content.decode(),
        "audit": mod_client.get(reverse("relay:moderation_audit")).content.decode(),
    }
    for name, page in pages.items():
        text = visible_text(page)
        assert '<html lang="id">' in page, name
        for code in RAW_CODES:
            assert not re.search(rf"(?<![\w.]){re.escape(code)}(?![\w])", text), (name, code)
    assert "Riwayat laporan" in pages["report"] and "Laporan diajukan" in pages["report"]
    assert ("Diberi peringatan" if acted == "warn" else "Laporan ditolak") in pages["report"]
    assert '<label for="filter-status">Status</label>' in pages["queue"]
    assert '<label for="filter-reason">Alasan</label>' in pages["queue"]


def test_the_audit_csv_keeps_the_code_and_adds_the_words(
    shop: Shop, mod_client: Client, moderator: User
) -> None:
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="scam"
    )
    moderation.warn(report=report, moderator=moderator, reason="asked for a transfer")
    rows = list(
        csv.reader(
            io.StringIO(mod_client.get(reverse("relay:moderation_audit_csv")).content.decode())
        )
    )
    assert rows[0][:4] == ["Time", "Action code", "What happened", "Who"]
    warned = next(row for row in rows if row[1] == "relay.report.warn")
    assert warned[2:4] == ["Warned", "rina-mod"] and warned[-1] == "asked for a transfer"


def test_after_shredding_the_history_keeps_who_and_when_but_the_reason_reads_shredded(
    shop: Shop, mod_client: Client, moderator: User
) -> None:
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="scam"
    )
    moderation.warn(report=report, moderator=moderator, reason="asked for a bank PIN")
    evidence.shred_reports(Report.objects.filter(pk=report.pk))

    page = mod_client.get(reverse("relay:moderation_report", args=[report.code])).content.decode()

    warned = next(step for step in history_of(page) if step.startswith("Warned"))
    assert "rina-mod" in warned and "Why: (shredded)" in warned
    assert "asked for a bank PIN" not in page


def test_an_indonesian_moderator_reads_the_pseudonyms_in_indonesian(
    shop: Shop, mod_client: Client
) -> None:
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="scam"
    )
    mod_client.post(reverse("set_language"), {"language": "id"})
    page = visible_text(
        mod_client.get(reverse("relay:moderation_report", args=[report.code])).content.decode()
    )
    assert f"Pembeli {shop.conversation.tag}" in page  # the reported buyer
    assert "Penjual · " in page  # who reported them
    assert f"Buyer {shop.conversation.tag}" not in page
    queue = visible_text(mod_client.get(reverse("relay:moderation_queue")).content.decode())
    assert f"Pembeli {shop.conversation.tag}" in queue
