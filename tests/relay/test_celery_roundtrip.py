"""A task goes through the real broker to a real worker process and comes back."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from relay.tasks import ping


@pytest.mark.worker
def test_a_task_round_trips_through_the_broker_and_a_worker(celery_worker: Any) -> None:
    nonce = secrets.token_hex(8)
    result = ping.apply_async((nonce,), ignore_result=False)
    assert result.get(timeout=30) == nonce
