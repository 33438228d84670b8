from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from contacts.models import Endpoint, User


def endpoints_for_user(user: User) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(user=user).order_by("-preferred", "channel", "created_at")


def preferred_endpoint(user: User) -> Endpoint | None:
    """Where buyers' messages reach `user` now (besides the web inbox, which always gets them)."""
    return Endpoint.objects.filter(user=user, preferred=True).first()


def endpoint_for_user(user: User, code: str) -> Endpoint:
    """An endpoint the user owns or is verifying; anything else is a 404."""
    endpoint = (
        Endpoint.objects.filter(code=code)
        .filter(Q(user=user) | Q(codes__user=user, codes__consumed_at=None))
        .distinct()
        .first()
    )
    if endpoint is None:
        raise Http404("No such channel")
    return endpoint


def signed_in(request: HttpRequest) -> User:
    """The request's user; views calling this are behind `login_required`."""
    user = request.user
    assert isinstance(user, User), "login_required must guard this view"
    return user
