from __future__ import annotations

from typing import Any

from tests.api.conftest import Shop, assert_error


def test_a_seller_adds_a_number_verifies_it_and_it_becomes_preferred(
    shop: Shop, codes: list[tuple[str, str]]
) -> None:
    added = shop.api.post("/api/endpoints/", {"channel": "sms", "number": "+62 812 3456 7001"})
    assert added.status_code == 201, added.content
    endpoint = added.json()
    assert endpoint["verified"] is False
    assert endpoint["address"] == "+628•••••001"
    # The middle digits are masked (a 4-digit check also matched timestamps' microseconds).
    body = added.content.decode()
    assert not any(form in body for form in ("81234567001", "3456 7001", "34567001"))
    [(endpoint_code, code)] = codes
    assert endpoint_code == endpoint["code"]
    wrong = shop.api.post(f"/api/endpoints/{endpoint['code']}/verify/", {"code": "000000"})
    if code != "000000":
        assert "tries left" in assert_error(wrong, 422)["message"]
    verified = shop.api.post(f"/api/endpoints/{endpoint['code']}/verify/", {"code": code}).json()
    assert verified["verified"] is True and verified["preferred"] is True
    listed = {item["channel"]: item for item in shop.api.get("/api/endpoints/").json()["results"]}
    assert listed["sms"]["address"] == "+628•••••001"
    assert listed["web"]["address"] is None and listed["web"]["preferred"] is False


def test_a_seller_switches_preferred_channel_and_removes_a_number(
    shop: Shop, codes: list[tuple[str, str]]
) -> None:
    endpoint = shop.api.post(
        "/api/endpoints/", {"channel": "whatsapp", "number": "+62 812 3456 7002"}
    ).json()
    shop.api.post(f"/api/endpoints/{endpoint['code']}/verify/", {"code": codes[0][1]})
    web = shop.seller.endpoints.get(channel="web")
    assert shop.api.post(f"/api/endpoints/{web.code}/preferred/").json()["preferred"] is True
    assert shop.api.delete(f"/api/endpoints/{endpoint['code']}/").status_code == 204
    assert [item["channel"] for item in shop.api.get("/api/endpoints/").json()["results"]] == [
        "web"
    ]


def test_the_web_inbox_cannot_be_removed(shop: Shop) -> None:
    web = shop.seller.endpoints.get(channel="web")
    assert (
        "always on" in assert_error(shop.api.delete(f"/api/endpoints/{web.code}/"), 422)["message"]
    )


def test_a_bad_number_is_a_422_with_a_message_for_people(shop: Shop, codes: Any) -> None:
    error = assert_error(shop.api.post("/api/endpoints/", {"channel": "sms", "number": "12"}), 422)
    assert "number" in error["message"]


def test_a_link_code_connects_messenger(shop: Shop) -> None:
    response = shop.api.post("/api/endpoints/link-codes/", {"channel": "messenger"})
    assert response.status_code == 201
    assert response.json()["code"].startswith("LINK-")
