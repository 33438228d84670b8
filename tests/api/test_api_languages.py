"""API error messages meant for people follow Accept-Language; codes stay the same."""

from __future__ import annotations

from typing import Any

from django.test import Client


def test_a_revoked_token_is_explained_in_the_callers_language(db: None) -> None:
    headers = {"Authorization": "Bearer not-a-token"}
    english = Client().get("/api/listings/", headers={**headers, "accept-language": "en"})
    indonesian = Client().get("/api/listings/", headers={**headers, "accept-language": "id"})
    assert english.status_code == indonesian.status_code == 401
    assert english.json()["error"]["code"] == indonesian.json()["error"]["code"]
    assert english.json()["error"]["message"] == "This token is not valid or was revoked."
    assert indonesian.json()["error"]["message"] == "Token ini tidak valid atau sudah dicabut."


def test_an_invalid_field_is_explained_in_indonesian(seller_client: Any) -> None:
    response = seller_client.post(
        "/api/listings/",
        {"title": ""},
        content_type="application/json",
        headers={"accept-language": "id"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Beberapa kolom tidak valid."
