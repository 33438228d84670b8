"""gunicorn's logger, with the redacting filter on its access and error logs.

gunicorn writes its access log itself, outside Django's LOGGING, so the filter that guards the
app's logs (config/logging.py) never saw those lines: every buyer's chat link, which opens the
chat to whoever holds it, was written there in the request line and the referrer. This logger
puts the same filter on gunicorn's own loggers, so the request line, the referrer, any header
an operator adds to access_log_format and the error log leave the process redacted.

Used by config/gunicorn.py (`gunicorn -c config/gunicorn.py config.wsgi:application`) and by the
bench's gunicorn config.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from config.logging import RedactingFilter


class RedactingLogger(glogging.Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        """Called at start and on every reload (SIGHUP), after the handlers are (re)built."""
        super().setup(cfg)
        # On the loggers, not their handlers: gunicorn logs on these two directly, so the filter
        # holds for every handler, including those of an operator's logconfig_dict.
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactingFilter) for existing in log.filters):
                log.addFilter(RedactingFilter())
