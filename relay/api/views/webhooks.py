"""The caller's integrator webhooks: list, add, rotate the signing secret.

The secret is in the response that creates (or rotates) it and nowhere else: it is stored
sealed (relay/services/integrations.py), and lists show its first characters only. A retry
with the same Idempotency-Key replays the creating response from a record sealed under that
key, so a client whose first answer was lost still gets its secret, and only that client.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api import serializers as io
from relay.api.errors import error_body
from relay.api.idempotency import idempotent
from relay.api.pagination import NewestFirst
from relay.api.views.base import COMMON_ERRORS, INVALID, NOT_FOUND, UNPROCESSABLE, ApiView
from relay.models import IntegratorWebhook
from relay.services import integrations


def _issued(issued: integrations.IssuedWebhookSecret) -> dict[str, object]:
    return {**io.WebhookOutput(issued.webhook).data, "secret": issued.secret}


class WebhooksView(ApiView):
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="integrator_webhooks_list",
        responses={200: io.WebhookOutput(many=True), **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        webhooks = IntegratorWebhook.objects.filter(user=self.caller(request), active=True)
        return self.paginated(request, webhooks, io.WebhookOutput)

    @extend_schema(
        operation_id="integrator_webhooks_create",
        summary="Add a webhook; its signing secret is in this response only",
        request=io.WebhookInput,
        responses={201: io.NewWebhookSecretOutput, **INVALID, **UNPROCESSABLE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = io.WebhookInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            issued = integrations.add_integrator_webhook(
                user=self.caller(request), url=data.validated_data["url"]
            )
        except integrations.UnsafeWebhookUrl as refused:
            # A bad value of the `url` field, like any other invalid input: 400, saying why.
            return Response(
                error_body("invalid", refused.message, {"url": [refused.message]}),
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class WebhookRotateSecretView(ApiView):
    @extend_schema(
        operation_id="integrator_webhooks_rotate_secret",
        summary="Replace the signing secret; the new one is in this response only",
        request=None,
        responses={200: io.NewWebhookSecretOutput, **NOT_FOUND, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        issued = integrations.rotate_integrator_webhook_secret(user=self.caller(request), code=code)
        if issued is None:
            raise Http404
        return Response(_issued(issued))
