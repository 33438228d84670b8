"""Operator endpoints: readiness for load balancers and Prometheus metrics.

`/healthz` (relay/views.py) says the process is up. `/readyz` says it can do its job: the
database answers, the broker answers, and the key ring holds the current key. Each check has a
short timeout so a stopped dependency turns into a 503 within seconds, not a hung probe.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.utils import load_backend
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

from contacts import vault
from relay import metrics as relay_metrics

logger = logging.getLogger(__name__)


def check_database() -> None:
    """Open a fresh connection with a short connect timeout and run `SELECT 1`.

    A fresh connection (not the request's persistent one) proves new connections can be made
    (the server is up and not out of connection slots) and cannot hang on a half-dead socket.
    """
    config: dict[str, Any] = dict(settings.DATABASES[DEFAULT_DB_ALIAS])
    options: dict[str, Any] = dict(config.get("OPTIONS") or {})
    if str(config["ENGINE"]).endswith("postgresql"):
        options["connect_timeout"] = max(1, round(settings.READYZ_TIMEOUT_SECONDS))
    config["OPTIONS"] = options
    config.setdefault("TIME_ZONE", None)
    config.setdefault("CONN_MAX_AGE", 0)
    config.setdefault("CONN_HEALTH_CHECKS", False)
    config.setdefault("AUTOCOMMIT", True)
    backend = load_backend(str(config["ENGINE"]))
    connection = backend.DatabaseWrapper(config, alias="readyz")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def check_broker() -> None:
    timeout = settings.READYZ_TIMEOUT_SECONDS
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        options.update(socket_connect_timeout=timeout, socket_timeout=timeout)
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options
    ) as connection:
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=max(1, round(timeout))
        )


def check_keyring() -> None:
    key_id = vault.current_key_id()
    if key_id not in settings.RELAY_KEYRING:
        raise LookupError("the current key id is not in the key ring")
    probe = b"readyz"
    if vault.open_sealed(vault.seal(probe, aad=b"readyz"), aad=b"readyz") != probe:
        raise ValueError("the key ring does not round-trip")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
    "keyring": check_keyring,
}


def readiness() -> dict[str, str]:
    """Run every check; "ok" or "error: <kind>" for each (details go to the log, redacted)."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:
            logger.warning("readiness check %s failed: %s", name, error)
            results[name] = f"error: {type(error).__name__}"
        else:
            results[name] = "ok"
    return results


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    results = readiness()
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(results, status=200 if ready else 503)


def metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        offered = header.removeprefix("Bearer ").strip()
        if secrets.compare_digest(offered.encode(), token.encode()):
            return True
    try:
        remote = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        remote in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_IPS
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse(
            "Forbidden: send Authorization: Bearer <METRICS_TOKEN> or scrape from an address "
            "in METRICS_ALLOWED_IPS.",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    body = relay_metrics.render(relay_metrics.collect())
    return HttpResponse(body, content_type=relay_metrics.CONTENT_TYPE)
