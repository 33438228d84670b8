"""What every API view shares: token then session authentication, throttling, errors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.models import User
from relay.api.authentication import BearerTokenAuthentication
from relay.api.serializers import ErrorOutput
from relay.api.throttling import TokenRateThrottle


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorOutput, description=description)


# The 4xx answers every authenticated endpoint can give, for the schema.
COMMON_ERRORS: dict[int, OpenApiResponse] = {
    401: error("No or an invalid token."),
    403: error("Authenticated but not allowed."),
    429: error("Too many requests; see Retry-After."),
}
NOT_FOUND = {404: error("No such object among the caller's own.")}
INVALID = {400: error("The input is not valid; `fields` says which.")}
UNPROCESSABLE = {
    422: error("The operation is not possible now, or the Idempotency-Key was reused.")
}


class ApiView(APIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [TokenRateThrottle]

    def caller(self, request: Request) -> User:
        user = request.user
        assert isinstance(user, User), "IsAuthenticated guards every API view"
        return user

    def paginated(
        self, request: Request, queryset: Any, serializer: Any, **context: Any
    ) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        data = serializer(page, many=True, context={"request": request, **context}).data
        return paginator.get_paginated_response(data)
