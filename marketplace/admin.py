from django.contrib import admin

from marketplace.models import Listing, RelayHandle


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("title", "seller", "status", "price", "currency", "updated_at")
    list_filter = ("status", "currency", "taken_down")
    search_fields = ("title", "code")


@admin.register(RelayHandle)
class RelayHandleAdmin(admin.ModelAdmin):
    list_display = ("display", "listing", "status", "created_at", "retired_at")
    list_filter = ("status",)
    search_fields = ("code",)
