from typing import Any

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def mark_history_read(apps: Any, schema_editor: Any) -> None:
    """Conversations from before read marks count as read up to their newest message, so an
    upgrade does not light up every old thread as unread."""
    Conversation = apps.get_model("relay", "Conversation")
    Message = apps.get_model("relay", "Message")
    newest = (
        Message.objects.filter(conversation=OuterRef("pk"))
        .values("conversation")
        .annotate(newest=Max("id"))
        .values("newest")
    )
    Conversation.objects.update(seller_read_message_id=Coalesce(Subquery(newest), Value(0)))


class Migration(migrations.Migration):

    dependencies = [
        ("relay", "0013_chat_link_epoch"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="seller_read_message_id",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.RunPython(mark_history_read, migrations.RunPython.noop),
    ]
