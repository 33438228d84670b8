"""`python -m bench.inbox_idle`: what one idle poll of an open seller inbox tab costs.

An open inbox tab asks the server every 1.5 s whether anything changed. Most of those asks find
nothing, so their cost, times every open tab, is the inbox's floor. This script seeds a fresh
in-memory SQLite database (the test settings, fixed test keys) with one seller, one web buyer
and a conversation of `--messages` messages (half from each side, through the real pipeline),
logs the seller in with Django's test Client and times `--polls` idle polls of that open
conversation through the whole middleware stack:

  poll                    the endpoint the page polls (`relay:inbox_poll` with its cursors, or
                          in a checkout from before it, the whole-conversation fragment
                          `relay:conversation_messages`)
  statements_per_poll     SQL statements Django executed per poll (session and user included)
  cpu_ms_per_poll         this process's CPU per poll (Django, SQLite, PyNaCl decryption)
  wall_ms_per_poll        elapsed time per poll

`--app-root PATH` measures the code of another checkout, e.g. the commit before the live inbox:
  git worktree add /tmp/inbox-before <commit> && python -m bench.inbox_idle --app-root /tmp/inbox-before
(the script itself is loaded from here; the application from PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any


def _setup(app_root: Path) -> None:
    os.chdir(app_root)  # Celery puts the working directory first on sys.path when it loads
    sys.path.insert(0, str(app_root))
    for name in [name for name in sys.modules if name.split(".")[0] in _APPS]:
        del sys.modules[name]  # `bench` imported this checkout's packages: load app_root's
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")  # nothing leaves this process
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # not one line per seeded delivery
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from config.celery import app

    app.conf.task_always_eager = True  # web deliveries finish in-process, states settle
    setup_test_environment(debug=False)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)


_APPS = ("config", "contacts", "marketplace", "relay", "sandbox")


def _seed(messages: int) -> tuple[Any, Any]:
    from django.conf import settings

    from contacts import services as contacts
    from marketplace import services as marketplace
    from relay.pipeline import roads
    from relay.services import web

    settings.RELAY_LIMIT_MESSAGES_PER_MINUTE = 1_000_000
    seller = contacts.register_user(
        username="sari", email="sari@example.com", password="bench-pw-12345", display_name="Sari"
    )
    listing = marketplace.create_listing(seller=seller, title="Sepeda lipat", price=Decimal(1))
    buyer = web.browser_endpoint(signed=None, language="id")
    result = roads.start_chat(
        listing=listing, text="Masih ada?", buyer=buyer, network_key=web.network_key("10.0.0.1")
    )
    conversation = result.conversation
    for n in range(1, messages):
        if n % 2:
            roads.seller_reply(seller=seller, conversation=conversation, text=f"Jawaban {n}")
        else:
            roads.buyer_message(buyer=buyer, conversation=conversation, text=f"Pertanyaan {n}")
    return seller, conversation


def _poller(client: Any, conversation: Any) -> tuple[str, Any]:
    """The page's poll, as its script sends it once its cursors are current."""
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("relay:inbox_poll")
    except NoReverseMatch:  # before the live inbox: the fragment of the whole conversation
        old = reverse("relay:conversation_messages", args=[conversation.code])
        return "conversation_messages (whole conversation)", lambda: client.get(old)
    from relay.models import Message

    newest = Message.objects.filter(conversation=conversation).order_by("-id").first()
    read = newest.pk if newest is not None else 0
    asked = {"conversation": conversation.code, "seq": 0, "read": read, "visible": "1"}
    answer = client.get(url, asked).json()  # from the start: the whole conversation
    cursors = {
        **asked,
        "seq": answer["seq"],
        "threads": answer["threads_version"],
        "since": answer["since"],
    }

    def tick() -> Any:  # the page's script: each answer moves its cursors on
        response = client.get(url, cursors)
        answer = response.json()
        cursors.update(seq=answer["seq"], since=answer["since"])
        cursors["threads"] = answer["threads_version"]
        return response

    return "inbox_poll (only what is new)", tick


def measure(messages: int, polls: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    seller, conversation = _seed(messages)
    client = Client()
    client.force_login(seller)
    label, poll = _poller(client, conversation)
    time.sleep(6)  # past STATE_OVERLAP: the seeded deliveries' states are old news, as when idle
    for _ in range(20):  # warm caches, templates, the session
        assert poll().status_code == 200
    executed = [0]

    def counting(execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        executed[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(polls):
            poll()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "poll": label,
        "messages": messages,
        "polls": polls,
        "statements_per_poll": round(executed[0] / polls, 2),
        "cpu_ms_per_poll": round(cpu / polls * 1000, 3),
        "wall_ms_per_poll": round(wall / polls * 1000, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--polls", type=int, default=300)
    args = parser.parse_args(argv)
    _setup(args.app_root.resolve())
    result = measure(args.messages, args.polls)
    result["app_root"] = str(args.app_root)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
