"""Reading webhook JSON so that a missing key or a wrong type is a `MalformedPayload`.

Never a `KeyError` or `TypeError`: every reader names the JSON path it looked at, never the
value it found, because the message ends up in logs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from relay.adapters.base import MalformedPayload


def load_envelope(body: bytes, expected_object: str) -> dict[str, Any]:
    """Parse a Meta webhook body and check its `object`; raise MalformedPayload otherwise."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedPayload("the webhook body is not JSON") from error
    except RecursionError as error:  # thousands of nested brackets: json gives up, so do we
        raise MalformedPayload("the webhook body is nested too deeply") from error
    if not isinstance(payload, dict):
        raise MalformedPayload("the webhook body is not a JSON object")
    if payload.get("object") != expected_object:
        raise MalformedPayload(f"the webhook 'object' is not {expected_object!r}")
    return payload


def items(container: Mapping[str, Any], key: str, where: str) -> list[object]:
    """Return the list at `key` ([] if absent) without judging its items: each item is one
    event, read (or rejected) on its own."""
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where}.{key} is not a list")
    return value


def as_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} is not a JSON object")
    return value


def objects(container: Mapping[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """Return the list of objects at `key` ([] if absent); raise if it has the wrong shape."""
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where}.{key} is not a list")
    return [as_object(item, f"{where}.{key}[{index}]") for index, item in enumerate(value)]


def optional_object(container: Mapping[str, Any], key: str, where: str) -> dict[str, Any] | None:
    value = container.get(key)
    return None if value is None else as_object(value, f"{where}.{key}")


def required_id(container: Mapping[str, Any], key: str, where: str) -> str:
    """Return a non-empty string (or integer) id at `key` as a string."""
    value = container.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MalformedPayload(f"{where}.{key} is missing or not an id")
    return str(value)


def optional_str(container: Mapping[str, Any], key: str, where: str) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{where}.{key} is not a string")
    return value


def unix_time(value: object, where: str, *, milliseconds: bool = False) -> dt.datetime:
    """Read a unix time (seconds, or milliseconds for Messenger) given as a number or a string."""
    if isinstance(value, bool):
        raise MalformedPayload(f"{where} is not a unix time")
    try:
        number = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        number = None
    if number is None or number != number:  # missing, garbled or NaN
        raise MalformedPayload(f"{where} is not a unix time")
    if milliseconds:
        number /= 1000
    try:
        return dt.datetime.fromtimestamp(number, tz=dt.UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise MalformedPayload(f"{where} is out of range") from error
