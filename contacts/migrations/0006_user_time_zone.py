"""A seller's own time zone, and when each channel was verified.

`Endpoint.verified_at` rides along (it is the same slice of #14): removing the preferred channel
falls back to the most recently verified one. Channels verified before this migration get their
creation time, the best record there is of when they were connected.
"""

from django.db import migrations, models
from django.db.models import F


def backfill_verified_at(apps, schema_editor):  # type: ignore[no-untyped-def]
    Endpoint = apps.get_model("contacts", "Endpoint")
    Endpoint.objects.filter(verified=True, verified_at=None).update(verified_at=F("created_at"))


class Migration(migrations.Migration):
    # The merger re-chains this after the other slices' contacts migrations (0004, 0005).
    dependencies = [
        ("contacts", "0005_notification_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="time_zone",
            field=models.CharField(blank=True, max_length=64, verbose_name="time zone"),
        ),
        migrations.AddField(
            model_name="endpoint",
            name="verified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill_verified_at, migrations.RunPython.noop),
    ]
