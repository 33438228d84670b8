"""Sign up, log in, log out and reset a forgotten password."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.urls import reverse

from contacts.models import User

PASSWORD = "correct-horse-battery"


def test_signing_up_logs_the_seller_in_with_a_web_inbox_as_their_channel(
    client: Any, db: None
) -> None:
    response = client.post(
        reverse("contacts:signup"),
        {
            "username": "wulan",
            "email": "Wulan@Example.com",
            "display_name": "Wulan",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        follow=True,
    )
    assert "Welcome to Perantara" in response.content.decode()
    user = User.objects.get(username="wulan")
    assert user.email == "wulan@example.com"
    assert user.endpoints.get().channel == "web" and user.endpoints.get().preferred


def test_a_second_account_with_the_same_email_is_refused(client: Any, seller: User) -> None:
    response = client.post(
        reverse("contacts:signup"),
        {
            "username": "other",
            "email": "sari@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert "already exists" in response.content.decode()


def test_logging_in_and_out(client: Any, seller: User) -> None:
    wrong = client.post(reverse("contacts:login"), {"username": "sari", "password": "nope"})
    assert "correct username and password" in wrong.content.decode()
    right = client.post(reverse("contacts:login"), {"username": "sari", "password": PASSWORD})
    assert right.status_code == 302
    assert client.get(reverse("marketplace:dashboard")).status_code == 200
    client.post(reverse("contacts:logout"))
    assert client.get(reverse("marketplace:dashboard")).status_code == 302


def test_a_forgotten_password_is_reset_through_the_emailed_link(client: Any, seller: User) -> None:
    client.post(reverse("contacts:password_reset"), {"email": "sari@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", str(mail.outbox[0].body))
    assert link is not None
    form = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert done.status_code == 302
    assert client.login(username="sari", password="a-brand-new-passphrase")


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client: Any, db: None) -> None:
    response = client.post(
        reverse("contacts:password_reset"), {"email": "nobody@example.com"}, follow=True
    )
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []
