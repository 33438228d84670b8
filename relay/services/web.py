"""Web participants: the seller's web-inbox endpoint and a web-chat buyer's browser endpoint.

Their messages go through the pipeline like every other road (relay/pipeline/roads.py).
"""

from __future__ import annotations

import ipaddress

from django.core import signing

from contacts import services as contacts
from contacts import vault
from contacts.models import Channel, Endpoint, User

BROWSER_SALT = "relay.web-chat-browser"


def seller_web_endpoint(user: User) -> Endpoint:
    endpoint = user.endpoints.filter(channel=Channel.WEB).first()
    return endpoint or contacts.create_web_endpoint(user=user)


def browser_endpoint(*, signed: str | None, language: str) -> Endpoint:
    """A web-chat buyer's endpoint, one per browser (its signed cookie names it), so bans,
    suspensions and limits hold across the chats that browser starts."""
    if signed:
        try:
            code = signing.loads(signed, salt=BROWSER_SALT)
        except signing.BadSignature:
            code = None
        found = Endpoint.objects.filter(code=code, channel=Channel.WEB, user=None).first()
        if found is not None:
            return found
    return contacts.create_web_endpoint(language=language)


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
