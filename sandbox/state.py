"""The sandbox's memory: people, identities, and its own record of everything exchanged.

Every method takes the one lock for a few dictionary operations only, so hundreds of request
threads can share it. Records are plain JSON-ready dicts; readers get copies.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.config import PHONE_CHANNELS, Identity, Person, SandboxConfig

Record = dict[str, Any]
FAILURE_MODES = ("http500", "http429", "timeout", "window_closed", "permanent", "mms_unsupported")


@dataclass(frozen=True)
class FailurePlan:
    mode: str
    retry_after: float = 1.0
    seconds: float = 15.0
    # mms_unsupported only: Twilio takes the MMS (201) and its status callback reports it
    # undelivered with 30011 ("MMS not supported by the receiving phone number or carrier").
    later: bool = False


@dataclass
class Settings:
    latency_ms: int = 0
    auto_status: bool = True
    status_delay_ms: int = 100
    # Off: each Twilio number stands alone, as a number outside a Messaging Service does.
    # On: the numbers form a Messaging Service with Advanced Opt-Out (see sandbox.opt_out).
    twilio_advanced_opt_out: bool = False
    # Platforms post a message webhook again when the relay does not answer 2xx (Meta and
    # Twilio both retry). Off by default; the fault bench turns it on: `webhook_retries` more
    # attempts, `webhook_retry_ms` apart, same provider message id and body.
    webhook_retries: int = 0
    webhook_retry_ms: int = 1000
    # Messenger/Instagram attachment URLs stop working this long after the webhook (403).
    attachment_url_seconds: int = 300
    # Twilio's "HTTP Basic Authentication for media": MediaUrl needs the account credentials.
    twilio_media_auth: bool = True


def address_key(channel: str, address: str) -> str:
    """Normalise an address for lookups: WhatsApp "6281…" and "+6281…" are the same person."""
    if channel in PHONE_CHANNELS:
        return "+" + "".join(character for character in address if character.isdigit())
    return address


@dataclass
class SandboxState:
    config: SandboxConfig
    lock: threading.Lock = field(default_factory=threading.Lock)
    settings: Settings = field(default_factory=Settings)
    identities: dict[str, Identity] = field(default_factory=dict)
    identities_by_provider_id: dict[tuple[str, str], Identity] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    people_by_address: dict[tuple[str, str], str] = field(default_factory=dict)
    outbox: list[Record] = field(default_factory=list)
    inbox: dict[str, list[Record]] = field(default_factory=dict)
    inbound: list[Record] = field(default_factory=list)
    sent_by_person: dict[str, list[Record]] = field(default_factory=dict)
    webhooks: list[Record] = field(default_factory=list)
    rejections: list[Record] = field(default_factory=list)
    failures: dict[str, deque[FailurePlan]] = field(default_factory=dict)
    sends_by_provider_id: dict[str, Record] = field(default_factory=dict)
    # Twilio's opt-out list: (relay SMS identity key, the person's normalised number).
    opt_outs: set[tuple[str, str]] = field(default_factory=set)
    # Bumped by reset() so status webhooks queued before a reset are dropped, not recorded.
    generation: int = 0
    # Bumped by every change the phones page would show, so sandbox.persistence writes the
    # state file only when there is something new.
    version: int = 0

    def __post_init__(self) -> None:
        self.settings = Settings(
            latency_ms=self.config.latency_ms,
            auto_status=self.config.auto_status,
            status_delay_ms=self.config.status_delay_ms,
        )
        for identity in self.config.identities:
            self.identities[identity.key] = identity
            self.identities_by_provider_id[(identity.channel, identity.provider_id)] = identity
        for person in self.config.people:
            self.add_person(person)

    # People and identities

    def add_person(self, person: Person) -> None:
        """Add or replace a person (keyed by `person.key`)."""
        with self.lock:
            previous = self.people.get(person.key)
            if previous is not None:
                self.people_by_address.pop(
                    (previous.channel, address_key(previous.channel, previous.address)), None
                )
            self.people[person.key] = person
            self.people_by_address[
                (person.channel, address_key(person.channel, person.address))
            ] = person.key
            self.inbox.setdefault(person.key, [])
            self.sent_by_person.setdefault(person.key, [])
            self.version += 1

    def person_at(self, channel: str, address: str) -> Person | None:
        """The person at a platform address: a number or id, or on WhatsApp their BSUID."""
        with self.lock:
            key = self.people_by_address.get((channel, address_key(channel, address)))
            if key is None and channel == "whatsapp":
                key = next(
                    (p.key for p in self.people.values() if p.bsuid and p.bsuid == address), None
                )
            return self.people.get(key) if key else None

    def identity_for_provider_id(
        self, channels: tuple[str, ...], provider_id: str
    ) -> Identity | None:
        for channel in channels:
            identity = self.identities_by_provider_id.get((channel, provider_id))
            if identity is not None:
                return identity
        return None

    # Sends from the relay

    def record_send(self, record: Record) -> Record:
        """Store a send the relay made; assign its `index` and file it in the person's inbox."""
        with self.lock:
            record.setdefault("from_carrier", False)
            record["index"] = len(self.outbox)
            record["generation"] = self.generation
            self.outbox.append(record)
            self.sends_by_provider_id[record["provider_message_id"]] = record
            if record.get("person"):
                self.inbox.setdefault(record["person"], []).append(record)
            self.version += 1
            return dict(record)

    def mark_status(self, provider_message_id: str, status: str) -> None:
        with self.lock:
            record = self.sends_by_provider_id.get(provider_message_id)
            if record is not None:
                record["status"] = status
                self.version += 1

    def sends(
        self, person: str | None = None, since: int = 0, include_carrier: bool = False
    ) -> list[Record]:
        """Return copies of recorded sends with index >= since, oldest first.

        Twilio's own automatic replies (`from_carrier`) are left out unless asked for: they
        are what the phone received, not what the relay sent.
        """
        with self.lock:
            source = self.outbox if person is None else self.inbox.get(person, [])
            return [
                _public(record)
                for record in source
                if record["index"] >= since and (include_carrier or not record["from_carrier"])
            ]

    def record_rejection(self, record: Record) -> None:
        with self.lock:
            record["index"] = len(self.rejections)
            self.rejections.append(record)

    # Messages people sent to the relay, and webhooks posted

    def record_inbound(self, record: Record) -> None:
        with self.lock:
            record["index"] = len(self.inbound)
            self.inbound.append(record)
            self.sent_by_person.setdefault(record["person"], []).append(record)
            self.version += 1

    def inbound_messages(self, person: str | None = None, since: int = 0) -> list[Record]:
        with self.lock:
            source = self.inbound if person is None else self.sent_by_person.get(person, [])
            return [dict(record) for record in source if record["index"] >= since]

    def record_webhook(self, record: Record, generation: int | None = None) -> bool:
        """Store a posted webhook; refuse (return False) if it belongs to before a reset."""
        with self.lock:
            if generation is not None and generation != self.generation:
                return False
            record["index"] = len(self.webhooks)
            self.webhooks.append(record)
            return True

    def webhook_records(self, since: int = 0) -> list[Record]:
        with self.lock:
            return [dict(record) for record in self.webhooks[since:]]

    # Twilio's opt-out list

    def set_opted_out(self, identity_keys: list[str], address: str, opted_out: bool) -> bool:
        """Opt `address` out of (or back in to) the given SMS identities; return the old state.

        The old state is whether the address was opted out of the first identity given.
        """
        number = address_key("sms", address)
        with self.lock:
            before = (identity_keys[0], number) in self.opt_outs if identity_keys else False
            for key in identity_keys:
                if opted_out:
                    self.opt_outs.add((key, number))
                else:
                    self.opt_outs.discard((key, number))
            self.version += 1
            return before

    def is_opted_out(self, identity_key: str, address: str) -> bool:
        with self.lock:
            return (identity_key, address_key("sms", address)) in self.opt_outs

    def opt_out_records(self) -> list[Record]:
        """The opt-out list as [{"identity", "address", "person"}], sorted."""
        with self.lock:
            return [
                {
                    "identity": identity_key,
                    "address": number,
                    "person": self.people_by_address.get(("sms", number)),
                }
                for identity_key, number in sorted(self.opt_outs)
            ]

    # Failure injection and settings

    def add_failures(self, channel: str, plan: FailurePlan, count: int) -> None:
        with self.lock:
            self.failures.setdefault(channel, deque()).extend([plan] * count)

    def take_failure(self, channel: str) -> FailurePlan | None:
        with self.lock:
            queue = self.failures.get(channel)
            return queue.popleft() if queue else None

    def reset(self) -> None:
        """Forget every exchange, failure plan and opt-out; restore the configured settings.

        People and identities, including people added at run time, are kept.
        """
        with self.lock:
            self.generation += 1
            self.version += 1
            self.settings.latency_ms = self.config.latency_ms
            self.settings.auto_status = self.config.auto_status
            self.settings.status_delay_ms = self.config.status_delay_ms
            self.settings.twilio_advanced_opt_out = False
            self.settings.webhook_retries = 0
            self.settings.webhook_retry_ms = 1000
            self.settings.attachment_url_seconds = 300
            self.settings.twilio_media_auth = True
            self.opt_outs.clear()
            self.outbox.clear()
            self.inbound.clear()
            self.webhooks.clear()
            self.rejections.clear()
            self.failures.clear()
            self.sends_by_provider_id.clear()
            for records in self.inbox.values():
                records.clear()
            for records in self.sent_by_person.values():
                records.clear()


def _public(record: Record) -> Record:
    copy = dict(record)
    copy.pop("generation", None)
    return copy
