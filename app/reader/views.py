"""The small HTML side: vocabulary list and import form (session login)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import vocab
from .models import ApiToken, VocabWord


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


@login_required
def vocab_list(request: HttpRequest) -> HttpResponse:
    words = VocabWord.objects.filter(user=request.user)
    counts = dict(words.values_list("status").annotate(n=Count("id")).order_by())
    status = request.GET.get("status", "")
    if status in vocab.STATUSES:
        words = words.filter(status=status)
    page = Paginator(words.order_by("word"), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "reader/vocab_list.html",
        {"page": page, "status": status, "statuses": vocab.STATUSES, "counts": counts},
    )


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
    return redirect("vocab-list")
