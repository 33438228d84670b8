from django.apps import AppConfig


class RelayConfig(AppConfig):
    name = "relay"
    verbose_name = "Relay"

    def ready(self) -> None:
        import config.checks  # noqa: F401  (registers the deploy checks)

        # Contacts refuses banned numbers at verification but must not import relay (the
        # layers in pyproject.toml): relay hands it the moderators' ban list instead.
        from contacts.services import register_address_refusal
        from relay.services.moderation import is_banned

        register_address_refusal(is_banned)

        # No `SELECT 1` before a request whose connection the last request just used.
        from config import db_reuse

        db_reuse.install()
