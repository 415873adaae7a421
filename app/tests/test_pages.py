import pytest
from django.utils import timezone
from reader.models import VocabWord

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    for path in ("/vocab/", "/vocab/import/", "/"):
        response = client.get(path, secure=True, follow=True)
        assert response.redirect_chain, path
        assert "/accounts/login/" in response.redirect_chain[-1][0]


def test_login_page_and_login(client, alice):
    page = client.get("/accounts/login/", secure=True)
    assert page.status_code == 200
    assert b"csrfmiddlewaretoken" in page.content
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-secret-1"}, secure=True
    )
    assert response.status_code == 302
    assert response["Location"] == "/vocab/"


def test_vocab_list_shows_only_own_words(client, alice, bob):
    now = timezone.now()
    VocabWord.objects.create(
        user=alice, word="学习", status="known", created_at=now, updated_at=now
    )
    VocabWord.objects.create(user=bob, word="秘密", status="known", created_at=now, updated_at=now)
    client.force_login(alice)
    page = client.get("/vocab/", secure=True)
    assert page.status_code == 200
    assert "学习" in page.content.decode()
    assert "秘密" not in page.content.decode()
    filtered = client.get("/vocab/?status=learning", secure=True).content.decode()
    assert "学习" not in filtered


def test_import_form(client, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice)
    assert client.get("/vocab/import/", secure=True).status_code == 200
    upload = SimpleUploadedFile("w.txt", "学习\nhello\n".encode())
    page = client.post("/vocab/import/", {"file": upload, "status": "learning"}, secure=True)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Imported 1 row(s), 1 word(s) new or changed; skipped 1" in text
    assert "line 2: word has no Chinese characters" in text
    assert VocabWord.objects.get(user=alice, word="学习").status == "learning"


def test_import_form_rejects_binary(client, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice)
    upload = SimpleUploadedFile("x.bin", b"\x00\x01\x02")
    page = client.post("/vocab/import/", {"file": upload, "status": "known"}, secure=True)
    assert "binary" in page.content.decode()
    assert not VocabWord.objects.filter(user=alice).exists()


def test_admin_is_on(admin_client):
    assert admin_client.get("/admin/reader/entry/?q=学习", secure=True).status_code == 200
    assert admin_client.get("/admin/reader/apitoken/", secure=True).status_code == 200


# --- the vocabulary page ------------------------------------------------------------------------


def _words(user, statuses: dict[str, str]) -> None:
    now = timezone.now()
    VocabWord.objects.bulk_create(
        VocabWord(user=user, word=w, status=s, created_at=now, updated_at=now)
        for w, s in statuses.items()
    )


def _rows(page: str) -> list[str]:
    import re

    return re.findall(r'<tr data-word="([^"]+)"', page)


def test_vocab_page_shows_pinyin_gloss_and_hsk(client, alice):
    _words(alice, {"学习": "learning", "葡萄": "known"})
    client.force_login(alice)
    page = client.get("/vocab/", secure=True).content.decode()
    assert "xué xí" in page and "to learn" in page
    row = page[page.index('<tr data-word="学习"') :]
    row = row[: row.index("</tr>")]
    assert "<td>1</td>" in row  # HSK level


def test_vocab_page_counts_every_status_at_the_top(client, alice):
    _words(alice, {f"字{i}": "known" for i in range(130)} | {"学习": "learning"})
    client.force_login(alice)
    page = client.get("/vocab/", secure=True).content.decode()
    counts = page[page.index('id="counts"') : page.index("</p>", page.index('id="counts"'))]
    assert "all <b>131</b>" in counts
    assert "known <b>130</b>" in counts and "learning <b>1</b>" in counts
    assert page.index('id="counts"') < page.index("<table")
    assert len(_rows(page)) == 50
    assert "page 1 of 3" in page


def test_vocab_page_filters_search_and_pages_keep_the_filter(client, alice):
    _words(alice, {"学习": "learning", "中文": "known", "葡萄": "learning", "你好": "known"})
    client.force_login(alice)

    def rows(**params):
        return set(_rows(client.get("/vocab/", params, secure=True).content.decode()))

    assert rows(status="learning") == {"学习", "葡萄"}
    assert rows(hsk="1") >= {"学习", "中文", "你好"} and "葡萄" not in rows(hsk="1")
    assert rows(q="xuexi") == {"学习"}
    assert rows(q="xué xí") == {"学习"}
    assert rows(q="grape") == {"葡萄"}
    assert rows(q="中") == {"中文"}
    assert rows(q="xue", status="known") == set()
    _words(alice, {f"学{i}": "learning" for i in range(60)})
    page = client.get("/vocab/", {"status": "learning"}, secure=True).content.decode()
    assert "status=learning&amp;page=2" in page


def test_vocab_page_changes_a_status_without_script(client, alice):
    _words(alice, {"学习": "learning"})
    client.force_login(alice)
    response = client.post(
        "/vocab/?status=learning", {"word": "学习", "status": "known"}, secure=True
    )
    assert response.status_code == 302 and response["Location"] == "/vocab/?status=learning"
    assert VocabWord.objects.get(user=alice, word="学习").status == "known"


def test_pages_call_the_api_with_the_session_and_csrf(alice):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    page = browser.get("/read/", secure=True)
    assert page.status_code == 200 and 'id="reading"' in page.content.decode()
    body = '{"changes": [{"word": "学习", "status": "known"}]}'
    refused = browser.post(
        "/api/v1/vocab/mark",
        body,
        content_type="application/json",
        secure=True,
        HTTP_REFERER="https://testserver/read/",
    )
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    csrf = browser.cookies["csrftoken"].value
    marked = browser.post(
        "/api/v1/vocab/mark",
        body,
        content_type="application/json",
        secure=True,
        HTTP_X_CSRFTOKEN=csrf,
        HTTP_REFERER="https://testserver/read/",
    )
    assert marked.status_code == 200
    enriched = browser.post(
        "/api/v1/enrich",
        '{"texts": ["我学习中文"]}',
        content_type="application/json",
        secure=True,
        HTTP_X_CSRFTOKEN=csrf,
        HTTP_REFERER="https://testserver/read/",
    )
    assert enriched.json()["words"]["学习"]["status"] == "known"
    export = browser.get("/api/v1/vocab/export.csv", secure=True)
    assert export.status_code == 200
    assert "学习,known" in b"".join(export.streaming_content).decode()


def test_session_cannot_revoke_a_current_token(client, alice):
    client.force_login(alice)
    response = client.delete("/api/v1/tokens/current", secure=True)
    assert response.status_code == 400


def test_read_page_needs_login(client):
    response = client.get("/read/", secure=True)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
