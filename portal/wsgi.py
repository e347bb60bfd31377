"""The WSGI entry point for servers: `gunicorn portal.wsgi:app`, configured from the environment."""

from portal.app import create_app

app = create_app()
