"""The SSRF guard: the relay calls a URL given by a user only if it leads to a public address.

A seller who signs themselves up registers an integrator webhook URL, and platforms will hand
the relay media URLs (issue #16); either could point at the cloud's metadata service
(169.254.169.254), the database on 127.0.0.1:5432 or an office network. Every such URL goes
through `check_url` and is then sent to with `http.post(checked, ...)`, which connects to the
address that was checked: there is no second DNS lookup between the check and the connection,
so a name that answers a public address to the check and 127.0.0.1 to the connection (DNS
rebinding) still reaches only the public one.

A URL is refused when it is not http(s), carries a user name or password, spells a number as a
host in a form other than four decimal numbers (`0x7f.1`, `2130706433`, `127.1`: resolvers read
them as 127.0.0.1, people do not), or when ANY address its host resolves to is not public —
loopback, private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), link-local, multicast,
reserved, unspecified, documentation and benchmark ranges, and IPv6 forms that carry such an
IPv4 address (`::ffff:127.0.0.1`, 6to4, NAT64). Refusing on any rather than picking a good one
keeps a name with one public and one private answer from ever reaching the private one.

`RELAY_OUTBOUND_ALLOWED_NETWORKS` lets the operator name networks that are reachable anyway
(an on-premises integrator at 10.1.2.3). Refusals never say which address a name resolved to:
that would let a seller map the relay's internal DNS.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Reasons recorded on a failed delivery (English in the database, translated when shown).
PRIVATE_ADDRESS = gettext_noop("refused: private address")
NOT_HTTP = gettext_noop("refused: not an http or https address")
USERINFO = gettext_noop("refused: user name or password in the address")
ODD_NUMBER = gettext_noop("refused: a number written as a host name")
INVALID = gettext_noop("refused: not a valid address")
NOT_FOUND = gettext_noop("host name not found")

# Not public, and not caught by Python's `is_global` and friends (Python 3.11): the 6to4 relay
# anycast, local-use NAT64 (RFC 8215), the IPv6 documentation range of RFC 9637, SRv6 SIDs.
NOT_PUBLIC = tuple(
    ipaddress.ip_network(network)
    for network in ("192.88.99.0/24", "64:ff9b:1::/48", "3fff::/20", "5f00::/16")
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
HOST_NAME = re.compile(r"[a-z0-9_.-]+")
# What the WHATWG URL standard (and so every browser) reads as an IPv4 number: a last label
# that is decimal digits or 0x-hex.
NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
MAX_LENGTH = 500  # IntegratorWebhook.url


class RefusedUrl(Exception):
    """The relay will not call this URL. `reason` is short, English and stored (a delivery's
    `last_error`); `message` is for the person who gave the URL, in their language."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


class HostNotFound(RefusedUrl):
    """The host name did not resolve. Refused when registering; at send time DNS may be
    having a bad minute, so the caller may retry."""


@dataclass(frozen=True)
class CheckedUrl:
    """A URL whose host resolved to public (or allow-listed) addresses only.

    `address` is the one to connect to; `host` (ASCII, lower case, no brackets) is what goes in
    the Host header, the TLS SNI and the certificate check.
    """

    url: str
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent on the request line
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        return host if self.port == default else f"{host}:{self.port}"


def private_network_message() -> str:
    return _("This address points inside a private network; the relay only calls public addresses.")


def allowed_networks() -> tuple[Network, ...]:
    return tuple(settings.RELAY_OUTBOUND_ALLOWED_NETWORKS)


def check_url(url: str, *, allowed: Iterable[Network] | None = None) -> CheckedUrl:
    """Parse `url`, resolve its host once, and return it pinned to a checked address.

    Raise `RefusedUrl` (or `HostNotFound`) with a reason and a message. `allowed` defaults to
    RELAY_OUTBOUND_ALLOWED_NETWORKS.
    """
    url = url.strip()
    scheme, host, port, target = _parse(url)
    addresses = resolve(host, port)
    networks = allowed_networks() if allowed is None else tuple(allowed)
    if not all(is_public(address) or _in(address, networks) for address in addresses):
        raise RefusedUrl(PRIVATE_ADDRESS, private_network_message())
    return CheckedUrl(url, scheme, host, port, target, str(addresses[0]))


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order (an IP literal is itself)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise HostNotFound(NOT_FOUND, _("We could not find this host name.")) from None
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        # A scope id ("fe80::1%eth0") is link-local anyway; drop it so the address parses.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotFound(NOT_FOUND, _("We could not find this host name."))
    return addresses


def is_public(address: IPAddress) -> bool:
    """Whether `address` is on the public internet (an IPv6 form of IPv4 is judged as that)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return False
        if address.is_site_local:
            return False
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_link_local
        and not address.is_loopback
        and not address.is_unspecified
        and not any(address in network for network in NOT_PUBLIC)
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4, NAT64 or IPv4-compatible IPv6 address leads to, if any."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _in(address: IPAddress, networks: tuple[Network, ...]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)


def _parse(url: str) -> tuple[str, str, int, str]:
    """Split `url` into (scheme, ASCII host, port, target) or raise `RefusedUrl`."""
    if len(url) > MAX_LENGTH or UNSAFE_CHARACTERS.search(url):
        raise RefusedUrl(INVALID, _("This is not a valid web address."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedUrl(INVALID, _("This is not a valid web address.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedUrl(NOT_HTTP, _("Give an http:// or https:// address."))
    if "@" in parts.netloc:
        raise RefusedUrl(USERINFO, _("Leave the user name and password out of the address."))
    host = _ascii_host(parts.hostname)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), target


def _ascii_host(hostname: str) -> str:
    if ":" in hostname:  # an IPv6 literal (urlsplit took the brackets off)
        try:
            return str(ipaddress.IPv6Address(hostname))
        except ValueError:
            raise RefusedUrl(INVALID, _("This is not a valid web address.")) from None
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise RefusedUrl(INVALID, _("This is not a valid web address.")) from None
    if not HOST_NAME.fullmatch(host):
        raise RefusedUrl(INVALID, _("This is not a valid web address."))
    if NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]) and not _canonical_ipv4(host):
        raise RefusedUrl(
            ODD_NUMBER,
            _("Write a numeric address as four numbers from 0 to 255 (like 203.0.113.7)."),
        )
    return host


def _canonical_ipv4(host: str) -> bool:
    try:
        return str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        return False
