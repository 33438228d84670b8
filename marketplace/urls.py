from django.urls import path

from marketplace import views

app_name = "marketplace"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/listings/new/", views.listing_new, name="listing_new"),
    path("dashboard/listings/<str:code>/", views.listing_edit, name="listing_edit"),
    path(
        "dashboard/listings/<str:code>/<str:action>/",
        views.listing_action,
        name="listing_action",
    ),
    path("find/", views.find_listing, name="find_listing"),
    path("l/<str:code>/", views.listing_public, name="listing_public"),
]
