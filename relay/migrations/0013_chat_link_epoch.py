from typing import Any

from django.db import migrations, models


def retire_links_of_finished_conversations(apps: Any, schema_editor: Any) -> None:
    """Links issued before this migration carry no generation and open as generation 0: a
    conversation that is already ended, blocked or closed starts at 1, so those links die."""
    Conversation = apps.get_model("relay", "Conversation")
    Conversation.objects.exclude(status="open").update(chat_epoch=1)


class Migration(migrations.Migration):

    dependencies = [
        ("relay", "0012_sealed_api_secrets"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="chat_epoch",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(retire_links_of_finished_conversations, migrations.RunPython.noop),
    ]
