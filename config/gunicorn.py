"""gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi:application`.

Bind address, workers and threads stay on the command line (README, "Production"); this file
holds what must always be true of the web process.
"""

# Chat links and other secret paths never reach gunicorn's access or error log in clear
# (config/access_log.py). Turn the access log on with --access-logfile - as usual.
logger_class = "config.access_log.RedactingLogger"
