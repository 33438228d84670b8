from __future__ import annotations

from django.http import HttpRequest

from relay.moderation_views import is_moderator


def moderation(request: HttpRequest) -> dict[str, bool]:
    return {"is_moderator": is_moderator(request.user)}
