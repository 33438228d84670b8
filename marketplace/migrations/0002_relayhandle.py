# RelayHandle moved here from relay (a handle is a listing's public code). The table
# relay_relayhandle and its rows stay as they are: this changes Django's state only, and
# relabels the content type so admin permissions and log entries follow the model.

import django.db.models.deletion
from django.db import migrations, models


def _relabel(apps, schema_editor, old, new):
    content_type = apps.get_model("contenttypes", "ContentType")
    if content_type.objects.filter(app_label=new, model="relayhandle").exists():
        return
    content_type.objects.filter(app_label=old, model="relayhandle").update(app_label=new)


def relabel_forwards(apps, schema_editor):
    _relabel(apps, schema_editor, "relay", "marketplace")


def relabel_backwards(apps, schema_editor):
    _relabel(apps, schema_editor, "marketplace", "relay")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('marketplace', '0001_initial'),
        # The table was created by relay's first migration.
        ('relay', '0004_api'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='RelayHandle',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=16, unique=True)),
                        ('status', models.CharField(choices=[('active', 'Active'), ('paused', 'Paused'), ('retired', 'Retired')], default='active', max_length=8)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('retired_at', models.DateTimeField(blank=True, null=True)),
                        ('listing', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='handles', to='marketplace.listing')),
                    ],
                    options={
                        'db_table': 'relay_relayhandle',
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'retired'), _negated=True), fields=('listing',), name='handle_one_live')],
                    },
                ),
            ],
        ),
        migrations.RunPython(relabel_forwards, relabel_backwards),
    ]
