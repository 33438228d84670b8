"""Error answers in each platform's own shape (Graph API for Meta, REST error JSON for Twilio)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sandbox.state import FailurePlan
from sandbox.web import Response, json_response


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    details: str = "",
    error_type: str = "OAuthException",
    subcode: int | None = None,
    whatsapp: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, object] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if details or whatsapp:
        error_data: dict[str, str] = {"details": details or message}
        if whatsapp:
            error_data["messaging_product"] = "whatsapp"
        error["error_data"] = error_data
    return json_response({"error": error}, status, headers)


def twilio_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return json_response(body, status, headers)


def unauthorized(channel: str) -> Response:
    if channel == "sms":
        return twilio_error(401, 20003, "Authenticate")
    return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")


def bad_request(channel: str, message: str, twilio_code: int = 21601) -> Response:
    if channel == "sms":
        return twilio_error(400, twilio_code, message)
    return graph_error(400, 100, f"(#100) {message}", whatsapp=channel == "whatsapp")


def unsubscribed_recipient() -> Response:
    """Twilio's answer to a send to someone who replied STOP (twilio.com/docs/api/errors/21610)."""
    return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")


def unknown_graph_object(object_id: str) -> Response:
    return graph_error(
        400,
        100,
        f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        error_type="GraphMethodException",
        subcode=33,
    )


def injected_failure(channel: str, plan: FailurePlan) -> Response:
    """The answer for a failure planned with /control/fail (the timeout wait happens elsewhere).

    Any mode without its own answer fails permanently."""
    answer = _FAILURE_ANSWERS.get(plan.mode, _permanent_failure)
    return answer(channel, plan)


def _server_error(channel: str, plan: FailurePlan) -> Response:
    if channel == "sms":
        return twilio_error(500, 20500, "Internal Server Error")
    return graph_error(500, 2, "Service temporarily unavailable", whatsapp=channel == "whatsapp")


def _rate_limited(channel: str, plan: FailurePlan) -> Response:
    retry_after = {"Retry-After": _seconds_header(plan.retry_after)}
    if channel == "sms":
        return twilio_error(429, 20429, "Too Many Requests", retry_after)
    return graph_error(
        429,
        613,
        "(#613) Calls to this api have exceeded the rate limit.",
        whatsapp=channel == "whatsapp",
        headers=retry_after,
    )


def _gateway_timeout(channel: str, plan: FailurePlan) -> Response:
    if channel == "sms":
        return twilio_error(504, 20504, "Gateway Timeout")
    return graph_error(504, 2, "Service temporarily unavailable", whatsapp=channel == "whatsapp")


def _window_closed(channel: str, plan: FailurePlan) -> Response:
    if channel == "whatsapp":
        return graph_error(
            400,
            131047,
            "(#131047) Re-engagement message",
            details="Message failed to send because more than 24 hours have passed since "
            "the customer last replied to this number.",
            whatsapp=True,
        )
    return graph_error(
        400,
        10,
        "(#10) This message is sent outside of allowed window.",
        subcode=2018278,
    )


def _permanent_failure(channel: str, plan: FailurePlan) -> Response:
    if channel == "whatsapp":
        return graph_error(
            400,
            131026,
            "(#131026) Message undeliverable",
            details="Unable to deliver message. The recipient may not be a WhatsApp user.",
            whatsapp=True,
        )
    if channel == "sms":
        return unsubscribed_recipient()
    return graph_error(400, 551, "(#551) This person isn't available right now.", subcode=1545041)


def _mms_unsupported(channel: str, plan: FailurePlan) -> Response:
    """Twilio 21621: the From number is not enabled for MMS (twilio.com/docs/api/errors/21621)."""
    if channel != "sms":
        return _permanent_failure(channel, plan)
    return twilio_error(400, 21621, "The 'From' number has not been enabled for MMS")


_FAILURE_ANSWERS: dict[str, Callable[[str, FailurePlan], Response]] = {
    "mms_unsupported": _mms_unsupported,
    "http500": _server_error,
    "http429": _rate_limited,
    "timeout": _gateway_timeout,
    "window_closed": _window_closed,
}


def _seconds_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
