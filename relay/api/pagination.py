from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    """Opaque cursors (`?cursor=`), stable under inserts; `?page_size=` up to 100."""

    ordering = "-created_at"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # OpenAPI 3.1 spelling of a nullable link (DRF's own uses 3.0's `nullable`).
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }


class RecentActivityFirst(NewestFirst):
    ordering = "-last_activity_at"


class OldestFirst(NewestFirst):
    ordering = "created_at"
