"""Conversations on the caller's listings, and their messages (decrypted for the caller only)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from relay import selectors
from relay.api import serializers as io
from relay.api.idempotency import idempotent
from relay.api.pagination import OldestFirst, RecentActivityFirst
from relay.api.views.base import COMMON_ERRORS, INVALID, NOT_FOUND, UNPROCESSABLE, ApiView
from relay.models import Conversation, Message, Side
from relay.pipeline import Road, roads
from relay.services import e2ee, franked_reports, lifecycle, moderation, web


class ConversationsView(ApiView):
    pagination_class = RecentActivityFirst

    @extend_schema(
        operation_id="conversations_list",
        parameters=[
            OpenApiParameter("status", str, enum=Conversation.Status.values),
            OpenApiParameter("listing", str, description="Only this listing's conversations."),
        ],
        responses={200: io.ConversationOutput(many=True), **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        conversations = selectors.conversations_for_seller(self.caller(request))
        if request.query_params.get("status"):
            conversations = conversations.filter(status=request.query_params["status"])
        if request.query_params.get("listing"):
            conversations = conversations.filter(listing__code=request.query_params["listing"])
        return self.paginated(request, conversations, io.ConversationOutput)


class ConversationView(ApiView):
    @extend_schema(
        operation_id="conversations_retrieve",
        responses={200: io.ConversationOutput, **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        conversation = selectors.conversation_for_seller(self.caller(request), code)
        return Response(io.ConversationOutput(conversation).data)


class ConversationBlockView(ApiView):
    @extend_schema(
        operation_id="conversations_block",
        request=None,
        responses={200: io.ConversationOutput, **NOT_FOUND, **UNPROCESSABLE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        conversation = selectors.conversation_for_seller(self.caller(request), code)
        lifecycle.block(conversation, by_side=Side.SELLER)
        return Response(io.ConversationOutput(conversation).data)


class ConversationUnblockView(ApiView):
    @extend_schema(
        operation_id="conversations_unblock",
        summary="Undo the seller's block: the conversation is open again",
        request=None,
        responses={200: io.ConversationOutput, **NOT_FOUND, **UNPROCESSABLE, **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        conversation = selectors.conversation_for_seller(self.caller(request), code)
        lifecycle.unblock(conversation, by_side=Side.SELLER)
        return Response(io.ConversationOutput(conversation).data)


class ConversationReportView(ApiView):
    @extend_schema(
        operation_id="conversations_report",
        request=io.ReportInput,
        responses={
            201: io.FiledReportOutput,
            **INVALID,
            **NOT_FOUND,
            **UNPROCESSABLE,
            **COMMON_ERRORS,
        },
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        seller = self.caller(request)
        conversation = selectors.conversation_for_seller(seller, code)
        data = io.ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        report, summary = moderation.file_conversation_report(
            conversation=conversation,
            reporter_side=Side.SELLER,
            reporter=web.seller_web_endpoint(seller),
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
            franked=franked_reports.parse_field(data.validated_data["franked"]),
        )
        output = io.FiledReportOutput(report, context={"summary": summary})
        return Response(output.data, status=status.HTTP_201_CREATED)


def _encrypted_marker() -> str:
    """What the API shows for an end-to-end message, in the caller's language."""
    return _("Encrypted message")


class ConversationDevicesView(ApiView):
    @extend_schema(
        operation_id="conversations_devices",
        summary="The device public keys both sides' browsers encrypt to (read-only)",
        description="Web ↔ web end to end: the keys the server serves are the keys it stores, "
        "so an integrator can watch them change. Keys are registered only by the browsers.",
        responses={200: io.ConversationDevicesOutput, **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        conversation = selectors.conversation_for_seller(self.caller(request), code)
        return Response(io.ConversationDevicesOutput(e2ee.state_for(conversation)).data)


def _shown(conversation: Conversation, message_ids: list[int]) -> list[dict[str, Any]]:
    """The given messages as the seller sees them, through the one decrypting selector."""
    uids = dict(Message.objects.filter(pk__in=message_ids).values_list("pk", "uid"))
    wanted = set(message_ids)
    return [
        {
            "id": uids[shown.id],
            "mine": shown.mine,
            "author": shown.author,
            # Web ↔ web end to end: the stored body is the browsers' envelope, ciphertext to
            # the relay; the API says so instead of passing it on as text.
            "text": _encrypted_marker() if shown.e2ee else shown.text,
            "e2ee": shown.e2ee,
            "created_at": shown.created_at,
            "state": shown.state,
        }
        for shown in selectors.messages_for(conversation, viewer_side=Side.SELLER)
        if shown.id in wanted
    ]


class MessagesView(ApiView):
    pagination_class = OldestFirst

    @extend_schema(
        operation_id="messages_list",
        responses={200: io.MessageOutput(many=True), **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        conversation = selectors.conversation_for_seller(self.caller(request), code)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            Message.objects.filter(selectors.readable_by(Side.SELLER), conversation=conversation),
            request,
            view=self,
        )
        ids = [message.pk for message in page or []]
        data = io.MessageOutput(_shown(conversation, ids), many=True).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="messages_send",
        summary="Reply to the buyer (relayed like any channel's message)",
        request=io.MessageInput,
        description="The reply passes the same guards as every channel's message. A refused "
        "reply answers 422 (429 over a rate limit) with the outcome as the error code and what "
        "the relay would tell the seller as the message. A keyword (STOP, BLOCK, …) answers 200 "
        "with the outcome; `notices` says what the relay told the seller (a masked number).",
        responses={
            201: io.MessageOutput,
            200: io.KeywordOutput,
            **INVALID,
            **NOT_FOUND,
            **UNPROCESSABLE,
            **COMMON_ERRORS,
        },
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        seller = self.caller(request)
        conversation = selectors.conversation_for_seller(seller, code)
        data = io.MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = roads.seller_reply(
            seller=seller,
            conversation=conversation,
            text=data.validated_data["text"],
            road=Road.API,
        )
        notices = roads.notice_texts(result)
        if result.message_id is None:
            return Response(io.KeywordOutput({"outcome": result.outcome, "notices": notices}).data)
        shown = {**_shown(conversation, [result.message_id])[0], "notices": notices}
        return Response(io.MessageOutput(shown).data, status=status.HTTP_201_CREATED)
