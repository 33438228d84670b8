"""Every rule on every road: the same guard gives the same outcome and the same notice to the
sender, and nothing reaches the other side where it refuses, whichever way the message came.

Roads: the WhatsApp, Messenger, Instagram and SMS webhooks (the sandbox posts them signed, a
real worker sends the notices back through it), the buyer's web chat, the seller's web inbox
and the REST API, and the two end-to-end roads (the chat's and the inbox's envelope endpoints,
relay/e2ee_views.py). A guard that cannot apply to a road is left out with the reason in GUARDS.

Photos travel on every road but two: the REST API's message input is text only (it has no
upload and no media field), and an end-to-end envelope carries text only (a photo in an
end-to-end conversation is a plain, relay-mediated web upload: the web chat and inbox roads).
So the photo guards run on the four webhooks (their media payloads, through the sandbox's
media flow) and the two web uploads (Submission.media).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import Endpoint
from marketplace import handles
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import selectors
from relay.api import tokens
from relay.models import Ban, Conversation, Delivery, MediaFetch, MediaFile, Message, Sanction, Side
from relay.notices import render_notice
from relay.pipeline import Outcome
from relay.services import lifecycle, snapshot, web
from relay.services.outbound import open_secret_params
from tests.relay import e2ee_reference as ref
from tests.relay.conftest import BUYER, IDENTITY, SELLER, World, wait_until
from tests.relay.photos import camera_photo

pytestmark = pytest.mark.worker
# The module, not the function the package exports under the same name.
pipeline_submit = importlib.import_module("relay.pipeline.submit")

PLATFORMS = ["whatsapp", "messenger", "instagram", "sms"]
BUYER_ROADS = [*PLATFORMS, "web_chat"]
SELLER_ROADS = ["web_inbox", "api"]
ALL_ROADS = [*BUYER_ROADS, *SELLER_ROADS]
# Web ↔ web end to end: the buyer's and the seller's envelope endpoints.
E2EE_ROADS = ["e2ee_chat", "e2ee_inbox"]
SELLER_SIDE = [*SELLER_ROADS, "e2ee_inbox"]
PHOTO_ROADS = [*PLATFORMS, "web_chat", "web_inbox"]


@pytest.fixture
def outcomes(monkeypatch: pytest.MonkeyPatch) -> list[Outcome]:
    """Every outcome the pipeline returns, in order (observed, not replaced)."""
    seen: list[Outcome] = []
    run = pipeline_submit._run

    def observed(submission: Any) -> Any:
        result = run(submission)
        seen.append(result.outcome)
        return result

    monkeypatch.setattr(pipeline_submit, "_run", observed)
    return seen


@dataclass
class Road:
    """One road into the relay, with the conversation its sender is in."""

    name: str
    world: World
    conversation: Conversation | None = None
    chat: tuple[Client, str] | None = None  # the web-chat buyer's browser and chat page
    api_secret: str = ""
    mark: int = 0  # outbox length before the probe (platforms)
    stranger: bool = False  # a platform sender with no conversation at all
    heard: list[str] = field(default_factory=list)
    devices: list[bytes] = field(default_factory=list)  # end-to-end roads: buyer's, seller's

    @property
    def side(self) -> str:
        return Side.SELLER if self.name in SELLER_SIDE else Side.BUYER

    @property
    def person(self) -> str:
        return (SELLER if self.stranger else BUYER)[self.name]

    def open(self) -> None:
        """A conversation between the sender and the other side (a web seller for buyer
        roads, an SMS buyer for seller roads)."""
        self.world.connect_seller("web")
        if self.name in ("web_chat", *E2EE_ROADS):
            self.chat = self.world.buyer_writes("web", f"{self.world.handle} masih ada?")
        elif self.name in PLATFORMS:
            self.world.buyer_writes(self.name, f"{self.world.handle} masih ada?")
            self.world.sandbox.wait_for_outbox(self.person, 1)  # "Sent to the seller of …"
        else:
            self.world.buyer_writes("sms", f"{self.world.handle} still available?")
            self.world.sandbox.wait_for_outbox(BUYER["sms"], 1)
            self.api_secret = tokens.create_api_token(user=self.world.seller, name="t").secret
        self.conversation = Conversation.objects.get()
        if self.name in E2EE_ROADS:
            self._register_devices()

    def _register_devices(self) -> None:
        """One browser device on each side: the conversation is end to end."""
        assert self.chat is not None
        client, url = self.chat
        for browser, address in (
            (client, url + "devices/"),
            (self.world.seller_web, reverse("relay:seller_device")),
        ):
            device = ref.Device.new()
            key = base64.b64encode(device.public).decode()
            body = json.dumps({"public_key": key})
            answer = browser.post(address, body, content_type="application/json")
            assert answer.status_code == 201, answer.content
            self.devices.append(device.public)

    def sender(self) -> Endpoint:
        if self.side == Side.SELLER:
            return web.seller_web_endpoint(self.world.seller)
        assert self.conversation is not None
        return Endpoint.objects.get(pk=self.conversation.buyer_endpoint_id)

    def language(self) -> str:
        """Platform notices are in the sender's language; web pages in the page's (English)."""
        if self.stranger:  # their endpoint is the newest on that channel
            newest = Endpoint.objects.filter(channel=self.name).latest("id")
            return newest.language
        return self.sender().language if self.name in PLATFORMS else "en"

    def send(self, text: str, *, on: Listing | None = None) -> None:
        """Send `text` by this road; `on`: start on another listing (its handle or page)."""
        if self.name in PLATFORMS:
            self.mark = len(self.world.sandbox.outbox(self.person))
            prefix = f"{handles.live_handle(on).display} " if on is not None else ""  # type: ignore[union-attr]
            answer = self.world.sandbox.send_inbound(
                self.person, IDENTITY[self.name], prefix + text
            )
            assert answer["relay_status"] == 200, answer
        elif self.name == "web_chat":
            self.heard = [self._web_chat(text, on)]
        elif self.name in E2EE_ROADS:
            self.heard = [self._e2ee(text)]
        elif self.name == "web_inbox":
            assert self.conversation is not None
            page = self.world.seller_web.post(
                reverse("relay:conversation", args=[self.conversation.code]),
                {"text": text},
                follow=True,
            )
            self.heard = [html.unescape(page.content.decode())]
        else:
            self.heard = [self._api(text)]

    def _web_chat(self, text: str, on: Listing | None) -> str:
        assert self.chat is not None
        client, url = self.chat
        if on is not None:
            url = reverse("relay:buyer_chat_start", args=[on.code])
        response = client.post(url, {"text": text}, follow=True)
        if response.status_code == 410:
            # The other side's block or end retired the chat link; the page that says so sends
            # the buyer to the listing page to start again, and that road meets the rule.
            assert "This chat has ended" in response.content.decode()
            url = reverse("relay:buyer_chat_start", args=[self.world.listing.code])
            response = client.post(url, {"text": text}, follow=True)
        return html.unescape(response.content.decode())

    def _e2ee(self, text: str) -> str:
        """What the page's script posts: an envelope to every device, and its commitment."""
        assert self.conversation is not None and self.chat is not None
        code = self.conversation.code
        envelope, commitment = ref.seal(text, to=self.devices, conversation=code)
        body = json.dumps({"envelope": envelope, "commitment": commitment})
        if self.name == "e2ee_chat":
            client, url = self.chat[0], self.chat[1] + "e2ee/send/"
        else:
            client, url = self.world.seller_web, reverse("relay:seller_e2ee_send", args=[code])
        response = client.post(url, body, content_type="application/json")
        answer = response.json()
        return " ".join([answer.get("message", ""), *answer.get("notices", [])])

    def send_photo(self, caption: str) -> None:
        """Send the camera photo with `caption`: the platform's media flow, or the web upload
        (the photo first, cleaned and sealed, then the message naming it)."""
        if self.name in PLATFORMS:
            self.mark = len(self.world.sandbox.outbox(self.person))
            answer = self.world.sandbox.send_inbound(
                self.person, IDENTITY[self.name], caption, photo=camera_photo()
            )
            assert answer["relay_status"] == 200, answer
            return
        assert self.conversation is not None
        if self.name == "web_chat":
            assert self.chat is not None
            client, page = self.chat
        else:
            client = self.world.seller_web
            page = reverse("relay:conversation", args=[self.conversation.code])
        upload = SimpleUploadedFile("IMG_2041.jpg", camera_photo(), content_type="image/jpeg")
        uploaded = client.post(page + "photos/", {"photo": upload})
        assert uploaded.status_code == 200, uploaded.content
        sent = client.post(page, {"text": caption, "media": [uploaded.json()["uid"]]}, follow=True)
        self.heard = [html.unescape(sent.content.decode())]

    def _api(self, text: str) -> str:
        assert self.conversation is not None
        response = Client().post(
            f"/api/conversations/{self.conversation.code}/messages/",
            json.dumps({"text": text}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.api_secret}"},
        )
        body = response.json()
        return " ".join([body.get("error", {}).get("message", ""), *body.get("notices", [])])

    def wait_to_hear(self, expected: str) -> None:
        """The sender got `expected`: on their app (through the worker), or on the page."""
        if self.name in PLATFORMS:

            def got() -> bool:
                sent = self.world.sandbox.outbox(self.person)[self.mark :]
                self.heard = [record["text"] for record in sent]
                return any(expected in text for text in self.heard)

            wait_until(got, what=f"{expected!r} on {self.name}")
        else:
            assert any(expected in text for text in self.heard), (expected, self.heard)


