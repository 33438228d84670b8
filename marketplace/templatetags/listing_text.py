"""`{{ listing.title|public }}`: a listing's words as the public sees them."""

from __future__ import annotations

from django import template

from marketplace.public_text import public_text

register = template.Library()


@register.filter(name="public")
def public(text: str) -> str:
    """Hide contact details; the result is plain text and is escaped like any other."""
    return public_text(str(text or ""))
