from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0003_data_request"),
    ]

    operations = [
        migrations.AddField(
            model_name="endpoint",
            name="language_source",
            field=models.CharField(
                choices=[
                    ("region", "the number's region"),
                    ("platform", "the platform's locale"),
                    ("keyword", "a keyword they wrote"),
                    ("chosen", "BAHASA or ENGLISH"),
                    ("account", "the account setting"),
                ],
                default="region",
                max_length=8,
            ),
        ),
    ]
