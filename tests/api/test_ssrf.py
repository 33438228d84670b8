"""The SSRF guard: webhook URLs reach public (or allow-listed) addresses only, at registration
and at send, at the address that was checked, never following a redirect.

The only real traffic these tests send goes to loopback; every other connection attempt is
caught at urllib3's connect and refused, after its address is written down.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import urllib3.util.connection
from django.test import Client

from relay import tasks
from relay.models import IntegratorWebhook, IntegratorWebhookDelivery
from relay.services import integrations
from tests.api.conftest import Shop
from tests.config.test_env import run_settings

PRIVATE = "This address points inside a private network; the relay only calls public addresses."
PRIVATE_ID = "Alamat ini mengarah ke dalam jaringan privat; relay hanya memanggil alamat publik."
NUMBER = "Write a numeric address as four numbers from 0 to 255"
DOCUMENTATION = "192.0.2.10"  # TEST-NET-1: stands in for a public address, never reached

# Every form the issue names, and the rest of the non-public space.
REFUSED_PRIVATE = [
    "http://127.0.0.1/hook",
    "http://127.0.0.1:5432/",
    "http://127.8.9.10/",
    "http://[::1]/hook",
    "http://10.0.0.5/hook",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",  # CGNAT
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://192.0.2.1/",  # documentation
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://[2001:db8::1]/",
    "http://198.18.0.1/",  # benchmarking
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "https://localhost/hook",
    "http://LocalHost/hook",
    "http://hooks.internal.test/",  # resolves to loopback (the resolver below)
    "http://split.test/",  # one public and one private answer
]
REFUSED_NUMBERS = [
    "http://0x7f.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://017700000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://127.0.0.1./",
]


class Resolver:
    """socket.getaddrinfo for made-up names; everything else goes to the real resolver (only
    ever numeric hosts and localhost here, which never leave the machine)."""

    def __init__(self) -> None:
        self.names: dict[str, list[list[str]]] = {
            "hooks.internal.test": [["127.0.0.1"]],
            "split.test": [[DOCUMENTATION, "10.0.0.7"]],
        }
        self.calls: list[str] = []
        self.real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.names:
            return self.real(host, port, *args, **kwargs)
        self.calls.append(name)
        answers = self.names[name]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, int(port or 0)),
            )
            for address in addresses
        ]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    fake = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


class Connections:
    """urllib3's connect, watched: loopback goes through, anything else is recorded and
    refused (so no packet leaves the machine)."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []
        self.real = urllib3.util.connection.create_connection

    def __call__(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        self.attempts.append((host, port))
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None  # a host name: resolved by the (fake) resolver, loopback in tests
        if literal is not None and not literal.is_loopback:
            raise ConnectionRefusedError(f"test: not connecting to {host}")
        return self.real(address, *args, **kwargs)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    watched = Connections()
    monkeypatch.setattr(urllib3.util.connection, "create_connection", watched)
    return watched


class Listener:
    """A loopback port that must (or must not) see a connection; it never answers."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.port = self.socket.getsockname()[1]

    def connected(self) -> bool:
        self.socket.settimeout(0.5)
        try:
            accepted, _address = self.socket.accept()
        except TimeoutError:
            return False
        accepted.close()
        return True


@pytest.fixture
def listener() -> Iterator[Listener]:
    port = Listener()
    yield port
    port.socket.close()


@pytest.fixture
def no_allow_list(settings: Any) -> None:
    settings.RELAY_OUTBOUND_ALLOWED_NETWORKS = []


def stored_webhook(shop: Shop, url: str) -> IntegratorWebhook:
    """A row written straight to the table, as rows registered before the guard existed."""
    webhook = IntegratorWebhook(user=shop.seller, url=url)
    integrations._seal_new_secret(webhook)
    webhook.save()
    return webhook


def delivery_for(webhook: IntegratorWebhook, shop: Shop) -> IntegratorWebhookDelivery:
    return IntegratorWebhookDelivery.objects.create(
        webhook=webhook, event="conversation.created", payload={"c": shop.conversation.code}
    )


def send(delivery: IntegratorWebhookDelivery) -> IntegratorWebhookDelivery:
    tasks.deliver_integrator_webhook(delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- At registration ----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_allow_list", "resolver")
@pytest.mark.parametrize("url", REFUSED_PRIVATE)
def test_a_private_address_is_refused_on_the_dashboard_and_the_api(
    url: str, shop: Shop, seller_client: Client
) -> None:
    page = seller_client.post("/api/webhooks/", {"url": url}, follow=True)
    assert PRIVATE in page.content.decode()

    answer = shop.api.post("/api/integrator-webhooks/", {"url": url})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == PRIVATE
    assert answer.json()["error"]["fields"] == {"url": [PRIVATE]}
    assert not IntegratorWebhook.objects.exists()


@pytest.mark.usefixtures("resolver")
@pytest.mark.parametrize("url", REFUSED_NUMBERS)
def test_a_number_spelled_oddly_is_refused_even_where_loopback_is_allowed(
    url: str, shop: Shop, seller_client: Client, settings: Any
) -> None:
    # The test settings allow loopback: these are refused for their spelling, not their address.
    assert settings.RELAY_OUTBOUND_ALLOWED_NETWORKS
    page = seller_client.post("/api/webhooks/", {"url": url}, follow=True)
    assert NUMBER in page.content.decode()
    answer = shop.api.post("/api/integrator-webhooks/", {"url": url})
    assert answer.status_code == 400 and NUMBER in answer.json()["error"]["message"]
    assert not IntegratorWebhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "Give an http:// or https:// address."),
        ("file:///etc/passwd", "Give an http:// or https:// address."),
        ("http://user:pw@hooks.example/", "Leave the user name and password out"),
        ("http://hooks.example\\@127.0.0.1/", "This is not a valid web address."),
        ("http://hooks.example:99999/", "This is not a valid web address."),
        ("http://hooks%2eexample/", "This is not a valid web address."),
    ],
)
def test_other_unsafe_urls_are_refused_with_a_reason(url: str, message: str, shop: Shop) -> None:
    answer = shop.api.post("/api/integrator-webhooks/", {"url": url})
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]


@pytest.mark.usefixtures("no_allow_list")
def test_the_refusal_is_in_indonesian_for_an_indonesian_seller(
    shop: Shop, seller_client: Client
) -> None:
    page = seller_client.post(
        "/api/webhooks/",
        {"url": "http://169.254.169.254/"},
        follow=True,
        headers={"accept-language": "id"},
    )
    assert PRIVATE_ID in page.content.decode()
    answer = shop.api.post(
        "/api/integrator-webhooks/",
        {"url": "http://10.0.0.1/"},
        headers={"accept-language": "id"},
    )
    assert answer.json()["error"]["message"] == PRIVATE_ID


def test_an_allow_listed_network_is_accepted_and_called_at_that_address(
    shop: Shop, settings: Any, connections: Connections
) -> None:
    settings.RELAY_OUTBOUND_ALLOWED_NETWORKS = [ipaddress.ip_network("10.1.2.0/24")]
    refused = shop.api.post("/api/integrator-webhooks/", {"url": "http://10.1.3.1/hook"})
    assert refused.status_code == 400  # the next network over is still private

    answer = shop.api.post("/api/integrator-webhooks/", {"url": "http://10.1.2.3:8080/hook"})
    assert answer.status_code == 201 and len(answer.json()["secret"]) == 64
    assert shop.api.get("/api/integrator-webhooks/").json()["results"][0]["url"] == (
        "http://10.1.2.3:8080/hook"
    )
    webhook = IntegratorWebhook.objects.get()
    delivery = send(delivery_for(webhook, shop))
    assert connections.attempts == [("10.1.2.3", 8080)]  # caught there, never sent
    assert delivery.state == "pending" and delivery.last_error == "could not reach the platform"


# --- At send -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "hooks.internal.test", "[::ffff:127.0.0.1]"]
)
def test_a_webhook_registered_under_the_allow_list_is_refused_once_it_is_removed(
    host: str,
    shop: Shop,
    seller_client: Client,
    settings: Any,
    listener: Listener,
    resolver: Resolver,
    connections: Connections,
) -> None:
    webhook = integrations.add_integrator_webhook(
        user=shop.seller, url=f"http://{host}:{listener.port}/hook"
    ).webhook
    settings.RELAY_OUTBOUND_ALLOWED_NETWORKS = []

    delivery = send(delivery_for(webhook, shop))

    assert (delivery.state, delivery.status_code) == ("failed", None)
    assert delivery.last_error == "refused: private address"
    assert connections.attempts == [] and not listener.connected()
    log = seller_client.get("/api/tokens/").content.decode()
    assert '<td data-testid="delivery-answer">refused: private address</td>' in log
    indonesian = seller_client.get("/api/tokens/", headers={"accept-language": "id"})
    assert "ditolak: alamat privat" in indonesian.content.decode()


def test_the_same_webhook_is_called_while_loopback_is_allowed(
    shop: Shop, settings: Any, listener: Listener, connections: Connections
) -> None:
    # The control for the test above: the listener does see a connection when one is made.
    settings.RELAY_HTTP_TIMEOUT_SECONDS = 0.3
    webhook = integrations.add_integrator_webhook(
        user=shop.seller, url=f"http://127.0.0.1:{listener.port}/hook"
    ).webhook
    delivery = send(delivery_for(webhook, shop))
    assert connections.attempts == [("127.0.0.1", listener.port)] and listener.connected()
    assert delivery.last_error == "the platform did not answer in time"


def test_a_name_that_now_resolves_to_loopback_is_refused_at_send(
    shop: Shop, settings: Any, listener: Listener, resolver: Resolver, connections: Connections
) -> None:
    settings.RELAY_OUTBOUND_ALLOWED_NETWORKS = [ipaddress.ip_network("192.0.2.0/24")]
    resolver.names["moving.test"] = [[DOCUMENTATION], ["127.0.0.1"]]
    webhook = integrations.add_integrator_webhook(
        user=shop.seller, url=f"http://moving.test:{listener.port}/"
    ).webhook

    delivery = send(delivery_for(webhook, shop))

    assert delivery.state == "failed" and delivery.last_error == "refused: private address"
    assert connections.attempts == [] and not listener.connected()


@pytest.mark.parametrize("url", ["http://0x7f.1:{port}/", "http://2130706433:{port}/"])
def test_a_webhook_stored_before_the_guard_existed_is_refused_at_send(
    url: str, shop: Shop, listener: Listener, connections: Connections
) -> None:
    # Rows registered before this release were never checked; loopback is even allowed here.
    webhook = stored_webhook(shop, url.format(port=listener.port))
    delivery = send(delivery_for(webhook, shop))
    assert delivery.state == "failed"
    assert delivery.last_error == "refused: a number written as a host name"
    assert connections.attempts == [] and not listener.connected()


def test_dns_rebinding_cannot_turn_the_checked_address_into_loopback(
    shop: Shop, settings: Any, listener: Listener, resolver: Resolver, connections: Connections
) -> None:
    # A name whose first answer (to the guard) is public and every later one loopback.
    settings.RELAY_OUTBOUND_ALLOWED_NETWORKS = [ipaddress.ip_network("192.0.2.0/24")]
    webhook = stored_webhook(shop, f"http://rebind.test:{listener.port}/hook")
    resolver.names["rebind.test"] = [[DOCUMENTATION], ["127.0.0.1"]]

    delivery = send(delivery_for(webhook, shop))

    assert resolver.calls == ["rebind.test"]  # looked up once, by the guard
    assert connections.attempts == [(DOCUMENTATION, listener.port)]
    assert not listener.connected()
    assert delivery.last_error == "could not reach the platform"


class Redirecting(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.hits += 1  # type: ignore[attr-defined]
        self.send_response(302)
        self.send_header("Location", self.server.location)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_redirect_is_not_followed_and_fails_saying_so(
    shop: Shop, seller_client: Client, listener: Listener
) -> None:
    server = HTTPServer(("127.0.0.1", 0), Redirecting)
    server.hits = 0  # type: ignore[attr-defined]
    server.location = f"http://127.0.0.1:{listener.port}/elsewhere"  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        webhook = integrations.add_integrator_webhook(
            user=shop.seller, url=f"http://127.0.0.1:{server.server_port}/hook"
        ).webhook
        delivery = send(delivery_for(webhook, shop))
    finally:
        server.shutdown()
        server.server_close()
    assert server.hits == 1  # type: ignore[attr-defined]
    assert not listener.connected()
    assert (delivery.state, delivery.status_code) == ("failed", 302)
    assert delivery.last_error == "redirect not followed (HTTP 302)"
    assert "redirect not followed (HTTP 302)" in seller_client.get("/api/tokens/").content.decode()


# --- The operator's allow-list --------------------------------------------------------------------


def test_a_malformed_allow_list_stops_start_up_naming_the_variable() -> None:
    result = run_settings({"DEBUG": "1", "RELAY_OUTBOUND_ALLOWED_NETWORKS": "10.1.2.3/8"})
    assert result.returncode != 0
    assert "RELAY_OUTBOUND_ALLOWED_NETWORKS: '10.1.2.3/8' is not a network" in result.stderr


class Recording(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.hosts.append(self.headers["Host"])  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def tls_receiver(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    """An https receiver on 127.0.0.1 whose certificate names hooks.secure.test only; the
    client trusts that certificate (and nothing else) through SSL_CERT_FILE."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    name = "hooks.secure.test"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"]
    command += ["-addext", f"subjectAltName=DNS:{name}"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(("127.0.0.1", 0), Recording)
    server.hosts = []  # type: ignore[attr-defined]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_https_to_the_checked_address_still_verifies_the_certificate_for_the_host_name(
    shop: Shop, resolver: Resolver, connections: Connections, tls_receiver: HTTPServer
) -> None:
    port = tls_receiver.server_port
    resolver.names["hooks.secure.test"] = [["127.0.0.1"]]
    resolver.names["impostor.test"] = [["127.0.0.1"]]
    good = integrations.add_integrator_webhook(
        user=shop.seller, url=f"https://hooks.secure.test:{port}/hook"
    ).webhook
    assert send(delivery_for(good, shop)).state == "delivered"
    assert tls_receiver.hosts == [f"hooks.secure.test:{port}"]  # type: ignore[attr-defined]
    assert connections.attempts == [("127.0.0.1", port)]

    # Same address, a name the certificate does not carry: the TLS check refuses it.
    wrong = integrations.add_integrator_webhook(
        user=shop.seller, url=f"https://impostor.test:{port}/hook"
    ).webhook
    delivery = send(delivery_for(wrong, shop))
    assert delivery.state == "pending" and delivery.last_error == "could not reach the platform"
    assert len(tls_receiver.hosts) == 1  # type: ignore[attr-defined]
