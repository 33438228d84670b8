"""Sentences that tell a seller where buyers' messages reach them.

The dashboard, the Channels page and the message after removing a channel say the same thing
the same way; the web inbox is "in", an app is "on" (in Indonesian both read "di").
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from contacts.models import Channel, Endpoint


def messages_reach_you(endpoint: Endpoint | None) -> str:
    """Say "Buyers' messages reach you on Instagram." for the seller's preferred channel."""
    if endpoint is None or endpoint.channel == Channel.WEB:
        return _("Buyers' messages reach you in your web inbox.")
    return _("Buyers' messages reach you on %(channel)s.") % {
        "channel": endpoint.get_channel_display()
    }


def removed_now_reach_you(successor: Endpoint | None) -> str:
    """What removing a channel changed: who receives messages now, named."""
    if successor is None:
        return _("Channel removed.")
    if successor.channel == Channel.WEB:
        return _("Channel removed. Buyers' messages now reach you in your web inbox.")
    return _("Channel removed. Buyers' messages now reach you on %(channel)s.") % {
        "channel": successor.get_channel_display()
    }


def removal_warning(endpoint: Endpoint, successor: Endpoint | None) -> str:
    """The confirm dialog's text before removing `endpoint`, naming who takes over."""
    if not endpoint.preferred:
        return _(
            "Nothing changes for buyers' messages: they keep reaching your preferred channel. "
            "To use this one again you must add and verify it again."
        )
    if successor is None or successor.channel == Channel.WEB:
        return _(
            "Buyers' messages stop reaching you here and arrive only in your web inbox. "
            "To use it again you must add and verify it again."
        )
    return _(
        "Buyers' messages will reach you on %(channel)s instead. "
        "To use this one again you must add and verify it again."
    ) % {"channel": successor.get_channel_display()}
