from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


from django.contrib.auth.decorators import login_required  # noqa: E402
from django.shortcuts import render  # noqa: E402


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "relay/inbox.html", {"conversations": []})
