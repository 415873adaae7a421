import csv
import io
import tracemalloc
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.utils import FileProxyMixin
from django.utils import timezone
from reader import vocab
from reader.models import VocabWord

pytestmark = pytest.mark.django_db

MARK = "/api/v1/vocab/mark"
IMPORT = "/api/v1/vocab/import"


def statuses(user) -> dict[str, str]:
    return dict(VocabWord.objects.filter(user=user).values_list("word", "status"))


# --- mark -----------------------------------------------------------------------------------


def test_mark_upserts_a_batch_in_one_statement(api, alice, django_assert_num_queries):
    api.post(MARK, {"changes": [{"word": "学习", "status": "learning"}]})
    changes = [
        {"word": "学习", "status": "known"},
        {"word": "中文", "status": "learning"},
        {"word": "中文", "status": "ignored"},  # the later change wins
    ]
    # Token lookup, then the single INSERT ... ON CONFLICT DO UPDATE.
    with django_assert_num_queries(2):
        response = api.post(MARK, {"changes": changes})
    assert response.status_code == 200
    assert response.json()["updated"] == 2
    assert statuses(alice) == {"学习": "known", "中文": "ignored"}


@pytest.mark.parametrize(
    "change, error",
    [
        ({"word": "学习", "status": "mastered"}, "status must be one of"),
        ({"word": "hello", "status": "known"}, "no Chinese characters"),
        ({"word": "", "status": "known"}, "empty"),
        ({"word": "学 习", "status": "known"}, "spaces"),
        ({"word": "学" * 33, "status": "known"}, "longer than 32"),
        ({"word": 5, "status": "known"}, "empty"),
        ("学习", "must be an object"),
    ],
)
def test_mark_with_an_invalid_change_saves_nothing(api, alice, change, error):
    response = api.post(MARK, {"changes": [{"word": "中文", "status": "known"}, change]})
    assert response.status_code == 400
    [reported] = response.json()["errors"]
    assert reported["index"] == 1
    assert error in reported["error"]
    assert statuses(alice) == {}


@pytest.mark.parametrize("body", [{}, {"changes": []}, {"changes": "学习"}, [1]])
def test_mark_malformed_body_is_400(api, body):
    assert api.post(MARK, body).status_code == 400


# --- list and export --------------------------------------------------------------------------


def _words(user, *items, at=None):
    at = at or timezone.now()
    for word, status in items:
        VocabWord.objects.create(user=user, word=word, status=status, created_at=at, updated_at=at)


def test_list_since_returns_only_newer_changes(api, alice):
    now = timezone.now()
    _words(alice, ("老", "known"), at=now - timedelta(days=2))
    _words(alice, ("新", "learning"), at=now)
    since = (now - timedelta(hours=1)).isoformat()
    body = api.get("/api/v1/vocab", {"since": since}).json()
    assert [(w["word"], w["status"]) for w in body["words"]] == [("新", "learning")]
    assert body["next_cursor"] is None
    assert len(api.get("/api/v1/vocab").json()["words"]) == 2


def test_list_since_accepts_z_and_an_unencoded_plus(api, alice):
    _words(alice, ("新", "known"))
    assert len(api.get("/api/v1/vocab", {"since": "2026-01-01T00:00:00Z"}).json()["words"]) == 1
    # "+00:00" sent without URL encoding arrives as " 00:00".
    raw = api.client.get(
        "/api/v1/vocab?since=2999-01-01T00:00:00+00:00",
        secure=True,
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert raw.status_code == 200
    assert raw.json()["words"] == []


def test_list_pages_with_cursor_even_within_one_timestamp(api, alice):
    # An import writes thousands of rows with one timestamp: paging must not lose any.
    _words(alice, *[(f"字{i}", "known") for i in range(25)])
    seen, cursor = [], None
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        body = api.get("/api/v1/vocab", params).json()
        seen += [w["word"] for w in body["words"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"字{i}" for i in range(25))
    assert len(seen) == 25


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"since": "2026-13-45"},
        {"limit": "x"},
        {"limit": 0},
        {"cursor": "@@"},
    ],
)
def test_list_bad_parameters_are_400(api, params):
    response = api.get("/api/v1/vocab", params)
    assert response.status_code == 400
    assert response.json()["error"]


