"""Entry point: `gunicorn wsgi:app` (production) and `flask --app wsgi ...` (commands)."""

from backend import create_app

app = create_app()
