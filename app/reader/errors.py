"""Error pages: JSON under /api/, Django's HTML pages elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from .http import error_response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(404, f"No API endpoint at {request.path}.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return error_response(500, "Internal server error.")
    return defaults.server_error(request)
