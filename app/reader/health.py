"""Liveness and readiness probes, answered before any other middleware.

Kubelet probes come over plain HTTP with the pod IP as Host, so they must not meet the
ALLOWED_HOSTS check, the HTTPS redirect or the session machinery.
"""

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from . import dictionary, segmenter


def readiness() -> tuple[bool, str]:
    if not segmenter.loaded():
        return False, "segmenter not loaded"
    try:
        if not dictionary.is_loaded():
            return False, "dictionary not loaded: run manage.py load_dictionary"
    except DatabaseError as exc:
        return False, f"database unreachable ({type(exc).__name__})"
    return True, "ready"


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            # Alive means the process answers; it touches no database on purpose.
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            ready, reason = readiness()
            return JsonResponse(
                {
                    "status": "ok" if ready else "unavailable",
                    "reason": reason,
                    "segmenter": segmenter.backend(),
                },
                status=200 if ready else 503,
            )
        return self.get_response(request)
