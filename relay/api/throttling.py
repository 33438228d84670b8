"""Per-token rate limits (per user for the web session): 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import UserRateThrottle

from relay.models import ApiToken


class TokenRateThrottle(UserRateThrottle):
    scope = "api"

    def get_rate(self) -> str:
        # Read at request time so API_THROTTLE_RATE can change without a restart of DRF's cache.
        return str(getattr(settings, "API_THROTTLE_RATE", "120/min"))

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
