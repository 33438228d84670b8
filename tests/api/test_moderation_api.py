from __future__ import annotations

import pytest
from django.test import Client

from contacts.models import User
from relay.api import tokens
from relay.models import AuditEntry
from relay.services import moderation
from tests.api.conftest import Api, Shop, assert_error


def test_a_moderator_lists_reports_and_acts_with_a_token_and_it_is_audited(
    shop: Shop, moderator: User
) -> None:
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="spam"
    )
    api = Api(tokens.create_api_token(user=moderator, name="mod").secret)
    [listed] = api.get("/api/moderation/reports/").json()
    assert listed["code"] == report.code and listed["reported"].startswith("Buyer ")
    acted = api.post(
        f"/api/moderation/reports/{report.code}/", {"action": "dismiss", "reason": "not spam"}
    )
    assert acted.status_code == 200 and acted.json()["status"] == "dismissed"
    assert AuditEntry.objects.filter(action="relay.report.dismiss", actor=moderator).exists()


def test_moderation_errors_use_the_error_shape(shop: Shop, moderator: User) -> None:
    api = Api(tokens.create_api_token(user=moderator, name="mod").secret)
    assert_error(api.get("/api/moderation/reports/NOPE/"), 404, "not_found")
    report = moderation.file_report(listing=shop.listing, reporter_side="public", reason="scam")
    no_conversation = api.post(
        f"/api/moderation/reports/{report.code}/", {"action": "block", "reason": "x"}
    )
    assert_error(no_conversation, 422, "unprocessable")
    assert_error(
        api.post(f"/api/moderation/reports/{report.code}/", {"action": "explode"}), 400, "invalid"
    )
    forever = {"action": "suspend", "reason": "x", "days": 10**9}
    assert_error(api.post(f"/api/moderation/reports/{report.code}/", forever), 400, "invalid")


def test_a_suspension_longer_than_ten_years_is_refused_in_words(
    moderator: User, shop: Shop
) -> None:
    report = moderation.file_report(listing=shop.listing, reporter_side="public", reason="scam")
    with pytest.raises(moderation.ModerationError, match="at most 3650 days"):
        moderation.suspend(report=report, moderator=moderator, reason="x", days=10**9)


def test_sellers_and_strangers_get_403_from_the_moderation_api(shop: Shop) -> None:
    report = moderation.file_report(listing=shop.listing, reporter_side="public", reason="scam")
    for client_get, client_post in (
        (shop.api.get, shop.api.post),
        (Client().get, Client().post),
    ):
        assert_error(client_get(f"/api/moderation/reports/{report.code}/"), 403)
        response = client_post(
            f"/api/moderation/reports/{report.code}/", {"action": "dismiss", "reason": "x"}
        )
        assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == "open"
