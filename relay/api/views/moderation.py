"""Moderators read reports and act on them: moderators only (403 for everyone else, including
anonymous callers), pseudonyms only."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api import serializers as io
from relay.api.authentication import BearerTokenAuthentication
from relay.api.errors import error_body
from relay.api.idempotency import idempotent
from relay.api.permissions import IsModerator
from relay.api.views.base import (
    COMMON_ERRORS,
    INVALID,
    NOT_FOUND,
    UNPROCESSABLE,
    ApiView,
    error,
)
from relay.models import Report
from relay.services import evidence, evidence_labels, legal_holds, moderation


class ModerationView(ApiView):
    # Session first: without credentials the answer stays 403, as for the moderation pages.
    authentication_classes = [SessionAuthentication, BearerTokenAuthentication]
    permission_classes = [IsModerator]


class ModerationReportsView(ModerationView):
    @extend_schema(
        operation_id="moderation_reports_list",
        summary="The moderation queue (oldest first, at most 200)",
        parameters=[OpenApiParameter("status", str, enum=Report.Status.values)],
        responses={200: io.ReportOutput(many=True), **COMMON_ERRORS},
    )
    def get(self, request: Request) -> Response:
        reports = Report.objects.exclude(status=Report.Status.AWAITING_REASON).select_related(
            "listing", "conversation__listing"
        )
        if request.query_params.get("status"):
            reports = reports.filter(status=request.query_params["status"])
        return Response(io.ReportOutput(reports.order_by("created_at")[:200], many=True).data)


def _report(code: str) -> Report:
    report = (
        Report.objects.exclude(status=Report.Status.AWAITING_REASON)
        .select_related("listing", "conversation__listing")
        .filter(code=code)
        .first()
    )
    if report is None:
        raise Http404("No such report.")
    return report


class ModerationReportView(ModerationView):
    def _report(self, code: str) -> Report:
        return _report(code)

    @extend_schema(
        operation_id="moderation_reports_retrieve",
        responses={200: io.ReportOutput, **NOT_FOUND, **COMMON_ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(io.ReportOutput(self._report(code)).data)

    @extend_schema(
        operation_id="moderation_reports_act",
        summary="Act on a report (audited)",
        description=(
            "The report's state decides which actions it accepts (`allowed_actions` in the "
            "report): a dismissed report is reopened before anyone is sanctioned on it, and a "
            "report acted on cannot be dismissed. A refused action answers 409."
        ),
        request=io.ActionInput,
        responses={
            200: io.ReportOutput,
            **INVALID,
            **NOT_FOUND,
            409: error("The report's state does not allow this action."),
            **UNPROCESSABLE,
            **COMMON_ERRORS,
        },
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        report = self._report(code)
        data = io.ActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            moderation.act(
                report=report,
                moderator=self.caller(request),
                action=data.validated_data["action"],
                reason=data.validated_data["reason"],
                days=data.validated_data.get("days"),
            )
        except moderation.ActionNotAllowed as refused:
            return Response(error_body("not_allowed_now", refused.message), status=409)
        report.refresh_from_db()
        return Response(io.ReportOutput(report).data)


class ModerationEvidenceView(ModerationView):
    @extend_schema(
        operation_id="moderation_reports_evidence",
        summary="Open a report's evidence (audited)",
        description=(
            "The reported messages, each with its kind: `verified` (an end-to-end message the "
            "reporter's browser showed, checked against the relay's own tag), `unverified` (a "
            "claim that did not check out; `label` says why), `relay_sealed` (a message the "
            "relay read and sealed when the report was filed) or `note`. Opening writes an "
            "audit row, as on the report page. 409 once the evidence was shredded."
        ),
        request=None,
        responses={
            200: io.EvidenceItemOutput(many=True),
            409: error("The evidence was shredded."),
            **NOT_FOUND,
            **COMMON_ERRORS,
        },
    )
    # A replay answers from the record sealed under the client's own Idempotency-Key (purged
    # after API_IDEMPOTENCY_HOURS): the same moderator reading what they were already given.
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        report = _report(code)
        try:
            opened = moderation.open_evidence(report=report, moderator=self.caller(request))
        except moderation.ModerationError as refused:
            return Response(error_body("evidence_shredded", refused.message), status=409)
        except evidence.ModerationKeyMissing as missing:
            return Response(error_body("moderation_key_missing", str(missing)), status=503)
        items = [item.as_dict() for item in evidence_labels.shown_all(opened)]
        return Response(io.EvidenceItemOutput(items, many=True).data)


class ModerationLegalHoldsView(ModerationView):
    @extend_schema(
        operation_id="moderation_legal_holds_place",
        summary="Place a legal hold on a report's evidence (audited)",
        description=(
            "Neither purge nor account erasure shreds the report's evidence until `until` "
            "(in the future, at most 730 days away) or until the hold is released."
        ),
        request=io.LegalHoldInput,
        responses={
            201: io.LegalHoldOutput,
            **INVALID,
            **NOT_FOUND,
            **UNPROCESSABLE,
            **COMMON_ERRORS,
        },
    )
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        report = _report(code)
        data = io.LegalHoldInput(data=request.data)
        data.is_valid(raise_exception=True)
        hold = legal_holds.place_legal_hold(
            report=report,
            moderator=self.caller(request),
            reason=data.validated_data["reason"],
            until=data.validated_data["until"],
        )
        return Response(io.LegalHoldOutput(hold).data, status=201)


class ModerationLegalHoldReleaseView(ModerationView):
    @extend_schema(
        operation_id="moderation_legal_holds_release",
        summary="Release a legal hold (audited)",
        request=io.ReleaseInput,
        responses={
            200: io.LegalHoldOutput,
            **INVALID,
            **NOT_FOUND,
            **UNPROCESSABLE,
            **COMMON_ERRORS,
        },
    )
    @idempotent
    def post(self, request: Request, code: str, hold: str) -> Response:
        found = _report(code).legal_holds.filter(code=hold).first()
        if found is None:
            raise Http404("No such hold.")
        data = io.ReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        released = legal_holds.release_legal_hold(
            hold=found, moderator=self.caller(request), reason=data.validated_data["reason"]
        )
        return Response(io.LegalHoldOutput(released).data)
