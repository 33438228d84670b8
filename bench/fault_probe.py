"""Answer the fault bench's questions about the relay's database, through Django.

Run as `python -m bench.fault_probe REQUEST_FILE` with the stack's environment. The relay stores
platform message ids only as keyed hashes (`relay.crypto.provider_key`), so the bench cannot
look them up with psql. REQUEST_FILE holds JSON (thousands of ids do not fit in one argument): {"messages": [provider ids of inbound messages],
"sends": [provider ids the send API answered]}. Prints `FAULT-PROBE {...}` with the positions
(never the ids themselves) of the messages that committed, and what the relay recorded about
each delivery a send belongs to.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

# A column that says "this send may have reached the platform": no such column exists yet
# (issue #11); the probe reports whatever the fix names it, among these spellings.
MAYBE_SENT = re.compile(r"uncertain|maybe|may_have|ambiguous|possibly|unconfirmed")


def committed(provider_ids: list[str]) -> list[int]:
    from relay import crypto
    from relay.models import Message

    keys = {crypto.provider_key(value): index for index, value in enumerate(provider_ids)}
    found = Message.objects.filter(provider_message_id__in=list(keys)).values_list(
        "provider_message_id", flat=True
    )
    return sorted(keys[str(key)] for key in found)


def deliveries(provider_ids: list[str]) -> list[dict[str, Any]]:
    from relay import crypto
    from relay.models import Delivery

    flags = [f.name for f in Delivery._meta.fields if MAYBE_SENT.search(f.name)]
    keys = {crypto.provider_key(value): index for index, value in enumerate(provider_ids)}
    rows = Delivery.objects.filter(provider_message_id__in=list(keys))
    return [
        {
            "send": keys[row.provider_message_id or ""],
            "state": row.state,
            "attempts": row.attempts,
            "error_code": row.error_code,
            "error_reason": row.error_reason,
            "maybe_sent_columns": {name: bool(getattr(row, name)) for name in flags},
        }
        for row in rows
    ]


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    with open(sys.argv[1]) as request_file:
        request = json.load(request_file)
    answer = {
        "committed": committed(request.get("messages", [])),
        "deliveries": deliveries(request.get("sends", [])),
    }
    print("FAULT-PROBE " + json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
