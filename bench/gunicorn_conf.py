"""gunicorn hooks for the bench: count SQL statements per worker (see bench/qcount.py)."""


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    from bench import qcount

    qcount.install("web")
