"""The small HTML side: vocabulary list and import form (session login)."""

import json
import unicodedata

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import vocab
from .lookup import has_han
from .models import ApiToken, Entry, Headword, VocabWord


class LoginView(auth_views.LoginView):
    """Django's login form, answering 429 with Retry-After while the account or address is
    over its failure limit (reader.throttle refuses the attempt without hashing)."""

    def form_invalid(self, form):
        wait = getattr(self.request, "login_retry_after", None)
        if wait is None:
            return super().form_invalid(form)
        response = self.render_to_response(self.get_context_data(form=form, retry_after=wait))
        response.status_code = 429
        response["Retry-After"] = str(wait)
        return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens (for the browser extension): create one, revoke any."""
    context = {}
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            token, raw = ApiToken.issue(request.user)
            context["new_token"] = raw
        elif action == "revoke":
            raw_id = request.POST.get("id", "")
            deleted = (
                raw_id.isdigit()
                and ApiToken.objects.filter(user=request.user, id=int(raw_id)).delete()[0]
            )
            if deleted:
                messages.success(request, "Token revoked.")
            return redirect("tokens")
    context["tokens"] = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")
    return render(request, "reader/tokens.html", context)


PAGE_SIZE = 50
HSK_LEVELS = [(str(n), f"HSK {n}") for n in range(1, 7)] + [("7", "HSK 7-9"), ("none", "none")]

# Words whose pinyin (tones and spaces ignored) or English glosses match: a scan of the
# entries (no index serves a substring search), about 0.1 s, and only when searching.
_SEARCH_ENTRIES = f"""
SELECT simplified FROM {Entry._meta.db_table}
WHERE regexp_replace(lower(pinyin_numbered), '[^a-z]', '', 'g') LIKE %s
   OR array_to_string(glosses, ' ') ILIKE %s
UNION ALL
SELECT traditional FROM {Entry._meta.db_table}
WHERE regexp_replace(lower(pinyin_numbered), '[^a-z]', '', 'g') LIKE %s
"""


def _plain_pinyin(text: str) -> str:
    """ "Xué xí", "xue2 xi2" and "xuexi" all become "xuexi"."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if "a" <= c <= "z")


def _search(words, q: str):
    if has_han(q):
        return words.filter(word__contains=q)
    like = f"%{_plain_pinyin(q)}%" if _plain_pinyin(q) else None
    gloss = f"%{q}%"
    return words.filter(word__in=RawSQL(_SEARCH_ENTRIES, [like, gloss, like]))


def _hsk_filter(words, level: str):
    if level == "none":
        leveled = Entry.objects.filter(hsk_level__isnull=False).values("simplified")
        return words.exclude(word__in=leveled)
    return words.filter(word__in=Entry.objects.filter(hsk_level=int(level)).values("simplified"))


def _describe(words: list[str]) -> dict[str, dict]:
    """Pinyin, first gloss and HSK level of each word, from the pre-rendered headwords."""
    found = {}
    for form, entries_json in Headword.objects.filter(form__in=words).values_list(
        "form", "entries_json"
    ):
        entries = json.loads(entries_json)
        if entries:
            levels = [e["hsk_level"] for e in entries if e["hsk_level"]]
            found[form] = {
                "pinyin": " / ".join(dict.fromkeys(e["pinyin"] for e in entries)),
                "gloss": entries[0]["glosses"][0] if entries[0]["glosses"] else "",
                "hsk": min(levels) if levels else None,
            }
    return found


@login_required
@require_http_methods(["GET", "POST"])
def vocab_list(request: HttpRequest) -> HttpResponse:
    """The user's words with pinyin, first gloss and HSK level; filter by status and level,
    search, change a status in place (the page's script calls the API; the form is the
    fallback without script), counts per status, paging, export."""
    if request.method == "POST":
        word, status = request.POST.get("word"), request.POST.get("status")
        if vocab.word_error(word) or vocab.status_error(status):
            messages.error(request, "Choose a word and a status.")
        else:
            vocab.upsert(request.user, {word: status})
            messages.success(request, f"{word}: {status}")
        return redirect(request.get_full_path())
    mine = VocabWord.objects.filter(user=request.user)
    counts = dict(mine.values_list("status").annotate(n=Count("id")).order_by())
    words = mine
    status = request.GET.get("status", "")
    if status in vocab.STATUSES:
        words = words.filter(status=status)
    hsk = request.GET.get("hsk", "")
    if hsk in dict(HSK_LEVELS):
        words = _hsk_filter(words, hsk)
    q = request.GET.get("q", "").strip()[:64]
    if q:
        words = _search(words, q)
    page = Paginator(words.order_by("word"), PAGE_SIZE).get_page(request.GET.get("page"))
    described = _describe([w.word for w in page])
    rows = [(w, described.get(w.word, {})) for w in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reader/vocab_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "hsk": hsk,
            "q": q,
            "query": query.urlencode(),
            "statuses": vocab.STATUSES,
            "hsk_levels": HSK_LEVELS,
            "counts": [(s, counts.get(s, 0)) for s in vocab.STATUSES],
            "total": sum(counts.values()),
        },
    )


@login_required
def read(request: HttpRequest) -> HttpResponse:
    """Paste Chinese text; the page's script sends it to the enrich API (one request) and
    marks words through the mark API (one request per change), with the browser session."""
    return render(request, "reader/read.html", {"statuses": vocab.STATUSES})


@login_required
@require_http_methods(["GET", "POST"])
def vocab_import(request: HttpRequest) -> HttpResponse:
    context = {"statuses": vocab.STATUSES, "limit_mb": settings.ONEBOX_MAX_IMPORT_BYTES >> 20}
    if request.method == "POST":
        # Checked before request.FILES, which would receive the whole upload.
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.ONEBOX_MAX_IMPORT_BYTES:
            messages.error(request, f"The file is larger than {context['limit_mb']} MB.")
            return render(request, "reader/import.html", context, status=413)
        upload = request.FILES.get("file")
        status = request.POST.get("status", VocabWord.Status.KNOWN)
        if upload is None or vocab.status_error(status):
            messages.error(request, "Choose a file and a status.")
        else:
            try:
                context["result"] = vocab.import_lines(request.user, upload, status).as_dict()
            except vocab.UnreadableFile as exc:
                messages.error(request, f"Cannot read the file: {exc}. Nothing was imported.")
    return render(request, "reader/import.html", context)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("read")
