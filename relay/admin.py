from django.contrib import admin

from relay.models import RelayHandle, RelayIdentity


@admin.register(RelayIdentity)
class RelayIdentityAdmin(admin.ModelAdmin):
    list_display = ("channel", "address", "provider_id", "label", "active", "created_at")
    list_filter = ("channel", "active")


@admin.register(RelayHandle)
class RelayHandleAdmin(admin.ModelAdmin):
    list_display = ("display", "listing", "status", "created_at", "retired_at")
    list_filter = ("status",)
    search_fields = ("code",)
