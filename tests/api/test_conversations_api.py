from __future__ import annotations

import re

from relay.models import Delivery, Report
from tests.api.conftest import Shop, assert_error


def test_conversations_list_pseudonyms_status_and_last_activity(shop: Shop) -> None:
    [item] = shop.api.get("/api/conversations/").json()["results"]
    assert item["code"] == shop.conversation.code
    assert item["listing"] == shop.listing.code
    assert item["buyer"] == f"Buyer {shop.conversation.tag}"
    assert item["seller"] == "Seller · Mountain bike"
    assert item["status"] == "open" and item["last_activity_at"]
    assert shop.api.get("/api/conversations/", status="blocked").json()["results"] == []


def test_messages_are_decrypted_for_the_seller_and_a_reply_goes_through_the_relay(
    shop: Shop,
) -> None:
    path = f"/api/conversations/{shop.conversation.code}/messages/"
    [first] = shop.api.get(path).json()["results"]
    assert first["text"] == "Is it still available?"
    assert first["mine"] is False and first["author"].startswith("Buyer ")
    sent = shop.api.post(path, {"text": "Yes, come by on Saturday"})
    assert sent.status_code == 201, sent.content
    assert sent.json()["mine"] is True and sent.json()["state"] == "pending"
    delivery = Delivery.objects.get(message__uid=sent.json()["id"])
    assert delivery.recipient_side == "buyer"
    assert delivery.recipient_endpoint_id == shop.conversation.buyer_endpoint_id
    texts = [message["text"] for message in shop.api.get(path).json()["results"]]
    assert texts == ["Is it still available?", "Yes, come by on Saturday"]


def test_an_empty_reply_is_rejected_with_the_field_named(shop: Shop) -> None:
    path = f"/api/conversations/{shop.conversation.code}/messages/"
    error = assert_error(shop.api.post(path, {"text": "   "}), 400, "invalid")
    assert "text" in error["fields"]


def test_blocking_ends_the_conversation_and_later_replies_are_refused(shop: Shop) -> None:
    blocked = shop.api.post(f"/api/conversations/{shop.conversation.code}/block/").json()
    assert blocked["status"] == "blocked" and blocked["blocked_by"] == "seller"
    reply = shop.api.post(
        f"/api/conversations/{shop.conversation.code}/messages/", {"text": "hello?"}
    )
    refused = assert_error(reply, 422, "not_open")["message"]
    assert "You blocked the conversation" in refused and "UNBLOCK" in refused
    unblocked = shop.api.post(f"/api/conversations/{shop.conversation.code}/unblock/").json()
    assert unblocked["status"] == "open" and unblocked["blocked_by"] == ""
    again = shop.api.post(
        f"/api/conversations/{shop.conversation.code}/messages/", {"text": "hello again"}
    )
    assert again.status_code == 201, again.content


def test_a_seller_reports_the_buyer_to_the_moderators(shop: Shop) -> None:
    response = shop.api.post(
        f"/api/conversations/{shop.conversation.code}/report/",
        {"reason": "scam", "note": "asks for a deposit"},
    )
    assert response.status_code == 201, response.content
    report = Report.objects.get(code=response.json()["code"])
    assert report.reporter_side == "seller" and report.reported_side == "buyer"
    assert report.status == "open" and report.reason == "scam"


def test_no_response_carries_a_phone_number(shop: Shop) -> None:
    pages = [
        shop.api.get("/api/conversations/").content.decode(),
        shop.api.get(f"/api/conversations/{shop.conversation.code}/messages/").content.decode(),
        shop.api.get("/api/listings/").content.decode(),
    ]
    for page in pages:
        assert not re.search(r"\+\d{8,}", page)
