from django.db import migrations, models


class Migration(migrations.Migration):
    # The merger re-chains this after the other slices' relay migrations (#14).
    dependencies = [
        ("relay", "0014_read_marks"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="seller_notified_up_to",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
