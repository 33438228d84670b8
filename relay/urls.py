from django.urls import path

from relay import views, webhooks

app_name = "relay"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<str:code>/", views.conversation, name="conversation"),
    path("inbox/<str:code>/messages/", views.conversation_messages, name="conversation_messages"),
    path("inbox/<str:code>/block/", views.conversation_block, name="conversation_block"),
    path("chat/start/<str:listing_code>/", views.buyer_chat_start, name="buyer_chat_start"),
    path("chat/<str:token>/", views.buyer_chat, name="buyer_chat"),
    path("chat/<str:token>/messages/", views.buyer_chat_messages, name="buyer_chat_messages"),
    path(
        "webhooks/<str:platform>/status/",
        webhooks.webhook,
        name="webhook_status",
    ),
    path("webhooks/<str:platform>/", webhooks.webhook, name="webhook"),
]

# Operator endpoints (relay/ops.py): readiness for load balancers, Prometheus metrics.
from relay import ops  # noqa: E402

urlpatterns += [
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
]
