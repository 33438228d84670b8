"""Property: no correctly signed body makes a webhook answer 5xx, and a 400 stores nothing.

Bodies are random JSON / form data, and mutations of the documented fixtures (a key dropped,
a value replaced by something of another type, an item duplicated). Bounded for CI: about 100
examples per platform and shape, no deadline (the database is in the loop).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay import services as relay
from relay.models import Message
from tests.adapters.documented import IDENTITIES, all_fixtures, post

FIXTURES = all_fixtures()
META_PLATFORMS = ("whatsapp", "messenger", "instagram")
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a CI failure reproduces locally
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_fixture(draw: st.DrawFn, platform: str) -> bytes:
    """A documented payload with one to three things broken."""
    fixture = draw(st.sampled_from([f for f in FIXTURES if f.platform == platform]))
    document = json.loads(fixture.body)
    for _ in range(draw(st.integers(1, 3))):
        paths = [path for path in _paths(document) if path]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["drop", "replace", "duplicate"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(json_values)
        elif isinstance(parent, list):
            parent.append(parent[path[-1]])
    return json.dumps(document).encode()


@st.composite
def meta_envelope(draw: st.DrawFn, platform: str) -> bytes:
    """Random JSON, usually inside the right envelope so the readers below it get exercised."""
    obj = {"whatsapp": "whatsapp_business_account", "messenger": "page"}.get(platform, platform)
    inner = draw(json_values)
    shape = draw(st.sampled_from(["bare", "entry", "event"]))
    if shape == "bare":
        return json.dumps(inner).encode()
    key = "changes" if platform == "whatsapp" else "messaging"
    entries: list[Any] = [{"id": IDENTITIES[platform][0], "time": 1458692752478, key: [inner]}]
    if shape == "entry":
        entries = [inner]
    return json.dumps({"object": obj, "entry": entries}).encode()


twilio_keys = st.sampled_from(
    ["MessageSid", "SmsSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MessageStatus",
     "ErrorCode", "OptOutType", "AccountSid"]
)  # fmt: skip


@st.composite
def twilio_form(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        fixture = draw(st.sampled_from([f for f in FIXTURES if f.platform == "sms"]))
        return fixture.body + draw(st.binary(max_size=8))
    fields = draw(
        st.dictionaries(st.one_of(twilio_keys, st.text(max_size=8)), st.text(), max_size=8)
    )
    return urlencode(fields).encode()


@pytest.fixture
def identities(db: None) -> None:
    for channel, (provider_id, address) in IDENTITIES.items():
        relay.add_relay_identity(channel=channel, provider_id=provider_id, address=address)


ANSWERS: dict[str, set[int]] = {}


def check(client: Client, platform: str, body: bytes) -> None:
    before = Message.objects.count()
    response = post(client, platform, body)
    assert response.status_code < 500, response.content
    if response.status_code == 400:
        assert Message.objects.count() == before
    ANSWERS.setdefault(platform, set()).add(response.status_code)


@pytest.mark.parametrize("platform", META_PLATFORMS)
def test_mutated_documented_payloads_never_answer_5xx(
    client: Client, identities: None, platform: str
) -> None:
    @FUZZ
    @given(body=mutated_fixture(platform))
    def run(body: bytes) -> None:
        check(client, platform, body)

    run()
    assert ANSWERS[platform] >= {200, 400}  # both roads were taken: the fuzz reached the readers


@pytest.mark.parametrize("platform", META_PLATFORMS)
def test_random_json_never_answers_5xx(client: Client, identities: None, platform: str) -> None:
    @FUZZ
    @given(body=meta_envelope(platform))
    def run(body: bytes) -> None:
        check(client, platform, body)

    run()


def test_random_twilio_forms_never_answer_5xx(client: Client, identities: None) -> None:
    @FUZZ
    @given(body=twilio_form())
    def run(body: bytes) -> None:
        check(client, "sms", body)

    run()
    assert 200 in ANSWERS["sms"]
