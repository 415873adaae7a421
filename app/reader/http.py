"""JSON API plumbing: errors as JSON, bearer-token authentication, body size limits."""

import functools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from .models import ApiToken, hash_token

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class TokenRevoked(Exception):
    """A remembered token was found revoked (or its user inactive) by the view's query."""


class ApiError(Exception):
    """Raised anywhere in an API view; becomes a JSON error response."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def error_response(status: int, message: str, **extra: Any) -> JsonResponse:
    response = JsonResponse({"error": message, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="onebox"'
    if status == 429 and "retry_after" in extra:
        response["Retry-After"] = str(extra["retry_after"])
    return response


def too_large(length: int, limit: int, what: str) -> ApiError:
    return ApiError(
        413,
        f"{what} is {length} bytes; the limit is {limit} bytes.",
        limit_bytes=limit,
    )


def too_many_attempts(seconds: int) -> ApiError:
    return ApiError(
        429,
        f"Too many failed password attempts; try again in {seconds} s.",
        retry_after=seconds,
    )


def is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def refuse_chunked(request: HttpRequest) -> None:
    """Django reads a body by its Content-Length only: a chunked body would look empty."""
    if is_chunked(request):
        raise ApiError(411, "Send this request with a Content-Length, not chunked.")


def _chunked_body(request: HttpRequest, limit: int) -> bytes:
    # Django sees no Content-Length and so an empty body; gunicorn has de-chunked the stream
    # (wsgi.input_terminated), so read it directly, never more than the limit allows.
    stream = request.environ["wsgi.input"]
    parts, size = [], 0
    while size <= limit:
        part = stream.read(min(65536, limit + 1 - size))
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
    raise ApiError(413, f"The request body is over the limit of {limit} bytes.", limit_bytes=limit)


def content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "Content-Length is not a number.") from None


def read_json(request: HttpRequest, limit: int) -> Any:
    """The JSON body, refusing (413) a body over `limit` bytes before reading it."""
    if is_chunked(request) and request.environ.get("wsgi.input_terminated"):
        body = _chunked_body(request, limit)
    else:
        length = content_length(request)
        if length > limit:
            raise too_large(length, limit, "The request body")
        body = request.body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.") from None
    except RecursionError:
        raise ApiError(400, "The request body is JSON nested too deeply.") from None
    # JSON may escape half a surrogate pair ("\ud800"), which no UTF-8 consumer (the
    # segmenter, PostgreSQL) accepts. Escaped pairs are legal, so look closer only then.
    if _SURROGATE_ESCAPE.search(body):
        try:
            json.dumps(data, ensure_ascii=False).encode()
        except (UnicodeEncodeError, RecursionError):
            raise ApiError(400, "The request body has an unpaired \\u surrogate.") from None
    return data


def _raw_token(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return raw.strip()


def _bearer_token(key_hash: str) -> ApiToken | None:
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
    if token is None or not token.user.is_active:
        return None
    return token


# Tokens that were valid, per worker, for the views that re-check them for free
# (recheck_token=True: enrich and lookup). Such a view skips the token query: the one query it
# makes anyway (reader.lookup) also says whether the token still exists and its user is still
# active, and the answer is thrown away (401) if not. So a revoked token stops working at
# once, and a page costs one database round trip instead of two.
_VALID_TOKENS: dict[str, tuple[ApiToken, float]] = {}
TOKEN_CACHE_SECONDS = 300
TOKEN_CACHE_SIZE = 1000


def forget_token(key_hash: str) -> None:
    _VALID_TOKENS.pop(key_hash, None)


def _remember_token(key_hash: str, token: ApiToken) -> None:
    if len(_VALID_TOKENS) >= TOKEN_CACHE_SIZE:
        _VALID_TOKENS.clear()
    _VALID_TOKENS[key_hash] = (token, time.monotonic() + TOKEN_CACHE_SECONDS)


def _cached_token(key_hash: str) -> ApiToken | None:
    cached = _VALID_TOKENS.get(key_hash)
    if cached is None or cached[1] < time.monotonic():
        return None
    return cached[0]


def revoked_token_response(request: HttpRequest) -> HttpResponse:
    forget_token(request.token_recheck)
    return error_response(
        401, "Missing, invalid or revoked token: send Authorization: Bearer <token>."
    )


def _session_user(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    """None if the request passes Django's CSRF check, else a JSON 403."""
    refused = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
    if refused is None:
        return None
    return error_response(403, "CSRF check failed: send the X-CSRFToken header from the page.")


def api_view(*methods: str, auth: bool = True, recheck_token: bool = False) -> Callable:
    """Decorate a JSON API view: allowed methods, bearer auth (request.api_token and
    request.api_user), and ApiError turned into a JSON response. Token auth sends no cookies,
    so CSRF protection does not apply. Without an Authorization header, a logged-in browser
    session is accepted too (request.api_token is then None), CSRF-checked: the pages use it."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def handle(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_response(405, f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            request.token_recheck = None
            if auth and "HTTP_AUTHORIZATION" not in request.META and _session_user(request):
                # The site's own pages call the API with the browser session; cookies come
                # with every request, so such a call must pass Django's CSRF check.
                if request.method not in ("GET", "HEAD") and (refused := _csrf_refusal(request)):
                    return refused
                request.api_token = None
                request.api_user = request.user
            elif auth:
                started = time.perf_counter()
                raw = _raw_token(request)
                key_hash = hash_token(raw) if raw else None
                token = None
                if key_hash and recheck_token and (token := _cached_token(key_hash)):
                    request.token_recheck = key_hash  # the view's query confirms it
                elif key_hash:
                    token = _bearer_token(key_hash)
                    if token is not None and recheck_token:
                        _remember_token(key_hash, token)
                request.auth_seconds = time.perf_counter() - started
                if token is None:
                    return error_response(
                        401,
                        "Missing, invalid or revoked token: send Authorization: Bearer <token>.",
                    )
                request.api_token = token
                request.api_user = token.user
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return error_response(exc.status, exc.message, **exc.extra)
            except RequestDataTooBig:
                return error_response(413, "A form field is larger than the server accepts.")
            except TokenRevoked:
                return revoked_token_response(request)

        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            started = time.perf_counter()
            response = handle(request, *args, **kwargs)
            # Time spent in the app, auth included: for clients and the benchmark.
            timings = [response.get("Server-Timing")]
            if hasattr(request, "auth_seconds"):
                timings.append(f"auth;dur={request.auth_seconds * 1000:.2f}")
            timings.append(f"app;dur={(time.perf_counter() - started) * 1000:.2f}")
            response["Server-Timing"] = ", ".join(t for t in timings if t)
            return response

        return wrapper

    return decorate
