"""Verification codes travel as relay notices on the channel being verified."""

from __future__ import annotations

from contacts.models import Endpoint
from relay.services import outbound


def send_code(endpoint: Endpoint, code: str) -> None:
    """The VERIFICATION_SENDER used in production: the code is sealed at rest, sent by a worker."""
    outbound.queue_notice(
        recipient=endpoint,
        identity=None,
        code="verification_code",
        secret_params={"code": code},
    )
