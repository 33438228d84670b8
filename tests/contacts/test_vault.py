"""The address vault: sealed addresses, blind indexes, and no plaintext number in the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from contacts import services, vault
from contacts.models import Endpoint

NUMBER = "+6281234567890"
# The same number as people and systems write it.
FORMATS = ["6281234567890", "81234567890", "0812-3456-7890", "812 3456 7890", "34567890"]


@pytest.mark.django_db
def test_a_sealed_address_opens_back_to_the_normalized_number() -> None:
    endpoint, created = services.get_or_create_endpoint(
        channel="whatsapp", address="+62 812 3456 7890"
    )
    assert created
    endpoint.refresh_from_db()
    assert services.endpoint_address(endpoint) == NUMBER


@pytest.mark.django_db
def test_the_raw_endpoint_table_holds_no_form_of_the_number() -> None:
    services.get_or_create_endpoint(channel="sms", address=NUMBER)
    services.get_or_create_endpoint(channel="messenger", address="9200000000000001")
    table = Endpoint._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        rows = cursor.fetchall()
    dump = " ".join(
        value.hex() + " " + bytes(value).decode("latin-1")
        if isinstance(value, bytes | memoryview)
        else str(value)
        for row in rows
        for value in row
    )
    assert len(rows) == 2
    for form in [*FORMATS, "9200000000000001"]:
        assert form not in dump
        assert form.encode().hex() not in dump


@pytest.mark.django_db
def test_the_same_number_typed_two_ways_is_one_endpoint() -> None:
    first, _ = services.get_or_create_endpoint(channel="whatsapp", address="0812-3456-7890")
    second, created = services.get_or_create_endpoint(
        channel="whatsapp", address="+62 812 3456 7890"
    )
    assert not created
    assert first.pk == second.pk


@pytest.mark.django_db
def test_the_database_refuses_a_second_row_with_the_same_blind_index() -> None:
    endpoint, _ = services.get_or_create_endpoint(channel="sms", address=NUMBER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Endpoint.objects.create(
            channel="sms", blind_index=endpoint.blind_index, address_sealed=b"x"
        )


@pytest.mark.django_db
def test_a_sealed_address_moved_to_another_row_does_not_open() -> None:
    first, _ = services.get_or_create_endpoint(channel="sms", address=NUMBER)
    second, _ = services.get_or_create_endpoint(channel="sms", address="+14155550100")
    second.address_sealed = first.address_sealed
    with pytest.raises(vault.VaultError):
        services.endpoint_address(second)


def test_blind_index_is_keyed_and_stable(settings: pytest.FixtureRequest) -> None:
    one = vault.blind_index("phone:" + NUMBER)
    assert one == vault.blind_index("phone:" + NUMBER)
    assert NUMBER not in one
    settings.RELAY_INDEX_KEY = b"k" * 32  # type: ignore[attr-defined]
    assert vault.blind_index("phone:" + NUMBER) != one


def test_a_blob_sealed_under_an_old_key_still_opens_after_rotation(
    settings: pytest.FixtureRequest,
) -> None:
    blob = vault.seal(b"hello", aad=b"row-1")
    old_id = vault.current_key_id()
    settings.RELAY_KEYRING = {**settings.RELAY_KEYRING, "k2": b"2" * 32}  # type: ignore[attr-defined]
    settings.RELAY_KEY_CURRENT = "k2"  # type: ignore[attr-defined]
    assert vault.sealed_key_id(blob) == old_id
    assert vault.open_sealed(blob, aad=b"row-1") == b"hello"
    assert vault.sealed_key_id(vault.seal(b"hello", aad=b"row-1")) == "k2"
