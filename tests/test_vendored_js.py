"""The one third-party script the pages serve (static/vendor/libphonenumber-max.js, for the
browser's number guard) is the file of the version package-lock.json pins, byte for byte.

The copy is committed so `make run` needs nothing but Python; `make js` refreshes it from
node_modules. A lock file bumped without refreshing the copy fails here."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENDORED = ROOT / "static" / "vendor" / "libphonenumber-max.js"
BUNDLE = ROOT / "node_modules" / "libphonenumber-js" / "bundle" / "libphonenumber-max.js"


def test_the_vendored_phone_library_is_the_locked_version() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/libphonenumber-js"]["version"]
    assert VENDORED.is_file(), "static/vendor/libphonenumber-max.js is missing: run make js"
    if not BUNDLE.is_file():
        pytest.skip("node_modules not installed (make js): only the pin is checked")
    installed = json.loads(BUNDLE.parent.parent.joinpath("package.json").read_text())["version"]
    assert installed == pinned, "node_modules is not the locked version: run make js"
    assert VENDORED.read_bytes() == BUNDLE.read_bytes(), "refresh the copy: make js"
