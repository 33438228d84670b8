"""Drive the sandbox: people write to the relay, and the sandbox records what comes out.

The sandbox posts every inbound webhook (signed, as the platform would) and records every send
the relay makes; the harness only asks it to and reads its record afterwards. Each text carries
a unique token `m_<n>_` so a relayed send can be matched to the message that caused it:
lost = accepted (HTTP 2xx) messages whose token never reached the sandbox's send API,
duplicated = tokens the send API received more than once.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

TOKEN = re.compile(r"m_(\d+)_")
# The conversation tag in a relayed message: "(#K7Q2)" in the header, "start with #K7Q2." in
# the first message's introduction.
TAG = re.compile(r"#([0-9A-Z]{4})(?![0-9A-Za-z])")
IDENTITY_FOR = {
    "whatsapp": "wa-main",
    "sms": "sms-main",
    "messenger": "fb-page",
    "instagram": "ig-main",
}
CHANNELS = ("whatsapp", "sms", "messenger", "instagram")


class Control:
    """A keep-alive client for the sandbox's control API (one per thread)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        if params:
            path = path + "?" + urlencode(params)
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.status >= 400:
                    raise RuntimeError(f"sandbox {method} {path}: {response.status} {data[:300]!r}")
                return json.loads(data)
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        return None

    def inbound(
        self, person: str, identity: str, text: str, reply_to: str | None = None
    ) -> dict[str, Any]:
        return self.call(
            "POST",
            "/control/inbound",
            {"person": person, "identity": identity, "text": text, "reply_to": reply_to},
        )


_local = threading.local()


def control(port: int) -> Control:
    client = getattr(_local, "control", None)
    if client is None or client.port != port:
        client = Control(port)
        _local.control = client
    return client


def phone(prefix: str, number: int) -> str:
    return f"+62{prefix}{number:07d}"


def make_people(
    prefix: str, count: int, channels: tuple[str, ...], start: int = 0
) -> list[dict[str, Any]]:
    people = []
    for i in range(start, start + count):
        channel = channels[i % len(channels)]
        if channel in ("whatsapp", "sms"):
            address = phone("8135" if prefix == "b" else "8139", i)
        else:
            address = ("93" if prefix == "b" else "97") + f"{i:014d}"
        people.append(
            {
                "key": f"{prefix}{i}",
                "name": f"{prefix}{i}",
                "channel": channel,
                "address": address,
                "bsuid": None,
                "language": "en",
            }
        )
    return people


@dataclass
class Sent:
    token: int
    sender: str
    recipient: str  # the person the relay should deliver to
    kind: str  # first | follow | reply
    scheduled: float
    started: float = 0.0
    acked: float = 0.0
    status: int = 0
    ack_ms: float = 0.0
    provider_message_id: str = ""
    reply_to: str = ""  # the platform id of the relayed message a reply quotes


@dataclass
class Run:
    """Everything one load phase sent, and the sandbox's record of what came out."""

    sent: dict[int, Sent] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)
    late_starts: int = 0
    skipped_offers: int = 0
    t_start: float = 0.0
    t_end: float = 0.0


