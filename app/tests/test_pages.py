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
    assert not VocabWord.objects.exists()


def test_admin_is_on(admin_client):
    assert admin_client.get("/admin/reader/entry/?q=学习", secure=True).status_code == 200
    assert admin_client.get("/admin/reader/apitoken/", secure=True).status_code == 200
