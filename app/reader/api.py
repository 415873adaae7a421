"""JSON API for the browser extension: /api/v1/..."""

import base64
import csv
import json
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from . import segmenter, throttle, vocab
from .http import (
    ApiError,
    api_view,
    content_length,
    forget_token,
    read_json,
    refuse_chunked,
    too_large,
    too_many_attempts,
)
from .lookup import has_han, words_json_mapped
from .models import ApiToken, VocabWord

MAX_LOOKUP_WORDS = 5_000
MAX_MARK_CHANGES = 5_000
MAX_PAGE = 10_000


def _json_text(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="application/json")


def _string_list(body: object, key: str, limit: int | None = None) -> list[str]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise ApiError(400, f'Send {{"{key}": [...]}}: a non-empty list of strings.')
    if limit is not None and len(items) > limit:
        raise ApiError(400, f"At most {limit} {key} per request.")
    return items


@api_view("POST", recheck_token=True)
def enrich(request: HttpRequest) -> HttpResponse:
    """Segment each text; describe each unique Chinese word once. Two queries in all: the
    token and the lookup."""
    texts = _string_list(read_json(request, settings.ONEBOX_MAX_ENRICH_BYTES), "texts")
    started = time.perf_counter()
    segments = [segmenter.segment(text) for text in texts]
    segmented = time.perf_counter()
    unique = {token for tokens in segments for token in tokens}
    found = words_json_mapped(
        request.api_user.id, (t for t in unique if has_han(t)), request.token_recheck
    )
    looked_up = time.perf_counter()
    response = _json_text(
        '{"segments":' + json.dumps(segments, ensure_ascii=False) + ',"words":' + found + "}"
    )
    response["Server-Timing"] = (
        f"segment;dur={(segmented - started) * 1000:.2f}, "
        f"lookup;dur={(looked_up - segmented) * 1000:.2f}"
    )
    return response


@api_view("POST", recheck_token=True)
def lookup(request: HttpRequest) -> HttpResponse:
    body = read_json(request, settings.ONEBOX_MAX_ENRICH_BYTES)
    words = _string_list(body, "words", MAX_LOOKUP_WORDS)
    found = words_json_mapped(request.api_user.id, words, request.token_recheck)
    return _json_text('{"words":' + found + "}")


@api_view("POST")
def mark(request: HttpRequest) -> HttpResponse:
    """Body {"changes": [{"word": "学习", "status": "known"}, ...]}; all or nothing."""
    body = read_json(request, settings.ONEBOX_MAX_ENRICH_BYTES)
    changes = body.get("changes") if isinstance(body, dict) else None
    if not isinstance(changes, list) or not changes:
        raise ApiError(400, 'Send {"changes": [{"word": ..., "status": ...}, ...]}.')
    if len(changes) > MAX_MARK_CHANGES:
        raise ApiError(400, f"At most {MAX_MARK_CHANGES} changes per request.")
    statuses: dict[str, str] = {}
    errors = []
    for index, change in enumerate(changes):
        if not isinstance(change, dict):
            errors.append({"index": index, "error": "change must be an object"})
            continue
        word, status = change.get("word"), change.get("status")
        problem = vocab.word_error(word) or vocab.status_error(status)
        if problem:
            errors.append({"index": index, "error": problem})
        else:
            statuses[word] = status  # a later change to the same word wins
    if errors:
        raise ApiError(400, "Some changes are invalid; nothing was saved.", errors=errors[:100])
    updated_at = vocab.upsert(request.api_user, statuses)
    return JsonResponse({"updated": len(statuses), "updated_at": updated_at.isoformat()})


@api_view("POST")
def import_words(request: HttpRequest) -> HttpResponse:
    """Multipart upload, field "file" (CSV, TSV or one word per line), optional field
    "status" for rows without one (default: known)."""
    limit = settings.ONEBOX_MAX_IMPORT_BYTES
    refuse_chunked(request)
    length = content_length(request)
    if length > limit:
        raise too_large(length, limit, "The upload")
    try:
        upload = request.FILES.get("file")
    except MultiPartParserError as exc:
        raise ApiError(400, f"Malformed multipart body: {exc}") from None
    if upload is None:
        raise ApiError(400, 'Send the word list as the multipart form field "file".')
    default_status = request.POST.get("status", VocabWord.Status.KNOWN)
    if problem := vocab.status_error(default_status):
        raise ApiError(400, problem)
    try:
        result = vocab.import_lines(request.api_user, upload, default_status)
    except vocab.UnreadableFile as exc:
        raise ApiError(400, f"Cannot read the file: {exc}. Nothing was imported.") from None
    return JsonResponse(result.as_dict())


