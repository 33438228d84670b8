"""The shared cases against the server's own guards, in the pipeline's order: the link code,
the length limit and visible text (the real guard functions on a web submission), the keywords,
then the number guard. tests/browser/test_browser_guards.py runs the same file in Chromium."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from relay.pipeline import keywords
from tests.shared.guard_cases import GuardCase, cases, server_check


def disagreements(checked: list[tuple[GuardCase, dict[str, Any]]]) -> list[str]:
    limit = settings.RELAY_MAX_TEXT_CHARS
    return [
        f"{case.label}: expected {case.expected(limit)}, got {got}"
        for case, got in checked
        if got != case.expected(limit) and not case.known_miss
    ]


def test_every_shared_case_gets_the_expected_answer_from_the_servers_guards() -> None:
    limit = settings.RELAY_MAX_TEXT_CHARS
    checked = [
        (case, server_check(case.typed(limit), case.sender, case.awaiting_reason))
        for case in cases()
    ]
    assert disagreements(checked) == []


def test_the_shared_cases_cover_every_guard_that_reads_a_body() -> None:
    groups = {case.group for case in cases()}
    assert groups == {
        "number_guard",
        "number_guard_edges",
        "keyword",
        "link_code",
        "visible_text",
        "length",
        "report_reason",
    }
    actions = {(case.group, case.action) for case in cases()}
    assert ("keyword", "command") in actions and ("keyword", "send") in actions
    assert ("link_code", "command") in actions and ("link_code", "send") in actions
    assert ("visible_text", "refuse") in actions and ("length", "refuse") in actions
    assert [case for case in cases() if case.known_miss] == []


def test_every_keyword_of_the_server_is_a_command_case() -> None:
    commands = [case.text.split()[-1] for case in cases() if case.group == "keyword"]
    typed = {word.strip(".!?\u200b\ufeff").upper() for word in commands if word}
    assert set(keywords.KEYWORDS) <= typed
