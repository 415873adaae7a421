"""A user's vocabulary: validating words, upserting statuses, importing word lists."""

import codecs
import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from .lookup import has_han
from .models import VocabWord

STATUSES = tuple(VocabWord.Status.values)
MAX_WORD_LENGTH = 32
MAX_REPORTED_ERRORS = 100
_HEADER_WORDS = {"word", "words", "simplified", "hanzi", "chinese"}


def word_error(word: object) -> str | None:
    """Why `word` cannot be stored, or None if it can."""
    if not isinstance(word, str) or not word.strip():
        return "word must be a non-empty string"
    if len(word) > MAX_WORD_LENGTH:
        return f"word is longer than {MAX_WORD_LENGTH} characters"
    # isprintable() is False for every separator and control character except " ".
    if not word.isprintable() or " " in word:
        return "word contains spaces or control characters"
    # A CSV quote or separator left in a word means a line was misread, never a word.
    if '"' in word:
        return "word contains quotes"
    if "," in word:
        return "word contains a comma"
    if not has_han(word):
        return "word has no Chinese characters"
    return None


def status_error(status: object) -> str | None:
    if status not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}"
    return None


def upsert(user, statuses: dict[str, str]) -> datetime:
    """Set the status of each word in one INSERT ... ON CONFLICT DO UPDATE."""
    now = timezone.now()
    VocabWord.objects.bulk_create(
        [
            VocabWord(user=user, word=word, status=status, created_at=now, updated_at=now)
            for word, status in statuses.items()
        ],
        update_conflicts=True,
        unique_fields=["user", "word"],
        update_fields=["status", "updated_at"],
    )
    return now


class UnreadableFile(ValueError):
    """The upload is not UTF-8 text; nothing was imported."""


@dataclass
class ImportResult:
    imported: int = 0  # rows accepted
    changed: int = 0  # words added or given a new status
    skipped: int = 0
    errors: list[dict] = field(default_factory=list)

    def reject(self, line: int, message: str) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"line": line, "error": message})

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "changed": self.changed,
            "skipped": self.skipped,
            "errors": self.errors,
            "errors_truncated": self.skipped > len(self.errors),
        }


# A file is refused as binary when control bytes (other than tab, line ends and form feed)
# make up more than 1% of its first 8 KiB, and are more than 2; a stray NUL in a text file
# is an error for its line only.
_CONTROL = bytes(c for c in range(32) if c not in b"\t\n\r\x0b\x0c")
_SNIFF_LINES = 200


def _raw_lines(upload: File) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line end) for each line of the upload, never reading
    it whole. Iterates the underlying file (in memory, or Django's temp file for a large
    upload) whose line splitting runs in C; Django's File iterator, in Python, took a
    quarter of a 10 MB import. Lines end at \n (and \r\n); \r alone is not a line end.

    The whole file is refused only when its start shows it is not UTF-8 text at all."""
    head = upload.read(8192)
    upload.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("the file is UTF-16; save it as UTF-8 text")
    controls = len(head) - len(head.translate(None, _CONTROL))
    if controls > max(2, len(head) // 100):
        raise UnreadableFile("the file contains NUL bytes: it is binary, not text")
    try:
        # Incremental, so that a character cut at the 8 KiB boundary is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(head.replace(b"\x00", b""))
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"it is not UTF-8 text ({exc.reason} near byte {exc.start}); save it as UTF-8"
        ) from None
    for number, raw in enumerate(upload.file, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # BOM written by Excel and Notepad
        yield number, raw.rstrip(b"\r\n")


def _delimiter(sample: list[str]) -> str | None:
    """Tab or comma if the file is TSV or CSV, None for a plain word list (one word per
    line, read as lines: a quote there is part of a bad word, never a CSV quote). Told from
    a header row or from the first lines, not the first line alone."""
    if any("\t" in line for line in sample):
        return "\t"
    if any("," in line for line in sample):
        return ","
    return None


def _cells(text: str, delimiter: str | None) -> list[str]:
    """The cells of one line; csv.Error for a malformed CSV line. Each line is parsed on its
    own, so an unbalanced quote cannot swallow the lines after it."""
    if delimiter is None:
        word = text.strip()
        if len(word) >= 2 and word[0] == word[-1] == '"':
            word = word[1:-1].strip()
        return [word]
    return next(csv.reader([text], delimiter=delimiter, strict=True), [])


# An import is streamed with COPY into a temporary table, then applied with one upsert: the
# last line for a word wins, and rows whose status does not change are left alone (so that
# `GET /vocab?since=` does not report them as changed).
_STAGE = "CREATE TEMP TABLE vocab_import (line integer, word text, status text)"
_APPLY = f"""
INSERT INTO {VocabWord._meta.db_table} AS v (user_id, word, status, created_at, updated_at)
SELECT DISTINCT ON (word) %(user)s, word, status, %(now)s, %(now)s
FROM vocab_import
ORDER BY word, line DESC
ON CONFLICT (user_id, word) DO UPDATE
SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
WHERE v.status <> EXCLUDED.status
"""


def import_lines(user, upload: File, default_status: str) -> ImportResult:
    """Import a CSV, TSV or one-word-per-line file: columns word[,status[,...]].

    The format is told from the first lines (a tab or a comma in any of them); a header row
    is skipped. A bad line (a bad word or status, a NUL byte, invalid UTF-8, malformed CSV)
    is reported with its number and skipped; the others are imported. A file that is not
    UTF-8 text at all raises UnreadableFile and, as everything runs in one transaction,
    leaves the vocabulary as it was.
    """
    lines = _raw_lines(upload)
    sample = list(itertools.islice(lines, _SNIFF_LINES))
    readable = [raw.decode("utf-8", "replace") for _, raw in sample if raw.strip()]
    if not readable:
        raise UnreadableFile("the file is empty")
    delimiter = _delimiter(readable)

    result = ImportResult()
    seen_row = False
    pending: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STAGE)
        # cursor.cursor is psycopg's own cursor, which speaks COPY. Rows are written as COPY
        # text, a thousand at a time: valid words hold no tab, newline or carriage return
        # (see word_error), so only backslashes need escaping.
        with cursor.cursor.copy("COPY vocab_import (line, word, status) FROM STDIN") as copy:
            for number, raw in itertools.chain(sample, lines):
                if b"\x00" in raw:
                    result.reject(number, "line contains a NUL byte")
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    result.reject(number, f"line is not valid UTF-8 ({exc.reason})")
                    continue
                if not text.strip():
                    continue
                try:
                    cells = [cell.strip() for cell in _cells(text, delimiter)]
                except csv.Error as exc:
                    result.reject(number, f"malformed CSV line ({exc})")
                    continue
                if not any(cells):
                    continue
                if not seen_row and cells[0].lower() in _HEADER_WORDS:
                    seen_row = True
                    continue
                seen_row = True
                word = cells[0]
                status = cells[1].lower() if len(cells) > 1 and cells[1] else default_status
                problem = word_error(word) or status_error(status)
                if problem:
                    result.reject(number, problem)
                    continue
                escaped = word.replace("\\", "\\\\")
                pending.append(f"{number}\t{escaped}\t{status}\n")
                result.imported += 1
                if len(pending) >= 1000:
                    copy.write("".join(pending))
                    pending.clear()
            copy.write("".join(pending))
        cursor.execute(_APPLY, {"user": user.pk, "now": timezone.now()})
        result.changed = cursor.rowcount
        # Dropped here rather than ON COMMIT, which never comes when the caller holds an
        # outer transaction (the tests do); after an error the rollback removes it.
        cursor.execute("DROP TABLE vocab_import")
    return result
