import os

from celery import Celery

from config.broker import install as install_embedded_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

install_embedded_broker()
app = Celery("perantara")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
