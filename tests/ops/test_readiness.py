"""/readyz tells a load balancer whether this node can serve: database, broker, key ring."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.django_db

CLOSED_PORT = "9"  # discard: nothing listens there


def test_readyz_answers_ok_when_database_broker_and_key_ring_answer(client: Any) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "keyring": "ok"}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_readyz_fails_naming_the_database_when_postgresql_is_unreachable(
    client: Any, settings: Any
) -> None:
    settings.DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "perantara",
            "USER": "perantara",
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": CLOSED_PORT,
            "OPTIONS": {},
        }
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"].startswith("error")
    assert body["broker"] == "ok"
    assert body["keyring"] == "ok"


def test_readyz_fails_naming_the_broker_when_redis_is_unreachable(
    client: Any, settings: Any
) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{CLOSED_PORT}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


def test_readyz_fails_when_the_current_key_is_missing_from_the_key_ring(
    client: Any, settings: Any
) -> None:
    settings.RELAY_KEY_CURRENT = "removed"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["keyring"] == "error: LookupError"


def test_readyz_answers_within_seconds_and_healthz_stays_up_when_redis_is_down(
    client: Any, settings: Any
) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{CLOSED_PORT}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    started = time.monotonic()

    assert client.get("/readyz").status_code == 503
    assert time.monotonic() - started < 5
    assert client.get("/healthz").status_code == 200
