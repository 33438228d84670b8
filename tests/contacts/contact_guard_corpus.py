"""Messages and listings as people write them, for the number guard.

The cases live in tests/shared/guard_cases.json (group "number_guard"), which the browser's
copy of the guard (static/guards.js) runs too. Each positive says exactly what the masked text
must be (the text around a detail intact); each negative must come back unchanged. `sender` is
the writer's region, passed through `regions_for`. A case the guard cannot get right without
harming others stays there with `known_miss` saying why; the test asserts how many there are.

The numbers are fictional (US 555-01xx) or made up; none belongs to a real person.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.shared.guard_cases import cases


@dataclass(frozen=True)
class Case:
    text: str
    masked: str  # equal to `text` for a negative
    sender: str = "ID"
    known_miss: str = ""

    @property
    def positive(self) -> bool:
        return self.masked != self.text


CORPUS = [
    Case(case.text, case.sent if case.sent is not None else case.text, case.sender, case.known_miss)
    for case in cases()
    if case.group == "number_guard"
]
POSITIVES = [case for case in CORPUS if case.positive]
NEGATIVES = [case for case in CORPUS if not case.positive]
