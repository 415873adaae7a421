from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from .jobs import enqueue_count_words
from .models import Entry

COUNT_KEY = "guestbook:count"


def entry_count() -> int:
    return cache.get_or_set(COUNT_KEY, Entry.objects.count, timeout=30)


@require_http_methods(["GET", "POST"])
def index(request):
    errors = {}
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:80]
        message = request.POST.get("message", "").strip()
        if not name:
            errors["name"] = "Say who you are."
        if not message or len(message) > 2000:
            errors["message"] = "Write 1 to 2000 characters."
        if not errors:
            entry = Entry.objects.create(name=name, message=message)
            cache.delete(COUNT_KEY)
            enqueue_count_words(entry.pk)
            response = HttpResponseRedirect(f"/#entry-{entry.pk}", status=303)
            response["X-Entry-Id"] = str(entry.pk)
            return response
    entries = Entry.objects.all()[: settings.GUESTBOOK_PAGE_SIZE]
    context = {"entries": entries, "count": entry_count(), "errors": errors}
    return render(request, "guestbook/index.html", context, status=400 if errors else 200)


def entry_json(request, entry_id: int):
    entry = get_object_or_404(Entry, pk=entry_id)
    return JsonResponse(
        {"id": entry.pk, "name": entry.name, "message": entry.message,
         "created": entry.created.isoformat(), "words": entry.words}
    )  # fmt: skip
