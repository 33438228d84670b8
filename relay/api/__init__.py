"""The public REST API (Django REST Framework): tokens, idempotency, errors, OpenAPI.

HTTP only: the API sits on top of the rest of relay, and nothing below it imports it (the
import-linter contracts in pyproject.toml). Integrator webhooks are relay/services/integrations.py.
"""
