"""The README's retention map and the tests behind it stay one list.

Each row of the map names a kind of stored secret; this file names, for each row, the tests that
create the secret, run the row's command and prove it unreadable with the keys the process has.
A row added to the README without a test here fails, and so does a test named here that no
longer exists. The one row no other file covered (notice parameters outside any conversation,
i.e. verification codes) is tested here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.services import get_or_create_endpoint
from relay.models import Delivery
from relay.services.outbound import open_secret_params, queue_notice
from tests.ops.conftest import Shop

README = Path(__file__).resolve().parents[2] / "README.md"

# Row (first cell of the README table) -> the tests that prove it, "module::function".
PROOFS: dict[str, list[str]] = {
    "addresses (phone numbers, platform ids)": [
        "tests.ops.test_user_data::test_delete_user_leaves_no_readable_body_or_address_of_that_user",
        "tests.relay.test_data_requests::"
        "test_a_whatsapp_buyer_gets_a_code_on_their_phone_exports_and_erases_their_data",
    ],
    "message bodies": [
        "tests.ops.test_purge::test_purge_makes_old_bodies_unreadable_and_leaves_newer_ones",
        "tests.ops.test_user_data::test_delete_user_leaves_no_readable_body_or_address_of_that_user",
        "tests.relay.test_data_request_codes::"
        "test_a_web_chat_buyer_exports_and_erases_with_their_browser_cookie",
    ],
    "End-to-end encrypted bodies (web ↔ web)": [
        "tests.relay.test_e2ee_retention::test_purge_shreds_e2ee_ciphertext_with_the_conversation_key",
        "tests.relay.test_e2ee_retention::test_delete_user_shreds_the_sellers_e2ee_conversations",
        "tests.relay.test_e2ee_retention::"
        "test_buyer_erasure_overwrites_their_e2ee_bodies_and_keeps_the_sellers",
        "tests.relay.test_e2ee_retention::"
        "test_the_data_export_lists_e2ee_messages_as_unreadable_to_the_relay",
    ],
    "Franked report evidence": [
        "tests.relay.test_e2ee_retention::"
        "test_franked_evidence_is_shredded_by_purge_after_the_window_and_not_before",
        "tests.relay.test_e2ee_retention::"
        "test_buyer_erasure_shreds_the_franked_evidence_of_their_report",
    ],
    "sealed notice parameters (verification and data-request codes)": [
        "tests.ops.test_purge::test_purge_makes_old_bodies_unreadable_and_leaves_newer_ones",
        "tests.ops.test_retention_map::"
        "test_purge_clears_a_sent_verification_code_past_the_window_and_not_before",
    ],
    "report evidence (the reported side's last messages and photos)": [
        "tests.ops.test_evidence_retention::test_purge_shreds_evidence_past_the_window_and_not_before",
        "tests.relay.test_media::"
        "test_a_report_seals_the_reported_sides_photos_and_the_moderator_sees_them",
        "tests.ops.test_evidence_retention::"
        "test_delete_user_shreds_reports_on_their_listings_and_keeps_a_held_one",
        "tests.ops.test_evidence_retention::"
        "test_a_held_report_survives_purge_until_the_hold_ends_or_is_released",
    ],
    "reporters' notes": [
        "tests.ops.test_evidence_retention::test_purge_shreds_evidence_past_the_window_and_not_before",
        "tests.relay.test_data_requests::"
        "test_a_whatsapp_buyer_gets_a_code_on_their_phone_exports_and_erases_their_data",
    ],
    "moderators' notes (the reason typed for dismiss, warn, block, suspend, ban, takedown, "
    "lift, unban, legal hold)": [
        "tests.ops.test_evidence_retention::test_purge_shreds_evidence_past_the_window_and_not_before",
        "tests.ops.test_evidence_retention::"
        "test_the_report_page_shows_the_hold_and_the_audit_log_shows_shredded_notes",
    ],
    "Idempotency-Key records": [
        "tests.api.test_idempotency::test_a_stored_reply_holds_neither_its_text_nor_the_number_nor_the_key",
        "tests.api.test_idempotency::test_without_the_clients_key_the_stored_response_does_not_open",
        "tests.api.test_idempotency::test_after_purge_the_record_is_gone_and_a_retry_acts_again",
        "tests.api.test_idempotency::test_deleting_the_account_deletes_its_records",
    ],
    "integrator webhook signing secrets": [
        "tests.api.test_integrator_webhook_secrets::"
        "test_the_stored_row_holds_no_secret_and_opens_only_with_its_own_code",
        "tests.api.test_integrator_webhook_secrets::"
        "test_rotating_the_secret_shows_the_new_one_once_and_the_old_one_stops_verifying",
        "tests.api.test_integrator_webhook_secrets::"
        "test_after_delete_user_the_secret_is_unreadable_and_nothing_is_signed_with_it",
    ],
    "buyers' data-request codes": [
        "tests.relay.test_data_request_codes::test_codes_are_stored_only_as_a_keyed_hash",
        "tests.relay.test_data_request_codes::"
        "test_purging_deletes_used_and_expired_codes_and_keeps_live_ones",
    ],
    "web-chat links": [
        "tests.relay.test_chat_links::"
        "test_a_link_older_than_the_chat_link_days_is_refused_without_history",
        "tests.relay.test_chat_links::"
        "test_after_the_conversation_ends_the_old_link_shows_no_history_anywhere",
        "tests.relay.test_chat_links::test_a_tampered_link_is_refused_as_not_valid_without_history",
    ],
    "status webhooks that arrived before their delivery's id (keyed hash, status)": [
        "tests.relay.test_early_statuses::test_purge_forgets_statuses_that_never_found_their_delivery",
    ],
    "listing photos": [
        "tests.marketplace.test_listing_photos::"
        "test_deleting_a_photo_removes_its_file_and_closes_the_gap",
        "tests.marketplace.test_listing_photos::test_a_listing_deleted_takes_its_photo_files_with_it",
        "tests.marketplace.test_listing_photos::"
        "test_erasing_a_sellers_account_deletes_their_listing_photos_and_files",
    ],
    "platform photo references while downloading (a WhatsApp media id, a Messenger/Instagram "
    "attachment URL, a Twilio MediaUrl)": [
        "tests.relay.test_photos_across_channels::"
        "test_a_photo_reaches_the_other_side_cleaned_and_upright_both_ways",
        "tests.relay.test_photo_refusals::test_a_photo_too_large_is_refused_before_it_is_read",
    ],
    "photos in conversations (cleaned bytes and file names)": [
        "tests.relay.test_media::test_the_storage_holds_ciphertext_only_and_read_gives_the_cleaned_photo",
        "tests.relay.test_media::test_a_sealed_photo_moved_to_another_row_does_not_open",
        "tests.ops.test_media_retention::"
        "test_purge_deletes_the_photos_of_shredded_conversations_and_keeps_newer_ones",
        "tests.ops.test_media_retention::"
        "test_purge_deletes_uploads_no_message_took_and_stray_files_after_their_grace",
        "tests.ops.test_media_retention::"
        "test_delete_user_leaves_no_photo_of_that_user_and_keeps_other_peoples",
        "tests.ops.test_media_retention::"
        "test_a_buyers_erasure_deletes_their_photos_and_keeps_the_sellers",
    ],
    "logs": [
        "tests.ops.test_logging::test_every_configured_handler_carries_the_redacting_filter",
        "tests.ops.test_logging::test_production_logs_are_json_lines_without_the_number",
        "tests.ops.test_secret_links_in_logs::"
        "test_gunicorn_with_the_production_config_writes_access_lines_without_the_token",
    ],
    "abuse-limit counters, `/metrics` counters": [
        "tests.ops.test_metrics::test_counters_start_again_from_zero_when_the_cache_is_flushed",
    ],
    "SMS opt-outs (endpoint and relay number ids, no number)": [],
    "web-chat browser cookie (an endpoint code, signed)": [
        "tests.relay.test_data_request_codes::"
        "test_a_web_chat_buyer_exports_and_erases_with_their_browser_cookie",
    ],
}
# Rows that hold no secret to shred, or nothing yet: said in the README, nothing to prove.
NOTHING_TO_SHRED = {"SMS opt-outs (endpoint and relay number ids, no number)"}


def readme_rows() -> list[str]:
    text = README.read_text()
    section = text.split("## Retention map", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [re.split(r"\s*\|\s*", row.strip("| "))[0] for row in rows[1:]]  # skip the header


def test_every_row_of_the_retention_map_has_tests_and_every_test_exists() -> None:
    rows = readme_rows()
    assert rows, "the README has no retention map"
    assert set(rows) == set(PROOFS), "the README's rows and this file's list differ"
    for row in rows:
        proofs = PROOFS[row]
        assert proofs or row in NOTHING_TO_SHRED, f"no test proves the row {row!r}"
        for proof in proofs:
            module, function = proof.split("::")
            assert hasattr(importlib.import_module(module), function), f"{proof} is gone"


@pytest.mark.django_db
def test_purge_clears_a_sent_verification_code_past_the_window_and_not_before(
    shop: Shop, settings: object
) -> None:
    endpoint, _created = get_or_create_endpoint(channel="whatsapp", address="+6281234567009")
    old = queue_notice(
        recipient=endpoint,
        identity=shop.identity,
        code="verification_code",
        secret_params={"code": "482913"},
    )
    fresh = queue_notice(
        recipient=endpoint,
        identity=shop.identity,
        code="verification_code",
        secret_params={"code": "771204"},
    )
    Delivery.objects.filter(pk__in=[old.pk, fresh.pk]).update(state=Delivery.State.SENT)
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=91))
    old.refresh_from_db()
    assert open_secret_params(old) == {"code": "482913"}  # readable before: the test can fail

    call_command("purge", stdout=io.StringIO(), stderr=io.StringIO())

    old.refresh_from_db()
    fresh.refresh_from_db()
    # The ciphertext is gone: the worker that sends notices opens nothing for it any more.
    assert old.sealed_params is None
    assert open_secret_params(old) == {}
    assert open_secret_params(fresh) == {"code": "771204"}
