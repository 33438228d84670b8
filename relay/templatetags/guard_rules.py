"""The browser's body guards: `{% guard_rules conversation side %}` renders the rules
(relay/pipeline/guard_rules.py) as the json_script element static/guards.js reads."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from relay.models import Conversation
from relay.pipeline.guard_rules import rules_for

register = template.Library()

ELEMENT_ID = "perantara-guard-rules"


@register.simple_tag
def guard_rules(conversation: Conversation, side: str) -> SafeString:
    return json_script(rules_for(conversation, side), ELEMENT_ID)
