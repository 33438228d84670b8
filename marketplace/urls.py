from django.urls import path

from marketplace import photo_views, views

app_name = "marketplace"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/listings/new/", views.listing_new, name="listing_new"),
    path("dashboard/listings/<str:code>/", views.listing_edit, name="listing_edit"),
    # Listing photos (marketplace/photo_views.py), before the listing actions they would match.
    path("dashboard/listings/<str:code>/photos/", photo_views.photo_add, name="listing_photo_add"),
    path(
        "dashboard/listings/<str:code>/photos/<str:name>/<str:action>/",
        photo_views.photo_change,
        name="listing_photo_change",
    ),
    path(
        "dashboard/listings/<str:code>/<str:action>/",
        views.listing_action,
        name="listing_action",
    ),
    path("find/", views.find_listing, name="find_listing"),
    path("l/<str:code>/", views.listing_public, name="listing_public"),
    path("l/<str:code>/photos/<str:name>", photo_views.listing_photo, name="listing_photo"),
]
