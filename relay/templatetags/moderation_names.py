"""Pseudonyms on moderation pages, in the moderator's language (relay.services.moderation_story)."""

from __future__ import annotations

from django import template

from relay.models import Report
from relay.services import moderation_story

register = template.Library()


@register.filter
def reported_name(report: Report) -> str:
    return moderation_story.reported_name(report)


@register.filter
def reporter_name(report: Report) -> str:
    return moderation_story.reporter_name(report)
