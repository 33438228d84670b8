"""Moved to marketplace/handles.py: a handle is a listing's public code.

This name stays for code written before the move (relay may import marketplace, never the
reverse); new code imports `marketplace.handles`.
"""

from marketplace.handles import (
    ALPHABET,
    CANDIDATE,
    CONFUSABLE,
    LENGTH,
    HandleCandidate,
    display,
    find_candidates,
    generate_code,
    issue_handle,
    live_handle,
    lookup_handle,
    normalize,
    pause_handles,
    rotate_handle,
)

__all__ = [
    "ALPHABET",
    "CANDIDATE",
    "CONFUSABLE",
    "LENGTH",
    "HandleCandidate",
    "display",
    "find_candidates",
    "generate_code",
    "issue_handle",
    "live_handle",
    "lookup_handle",
    "normalize",
    "pause_handles",
    "rotate_handle",
]
