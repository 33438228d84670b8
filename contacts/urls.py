from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from contacts import views

app_name = "contacts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("start/", views.landing, name="landing"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="contacts/password_reset.html",
            email_template_name="contacts/password_reset_email.txt",
            success_url=reverse_lazy("contacts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="contacts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="contacts/password_reset_confirm.html",
            success_url=reverse_lazy("contacts:login"),
        ),
        name="password_reset_confirm",
    ),
    path("channels/", views.channels, name="channels"),
    path("channels/phone/", views.add_phone, name="add_phone"),
    path("channels/language/", views.set_language, name="set_language"),
    path("channels/link/", views.link_code, name="link_code"),
    path("channels/notifications/", views.notifications, name="notifications"),
    path("channels/time-zone/", views.time_zone, name="time_zone"),
    path("channels/<str:code>/verify/", views.verify, name="verify"),
    path("channels/<str:code>/resend/", views.resend, name="resend"),
    path(
        "channels/<str:code>/<str:action>/",
        views.endpoint_action,
        name="endpoint_action",
    ),
]
