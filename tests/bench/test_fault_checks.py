"""The fault bench's strict `lost` excuses only replies quoting a copy no relay could know."""

from __future__ import annotations

from typing import Any

from bench import load
from bench.fault_checks import Phase, replies_to_unstored_copies


class _Stack:
    """The probe's answer: which of the asked ids the relay stored on a delivery."""

    def __init__(self, stored: set[str]) -> None:
        self.stored = stored

    def probe(self, request: dict[str, Any]) -> dict[str, Any]:
        rows = [{"send": i} for i, pid in enumerate(request["sends"]) if pid in self.stored]
        return {"deliveries": rows}


def _send(pid: str, person: str, text: str, at: float) -> dict[str, Any]:
    return {"provider_message_id": pid, "person": person, "text": text, "received_at": at}


def _phase(outbox: list[dict[str, Any]], reply_to: str) -> Phase:
    phase = Phase(load.Run(), outbox=outbox)
    phase.run.sent[9] = load.Sent(9, "s1", "b1", "reply", 10.0, started=10.0, status=200)
    phase.run.sent[9].reply_to = reply_to
    return phase


TWICE = [_send("orphan", "s1", "hi m_1_", 1.0), _send("known", "s1", "hi m_1_", 5.0)]
NOTICE = _send("n", "s1", "You have several conversations here", 11.0)


def test_a_reply_to_the_unstored_copy_of_a_duplicated_send_is_excused() -> None:
    phase = _phase([*TWICE, NOTICE], "orphan")
    assert replies_to_unstored_copies(_Stack({"known"}), phase) == {9}  # type: ignore[arg-type]


def test_a_reply_to_a_stored_id_single_send_or_without_notice_stays_lost() -> None:
    stored = _Stack({"known", "orphan"})
    assert replies_to_unstored_copies(stored, _phase([*TWICE, NOTICE], "orphan")) == set()  # type: ignore[arg-type]
    once = [_send("orphan", "s1", "hi m_1_", 1.0), NOTICE]
    assert replies_to_unstored_copies(_Stack(set()), _phase(once, "orphan")) == set()  # type: ignore[arg-type]
    silent = _phase(TWICE, "orphan")
    assert replies_to_unstored_copies(_Stack({"known"}), silent) == set()  # type: ignore[arg-type]
