from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from contacts.models import Channel, Endpoint, User


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


def sellers_wanting_email(user_ids: Iterable[int]) -> set[int]:
    """Of these users, the ones to e-mail about new conversations and unread messages.

    The one place the default lives: a seller who never chose gets e-mail while their
    preferred channel is the web inbox (nothing else would tell them a buyer wrote) and none
    while it is an app, which already shows every message as it arrives."""
    ids = list(user_ids)
    chosen = Q(email_notifications=True)
    default = Q(
        email_notifications__isnull=True,
        endpoints__preferred=True,
        endpoints__channel=Channel.WEB,
    )
    wanting = User.objects.filter(pk__in=ids, is_active=True).exclude(email="")
    return set(wanting.filter(chosen | default).values_list("pk", flat=True).distinct())


def wants_email_notifications(user: User) -> bool:
    return user.pk in sellers_wanting_email([user.pk])