def test_export_streams_csv_that_imports_back(api, alice, bob_api, bob):
    _words(alice, ("学习", "known"), ("中文", "learning"), ("的", "ignored"))
    response = api.get("/api/v1/vocab/export.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["word", "status", "updated_at"]
    assert sorted((r[0], r[1]) for r in rows[1:]) == [
        ("中文", "learning"), ("学习", "known"), ("的", "ignored"),
    ]  # fmt: skip

    # The export is a valid import file.
    result = bob_api.upload(IMPORT, "vocabulary.csv", content).json()
    assert result["imported"] == 3 and result["skipped"] == 0
    assert statuses(bob) == statuses(alice)


# --- import ---------------------------------------------------------------------------------


def test_import_plain_word_list_uses_the_default_status(api, alice):
    response = api.upload(
        IMPORT, "words.txt", "学习\n中文\r\n\n  你好  \n".encode(), status="learning"
    )
    assert response.status_code == 200
    assert response.json() == {
        "imported": 3, "changed": 3, "skipped": 0, "errors": [], "errors_truncated": False,
    }  # fmt: skip
    assert statuses(alice) == {"学习": "learning", "中文": "learning", "你好": "learning"}


def test_import_last_line_wins_and_a_repeat_changes_nothing(api, alice):
    content = "学习,learning\n中文,known\n学习,known\n".encode()
    first = api.upload(IMPORT, "w.csv", content).json()
    assert (first["imported"], first["changed"]) == (3, 2)
    assert statuses(alice) == {"学习": "known", "中文": "known"}
    stamps = dict(VocabWord.objects.values_list("word", "updated_at"))

    again = api.upload(IMPORT, "w.csv", content).json()
    assert (again["imported"], again["changed"]) == (3, 0)
    assert dict(VocabWord.objects.values_list("word", "updated_at")) == stamps

    api.upload(IMPORT, "w.csv", "学习,ignored\n".encode())
    assert statuses(alice) == {"学习": "ignored", "中文": "known"}


def test_import_tsv_with_bom_and_header(api, alice):
    content = "\ufeffword\tstatus\n学习\tknown\n中文\t\n".encode()
    assert api.upload(IMPORT, "w.tsv", content).json()["imported"] == 2
    assert statuses(alice) == {"学习": "known", "中文": "known"}


def test_import_reports_bad_rows_with_line_numbers_and_keeps_good_ones(api, alice):
    content = "word,status\n学习,known\nhello,known\n中文,mastered\n\n你好,learning\n".encode()
    body = api.upload(IMPORT, "w.csv", content).json()
    assert body["imported"] == 2
    assert body["skipped"] == 2
    assert body["errors"] == [
        {"line": 3, "error": "word has no Chinese characters"},
        {"line": 4, "error": "status must be one of unknown, learning, known, ignored"},
    ]
    assert statuses(alice) == {"学习": "known", "你好": "learning"}


def test_import_caps_the_error_list(api):
    content = ("x\n" * 250 + "学习\n").encode()
    body = api.upload(IMPORT, "w.txt", content).json()
    assert body["skipped"] == 250
    assert len(body["errors"]) == vocab.MAX_REPORTED_ERRORS
    assert body["errors_truncated"] is True
    assert body["imported"] == 1


def test_import_binary_file_is_400_and_writes_nothing(api, alice):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    response = api.upload(IMPORT, "picture.png", png)
    assert response.status_code == 400
    assert "binary" in response.json()["error"]
    assert statuses(alice) == {}


def test_import_a_file_that_starts_as_another_encoding_is_400_and_writes_nothing(api, alice):
    content = "".join(f"字{i}\n" for i in range(50)).encode("gb18030")
    response = api.upload(IMPORT, "gbk.txt", content)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "UTF-8" in error and "Nothing was imported" in error
    assert statuses(alice) == {}


def test_import_utf16_is_400_naming_the_encoding(api):
    response = api.upload(IMPORT, "w.txt", "学习\n".encode("utf-16"))
    assert response.status_code == 400
    assert "UTF-16" in response.json()["error"]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_import_empty_file_is_400(api, content):
    response = api.upload(IMPORT, "w.txt", content)
    assert response.status_code == 400
    assert "empty" in response.json()["error"]


def test_import_without_file_field_is_400(api):
    response = api.client.post(
        IMPORT, {"status": "known"}, secure=True, HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    assert response.status_code == 400
    assert '"file"' in response.json()["error"]


def test_import_bad_default_status_is_400(api):
    assert api.upload(IMPORT, "w.txt", "学习\n".encode(), status="great").status_code == 400


def test_import_too_large_is_a_json_413(api, settings):
    settings.ONEBOX_MAX_IMPORT_BYTES = 1000
    response = api.upload(IMPORT, "w.txt", "学习\n".encode() * 200)
    assert response.status_code == 413
    assert response.json()["limit_bytes"] == 1000


def test_large_upload_is_spooled_to_the_temp_dir(api, alice, settings, tmp_path, monkeypatch):
    # Over FILE_UPLOAD_MAX_MEMORY_SIZE, Django spools the upload to FILE_UPLOAD_TEMP_DIR (an
    # emptyDir in the cluster) and the importer reads that file, never read() whole.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    reads: list[tuple[str, int]] = []
    real_read = FileProxyMixin.read

    def spy(self):
        def read(size=-1):
            if isinstance(self, TemporaryUploadedFile):  # not the test client's own file
                reads.append((self.file.name, size))
            return real_read.fget(self)(size)

        return read

    monkeypatch.setattr(FileProxyMixin, "read", property(spy))
    lines = [f"词{i:06d},{'known' if i % 2 else 'learning'}\n" for i in range(30_000)]
    content = "".join(lines).encode()
    assert len(content) > 10 * settings.FILE_UPLOAD_MAX_MEMORY_SIZE

    response = api.upload(IMPORT, "big.csv", content)
    assert response.status_code == 200
    assert response.json()["imported"] == 30_000
    assert VocabWord.objects.filter(user=alice).count() == 30_000
    assert VocabWord.objects.get(user=alice, word="词000001").status == "known"
    assert reads, "the importer did not get the spooled file"
    assert all(name.startswith(str(tmp_path)) for name, _ in reads)
    assert all(0 < size <= 64 * 1024 for _, size in reads)


def test_import_memory_stays_flat_for_a_large_file(alice, tmp_path):
    # Reading the file whole would cost its size at least twice (bytes, then text).
    path = tmp_path / "big.tsv"
    with path.open("w", encoding="utf-8") as f:
        for i in range(80_000):
            f.write(f"词{i:06d}\tknown\n")
    size = path.stat().st_size
    assert size > 1_000_000
    with path.open("rb") as f:
        upload = TemporaryUploadedFile("big.tsv", "text/plain", size, "utf-8")
        upload.file.write(f.read())
        upload.file.flush()
    tracemalloc.start()
    try:
        result = vocab.import_lines(alice, upload, "known")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        upload.close()
    assert result.imported == 80_000
    assert peak < size / 2, f"peak {peak:,} bytes for a {size:,}-byte file"


# --- imports: the format is told from the file; a bad line is that line's error --------------


def test_word_list_line_starting_with_a_quote_is_one_bad_line(api, alice):
    words = [f"字{i}" for i in range(300)]
    lines = [*words[:100], '"中文', *words[100:]]
    response = api.upload(IMPORT, "w.txt", "\n".join(lines).encode())
    body = response.json()
    assert response.status_code == 200
    assert body["imported"] == 300
    assert body["errors"] == [{"line": 101, "error": "word contains quotes"}]
    assert set(statuses(alice)) == set(words)


def test_word_list_quoted_word_is_read_as_the_word(api, alice):
    response = api.upload(IMPORT, "w.txt", '学习\n"中文"\n你好\n'.encode())
    assert response.json()["imported"] == 3
    assert set(statuses(alice)) == {"学习", "中文", "你好"}


def test_nul_byte_is_an_error_for_its_line_only(api, alice):
    response = api.upload(IMPORT, "w.txt", "学习\n中\x00文\n你好\n".encode())
    assert response.status_code == 200
    body = response.json()
    assert body["imported"] == 2
    assert body["errors"] == [{"line": 2, "error": "line contains a NUL byte"}]
    assert set(statuses(alice)) == {"学习", "你好"}


def test_csv_with_an_unbalanced_quote_loses_only_that_line(api, alice):
    content = 'word,status\n学习,known\n"中文,learning\n你好,learning\n朋友\n'
    response = api.upload(IMPORT, "w.csv", content.encode())
    body = response.json()
    assert body["imported"] == 3
    assert [e["line"] for e in body["errors"]] == [3]
    assert statuses(alice) == {"学习": "known", "你好": "learning", "朋友": "known"}


def test_format_is_told_from_more_than_the_first_line(api, alice):
    # A word list whose first rows have no status column is still CSV.
    content = "学习\n中文\n你好,learning\n"
    api.upload(IMPORT, "w.csv", content.encode())
    assert statuses(alice) == {"学习": "known", "中文": "known", "你好": "learning"}


def test_invalid_utf8_late_in_the_file_is_an_error_for_that_line(api, alice):
    content = "".join(f"字{i}\n" for i in range(5_000)).encode() + "中文\n".encode("gb18030")
    content += "你好\n".encode()
    response = api.upload(IMPORT, "w.txt", content)
    assert response.status_code == 200
    body = response.json()
    assert body["imported"] == 5_001
    assert body["errors"][0]["line"] == 5_001 and "UTF-8" in body["errors"][0]["error"]
