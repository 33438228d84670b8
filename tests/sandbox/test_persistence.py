"""The phones page keeps its history across restarts when SANDBOX_STATE_FILE is set (make run).

The sandbox is restarted the way `make run` stops it (SIGTERM to `python -m sandbox`), and a
second process reads the same file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sandbox.client import SandboxClient
from sandbox.config import SandboxConfig
from sandbox.server import start_sandbox
from tests.sandbox.conftest import WHATSAPP_TOKEN, FakeRelay, Relay, wait_until

ROOT = Path(__file__).resolve().parents[2]
SELLER = {
    "key": "dewi-wa",
    "name": "Dewi (seller)",
    "channel": "whatsapp",
    "address": "+6281399990001",
    "language": "id",
}


class SandboxProcess:
    def __init__(self, state_file: Path, relay_url: str) -> None:
        env = dict(
            os.environ,
            SANDBOX_PORT="0",
            SANDBOX_RELAY_URL=relay_url,
            SANDBOX_STATE_FILE=str(state_file),
            WHATSAPP_ACCESS_TOKEN=WHATSAPP_TOKEN,
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().split()[3]
        self.client = SandboxClient(self.url)

    def stop(self) -> int:
        """SIGTERM, as run_demo stops it on Ctrl-C; return the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=10)


@pytest.fixture
def processes() -> Iterator[list[SandboxProcess]]:
    started: list[SandboxProcess] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(timeout=10)


def test_a_new_sellers_phone_and_its_messages_are_still_there_after_a_restart(
    tmp_path: Path, relay: FakeRelay, processes: list[SandboxProcess]
) -> None:
    state_file = tmp_path / "sandbox-state.json"
    first = SandboxProcess(state_file, relay.url)
    processes.append(first)
    first.client.add_people([SELLER])
    first.client.send_inbound("dewi-wa", "wa-main", "Masih ada, kak?")
    answer = Relay(first.url).whatsapp_text(SELLER["address"][1:], "Masih, silakan datang.")
    assert answer.status_code == 200
    wait_until(lambda: first.client.outbox(person="dewi-wa")[0]["status"] == "read")
    # Written while running, not only at a clean stop: a crash loses at most the last second.
    wait_until(lambda: state_file.exists() and "silakan datang" in state_file.read_text())
    assert first.stop() == 0

    second = SandboxProcess(state_file, relay.url)
    processes.append(second)

    people = {person["key"]: person for person in second.client.state()["people"]}
    assert people["dewi-wa"]["name"] == "Dewi (seller)"
    assert people["dewi-wa"]["display_address"] == "+62 813-9999-0001"
    assert "ana" in people  # the fixture's people are still there too
    assert [m["text"] for m in second.client.inbound(person="dewi-wa")] == ["Masih ada, kak?"]
    received = second.client.outbox(person="dewi-wa")
    assert [(m["text"], m["status"]) for m in received] == [("Masih, silakan datang.", "read")]

    # The restored history goes on: a new message is numbered after the old ones.
    second.client.send_inbound("dewi-wa", "wa-main", "Oke, besok saya ke sana.")
    texts = [m["text"] for m in second.client.inbound(person="dewi-wa")]
    assert texts == ["Masih ada, kak?", "Oke, besok saya ke sana."]
    indexes = [m["index"] for m in second.client.inbound()]
    assert len(indexes) == len(set(indexes))


def test_without_a_state_file_the_sandbox_keeps_nothing_on_disk(
    tmp_path: Path, relay: FakeRelay
) -> None:
    config = SandboxConfig(relay_url=relay.url, port=0)
    assert SandboxConfig.from_env({}).state_file is None
    with start_sandbox(config) as running:
        SandboxClient(running.url).add_people([SELLER])
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_state_file_is_set_aside_and_the_sandbox_starts_empty(
    tmp_path: Path, relay: FakeRelay
) -> None:
    state_file = tmp_path / "sandbox-state.json"
    state_file.write_text("{not json")
    config = SandboxConfig(relay_url=relay.url, port=0, state_file=state_file)
    with start_sandbox(config) as running:
        assert requests.get(running.url + "/healthz", timeout=5).text == "ok"
        SandboxClient(running.url).add_people([SELLER])
    assert (tmp_path / "sandbox-state.json.damaged").read_text() == "{not json"
    saved = json.loads(state_file.read_text())
    assert [person["key"] for person in saved["people"]] == ["dewi-wa"]
