"""Everything under /api/ except the moderation endpoints (relay/urls.py keeps their names)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from relay.api import dashboard
from relay.api.views import conversations, endpoints, listings, webhooks

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("tokens/", dashboard.api_tokens, name="tokens"),
    path("tokens/<str:prefix>/revoke/", dashboard.api_token_revoke, name="token_revoke"),
    path("webhooks/", dashboard.webhook_add, name="webhook_add"),
    path("webhooks/<int:webhook_id>/remove/", dashboard.webhook_remove, name="webhook_remove"),
    path(
        "webhooks/<str:code>/rotate-secret/",
        dashboard.webhook_rotate_secret,
        name="webhook_rotate_secret",
    ),
    path("listings/", listings.ListingsView.as_view(), name="listings"),
    path("listings/<str:code>/", listings.ListingView.as_view(), name="listing"),
    path(
        "listings/<str:code>/publish/",
        listings.ListingPublishView.as_view(),
        name="listing_publish",
    ),
    path("listings/<str:code>/sold/", listings.ListingSoldView.as_view(), name="listing_sold"),
    path("listings/<str:code>/close/", listings.ListingCloseView.as_view(), name="listing_close"),
    path(
        "listings/<str:code>/rotate-handle/",
        listings.ListingRotateHandleView.as_view(),
        name="listing_rotate_handle",
    ),
    path("conversations/", conversations.ConversationsView.as_view(), name="conversations"),
    path(
        "conversations/<str:code>/",
        conversations.ConversationView.as_view(),
        name="conversation",
    ),
    path(
        "conversations/<str:code>/block/",
        conversations.ConversationBlockView.as_view(),
        name="conversation_block",
    ),
    path(
        "conversations/<str:code>/unblock/",
        conversations.ConversationUnblockView.as_view(),
        name="conversation_unblock",
    ),
    path(
        "conversations/<str:code>/report/",
        conversations.ConversationReportView.as_view(),
        name="conversation_report",
    ),
    path(
        "conversations/<str:code>/devices/",
        conversations.ConversationDevicesView.as_view(),
        name="conversation_devices",
    ),
    path(
        "conversations/<str:code>/messages/",
        conversations.MessagesView.as_view(),
        name="messages",
    ),
    path(
        "integrator-webhooks/",
        webhooks.WebhooksView.as_view(),
        name="integrator_webhooks",
    ),
    path(
        "integrator-webhooks/<str:code>/rotate-secret/",
        webhooks.WebhookRotateSecretView.as_view(),
        name="integrator_webhook_rotate_secret",
    ),
    path("endpoints/", endpoints.EndpointsView.as_view(), name="endpoints"),
    path("endpoints/link-codes/", endpoints.LinkCodesView.as_view(), name="link_codes"),
    path("endpoints/<str:code>/", endpoints.EndpointView.as_view(), name="endpoint"),
    path(
        "endpoints/<str:code>/verify/",
        endpoints.EndpointVerifyView.as_view(),
        name="endpoint_verify",
    ),
    path(
        "endpoints/<str:code>/preferred/",
        endpoints.EndpointPreferredView.as_view(),
        name="endpoint_preferred",
    ),
]
