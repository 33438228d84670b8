from django.contrib import admin

from marketplace.models import Listing


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("title", "seller", "status", "price", "currency", "updated_at")
    list_filter = ("status", "currency", "taken_down")
    search_fields = ("title", "code")
