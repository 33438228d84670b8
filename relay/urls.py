from django.urls import path

from relay import views

app_name = "relay"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("inbox/", views.inbox, name="inbox"),
]
