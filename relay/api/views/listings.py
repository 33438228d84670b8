"""Listings: the seller's own, found by code; everything goes through marketplace services."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from marketplace import selectors, services
from marketplace.models import Listing
from relay.api import serializers as io
from relay.api.idempotency import idempotent
from relay.api.pagination import NewestFirst
from relay.api.views.base import COMMON_ERRORS, INVALID, NOT_FOUND, UNPROCESSABLE, ApiView

STATUS_FILTER = OpenApiParameter(
    "status", str, enum=Listing.Status.values, description="Only listings in this status."
)


class ListingsView(ApiView):
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="listings_list",
        parameters=[STATUS_FILTER],
        responses={200: io.ListingOutput(many=True), **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        listings = selectors.listings_for_seller(self.caller(request))
        if request.query_params.get("status"):
            listings = listings.filter(status=request.query_params["status"])
        return self.paginated(request, listings, io.ListingOutput)

    @extend_schema(
        operation_id="listings_create",
        request=io.ListingCreateInput,
        responses={201: io.ListingOutput, **INVALID, **UNPROCESSABLE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = io.ListingCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        listing = services.create_listing(seller=self.caller(request), **data.validated_data)
        return Response(io.ListingOutput(listing).data, status=status.HTTP_201_CREATED)


class ListingView(ApiView):
    @extend_schema(
        operation_id="listings_retrieve",
        responses={200: io.ListingOutput, **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        listing = selectors.listing_for_seller(self.caller(request), code)
        return Response(io.ListingOutput(listing).data)

    @extend_schema(
        operation_id="listings_update",
        request=io.ListingUpdateInput,
        responses={
            200: io.ListingOutput,
            **INVALID,
            **NOT_FOUND,
            **UNPROCESSABLE,
            **COMMON_ERRORS,
        },
    )
    def patch(self, request: Request, code: str) -> Response:
        listing = selectors.listing_for_seller(self.caller(request), code)
        data = io.ListingUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.update_listing(listing=listing, **data.validated_data)
        return Response(io.ListingOutput(listing).data)


def _action_view(name: str, action: Callable[[Listing], object], summary: str) -> type[ApiView]:
    class ListingActionView(ApiView):
        @extend_schema(
            operation_id=f"listings_{name}",
            summary=summary,
            request=None,
            responses={200: io.ListingOutput, **NOT_FOUND, **UNPROCESSABLE, **COMMON_ERRORS},
        )
        @idempotent
        def post(self, request: Request, code: str) -> Response:
            listing = selectors.listing_for_seller(self.caller(request), code)
            action(listing)
            listing.refresh_from_db()
            return Response(io.ListingOutput(listing).data)

    ListingActionView.__name__ = f"Listing{name.title().replace('_', '')}View"
    ListingActionView.__qualname__ = ListingActionView.__name__
    return ListingActionView


ListingPublishView = _action_view(
    "publish", lambda listing: services.publish_listing(listing=listing), "Publish (live handle)"
)
ListingSoldView = _action_view(
    "sold", lambda listing: services.mark_listing_sold(listing=listing), "Mark sold (pause handle)"
)
ListingCloseView = _action_view(
    "close", lambda listing: services.close_listing(listing=listing), "Close (pause handle)"
)
ListingRotateHandleView = _action_view(
    "rotate_handle",
    lambda listing: services.rotate_listing_handle(listing=listing),
    "Retire the handle and issue a new one",
)
