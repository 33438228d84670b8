"""The embedded broker for `make run` and tests without Redis: kombu's filesystem transport,
made safe for several processes.

kombu's own `_put` creates the message file and then writes it, so a worker listing the folder
in between reads an empty file and dies on a JSON error. Here a message is written under a
name the reader ignores and then renamed into place, which is atomic on one filesystem.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # ".tmp-…" has no "<queue>.msg" part after its first dot: readers skip it.
        temporary = os.path.join(self.data_folder_out, f".tmp-{uuid.uuid4()}")
        with open(temporary, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, final)

    def _get(self, queue: str) -> Any:  # type: ignore[override]
        # A file left half-written by an older writer (or a crash) must not stop the worker:
        # skip it and take the next message.
        for _attempt in range(100):
            try:
                return super()._get(queue)
            except ValueError:
                continue
        return super()._get(queue)


class Transport(filesystem.Transport):
    Channel = Channel


def install() -> None:
    """Make `filesystem://` broker URLs use this transport."""
    TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
