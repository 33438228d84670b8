"""The project's Celery app with the bench's SQL statement counter installed.

`celery -A bench.celery_app worker` runs exactly the project's tasks and settings.
"""

from bench import qcount
from config.celery import app

qcount.install("worker")

__all__ = ["app"]
