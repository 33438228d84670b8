"""API tokens: created and revoked by their owner; only a hash of the secret is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from contacts.models import User
from relay.models import ApiToken

TOKEN_PREFIX = "prt_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown to the user once, never stored


@transaction.atomic
def create_api_token(*, user: User, name: str) -> IssuedToken:
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:80] or "API token", prefix=prefix, key_hash=hash_token(secret)
    )
    return IssuedToken(token=token, secret=secret)


def revoke_api_token(*, user: User, prefix: str) -> bool:
    """Revoke the user's token with this prefix; return whether one was live."""
    revoked = ApiToken.objects.filter(user=user, prefix=prefix, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    return bool(revoked)


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token for a presented secret, its user loaded; None for anything else."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(secret), revoked_at=None)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # One write a minute at most: the column says "recently used", not every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
