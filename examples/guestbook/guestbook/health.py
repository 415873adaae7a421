"""Probes, answered before any other middleware.

The kubelet probes over plain HTTP with the pod IP as Host: these paths must not meet the
ALLOWED_HOSTS check or the HTTPS redirect.
"""

from django.db import DatabaseError, connection
from django.http import JsonResponse


def database_ready() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            # The table of the last migration: the release has run, not only the server is up.
            cursor.execute("SELECT 1 FROM guestbook_entry LIMIT 1")
    except DatabaseError as exc:
        return False, f"database not ready ({type(exc).__name__})"
    return True, "ready"


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/-/live":
            # Only the process: a database outage must not get the pod restarted.
            return JsonResponse({"live": True})
        if request.path == "/-/ready":
            ready, reason = database_ready()
            return JsonResponse({"ready": ready, "reason": reason}, status=200 if ready else 503)
        return self.get_response(request)
