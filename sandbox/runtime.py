"""What every request handler shares: configuration, state, the webhook poster."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sandbox.config import SandboxConfig
from sandbox.delivery import WebhookPoster
from sandbox.media import MediaStore
from sandbox.state import SandboxState


@dataclass
class Runtime:
    config: SandboxConfig
    state: SandboxState
    poster: WebhookPoster
    stopping: threading.Event = field(default_factory=threading.Event)
    base_url: str = ""  # the sandbox's own URL, known once the socket is bound
    media: MediaStore = field(default_factory=MediaStore)  # photos sent and uploaded

    @classmethod
    def create(cls, config: SandboxConfig) -> Runtime:
        state = SandboxState(config)
        stopping = threading.Event()
        return cls(config, state, WebhookPoster(config, state, stopping), stopping)

    def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the sandbox stops (so held requests don't block exit)."""
        if seconds > 0:
            self.stopping.wait(seconds)
