"""The public REST API (Django REST Framework): tokens, idempotency, errors, OpenAPI.

Kept import-free so `relay.services.outbound` can import `relay.api.integrations` without
pulling in views.
"""
