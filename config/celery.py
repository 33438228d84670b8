import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

from config.broker import install as install_embedded_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

install_embedded_broker()


class PerantaraCelery(Celery):
    # Narrower than Celery's (the rest is keyword-only here): every caller passes keywords.
    def send_task(  # type: ignore[override]
        self,
        name: str,
        args: Any = None,
        kwargs: Any = None,
        countdown: float | None = None,
        **options: Any,
    ) -> Any:
        # With quorum queues (RabbitMQ) Celery 5.7 routes a countdown through native delayed
        # delivery by its whole seconds and raises "countdown must be a positive number" for
        # one under a second (int(0.4) == 0): the retry's publish would be lost until the
        # sweeper finds the row. Round those up to one second there; other brokers keep them.
        quorum = self.conf.task_default_queue_type == "quorum"
        if quorum and countdown is not None and 0 < countdown < 1:
            countdown = 1.0
        return super().send_task(name, args, kwargs, countdown, **options)


app = PerantaraCelery("perantara")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**_: object) -> None:
    """Workers log through settings.LOGGING, so the redacting filter sees every record.

    Without a receiver here Celery installs its own handlers (for `celery.task` and friends)
    that bypass the filter; with one, Celery leaves logging alone.
    """
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
