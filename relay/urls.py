from django.urls import path

from relay import (
    e2ee_views,
    media_link_views,
    media_views,
    moderation_views,
    ops,
    privacy_views,
    views,
    webhooks,
)
from relay.api.views import moderation as api_moderation

app_name = "relay"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/poll/", views.inbox_poll, name="inbox_poll"),  # before the conversation codes
    path("inbox/devices/", e2ee_views.seller_device, name="seller_device"),  # before them too
    path("inbox/<str:code>/e2ee/", e2ee_views.seller_state, name="seller_e2ee"),
    path("inbox/<str:code>/e2ee/send/", e2ee_views.seller_send, name="seller_e2ee_send"),
    path("inbox/<str:code>/", views.conversation, name="conversation"),
    path(
        "inbox/<str:code>/block/",
        views.conversation_lifecycle,
        {"action": "block"},
        name="conversation_block",
    ),
    path(
        "inbox/<str:code>/unblock/",
        views.conversation_lifecycle,
        {"action": "unblock"},
        name="conversation_unblock",
    ),
    path(
        "inbox/<str:code>/resume/",
        views.conversation_lifecycle,
        {"action": "resume"},
        name="conversation_resume",
    ),
    path(
        "chat/<str:token>/resume/",
        views.buyer_chat_lifecycle,
        {"action": "resume"},
        name="buyer_chat_resume",
    ),
    path(
        "chat/<str:token>/block/",
        views.buyer_chat_lifecycle,
        {"action": "block"},
        name="buyer_chat_block",
    ),
    path(
        "chat/<str:token>/unblock/",
        views.buyer_chat_lifecycle,
        {"action": "unblock"},
        name="buyer_chat_unblock",
    ),
    path("chat/start/<str:listing_code>/", views.buyer_chat_start, name="buyer_chat_start"),
    path("chat/<str:token>/", views.buyer_chat, name="buyer_chat"),
    path("chat/<str:token>/messages/", views.buyer_chat_messages, name="buyer_chat_messages"),
    path("chat/<str:token>/devices/", e2ee_views.buyer_device, name="buyer_device"),
    path("chat/<str:token>/e2ee/", e2ee_views.buyer_state, name="buyer_e2ee"),
    path("chat/<str:token>/e2ee/send/", e2ee_views.buyer_send, name="buyer_e2ee_send"),
    path(
        "webhooks/<str:platform>/status/",
        webhooks.webhook,
        name="webhook_status",
    ),
    path("webhooks/<str:platform>/", webhooks.webhook, name="webhook"),
    # Signed, expiring photo links for Twilio MMS, Instagram and SMS numbers without MMS.
    path("m/<str:token>/", media_link_views.media_link, name="media_link"),
    path("p/<str:token>/", media_link_views.media_page, name="media_page"),
]

urlpatterns += [
    # "Your data": buyers download or erase what the relay keeps about them.
    path("privacy/", privacy_views.privacy, name="privacy"),
    path("privacy/code/", privacy_views.privacy_code, name="privacy_code"),
    path("privacy/web/", privacy_views.privacy_web, name="privacy_web"),
    path("privacy/mine/", privacy_views.privacy_mine, name="privacy_mine"),
    path("privacy/mine/export.json", privacy_views.privacy_export, name="privacy_export"),
    path("privacy/mine/erase/", privacy_views.privacy_erase, name="privacy_erase"),
]

urlpatterns += [
    # Operator endpoints: readiness for load balancers, Prometheus metrics.
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
    # Reports from the web, and the moderator queue.
    path("inbox/<str:code>/report/", views.conversation_report, name="conversation_report"),
    path("chat/<str:token>/report/", views.buyer_chat_report, name="buyer_chat_report"),
    path("l/<str:listing_code>/report/", views.listing_report, name="listing_report"),
    path("moderation/", moderation_views.queue, name="moderation_queue"),
    path("moderation/audit/", moderation_views.audit_log, name="moderation_audit"),
    path("moderation/audit.csv", moderation_views.audit_csv, name="moderation_audit_csv"),
    path(
        "moderation/reports/<str:code>/",
        moderation_views.report_detail,
        name="moderation_report",
    ),
    path(
        "moderation/reports/<str:code>/evidence/",
        moderation_views.report_evidence,
        name="moderation_evidence",
    ),
    path("moderation/reports/<str:code>/act/", moderation_views.report_act, name="moderation_act"),
    path(
        "moderation/reports/<str:code>/unmask/",
        moderation_views.report_unmask,
        name="moderation_unmask",
    ),
    path(
        "moderation/reports/<str:code>/hold/",
        moderation_views.report_hold,
        name="moderation_hold",
    ),
    path(
        "moderation/reports/<str:code>/hold/<str:hold>/release/",
        moderation_views.report_hold_release,
        name="moderation_hold_release",
    ),
    path(
        "api/moderation/reports/",
        api_moderation.ModerationReportsView.as_view(),
        name="api_moderation_reports",
    ),
    path(
        "api/moderation/reports/<str:code>/",
        api_moderation.ModerationReportView.as_view(),
        name="api_moderation_report",
    ),
    path(
        "api/moderation/reports/<str:code>/evidence/",
        api_moderation.ModerationEvidenceView.as_view(),
        name="api_moderation_evidence",
    ),
    path(
        "api/moderation/reports/<str:code>/holds/",
        api_moderation.ModerationLegalHoldsView.as_view(),
        name="api_moderation_holds",
    ),
    path(
        "api/moderation/reports/<str:code>/holds/<str:hold>/release/",
        api_moderation.ModerationLegalHoldReleaseView.as_view(),
        name="api_moderation_hold_release",
    ),
]

urlpatterns += [
    # Photos on the web roads (relay/media_views.py): the upload before sending, then a
    # thumbnail and the full cleaned image, each only for a participant of the conversation.
    path("inbox/<str:code>/photos/", media_views.conversation_upload, name="conversation_upload"),
    path(
        "inbox/<str:code>/photos/<str:uid>/",
        media_views.conversation_photo,
        name="conversation_photo",
    ),
    path(
        "inbox/<str:code>/photos/<str:uid>/thumb/",
        media_views.conversation_photo,
        {"thumbnail": True},
        name="conversation_photo_thumb",
    ),
    path("chat/<str:token>/photos/", media_views.buyer_chat_upload, name="buyer_chat_upload"),
    path(
        "chat/<str:token>/photos/<str:uid>/", media_views.buyer_chat_photo, name="buyer_chat_photo"
    ),
    path(
        "chat/<str:token>/photos/<str:uid>/thumb/",
        media_views.buyer_chat_photo,
        {"thumbnail": True},
        name="buyer_chat_photo_thumb",
    ),
]
