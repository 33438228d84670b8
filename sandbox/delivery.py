"""Post webhooks to the relay and record each attempt; run the automatic status reports.

Status reports for one send are posted in order (sent, delivered, read) by one worker; a
small fixed pool of workers handles many sends at once. Each thread keeps its own
`requests.Session`, because sessions are not safe to share between threads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from sandbox import webhooks
from sandbox.config import SandboxConfig
from sandbox.state import Record, SandboxState
from sandbox.webhooks import OutgoingWebhook

logger = logging.getLogger(__name__)
TIMEOUTS = (2.0, 10.0)  # connect, read
StatusBuilder = Callable[[SandboxConfig, Record, str, float], OutgoingWebhook]


@dataclass(frozen=True)
class StatusJob:
    send: Record
    statuses: tuple[str, ...]
    builder: StatusBuilder
    not_before: float
    generation: int


class WebhookPoster:
    def __init__(self, config: SandboxConfig, state: SandboxState, stopping: threading.Event):
        self.config = config
        self.state = state
        self.stopping = stopping
        self._local = threading.local()
        self._jobs: queue.Queue[StatusJob | None] = queue.Queue()
        self._workers = [
            threading.Thread(target=self._work, name=f"sandbox-status-{number}", daemon=True)
            for number in range(max(1, config.webhook_workers))
        ]
        for worker in self._workers:
            worker.start()

    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def post(
        self,
        webhook: OutgoingWebhook,
        *,
        kind: str,
        provider_message_id: str,
        status: str | None = None,
        generation: int | None = None,
    ) -> Record:
        """Post one webhook now and record the relay's answer (status 0 if it never answered)."""
        started = time.perf_counter()
        relay_status, relay_body, error = 0, "", None
        try:
            response = self.session().post(
                webhook.url, data=webhook.body, headers=webhook.headers, timeout=TIMEOUTS
            )
            relay_status, relay_body = response.status_code, response.text[:500]
        except requests.RequestException as exception:
            error = f"{type(exception).__name__}: {exception}"[:500]
        record: Record = {
            "channel": webhook.channel,
            "kind": kind,
            "provider_message_id": provider_message_id,
            "status": status,
            "url": webhook.url,
            "relay_status": relay_status,
            "relay_body": relay_body,
            "error": error,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "posted_at": time.time(),
        }
        self.state.record_webhook(dict(record), generation)
        return record

    def schedule_statuses(self, send: Record) -> None:
        """Queue the status reports a platform would send after `send` succeeded."""
        plan = status_plan(send)
        if plan is None:
            return
        statuses, builder = plan
        delay = self.state.settings.status_delay_ms / 1000
        job = StatusJob(send, statuses, builder, time.monotonic() + delay, send["generation"])
        self._jobs.put(job)

    def stop(self) -> None:
        for _ in self._workers:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self.stopping.is_set():
                return
            # Jobs come out in the order they were queued, all with the same delay, so
            # sleeping until this one is due never holds back one that is due sooner.
            wait = job.not_before - time.monotonic()
            if wait > 0 and self.stopping.wait(wait):
                return
            try:
                self._run(job)
            except Exception:  # a worker must survive one bad job
                logger.exception("sandbox: status webhooks for %s failed", job.send["channel"])

    def _run(self, job: StatusJob) -> None:
        for status in job.statuses:
            if self.stopping.is_set() or job.generation != self.state.generation:
                return
            webhook = job.builder(self.config, job.send, status, time.time())
            record = self.post(
                webhook,
                kind="status",
                provider_message_id=job.send["provider_message_id"],
                status=status,
                generation=job.generation,
            )
            if 200 <= record["relay_status"] < 300:
                self.state.mark_status(job.send["provider_message_id"], status)


def status_plan(send: Record) -> tuple[tuple[str, ...], StatusBuilder] | None:
    """Which reports follow a send on its channel, and how to build them."""
    channel: Any = send["channel"]
    if channel == "whatsapp":
        return ("sent", "delivered", "read"), webhooks.whatsapp_status
    if channel in ("messenger", "instagram"):
        # Messenger and Instagram report no "sent": a delivery event, then a read watermark.
        return ("delivered", "read"), webhooks.meta_receipt
    if channel == "sms" and send.get("status_callback") and send.get("fails_later_with"):
        # Twilio took the MMS, then the carrier refused it (30011): "undelivered".
        return ("sent", "undelivered"), webhooks.sms_status
    if channel == "sms" and send.get("status_callback"):
        # SMS has no read receipts; Twilio stops at "delivered".
        return ("sent", "delivered"), webhooks.sms_status
    return None