class World:
    """Who is who: sellers with their listing handles, buyers and their sellers."""

    def __init__(self, sellers: dict[str, dict[str, Any]], buyers: list[dict[str, Any]]) -> None:
        self.sellers = sellers  # key -> {"person": {...}, "handles": [...]}
        self.buyers = buyers
        self.person = {p["key"]: p for p in buyers}
        for seller in sellers.values():
            self.person[seller["person"]["key"]] = seller["person"]
        self.buyer_seller: dict[str, str] = {}
        self.listing_of: dict[str, str] = {}
        seller_keys = sorted(sellers)
        for index, buyer in enumerate(buyers):
            seller_key = seller_keys[index % len(seller_keys)]
            handles = sellers[seller_key]["handles"]
            self.buyer_seller[buyer["key"]] = seller_key
            self.listing_of[buyer["key"]] = handles[(index // len(seller_keys)) % len(handles)]
        self.token = itertools.count(1)
        self.origin: dict[int, str] = {}  # token -> who wrote it, across phases
        self.lock = threading.Lock()
        self.fresh = collections.deque(b["key"] for b in buyers)
        self.active: list[str] = []
        self.active_set: set[str] = set()
        # what sellers received and may answer: (ready_at, seller key, provider id, buyer key)
        # (ready at, seller, provider id of what they received, token, "#TAG " for SMS or "")
        self.seller_inbox: collections.deque[tuple[float, str, str, str, str]] = collections.deque()

    def identity(self, person_key: str) -> str:
        return IDENTITY_FOR[self.person[person_key]["channel"]]


def send_one(
    world: World,
    run: Run,
    port: int,
    sender: str,
    recipient: str,
    kind: str,
    text: str,
    reply_to: str | None,
    scheduled: float,
) -> Sent:
    token = next(world.token)
    record = Sent(token, sender, recipient, kind, scheduled, reply_to=reply_to or "")
    record.started = time.time()
    with run.lock:
        run.sent[token] = record
    world.origin[token] = sender
    try:
        answer = control(port).inbound(
            sender, world.identity(sender), f"{text} m_{token}_", reply_to
        )
        record.status = int(answer["relay_status"])
        record.ack_ms = float(answer["ack_ms"])
        record.provider_message_id = answer["provider_message_id"]
    except Exception as error:  # recorded, counted as not accepted
        with run.lock:
            if len(run.errors) < 20:
                run.errors.append(f"{type(error).__name__}: {error}")
    record.acked = time.time()
    return record


def first_message(world: World, run: Run, port: int, buyer: str, scheduled: float) -> None:
    seller = world.buyer_seller[buyer]
    handle = world.listing_of[buyer]
    record = send_one(
        world,
        run,
        port,
        buyer,
        world.sellers[seller]["person"]["key"],
        "first",
        f"{handle} is it still available?",
        None,
        scheduled,
    )
    if 200 <= record.status < 300:
        with world.lock:
            if buyer not in world.active_set:
                world.active_set.add(buyer)
                world.active.append(buyer)


def follow_up(world: World, run: Run, port: int, buyer: str, scheduled: float) -> None:
    seller = world.sellers[world.buyer_seller[buyer]]["person"]["key"]
    send_one(world, run, port, buyer, seller, "follow", "what is the lowest price", None, scheduled)


def seller_reply(
    world: World, run: Run, port: int, item: tuple[float, str, str, str, str], scheduled: float
) -> None:
    _ready, seller, provider_id, buyer, prefix = item
    send_one(
        world,
        run,
        port,
        seller,
        buyer,
        "reply",
        f"{prefix}yes still available",
        provider_id,
        scheduled,
    )


# --- Peer-shaped: closed loop ---------------------------------------------------------------


class MixSequence:
    """The peer-shaped message mix as a fixed, seeded sequence decided by message index alone.

    Message i is a buyer's first contact (with the listing handle) when i is a multiple of
    `first_every` and buyers remain; otherwise a follow-up (plain text, routed by the identity
    pool) from a buyer drawn by a seeded generator among those introduced at least `lag` first
    contacts earlier (or a first contact while none is). So two runs of different speed send
    the same mix for the same count: A and B of an A/B compare like with like, where the
    earlier loop sent len(buyers) first contacts before any follow-up.
    """

    def __init__(self, buyers: list[str], *, seed: int, first_every: int = 4, lag: int = 8) -> None:
        if first_every < 1:
            raise ValueError("first_every must be at least 1")
        self.buyers, self.first_every, self.lag = buyers, first_every, lag
        self._rng = random.Random(seed)
        self._items: list[tuple[str, str]] = []
        self._firsts = 0
        self._lock = threading.Lock()

    def __getitem__(self, index: int) -> tuple[str, str]:
        """(buyer key, "first" | "follow") of message `index`."""
        with self._lock:
            while len(self._items) <= index:
                self._items.append(self._next(len(self._items)))
            return self._items[index]

    def _next(self, index: int) -> tuple[str, str]:
        introduced = self._firsts - self.lag
        remaining = self._firsts < len(self.buyers)
        if remaining and (index % self.first_every == 0 or introduced <= 0):
            self._firsts += 1
            return self.buyers[self._firsts - 1], "first"
        pool = max(1, introduced) if remaining else self._firsts
        return self.buyers[self._rng.randrange(pool)], "follow"


def closed_loop(
    world: World,
    run: Run,
    port: int,
    senders: int,
    duration: float,
    sequence: MixSequence,
) -> None:
    """`senders` threads, each sending its next message as soon as the last one is acknowledged,
    in the order of `sequence`. A follow-up waits (up to 30 s) for its buyer's first contact to
    be acknowledged, which the lag makes rare: else the relay would not know the buyer yet."""
    counter = itertools.count()
    introduced: dict[str, threading.Event] = collections.defaultdict(threading.Event)
    deadline = time.time() + duration

    def loop() -> None:
        while time.time() < deadline:
            buyer, kind = sequence[next(counter)]
            with world.lock:
                known = introduced[buyer]
            if kind == "first":
                first_message(world, run, port, buyer, time.time())
                known.set()
            else:
                known.wait(30)
                follow_up(world, run, port, buyer, time.time())

    run.t_start = time.time()
    threads = [threading.Thread(target=loop, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 60)
    run.t_end = time.time()


# --- Full mix: open loop ------------------------------------------------------------------


class OutboxWatcher:
    """Polls the sandbox's outbox so sellers can answer what they received (reply context)."""

    def __init__(self, world: World, port: int, reply_delay: float = 1.0) -> None:
        self.world, self.port, self.reply_delay = world, port, reply_delay
        self.since = 0
        self.records: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.seller_keys = {s["person"]["key"] for s in world.sellers.values()}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def poll(self) -> None:
        fresh = Control(self.port).call("GET", "/control/outbox", params={"since": self.since})
        if not fresh:
            return
        self.since = fresh[-1]["index"] + 1
        self.records.extend(fresh)
        ready = time.time() + self.reply_delay
        with self.world.lock:
            for send in fresh:
                if send["person"] in self.seller_keys and send["type"] == "text":
                    match = TOKEN.search(send["text"] or "")
                    if match:
                        # SMS has no reply context: a seller answers with the conversation's
                        # tag, as the relay's first message told them ("start with #TAG").
                        tag = TAG.search(send["text"] or "")
                        prefix = f"#{tag.group(1)} " if tag and send["channel"] == "sms" else ""
                        # the buyer this is from: read from the token's record by the caller
                        self.world.seller_inbox.append(
                            (
                                ready,
                                send["person"],
                                send["provider_message_id"],
                                match.group(1),
                                prefix,
                            )
                        )

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            with contextlib.suppress(Exception):
                self.poll()


def open_loop(
    world: World,
    run: Run,
    port: int,
    rate: float,
    duration: float,
    mix: dict[str, float],
    threads: int = 96,
) -> None:
    """Offer `rate` messages/s for `duration` s, whatever the relay's answers take."""
    pool = ThreadPoolExecutor(max_workers=threads)
    pending = [0]
    pending_lock = threading.Lock()
    rng = random.Random(7)

    def act(scheduled: float) -> None:
        try:
            _offer_one(world, run, port, mix, rng, scheduled)
        finally:
            with pending_lock:
                pending[0] -= 1

    with world.lock:
        # What sellers received in an earlier phase cannot be checked by this run: answer only
        # what arrives from now on (else a short phase spends its reply share on leftovers).
        world.seller_inbox.clear()
    run.t_start = time.time()
    for scheduled in _offer_times(run.t_start, rate, duration):
        with pending_lock:
            if pending[0] >= threads * 4:
                run.skipped_offers += 1
                continue
            pending[0] += 1
        pool.submit(act, scheduled)
    pool.shutdown(wait=True)
    run.t_end = time.time()


def _offer_times(start: float, rate: float, duration: float) -> Iterator[float]:
    """The scheduled time of each offer, `rate` per second from `start`, each waited for."""
    interval = 1.0 / rate
    deadline = start + duration
    n = 0
    while (scheduled := start + n * interval) < deadline:
        delay = scheduled - time.time()
        if delay > 0:
            time.sleep(delay)
        yield scheduled
        n += 1


def _offer_one(
    world: World, run: Run, port: int, mix: dict[str, float], rng: random.Random, scheduled: float
) -> None:
    """Send one offered message: a seller's due reply, a first message or a follow-up."""
    if time.time() - scheduled > 0.1:
        with run.lock:
            run.late_starts += 1
    item, buyer, kind = _next_offer(world, mix, rng.random(), rng)
    if item is not None:
        origin = run.sent.get(int(item[3]))
        if origin is not None:
            reply = (item[0], item[1], item[2], origin.sender, item[4])
            seller_reply(world, run, port, reply, scheduled)
            return
        # Something relayed in an earlier phase (this run cannot check a reply to it):
        # offer a follow-up instead, so the phase still offers its whole rate.
        buyer, kind = _active_buyer(world, rng)
    if buyer is None:
        return
    if kind == "first":
        first_message(world, run, port, buyer, scheduled)
    else:
        follow_up(world, run, port, buyer, scheduled)


def _next_offer(
    world: World, mix: dict[str, float], roll: float, rng: random.Random
) -> tuple[tuple[float, str, str, str, str] | None, str | None, str]:
    """(seller inbox item, None, "") for a due reply, else (None, buyer, "first" | "follow")."""
    with world.lock:
        if roll < mix["reply"] and world.seller_inbox and world.seller_inbox[0][0] <= time.time():
            return world.seller_inbox.popleft(), None, ""
        if (roll < mix["reply"] + mix["first"] or not world.active) and world.fresh:
            return None, world.fresh.popleft(), "first"
        if world.active:
            return None, world.active[rng.randrange(len(world.active))], "follow"
    return None, None, ""


def _active_buyer(world: World, rng: random.Random) -> tuple[str | None, str]:
    with world.lock:
        if world.active:
            return world.active[rng.randrange(len(world.active))], "follow"
    return None, ""


# --- Reading the sandbox's record --------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


def drain(
    port: int, run: Run, timeout: float, watcher: OutboxWatcher | None = None
) -> list[dict[str, Any]]:
    """Wait until every accepted token reached the send API (or timeout); return the outbox."""
    accepted = {t for t, s in run.sent.items() if 200 <= s.status < 300}
    deadline = time.time() + timeout
    client = Control(port)
    seen: set[int] = set()
    records: list[dict[str, Any]] = [] if watcher is None else watcher.records
    since = 0 if watcher is None else watcher.since
    while True:
        fresh = client.call("GET", "/control/outbox", params={"since": since})
        if fresh:
            since = fresh[-1]["index"] + 1
            records.extend(fresh)
        seen = {int(m.group(1)) for r in records for m in [TOKEN.search(r.get("text") or "")] if m}
        if accepted <= seen or time.time() > deadline:
            break
        time.sleep(0.25)
    return records


def settle_statuses(port: int, quiet: float = 1.5, timeout: float = 30.0) -> None:
    """Wait until the sandbox has posted no webhook for `quiet` seconds (statuses are done)."""
    client = Control(port)
    last, since_change = -1, time.time()
    deadline = time.time() + timeout
    while time.time() < deadline:
        count = client.call("GET", "/control/state")["counts"]["webhooks"]
        if count != last:
            last, since_change = count, time.time()
        elif time.time() - since_change >= quiet:
            return
        time.sleep(0.25)


def analyse(port: int, run: Run, outbox: list[dict[str, Any]], latency_ms: int) -> dict[str, Any]:
    client = Control(port)
    inbound = {
        r["provider_message_id"]: r
        for r in client.call("GET", "/control/inbound", params={"since": 0})
    }
    webhooks = client.call("GET", "/control/webhooks", params={"since": 0})
    window = (run.t_start, run.t_end)
    duration = max(1e-6, window[1] - window[0])
    accepted = {t: s for t, s in run.sent.items() if 200 <= s.status < 300}
    arrivals, notices_to = _arrivals(outbox)
    e2e, relayed_in_window = _end_to_end(run, arrivals, inbound, latency_ms / 1000, window)
    return {
        **_offered(run, accepted, duration),
        "relayed": len(arrivals),
        "relayed_per_s": round(relayed_in_window / duration, 1),
        **_delivered(run, accepted, arrivals, notices_to),
        **_webhook_acks(webhooks, window, duration),
        "e2e_p50_ms": percentile(e2e, 50),
        "e2e_p95_ms": percentile(e2e, 95),
        "e2e_p99_ms": percentile(e2e, 99),
        "e2e_max_ms": percentile(e2e, 100),
    }


def _arrivals(
    outbox: list[dict[str, Any]],
) -> tuple[dict[int, list[dict[str, Any]]], dict[str, list[float]]]:
    """The sends that carry a token, by token; the times of the notices, by recipient."""
    arrivals: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    notices_to: dict[str, list[float]] = collections.defaultdict(list)
    for send in {send["index"]: send for send in outbox}.values():
        match = TOKEN.search(send.get("text") or "")
        if match:
            arrivals[int(match.group(1))].append(send)
        else:
            notices_to[send["person"] or ""].append(send["received_at"])
    return arrivals, notices_to


def _end_to_end(
    run: Run,
    arrivals: dict[int, list[dict[str, Any]]],
    inbound: dict[str, dict[str, Any]],
    latency_s: float,
    window: tuple[float, float],
) -> tuple[list[float], int]:
    """Milliseconds from the platform's webhook to the relay's send, and how many sends fell
    inside the window."""
    e2e = []
    relayed_in_window = 0
    for token, sends in arrivals.items():
        origin = run.sent.get(token)
        if origin is None:
            continue
        arrived = sends[0]["received_at"] - latency_s  # the send request reached the platform
        posted = inbound.get(origin.provider_message_id, {}).get("sent_at", origin.started)
        e2e.append((arrived - posted) * 1000)
        if window[0] <= sends[0]["received_at"] <= window[1]:
            relayed_in_window += 1
    return e2e, relayed_in_window


def _offered(run: Run, accepted: dict[int, Sent], duration: float) -> dict[str, Any]:
    return {
        "window_s": round(duration, 2),
        "offered": len(run.sent),
        "offered_per_s": round(len(run.sent) / duration, 1),
        "accepted": len(accepted),
        "refused_or_failed_posts": len(run.sent) - len(accepted),
        "post_errors": run.errors[:5],
        "late_starts": run.late_starts,
        "skipped_offers": run.skipped_offers,
        "kinds": dict(collections.Counter(s.kind for s in accepted.values())),
    }


def _delivered(
    run: Run,
    accepted: dict[int, Sent],
    arrivals: dict[int, list[dict[str, Any]]],
    notices_to: dict[str, list[float]],
) -> dict[str, Any]:
    """What reached the sandbox: lost, duplicated, misrouted or out of order."""
    lost = [t for t in accepted if t not in arrivals]
    # Not relayed, but the relay answered its sender with a notice (e.g. a reply whose quoted
    # message it could not match): routed to "help", not lost.
    unrouted = [
        t
        for t in lost
        if any(at >= accepted[t].started for at in notices_to.get(accepted[t].sender, []))
    ]
    duplicated = [t for t, sends in arrivals.items() if len(sends) > 1]
    misrouted = sum(
        1
        for t, sends in arrivals.items()
        if t in run.sent and sends[0]["person"] != run.sent[t].recipient
    )
    return {
        "lost": len(lost),
        "duplicated": len(duplicated),
        "not_arrived_by_kind": dict(collections.Counter(accepted[t].kind for t in lost)),
        "unrouted_answered_with_notice": len(unrouted),
        "duplicate_examples": _duplicate_examples(run, arrivals, duplicated[:3]),
        "misrouted": misrouted,
        "order_violations": _order_violations(accepted, arrivals),
        "notices_sent": sum(len(times) for times in notices_to.values()),
    }


def _duplicate_examples(
    run: Run, arrivals: dict[int, list[dict[str, Any]]], tokens: list[int]
) -> list[list[dict[str, Any]]]:
    return [
        [
            {
                "person": d["person"],
                "identity": d["identity"],
                "received_at": d["received_at"],
                "index": d["index"],
                "kind": run.sent[t].kind if t in run.sent else "previous phase",
            }
            for d in arrivals[t]
        ]
        for t in tokens
    ]


def _order_violations(accepted: dict[int, Sent], arrivals: dict[int, list[dict[str, Any]]]) -> int:
    """Per (sender, recipient) pair, a message acknowledged before the next one was posted
    must reach the recipient first: count the pairs of messages that did not."""
    violations = 0
    by_pair: dict[tuple[str, str], list[Sent]] = collections.defaultdict(list)
    for token, origin in accepted.items():
        if token in arrivals:
            by_pair[(origin.sender, origin.recipient)].append(origin)
    for items in by_pair.values():
        items.sort(key=lambda s: s.started)
        for a, b in itertools.pairwise(items):
            if (
                a.acked < b.started
                and arrivals[b.token][0]["index"] < arrivals[a.token][0]["index"]
            ):
                violations += 1
    return violations


def _webhook_acks(
    webhooks: list[dict[str, Any]], window: tuple[float, float], duration: float
) -> dict[str, Any]:
    """How fast the relay acknowledged the sandbox's webhooks posted inside the window."""
    in_window = [w for w in webhooks if window[0] <= w["posted_at"] <= window[1]]
    ack_all = [w["ms"] for w in in_window]
    ack_msg = [w["ms"] for w in in_window if w["kind"] == "message"]
    status_hooks = [w for w in webhooks if w["kind"] == "status"]
    ack_status = [w["ms"] for w in in_window if w["kind"] == "status"]
    return {
        "webhook_ack_p50_ms": percentile(ack_all, 50),
        "webhook_ack_p95_ms": percentile(ack_all, 95),
        "webhook_ack_p99_ms": percentile(ack_all, 99),
        "message_webhook_ack_p50_ms": percentile(ack_msg, 50),
        "message_webhook_ack_p99_ms": percentile(ack_msg, 99),
        "status_webhook_ack_p99_ms": percentile(ack_status, 99),
        "webhooks_not_2xx": sum(1 for w in webhooks if not 200 <= w["relay_status"] < 300),
        "status_webhooks": len(status_hooks),
        "status_webhooks_per_s": round(len(ack_status) / duration, 1),
    }
