"""Gunicorn settings for the portal: `gunicorn -c portal/gunicorn.conf.py portal.wsgi:app`.

The access log names each request's route pattern, method, status and duration, never its path
or query string (they can carry a share token, a credential reference or a learner's DID); see
`portal/request_log.py`. Workers, threads and the address stay on the command line.
"""

logger_class = "portal.request_log.GunicornLogger"
accesslog = "-"
errorlog = "-"