@pytest.fixture(params=ALL_ROADS)
def road(request: pytest.FixtureRequest, world: World) -> Road:
    return Road(request.param, world)


def second_listing(world: World) -> Listing:
    return marketplace.create_listing(
        seller=world.seller, title="Road bike", price=Decimal("2750000"), city="Bandung"
    )


def relayed_since(moment: dt.datetime) -> int:
    return Delivery.objects.filter(kind=Delivery.Kind.RELAY, created_at__gte=moment).count()


# --- The guards: each sets the scene, sends a probe, and says what the sender must hear --------


@dataclass(frozen=True)
class Case:
    outcome: Outcome
    notice: str
    params: Callable[[Road], dict[str, str]] = lambda road: {}
    delivered: bool = False  # the probe reaches the other side (masked)
    language: str = ""  # the notice is in this language on every road (else the road's)
    photo: bool = False  # the probe carried a photo


def title(road: Road) -> dict[str, str]:
    return {"title": "Mountain bike"}


def banned(road: Road, settings: Any) -> Case:
    Ban.objects.create(blind_index=road.sender().blind_index)
    snapshot.invalidate()
    road.send("hello")
    return Case(Outcome.BANNED, "banned")


UNTIL = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)


def suspended_sender(road: Road, settings: Any) -> Case:
    if road.side == Side.SELLER:
        Sanction.objects.create(kind=Sanction.Kind.SUSPEND, user=road.world.seller, until=UNTIL)
    else:
        Sanction.objects.create(kind=Sanction.Kind.SUSPEND, endpoint=road.sender(), until=UNTIL)
    snapshot.invalidate()
    road.send("hello")
    shown = f"{UNTIL:%Y-%m-%d %H:%M} UTC"
    return Case(Outcome.SUSPENDED, "suspended_until", lambda road: {"until": shown})


