"""The caller's integrator webhooks: list and register (the dashboard's form does the same)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api import serializers as io
from relay.api.errors import error_body
from relay.api.idempotency import idempotent
from relay.api.views.base import COMMON_ERRORS, INVALID, ApiView
from relay.models import IntegratorWebhook
from relay.services import integrations


class WebhooksView(ApiView):
    @extend_schema(
        operation_id="webhooks_list",
        responses={200: io.WebhookOutput(many=True), **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        webhooks = IntegratorWebhook.objects.filter(user=self.caller(request), active=True)
        return Response(io.WebhookOutput(webhooks, many=True).data)

    @extend_schema(
        operation_id="webhooks_add",
        summary="Register a webhook URL; the answer carries its signing secret, once",
        request=io.WebhookInput,
        responses={201: io.NewWebhookOutput, **INVALID, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = io.WebhookInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            webhook = integrations.add_integrator_webhook(
                user=self.caller(request), url=data.validated_data["url"]
            )
        except integrations.UnsafeWebhookUrl as refused:
            # A bad value of the `url` field, like any other invalid input: 400, saying why.
            return Response(
                error_body("invalid", refused.message, {"url": [refused.message]}),
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(io.NewWebhookOutput(webhook).data, status=status.HTTP_201_CREATED)
