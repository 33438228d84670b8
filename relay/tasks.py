"""Celery entry points: they take row ids, never bodies or addresses, and call services."""

from __future__ import annotations

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready
from django.db import close_old_connections, transaction

from config import db_reuse
from relay.services import delivery as delivery_service
from relay.services import (
    early_statuses,
    integrations,
    lifecycle,
    media_fetch,
    notifications,
    workers,
)


@shared_task(name="relay.ping")
def ping(nonce: str) -> str:
    """A round trip through the broker and a worker, for health checks and tests."""
    return nonce


@shared_task(name="relay.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    result = delivery_service.deliver_delivery(delivery_id=delivery_id)
    if result.outcome == "retry" and result.retry_in is not None:
        # Retries are rows (state pending, next_attempt_at) plus a delayed publish; if the
        # publish is lost the sweeper finds the row.
        deliver.apply_async((delivery_id,), countdown=result.retry_in)
    return result.outcome


@shared_task(name="relay.fetch_media", acks_late=True, ignore_result=True)
def fetch_media(fetch_id: int) -> str:
    """Download one photo a person sent on a platform (the id of its MediaFetch row only)."""
    result = media_fetch.fetch_photo(fetch_id=fetch_id)
    if result.outcome == "retry" and result.retry_in is not None:
        fetch_media.apply_async((fetch_id,), countdown=result.retry_in)
    return result.outcome


@task_prerun.connect
def _healthy_connection(**_: object) -> None:
    """Every task starts and ends on a usable database connection of its own thread.

    Celery's Django fixup checks connections only every CELERY_DB_REUSE_MAX tasks and only on
    the thread that calls it; a thread-pool worker's other threads kept a connection that
    PostgreSQL had closed, and failed every task after an outage. Django drops a connection
    that errored or outlived CONN_MAX_AGE here, and the next query opens a fresh one. A
    connection the thread's last task finished with moments ago skips the `SELECT 1` health
    check (config/db_reuse.py)."""
    close_old_connections()
    db_reuse.starting()


@task_postrun.connect
def _connection_after_task(**_: object) -> None:
    close_old_connections()
    db_reuse.finished()


@shared_task(name="relay.sweep", ignore_result=True)
def sweep() -> int:
    return delivery_service.sweep_stuck_deliveries()


@shared_task(name="relay.close_idle", ignore_result=True)
def close_idle() -> int:
    """Hourly (celery beat): close conversations the lifecycle says are due, and forget status
    webhooks that never found their delivery (RELAY_EARLY_STATUS_SECONDS)."""
    early_statuses.forget_expired()
    return lifecycle.close_idle()


# The name predates the move out of relay/api/: messages already on the broker carry it.
@shared_task(name="relay.api.deliver_integrator_webhook", acks_late=True, ignore_result=True)
def deliver_integrator_webhook(delivery_id: int) -> str:
    result = integrations.deliver_webhook(delivery_id=delivery_id)
    if result.outcome == "retry" and result.retry_in is not None:
        retry_in = result.retry_in
        transaction.on_commit(
            lambda: integrations.publish_webhook_delivery(delivery_id, countdown=retry_in)
        )
    return result.outcome


@shared_task(name="relay.sweep_integrator_webhooks", ignore_result=True)
def sweep_integrator_webhooks() -> int:
    """Every RELAY_SWEEP_INTERVAL_SECONDS (celery beat): integrator webhook deliveries a lost
    publish or a dead worker left behind are published again."""
    return integrations.sweep_integrator_webhooks()


@shared_task(name="relay.notify_new_conversation", ignore_result=True)
def notify_new_conversation(conversation_id: int) -> bool:
    """Published when a conversation's first message commits: e-mail the seller if they want."""
    return notifications.notify_new_conversation(conversation_id=conversation_id)


@shared_task(name="relay.notify_unread", ignore_result=True)
def notify_unread() -> int:
    """Every minute (celery beat): e-mail sellers about buyer messages left unread for
    RELAY_NOTIFY_UNREAD_MINUTES, one e-mail per seller."""
    return notifications.notify_unread()


@worker_ready.connect  # the worker's own process (the thread and solo pools)
@worker_process_init.connect  # each prefork child
def _heartbeat(**_: object) -> None:
    """This worker's heartbeat, so the sweeper knows at once when it dies (services/workers)."""
    workers.start_heartbeat()
