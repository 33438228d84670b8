"""Run axe-core (the npm package pinned in package.json, installed by `make test`) in a page.

The script is read from node_modules and injected with Selenium's execute_script, never fetched
from a CDN: CI must not depend on a third party being up, and the version is the one the lock
file pins (package-lock.json, with its integrity hash).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# What fails a page: axe's two worst impacts (issue #14). Moderate and minor findings are not
# gated; `run_axe` still returns them (at the time of writing: Django's default 404 and CSRF
# pages have no <main>, and the web chat page has no <h1>).
FAILING_IMPACTS = ("critical", "serious")


@cache
def axe_source() -> str:
    """The axe-core script; skip (or fail under REQUIRE_BROWSER=1) when npm has not run."""
    if not AXE_SCRIPT.exists():
        reason = f"{AXE_SCRIPT} is missing: run `npm ci` (make test does)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return AXE_SCRIPT.read_text(encoding="utf-8")


def run_axe(browser: Any, exclude: list[list[str]] | None = None) -> list[dict[str, Any]]:
    """Inject axe into the current page and return its violations (every impact).

    `exclude` lists CSS selector paths axe must not look into (its context `exclude` form).
    """
    browser.execute_script(axe_source())
    browser.set_script_timeout(60)
    context: dict[str, Any] = {"include": [["html"]]}
    if exclude:
        context["exclude"] = exclude
    result = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(arguments[0], {resultTypes: ['violations']})"
        ".then(function (r) { done({violations: r.violations}); })"
        ".catch(function (e) { done({error: String(e)}); });",
        context,
    )
    if "error" in result:
        raise AssertionError(f"axe failed to run: {result['error']}")
    return list(result["violations"])


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in violations if item.get("impact") in FAILING_IMPACTS]


def describe(page: str, violations: list[dict[str, Any]]) -> str:
    """One line per violation and node: id, impact, target, and what axe says to do."""
    lines = []
    for item in violations:
        for node in item["nodes"]:
            summary = (node.get("failureSummary") or "").splitlines()
            lines.append(
                f"{page}: {item['id']} ({item['impact']}) at {' '.join(map(str, node['target']))}: "
                f"{item['help']}: {summary[-1].strip() if summary else ''} ({item['helpUrl']})"
            )
    return "\n".join(lines)
