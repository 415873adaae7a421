"""WSGI entry point. gunicorn imports this once in the master (preload_app), before forking.

Loading the segmenter here, rather than at import of the reader app, keeps management
commands such as migrate from paying for it, while every worker inherits it already loaded.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onebox.settings")

application = get_wsgi_application()

from reader import segmenter  # noqa: E402  (needs Django set up first)

segmenter.load()
