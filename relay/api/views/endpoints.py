"""The caller's channels: list, add a phone (verification code), verify, prefer, remove."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from contacts import selectors, services
from contacts.models import PHONE_CHANNELS, Endpoint
from contacts.phones import masked
from relay.api import serializers as io
from relay.api.idempotency import idempotent
from relay.api.pagination import OldestFirst
from relay.api.views.base import COMMON_ERRORS, INVALID, NOT_FOUND, UNPROCESSABLE, ApiView


def _masked(endpoints: list[Endpoint]) -> dict[int, str]:
    # The owner's own number, masked: enough to recognise it, never the whole of it.
    return {
        endpoint.pk: masked(services.endpoint_address(endpoint))
        for endpoint in endpoints
        if endpoint.channel in PHONE_CHANNELS
    }


def _output(endpoint: Endpoint) -> dict[str, object]:
    return dict(io.EndpointOutput(endpoint, context={"masked": _masked([endpoint])}).data)


class EndpointsView(ApiView):
    pagination_class = OldestFirst

    @extend_schema(
        operation_id="endpoints_list",
        responses={200: io.EndpointOutput(many=True), **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.endpoints_for_user(self.caller(request)), request, view=self
        )
        endpoints = list(page or [])
        data = io.EndpointOutput(endpoints, many=True, context={"masked": _masked(endpoints)}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="endpoints_add_phone",
        summary="Add a WhatsApp or SMS number; a code is sent to it",
        request=io.PhoneInput,
        responses={201: io.EndpointOutput, **INVALID, **UNPROCESSABLE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = io.PhoneInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, _code = services.start_phone_verification(
            user=self.caller(request),
            channel=data.validated_data["channel"],
            raw_number=data.validated_data["number"],
            region=data.validated_data.get("region") or None,
        )
        return Response(_output(endpoint), status=status.HTTP_201_CREATED)


class EndpointView(ApiView):
    @extend_schema(
        operation_id="endpoints_retrieve",
        responses={200: io.EndpointOutput, **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(_output(selectors.endpoint_for_user(self.caller(request), code)))

    @extend_schema(
        operation_id="endpoints_remove",
        responses={204: None, **NOT_FOUND, **UNPROCESSABLE, **COMMON_ERRORS},
    )
    def delete(self, request: Request, code: str) -> Response:
        user = self.caller(request)
        services.remove_endpoint(user=user, endpoint=selectors.endpoint_for_user(user, code))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointVerifyView(ApiView):
    @extend_schema(
        operation_id="endpoints_verify",
        request=io.VerifyInput,
        responses={
            200: io.EndpointOutput,
            **INVALID,
            **NOT_FOUND,
            **UNPROCESSABLE,
            **COMMON_ERRORS,
        },
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        user = self.caller(request)
        endpoint = selectors.endpoint_for_user(user, code)
        data = io.VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.confirm_phone_verification(
            user=user, endpoint=endpoint, code=data.validated_data["code"]
        )
        return Response(_output(endpoint))


class EndpointPreferredView(ApiView):
    @extend_schema(
        operation_id="endpoints_set_preferred",
        request=None,
        responses={200: io.EndpointOutput, **NOT_FOUND, **UNPROCESSABLE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        user = self.caller(request)
        endpoint = selectors.endpoint_for_user(user, code)
        services.set_preferred_endpoint(user=user, endpoint=endpoint)
        return Response(_output(endpoint))


class LinkCodesView(ApiView):
    @extend_schema(
        operation_id="endpoints_link_code",
        summary="A one-time code that connects a Messenger or Instagram chat",
        request=io.LinkCodeInput,
        responses={201: io.LinkCodeOutput, **INVALID, **UNPROCESSABLE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = io.LinkCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.create_link_code(
            user=self.caller(request), channel=data.validated_data["channel"]
        )
        output = io.LinkCodeOutput(
            {"code": link.code, "channel": link.channel, "expires_at": link.expires_at}
        )
        return Response(output.data, status=status.HTTP_201_CREATED)
