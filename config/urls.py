from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("contacts.urls")),
    path("api/", include("relay.api.urls")),
    path("", include("relay.urls")),
    path("", include("marketplace.urls")),
]

handler400 = "config.errors.bad_request"
handler500 = "config.errors.server_error"
