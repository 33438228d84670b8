from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from relay.moderation_views import is_moderator


class IsModerator(BasePermission):
    message = "Moderators only."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_moderator(request.user)
