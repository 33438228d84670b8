"""Idempotency records stop being readable at rest.

Idempotency records: the existing rows hold response bodies and raw keys in plaintext. They are
simply deleted, not converted: they are at most API_IDEMPOTENCY_HOURS (a day) old, and their
new fingerprint (a keyed hash of method, path and body) cannot be computed from an unkeyed
SHA-256 of the body alone. A client retrying one of them runs its request again, as it would
after `purge`. The columns then become a keyed key hash, a keyed request fingerprint and
a sealed response (relay/api/idempotency.py).
"""

from django.db import migrations, models


def delete_plaintext_idempotency_records(apps, schema_editor):
    apps.get_model("relay", "IdempotencyRecord").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("relay", "0010_delivery_claimed_by"),
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
    ]
