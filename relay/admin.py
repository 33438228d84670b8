from django.contrib import admin

from relay.models import RelayIdentity


@admin.register(RelayIdentity)
class RelayIdentityAdmin(admin.ModelAdmin):
    list_display = ("channel", "address", "provider_id", "label", "active", "created_at")
    list_filter = ("channel", "active")
