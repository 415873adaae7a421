"""Read what is left of a request body before answering, so that the answer arrives.

A view may answer before reading the body (401 for a missing token, 413 for an oversize
body). gunicorn then closes the connection with the unread body in the kernel's buffer, and
the kernel resets it: a client that writes the whole body before reading (urllib, requests,
curl) sees a broken pipe, not the answer. gunicorn lingers over the first 64 KiB only.
Behind the ingress (which buffers the whole request) the drain costs a local read; directly
from a client, at most DRAIN_FACTOR times the largest accepted body is read and thrown away.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, UnreadablePostError

DRAIN_FACTOR = 2
_CHUNK = 256 * 1024


def _drain_limit() -> int:
    return DRAIN_FACTOR * max(settings.ONEBOX_MAX_IMPORT_BYTES, settings.ONEBOX_MAX_ENRICH_BYTES)


class DrainBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        limit = _drain_limit()
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Django does not see a chunked body; gunicorn's stream ends where it ends.
            read = request.environ["wsgi.input"].read
        else:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return response
            if length <= 0:
                return response
            if length > limit:
                response["Connection"] = "close"
                return response
            read = request.read  # Django's stream: stops at Content-Length, tracks what was read
        drained = 0
        try:
            while drained <= limit and (chunk := read(_CHUNK)):
                drained += len(chunk)
        except (OSError, UnreadablePostError, ValueError):
            pass  # the client went away: nothing to answer
        return response
