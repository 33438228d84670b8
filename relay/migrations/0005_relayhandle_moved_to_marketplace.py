# RelayHandle now belongs to marketplace (marketplace/migrations/0002_relayhandle.py). Only
# Django's state forgets it here: the table relay_relayhandle and its rows are kept.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0002_relayhandle'),
        ('relay', '0004_api'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='RelayHandle')],
        ),
    ]
