import os

from celery import Celery
from celery.signals import setup_logging

from config.broker import install as install_embedded_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

install_embedded_broker()
app = Celery("perantara")
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