def suspended_other_side(road: Road, settings: Any) -> Case:
    assert road.conversation is not None
    if road.side == Side.SELLER:
        buyer = Endpoint.objects.get(pk=road.conversation.buyer_endpoint_id)
        Sanction.objects.create(kind=Sanction.Kind.SUSPEND, endpoint=buyer, until=UNTIL)
    else:
        Sanction.objects.create(kind=Sanction.Kind.SUSPEND, user=road.world.seller, until=UNTIL)
    snapshot.invalidate()
    road.send("hello")
    return Case(Outcome.OTHER_SIDE_SUSPENDED, "conversation_paused", title)


def hint(road: Road) -> dict[str, str]:
    return {"title": "Mountain bike", "handle": road.world.handle}


def blocked_by_other_side(road: Road, settings: Any) -> Case:
    assert road.conversation is not None
    other = Side.BUYER if road.side == Side.SELLER else Side.SELLER
    lifecycle.block(road.conversation, by_side=other)
    road.send("hello?")
    return Case(Outcome.NOT_OPEN, "conversation_blocked", hint)


def ended_by_other_side(road: Road, settings: Any) -> Case:
    assert road.conversation is not None
    other = Side.BUYER if road.side == Side.SELLER else Side.SELLER
    lifecycle.end(road.conversation, by_side=other)
    road.send("hello?")
    return Case(Outcome.NOT_OPEN, "conversation_blocked", hint)


