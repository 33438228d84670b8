"""Celery entry points: they take row ids, never bodies or addresses, and call services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="relay.ping")
def ping(nonce: str) -> str:
    """A round trip through the broker and a worker, for health checks and tests."""
    return nonce
