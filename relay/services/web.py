"""Web participants: the seller's web-inbox endpoint and a web-chat buyer's browser endpoint.

Their messages go through the pipeline like every other road (relay/pipeline/roads.py).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core import signing
from django.http import HttpRequest

from contacts import services as contacts
from contacts import vault
from contacts.models import Channel, Endpoint, User

BROWSER_SALT = "relay.web-chat-browser"
BROWSER_COOKIE = "perantara_chat"  # names a web-chat buyer's browser endpoint, signed


def seller_web_endpoint(user: User) -> Endpoint:
    endpoint = user.endpoints.filter(channel=Channel.WEB).first()
    return endpoint or contacts.create_web_endpoint(user=user)


def browser_endpoint(*, signed: str | None, language: str) -> Endpoint:
    """A web-chat buyer's endpoint, one per browser (its signed cookie names it), so bans,
    suspensions and limits hold across the chats that browser starts."""
    found = known_browser_endpoint(signed)
    if found is not None:
        return found
    return contacts.create_web_endpoint(language=language)


def known_browser_endpoint(signed: str | None) -> Endpoint | None:
    """The web-chat buyer's endpoint the signed cookie names, if any; never creates one."""
    if not signed:
        return None
    try:
        code = signing.loads(signed, salt=BROWSER_SALT)
    except signing.BadSignature:
        return None
    return Endpoint.objects.filter(code=code, channel=Channel.WEB, user=None).first()


def browser_cookie(endpoint: Endpoint) -> str:
    return signing.dumps(endpoint.code, salt=BROWSER_SALT)


def network_key(address: str) -> str:
    """A keyed hash of the network a web chat starts from (an IPv4 address, an IPv6 /64, which
    one household or phone holds whole): a rate-limit key no one can turn back into it."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        network = address
    else:
        prefix = 64 if parsed.version == 6 else 32
        network = str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))
    return vault.keyed_hash(network.encode(), purpose="web-network")


def client_address(request: HttpRequest) -> str:
    """The address the request came from: REMOTE_ADDR, or the X-Forwarded-For entry that the
    RELAY_TRUSTED_PROXY_HOPS proxies in front of the web wrote (never trusted by default)."""
    hops = settings.RELAY_TRUSTED_PROXY_HOPS
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    if hops and len(forwarded) >= hops and forwarded[-hops]:
        return forwarded[-hops]
    return str(request.META.get("REMOTE_ADDR") or "")
