"""Error pages: JSON under /api/, Django's HTML pages elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from .http import error_response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # A bad Host header (DisallowedHost) and other SuspiciousOperations end here.
    if _is_api(request):
        return error_response(400, "Bad request (for example a Host this server does not serve).")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return error_response(403, "Forbidden.")
    return defaults.permission_denied(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return error_response(404, f"No API endpoint at {request.path}.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return error_response(500, "Internal server error.")
    return defaults.server_error(request)