def messages_per_minute(road: Road, settings: Any) -> Case:
    settings.RELAY_LIMIT_MESSAGES_PER_MINUTE = 0
    road.send("one more thing")
    return Case(Outcome.RATE_LIMITED, "slow_down")


def new_conversations_per_hour(road: Road, settings: Any) -> Case:
    settings.RELAY_LIMIT_NEW_CONVERSATIONS_PER_HOUR = 1
    road.send("and this one?", on=second_listing(road.world))
    return Case(Outcome.RATE_LIMITED, "slow_down")


def first_contacts_per_listing(road: Road, settings: Any) -> Case:
    settings.RELAY_LIMIT_FIRST_CONTACTS_PER_LISTING_PER_HOUR = 0
    road.send("and this one?", on=second_listing(road.world))
    return Case(Outcome.RATE_LIMITED, "listing_busy", lambda road: {"title": "Road bike"})


def unknown_handle_guesses(road: Road, settings: Any) -> Case:
    settings.RELAY_LIMIT_UNKNOWN_HANDLES_PER_HOUR = 0
    # Someone in no conversation (one would route the text), guessing handles.
    road.stranger = True
    road.send("ZZZZ-9999 is this available?")
    return Case(Outcome.RATE_LIMITED, "slow_down")


def web_chat_starts(road: Road, settings: Any) -> Case:
    settings.RELAY_LIMIT_WEB_CHATS_PER_NETWORK_PER_HOUR = 1
    road.send("and this one?", on=second_listing(road.world))
    return Case(Outcome.RATE_LIMITED, "slow_down")


def placeholder(road: Road) -> str:
    """The number guard's placeholder is in the reader's language: the other side's."""
    assert road.conversation is not None
    if road.side == Side.SELLER:
        reader = Endpoint.objects.get(pk=road.conversation.buyer_endpoint_id)
    else:
        reader = web.seller_web_endpoint(road.world.seller)  # open() connects the web inbox
    return "[disembunyikan]" if reader.language == "id" else "[hidden]"


def masked(road: Road) -> dict[str, str]:
    return {"kinds": "phone", "placeholder": placeholder(road)}


def indonesian_number(road: Road, settings: Any) -> Case:
    road.send("call me 0812-3456-7890 ok")
    return Case(Outcome.RELAYED, "contact_masked", masked, delivered=True)


def us_number(road: Road, settings: Any) -> Case:
    road.send("text me at (415) 555-0188 tonight")
    return Case(Outcome.RELAYED, "contact_masked", masked, delivered=True)


SPAM = "Cheap bikes wholesale, visit my shop today for the best deals"


