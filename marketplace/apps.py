from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from marketplace import photos
        from marketplace.models import ListingPhoto

        # However a photo row goes (its delete button, a listing deleted in the admin, a
        # seller's account deleted or erased), its public file goes with it, after commit.
        post_delete.connect(
            photos.delete_file_after_commit,
            sender=ListingPhoto,
            dispatch_uid="listing-photo-file",
        )
