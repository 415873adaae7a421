"""WSGI entry point. gunicorn imports this once in the master (preload_app), before forking.

Loading the segmenter here, rather than at import of the reader app, keeps management
commands such as migrate from paying for it, while every worker inherits it already loaded;
likewise the memory-mapped dictionary (reader/dictmap.py), built from PostgreSQL.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onebox.settings")

application = get_wsgi_application()

import logging  # noqa: E402

from django.db import DatabaseError, connections  # noqa: E402
from reader import dictmap, segmenter  # noqa: E402  (needs Django set up first)

segmenter.load()
try:
    # Build (or open) the dictionary map here too, so that workers inherit it mapped.
    dictmap.load()
except DatabaseError as exc:
    logging.getLogger(__name__).warning("dictionary map not built at start (%s)", exc)
finally:
    # Forked workers must not share the master's database connection.
    connections.close_all()
