"""The OpenAPI schema builds, validates, and describes what the endpoints really return."""

from __future__ import annotations

import base64
from typing import Any

import jsonschema
import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate

from tests.api.conftest import Shop


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(SchemaGenerator().get_schema(request=None, public=True))


def _validate(schema: dict[str, Any], path: str, method: str, response: Any) -> None:
    operation = schema["paths"][path][method]
    content = operation["responses"][str(response.status_code)]["content"]
    document = {
        **content["application/json"]["schema"],
        "components": schema["components"],
    }
    jsonschema.validate(response.json(), document, cls=jsonschema.Draft202012Validator)


def test_the_schema_builds_and_is_valid_openapi(schema: dict[str, Any]) -> None:
    validate(schema)
    assert schema["openapi"].startswith("3.1")
    for path in ("/api/listings/", "/api/conversations/{code}/messages/", "/api/endpoints/"):
        assert path in schema["paths"]
    assert "bearerAuth" in schema["components"]["securitySchemes"]


def test_every_post_documents_the_idempotency_key(schema: dict[str, Any]) -> None:
    for path, operations in schema["paths"].items():
        if "post" in operations:
            names = [p["name"] for p in operations["post"].get("parameters", [])]
            assert "Idempotency-Key" in names, path


def test_real_responses_match_the_documented_schemas(schema: dict[str, Any], shop: Shop) -> None:
    code = shop.listing.code
    conversation = shop.conversation.code
    samples = [
        ("/api/listings/", "get", shop.api.get("/api/listings/")),
        ("/api/listings/", "post", shop.api.post("/api/listings/", {"title": "x", "price": "1"})),
        ("/api/listings/{code}/", "get", shop.api.get(f"/api/listings/{code}/")),
        ("/api/listings/{code}/", "get", shop.api.get("/api/listings/nope/")),
        (
            "/api/listings/{code}/rotate-handle/",
            "post",
            shop.api.post(f"/api/listings/{code}/rotate-handle/"),
        ),
        ("/api/conversations/", "get", shop.api.get("/api/conversations/")),
        (
            "/api/conversations/{code}/messages/",
            "post",
            shop.api.post(f"/api/conversations/{conversation}/messages/", {"text": "hi"}),
        ),
        (
            "/api/conversations/{code}/messages/",
            "get",
            shop.api.get(f"/api/conversations/{conversation}/messages/"),
        ),
        (
            "/api/conversations/{code}/report/",
            "post",
            shop.api.post(f"/api/conversations/{conversation}/report/", {"reason": "spam"}),
        ),
        ("/api/endpoints/", "get", shop.api.get("/api/endpoints/")),
        ("/api/endpoints/", "post", shop.api.post("/api/endpoints/", {"channel": "fax"})),
        ("/api/moderation/reports/", "get", shop.api.get("/api/moderation/reports/")),
    ]
    for path, method, response in samples:
        assert response.status_code < 500
        _validate(schema, path, method, response)


def test_the_schema_and_docs_are_served_without_a_cdn(db: None) -> None:
    client = Client()
    served = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert served.status_code == 200 and b"Perantara API" in served.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn.jsdelivr" not in docs and "unpkg" not in docs


def test_the_device_keys_answer_is_what_the_schema_says(schema: dict[str, Any], shop: Shop) -> None:
    from relay.services import e2ee, web

    key = base64.b64encode(bytes(range(32))).decode()
    e2ee.register_device(endpoint=web.seller_web_endpoint(shop.seller), public_key_b64=key)
    response = shop.api.get(f"/api/conversations/{shop.conversation.code}/devices/")
    assert response.status_code == 200
    assert [d["public_key"] for d in response.json()["devices"]["seller"]] == [key]
    _validate(schema, "/api/conversations/{code}/devices/", "get", response)
