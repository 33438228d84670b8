"""gunicorn hooks for the bench: count SQL statements per worker (see bench/qcount.py)."""

# As in production (config/gunicorn.py): secret paths are redacted from gunicorn's own logs.
logger_class = "config.access_log.RedactingLogger"


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    from bench import qcount

    qcount.install("web")
