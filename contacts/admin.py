from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from contacts.models import Endpoint, User


@admin.register(User)
class PerantaraUserAdmin(UserAdmin):
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Perantara", {"fields": ("display_name", "language")}),
    )


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    # The sealed address and its index are never shown: admins see codes and flags only.
    list_display = ("code", "channel", "user", "verified", "preferred", "created_at")
    list_filter = ("channel", "verified", "preferred")
    fields = (
        "code",
        "channel",
        "user",
        "verified",
        "preferred",
        "region",
        "language",
        "created_at",
    )
    readonly_fields = ("code", "channel", "region", "created_at")
