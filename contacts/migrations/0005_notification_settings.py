from django.db import migrations, models


class Migration(migrations.Migration):
    # The merger re-chains this after the other slices' contacts migrations (#14).
    dependencies = [
        ("contacts", "0004_language_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_notifications",
            field=models.BooleanField(blank=True, default=None, null=True),
        ),
    ]