def _parse_since(raw: str) -> datetime:
    # A "+01:00" offset arrives as " 01:00" when the client forgot to URL-encode it.
    if "T" in raw and " " in raw:
        raw = raw.replace(" ", "+")
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise ApiError(400, "since must be an ISO 8601 timestamp, e.g. 2026-11-21T08:00:00Z.")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    # PostgreSQL takes offsets up to 15:59; real ones stop at 14:00.
    if abs(value.utcoffset()) > timedelta(hours=15, minutes=59):
        raise ApiError(400, "since has a UTC offset beyond ±15:59; use Z or a real offset.")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ApiError(400, "since is out of range.") from None


def _encode_cursor(row: VocabWord) -> str:
    return base64.urlsafe_b64encode(f"{row.updated_at.isoformat()}|{row.pk}".encode()).decode()


def _decode_cursor(raw: str) -> tuple[datetime, int]:
    try:
        stamp, _, pk = base64.urlsafe_b64decode(raw.encode()).decode().partition("|")
        value = parse_datetime(stamp)
        if value is None:
            raise ValueError
        return value, int(pk)
    except ValueError:
        raise ApiError(400, "cursor is not one this server handed out.") from None


@api_view("GET")
def vocab_list(request: HttpRequest) -> HttpResponse:
    """Words changed at or after ?since= (all words without it), oldest change first, in
    pages of ?limit= (default 1,000); follow next_cursor (?cursor=) until it is null."""
    try:
        limit = int(request.GET.get("limit", 1000))
    except ValueError:
        raise ApiError(400, "limit must be a number.") from None
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(400, f"limit must be between 1 and {MAX_PAGE}.")
    rows = VocabWord.objects.filter(user=request.api_user).order_by("updated_at", "id")
    if cursor := request.GET.get("cursor"):
        stamp, pk = _decode_cursor(cursor)
        rows = rows.filter(Q(updated_at__gt=stamp) | Q(updated_at=stamp, id__gt=pk))
    elif since := request.GET.get("since"):
        rows = rows.filter(updated_at__gte=_parse_since(since))
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return JsonResponse(
        {
            "words": [
                {"word": w.word, "status": w.status, "updated_at": w.updated_at.isoformat()}
                for w in page
            ],
            "next_cursor": _encode_cursor(page[-1]) if more else None,
        }
    )


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


@api_view("GET")
def vocab_export(request: HttpRequest) -> StreamingHttpResponse:
    """All words as CSV, streamed from a server-side cursor; importable as is."""
    writer = csv.writer(_Echo())
    rows = (
        VocabWord.objects.filter(user=request.api_user)
        .order_by("word")
        .values_list("word", "status", "updated_at")
        .iterator(chunk_size=2000)
    )

    def lines():
        yield writer.writerow(["word", "status", "updated_at"])
        for word, status, updated_at in rows:
            yield writer.writerow([word, status, updated_at.isoformat()])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="vocabulary.csv"'
    return response


@api_view("POST", auth=False)
def token_issue(request: HttpRequest) -> HttpResponse:
    """Body {"username": ..., "password": ...}; the token is in the response only."""
    body = read_json(request, settings.ONEBOX_MAX_ENRICH_BYTES)
    username = body.get("username") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(400, 'Send {"username": ..., "password": ...}.')
    user = None
    # PostgreSQL text cannot hold NUL, so no user name has one (and the query would fail).
    if "\x00" not in username:
        user = authenticate(request, username=username, password=password)
    if user is None:
        if wait := getattr(request, "login_retry_after", None):
            raise too_many_attempts(wait)
        raise ApiError(401, "Invalid username or password.")
    throttle.record_success(username)
    token, raw = ApiToken.issue(user)
    return JsonResponse(
        {"token": raw, "hint": token.hint, "created_at": token.created_at.isoformat()},
        status=201,
    )


@csrf_exempt
def tokens(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens (bearer token); POST: issue a token (password)."""
    if request.method == "GET":
        return token_list(request)
    return token_issue(request)


@api_view("GET")
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's tokens, newest first: id, hint, created_at and whether it is this one."""
    rows = ApiToken.objects.filter(user=request.api_user).order_by("-created_at", "-id")
    return JsonResponse(
        {
            "tokens": [
                {
                    "id": t.id,
                    "hint": t.hint,
                    "created_at": t.created_at.isoformat(),
                    "current": request.api_token is not None and t.id == request.api_token.id,
                }
                for t in rows
            ]
        }
    )


@api_view("DELETE")
def token_revoke(request: HttpRequest, token_id: int | None = None) -> HttpResponse:
    """Revoke the token that authenticated this request, or one of the user's by id."""
    if token_id is None:
        if request.api_token is None:
            raise ApiError(400, "This request was made with a session, not a token.")
        request.api_token.delete()
        forget_token(request.api_token.key_hash)
    elif not ApiToken.objects.filter(user=request.api_user, id=token_id).delete()[0]:
        raise ApiError(404, f"You have no token with id {token_id}.")
    return HttpResponse(status=204)
