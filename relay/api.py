"""A first slice of the REST API: moderators read reports and act on them.

The full public API (tokens, idempotency, pagination, OpenAPI) is issue 6; these endpoints
follow the same rules: moderators only (403 for everyone else), pseudonyms only.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.models import User
from relay.models import Report
from relay.moderation_views import is_moderator
from relay.services import moderation


class IsModerator(BasePermission):
    message = "Moderators only."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_moderator(request.user)


class ReportOutput(serializers.ModelSerializer[Report]):
    listing = serializers.CharField(source="listing.title", default=None)
    reported = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = (
            "code",
            "reason",
            "status",
            "urgent",
            "automatic",
            "listing",
            "reported",
            "evidence_count",
            "created_at",
            "resolution",
            "resolved_at",
        )

    def get_reported(self, report: Report) -> str:
        conversation = report.conversation
        if conversation is None:
            return "Seller"
        if report.reported_side == "buyer":
            return conversation.buyer_pseudonym
        return conversation.seller_pseudonym


class ActionInput(serializers.Serializer[dict[str, Any]]):
    action = serializers.ChoiceField(choices=moderation.ACTIONS)
    reason = serializers.CharField()
    days = serializers.IntegerField(required=False, min_value=1)


@api_view(["GET"])
@permission_classes([IsModerator])
def moderation_reports(request: Request) -> Response:
    reports = Report.objects.exclude(status=Report.Status.AWAITING_REASON).select_related(
        "listing", "conversation__listing"
    )
    if request.query_params.get("status"):
        reports = reports.filter(status=request.query_params["status"])
    return Response(ReportOutput(reports.order_by("created_at")[:200], many=True).data)


@api_view(["GET", "POST"])
@permission_classes([IsModerator])
def moderation_report(request: Request, code: str) -> Response:
    report = (
        Report.objects.exclude(status=Report.Status.AWAITING_REASON)
        .select_related("listing", "conversation__listing")
        .filter(code=code)
        .first()
    )
    if report is None:
        return Response({"error": {"code": "not_found", "message": "No such report."}}, status=404)
    if request.method == "POST":
        data = ActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        assert isinstance(request.user, User)
        try:
            moderation.resolve_report(
                report=report,
                moderator=request.user,
                action=data.validated_data["action"],
                reason=data.validated_data["reason"],
                days=data.validated_data.get("days"),
            )
        except moderation.ModerationError as error:
            return Response(
                {"error": {"code": "invalid", "message": error.message}},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
    return Response(ReportOutput(report).data)
