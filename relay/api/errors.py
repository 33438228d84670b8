"""Every 4xx of the API has one shape: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from contacts.phones import InvalidPhoneNumber
from contacts.services import ContactsError
from marketplace.services import ListingError
from relay.pipeline import Outcome
from relay.pipeline.roads import Refused
from relay.services.errors import RelayError

# Domain errors carry a message written for the user who caused them.
DOMAIN_ERRORS = (ContactsError, ListingError, RelayError, InvalidPhoneNumber)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_message(next(iter(detail.values())))
    return str(detail)


def _fields(detail: Any) -> dict[str, Any]:
    if not isinstance(detail, dict):
        return {}
    return {
        name: [str(item) for item in value] if isinstance(value, list) else [str(value)]
        for name, value in detail.items()
    }


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refused):
        # The pipeline's outcome is the code; the message is what the relay tells the sender.
        outcome = exc.result.outcome
        return Response(
            error_body(str(outcome.value), exc.message),
            status=status.HTTP_429_TOO_MANY_REQUESTS
            if outcome == Outcome.RATE_LIMITED
            else status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, DOMAIN_ERRORS):
        return Response(
            error_body("unprocessable", exc.message), status=status.HTTP_422_UNPROCESSABLE_ENTITY
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", _("Some fields are not valid."), _fields(exc.detail))
        if not isinstance(exc.detail, dict):
            response.data["error"]["message"] = _first_message(exc.detail)
    else:
        response.data = error_body(exc.default_code, _first_message(exc.detail))
    return response