def spam_hold(road: Road, settings: Any) -> Case:
    settings.RELAY_DUPLICATE_LISTINGS_PER_HOUR = 2
    road.send(SPAM)
    road.send(SPAM, on=second_listing(road.world))
    return Case(Outcome.HELD, "held_as_spam")


def language_switch(road: Road, settings: Any) -> Case:
    road.send("BAHASA")
    return Case(Outcome.LANGUAGE_SET, "language_set", language="id")


def english_switch(road: Road, settings: Any) -> Case:
    road.send("ENGLISH")
    return Case(Outcome.LANGUAGE_SET, "language_set", language="en")


def _sent_code(road: Road) -> dict[str, str]:
    """The code travels sealed in its notice: the test opens it as the worker does."""
    notice = Delivery.objects.filter(notice_code="data_request_code").latest("pk")
    return open_secret_params(notice)


def data_request(road: Road, settings: Any) -> Case:
    road.send("MYDATA")
    if road.name in PLATFORMS:
        return Case(Outcome.DATA_REQUEST, "data_request_code", _sent_code)
    url = settings.RELAY_PUBLIC_URL + reverse("relay:privacy")
    return Case(Outcome.DATA_REQUEST, "data_request_web", lambda road: {"url": url})


def invisible_only(road: Road, settings: Any) -> Case:
    road.send("\u200b\u200d\u2060\ufeff")
    return Case(Outcome.EMPTY, "empty_message")


# --- Photos: the same guards on the roads that carry one -----------------------------------------


def photo_rate(road: Road, settings: Any) -> Case:
    settings.RELAY_LIMIT_MEDIA_PER_HOUR = 0
    road.send_photo("the scratch on the frame")
    limit = {"limit": "0"}
    return Case(Outcome.RATE_LIMITED, "media_slow_down", lambda road: limit, photo=True)


def photo_caption_number(road: Road, settings: Any) -> Case:
    road.send_photo("call me 0812-3456-7890 ok")
    return Case(Outcome.RELAYED, "contact_masked", masked, delivered=True, photo=True)


def photo_banned(road: Road, settings: Any) -> Case:
    Ban.objects.create(blind_index=road.sender().blind_index)
    snapshot.invalidate()
    road.send_photo("look")
    return Case(Outcome.BANNED, "banned", photo=True)


def photo_suspended(road: Road, settings: Any) -> Case:
    case = suspended_sender(road, settings)  # its text probe is refused and stores nothing
    road.send_photo("look")
    return Case(case.outcome, case.notice, case.params, photo=True)


GUARDS: dict[str, tuple[Callable[[Road, Any], Case], list[str]]] = {
    "banned": (banned, [*ALL_ROADS, *E2EE_ROADS]),
    "suspended_sender": (suspended_sender, [*ALL_ROADS, *E2EE_ROADS]),
    "suspended_other_side": (suspended_other_side, [*ALL_ROADS, *E2EE_ROADS]),
    # A buyer's chat link is retired by the seller's block or end before any guard runs: the
    # encrypted chat road meets that in test_a_retired_chat_link_carries_no_envelope.
    "blocked": (blocked_by_other_side, [*ALL_ROADS, "e2ee_inbox"]),
    "ended": (ended_by_other_side, [*ALL_ROADS, "e2ee_inbox"]),
    "messages_per_minute": (messages_per_minute, [*ALL_ROADS, *E2EE_ROADS]),
    # Sellers answer in their buyers' conversations; they open none, guess no handle, and
    # spam across listings is a buyer's.
    "new_conversations_per_hour": (new_conversations_per_hour, BUYER_ROADS),
    "first_contacts_per_listing": (first_contacts_per_listing, BUYER_ROADS),
    "spam_hold": (spam_hold, BUYER_ROADS),
    # Web roads name their conversation or listing: there is no handle to guess.
    "unknown_handle_guesses": (unknown_handle_guesses, PLATFORMS),
    "web_chat_starts": (web_chat_starts, ["web_chat"]),
    "number_guard_id": (indonesian_number, ALL_ROADS),
    "number_guard_us": (us_number, ALL_ROADS),
    "invisible_only": (invisible_only, ALL_ROADS),
    # BAHASA is answered in Indonesian on every road, whatever the page's language.
    "language_switch": (language_switch, ALL_ROADS),
    "english_switch": (english_switch, ALL_ROADS),
    # A buyer gets a code in their own app (sealed, never a plain parameter); on the web the
    # answer names the "Your data" page. Sellers erase through their account.
    "data_request": (data_request, BUYER_ROADS),
    # The end-to-end roads run no body guard on the server (it cannot read the body; the
    # sender's browser runs them, tests/browser/test_e2ee.py), and carry no photo.
    "photo_rate": (photo_rate, PHOTO_ROADS),
    "photo_caption_number": (photo_caption_number, PHOTO_ROADS),
    "photo_banned": (photo_banned, PHOTO_ROADS),
    "photo_suspended": (photo_suspended, PHOTO_ROADS),
}


