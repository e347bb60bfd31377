"""The portal: the Flask application (app factory, API, pages, templates, static files and
translations) and the `creditbank` command that opens every room's commands."""
