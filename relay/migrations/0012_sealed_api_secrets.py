"""Idempotency records and integrator webhook secrets stop being readable at rest.

Idempotency records: the existing rows hold response bodies and raw keys in plaintext. They are
simply deleted, not converted: they are at most API_IDEMPOTENCY_HOURS (a day) old, and their
new fingerprint (a keyed hash of method, path and body) cannot be computed from an unkeyed
SHA-256 of the body alone. A client retrying one of them runs its request again, as it would
after `purge`. The columns then become a keyed key hash, a keyed request fingerprint and
a sealed response (relay/api/idempotency.py).

Integrator webhooks: each gets a random public code (the sealed secret's associated data,
`integrator-webhook:<code>`), and its existing secret is sealed with the address vault under
the key ring's current key (migrations run with the real key ring settings), keeping its first
8 characters to be recognised by. Receivers keep verifying with the secret they already have.
Reversing opens the secrets back into the plaintext column.
"""

import secrets

from django.db import migrations, models

import relay.models.api


def delete_plaintext_idempotency_records(apps, schema_editor):
    apps.get_model("relay", "IdempotencyRecord").objects.all().delete()


def seal_webhook_secrets(apps, schema_editor):
    from contacts import vault

    IntegratorWebhook = apps.get_model("relay", "IntegratorWebhook")
    for webhook in IntegratorWebhook.objects.all().iterator(chunk_size=500):
        webhook.code = secrets.token_urlsafe(12)
        webhook.secret_sealed = vault.seal(
            webhook.secret.encode(), aad=f"integrator-webhook:{webhook.code}".encode()
        )
        webhook.secret_prefix = webhook.secret[:8]
        # Only these columns: an UPDATE that leaves the foreign keys alone queues no deferred
        # constraint trigger, so PostgreSQL lets the ALTERs below run in the same transaction.
        webhook.save(update_fields=["code", "secret_sealed", "secret_prefix"])


def open_webhook_secrets(apps, schema_editor):
    from contacts import vault

    IntegratorWebhook = apps.get_model("relay", "IntegratorWebhook")
    for webhook in IntegratorWebhook.objects.all().iterator(chunk_size=500):
        if webhook.secret_sealed is None:
            webhook.secret = secrets.token_hex(32)  # erased: a fresh one nobody knows
        else:
            webhook.secret = vault.open_sealed(
                webhook.secret_sealed, aad=f"integrator-webhook:{webhook.code}".encode()
            ).decode()
        webhook.save(update_fields=["secret"])


class Migration(migrations.Migration):

    dependencies = [
        ("relay", "0011_report_keys"),
    ]

    operations = [
        # --- Idempotency records -------------------------------------------------------------
        migrations.RunPython(delete_plaintext_idempotency_records, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="idempotencyrecord",
            name="idempotency_user_key_unique",
        ),
        migrations.RemoveField(model_name="idempotencyrecord", name="key"),
        migrations.RemoveField(model_name="idempotencyrecord", name="method_path"),
        migrations.RemoveField(model_name="idempotencyrecord", name="request_hash"),
        migrations.RemoveField(model_name="idempotencyrecord", name="response_body"),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="key_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="request_fingerprint",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="response_sealed",
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="idempotencyrecord",
            constraint=models.UniqueConstraint(
                fields=("user", "key_hash"), name="idempotency_user_key_hash_unique"
            ),
        ),
        # --- Integrator webhook secrets ------------------------------------------------------
        migrations.AddField(
            model_name="integratorwebhook",
            name="code",
            field=models.CharField(max_length=24, null=True),
        ),
        migrations.AddField(
            model_name="integratorwebhook",
            name="secret_sealed",
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="integratorwebhook",
            name="secret_prefix",
            field=models.CharField(blank=True, max_length=8),
        ),
        migrations.RunPython(seal_webhook_secrets, open_webhook_secrets),
        migrations.AlterField(
            model_name="integratorwebhook",
            name="code",
            field=models.CharField(
                default=relay.models.api.new_webhook_code, max_length=24, unique=True
            ),
        ),
        # A default first, so that reversing can add the column back before refilling it.
        migrations.AlterField(
            model_name="integratorwebhook",
            name="secret",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.RemoveField(model_name="integratorwebhook", name="secret"),
    ]
