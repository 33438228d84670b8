"""gunicorn's logger, with secrets redacted from its access and error logs.

gunicorn writes its access log itself, outside Django's LOGGING, so the filter that guards the
app's logs (config/logging.py) never saw those lines: every buyer's chat link, which opens the
chat to whoever holds it, was written there in the request line and the referrer.

Access lines are redacted atom by atom, not as a finished line: the address filter would read
the status and size (`404 2541`) as a phone number. Every atom loses its secret links (request
line, referrer, and any header or environ value an operator adds to access_log_format); the
URL atoms also lose phone numbers and e-mail addresses, which a query string can carry. The
error log gets the whole redacting filter.

Used by config/gunicorn.py (`gunicorn -c config/gunicorn.py config.wsgi:application`) and by the
bench's gunicorn config.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from config.logging import RedactingFilter, redact, redact_secret_links

URL_ATOMS = frozenset({"r", "U", "q", "f"})  # request line, path, query string, referrer
KEPT_ATOMS = frozenset({"h", "t", "s", "m", "H", "b", "B", "T", "D", "M", "L", "p"})


class RedactingLogger(glogging.Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if isinstance(value, str) and name not in KEPT_ATOMS:
                atoms[name] = redact(value) if name in URL_ATOMS else redact_secret_links(value)
        return atoms

    def setup(self, cfg: Any) -> None:
        """Called at start and on every reload (SIGHUP), after the handlers are (re)built."""
        super().setup(cfg)
        # On the logger, not its handlers: gunicorn logs on it directly, so the filter holds for
        # every handler, including those of an operator's logconfig_dict.
        if not any(isinstance(existing, RedactingFilter) for existing in self.error_log.filters):
            self.error_log.addFilter(RedactingFilter())
