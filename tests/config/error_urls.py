"""The project's URLs plus views that fail, for the 500 and 503 pages (test_error_pages.py)."""

from django.core.exceptions import SuspiciousOperation
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler400, handler500
from config.urls import urlpatterns as project_urlpatterns


def bug(request: HttpRequest) -> HttpResponse:
    raise ValueError("a bug in a view")


def database_away(request: HttpRequest) -> HttpResponse:
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a tampered request")


urlpatterns = [
    path("test-suspicious/", suspicious),
    path("test-bug/", bug),
    path("test-database-away/", database_away),
    *project_urlpatterns,
]

__all__ = ["handler400", "handler500", "urlpatterns"]