def cases() -> Iterator[Any]:
    for guard, (_setup, roads) in GUARDS.items():
        for name in roads:
            yield pytest.param(guard, name, id=f"{guard}-{name}")


@pytest.mark.parametrize(("guard", "road_name"), list(cases()))
def test_the_same_rule_holds_on_every_road(
    guard: str, road_name: str, world: World, outcomes: list[Outcome], settings: Any
) -> None:
    road = Road(road_name, world)
    road.open()
    setup = GUARDS[guard][0]
    before = timezone.now()
    outcomes.clear()
    case = setup(road, settings)

    assert outcomes[-1] == case.outcome
    expected = render_notice(case.notice, case.language or road.language(), case.params(road))
    road.wait_to_hear(expected)
    if case.delivered:
        # The other side gets the text with the number hidden, nothing more.
        assert relayed_since(before) == 1
        assert road.conversation is not None
        other = Side.BUYER if road.side == Side.SELLER else Side.SELLER
        shown = selectors.messages_for(road.conversation, viewer_side=other)[-1].text
        assert placeholder(road) in shown and "555-0188" not in shown and "3456" not in shown
        if case.photo:  # and the photo with it (a platform's still downloading, or stored)
            message = Message.objects.get(created_at__gte=before)
            assert (
                message.media_files.exists() or MediaFetch.objects.filter(message=message).exists()
            )
    else:
        # Refused: nothing stored, nothing on its way. A held message is stored sealed (as
        # evidence) and never delivered; the spam case relayed its first copy.
        spam = guard == "spam_hold"
        assert relayed_since(before) == (1 if spam else 0)
        assert Message.objects.filter(created_at__gte=before).count() == (2 if spam else 0)
        if case.photo:  # a refused photo is neither fetched nor tied to a message
            assert not MediaFetch.objects.exists()
            assert not MediaFile.objects.filter(message__isnull=False).exists()


@pytest.mark.parametrize("step", ["block", "end"])
def test_a_retired_chat_link_carries_no_envelope(step: str, world: World) -> None:
    """The seller's block or end retires the buyer's chat link: an envelope posted to it is
    answered by the page that says the chat ended, and nothing is stored or sent."""
    road = Road("e2ee_chat", world)
    road.open()
    assert road.conversation is not None and road.chat is not None
    (lifecycle.block if step == "block" else lifecycle.end)(road.conversation, by_side=Side.SELLER)
    before = timezone.now()
    envelope, commitment = ref.seal("masih?", to=road.devices, conversation=road.conversation.code)
    client, url = road.chat
    body = json.dumps({"envelope": envelope, "commitment": commitment})
    answer = client.post(url + "e2ee/send/", body, content_type="application/json")
    assert answer.status_code == 410
    assert "This chat has ended" in answer.content.decode()
    assert not Message.objects.filter(created_at__gte=before).exists()
    assert relayed_since(before) == 0
