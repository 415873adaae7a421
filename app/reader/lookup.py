"""Dictionary entries and a user's status for a set of words, in one query."""

import json
import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import connection

from . import dictmap
from .http import TokenRevoked
from .models import ApiToken, Headword, VocabWord

# CJK ideographs: the unified block, extension A, compatibility ideographs, extensions B-H.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")

# PostgreSQL writes the whole {"word": {"status": ..., "entries": [...]}, ...} object as text,
# splicing in the entries the loader pre-rendered as JSON: measured faster than json_object_agg
# (which re-parses them) or than building it in Python. Scalar subqueries keep each word one
# index probe; as joins, the planner merge-joins big pages against the whole headword index
# (3,000 words: 240 ms instead of 90). Words go in as one newline-separated string: psycopg
# would escape a text[] element by element in Python.
_LOOKUP = f"""
SELECT '{{' || coalesce(string_agg(
         to_json(w.word)::text
         || ':{{"status":"'
         || coalesce((SELECT v.status FROM {VocabWord._meta.db_table} v
                      WHERE v.user_id = %(user)s AND v.word = w.word), 'unknown')
         || '","entries":'
         || coalesce((SELECT h.entries_json FROM {Headword._meta.db_table} h
                      WHERE h.form = w.word), '[]')
         || '}}',
         ','), '') || '}}'
FROM unnest(string_to_array(%(words)s, E'\\n')) AS w(word)
"""


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def words_json(user_id: int, words: Iterable[str]) -> str:
    """A JSON object text mapping each word to {"status", "entries"}; words not in the
    dictionary get no entries, words without a status get "unknown". Words containing line
    breaks or NUL (never dictionary forms; NUL cannot reach PostgreSQL) are left out."""
    unique = {word for word in words if word and "\n" not in word and "\x00" not in word}
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, {"user": user_id, "words": "\n".join(unique)})
        return cursor.fetchone()[0]


User = get_user_model()

# With the dictionary map: one query for the release key (is the map current?) and the
# user's statuses of these words (rows only for words the user has marked).
_STATUSES = f"""
SELECT ({dictmap.RELEASE_KEY_SQL}),
       (SELECT coalesce(string_agg(v.word || E'\\t' || v.status, E'\\n'), '')
        FROM {VocabWord._meta.db_table} v
        WHERE v.user_id = %(user)s AND v.word = ANY(string_to_array(%(words)s, E'\\n'))),
       EXISTS (SELECT 1 FROM {ApiToken._meta.db_table} t
               JOIN {User._meta.db_table} u ON u.id = t.user_id
               WHERE t.key_hash = %(token)s AND t.user_id = %(user)s AND u.is_active)
"""


def words_json_mapped(user_id: int, words: Iterable[str], recheck: str | None = None) -> str:
    """As words_json, with the entries from the memory-mapped dictionary (reader.dictmap)
    and only the statuses from PostgreSQL; falls back to words_json without a map.

    `recheck`: the hash of a token that api_view took from its cache; raises TokenRevoked
    if it no longer exists or its user is inactive."""
    unique = {word for word in words if word and "\n" not in word and "\x00" not in word}
    with connection.cursor() as cursor:
        cursor.execute(_STATUSES, {"user": user_id, "words": "\n".join(unique), "token": recheck})
        key, rows, token_valid = cursor.fetchone()
    if recheck is not None and not token_valid:
        raise TokenRevoked
    mapped = dictmap.current()
    if mapped is None or mapped.key != key:
        mapped = dictmap.load(key) if key else None
        if mapped is None:
            return words_json(user_id, unique)
    # Stored words hold no tab or newline (vocab.word_error), so the split is exact.
    statuses = dict(line.split("\t") for line in rows.split("\n")) if rows else {}
    get, dumps = mapped.get, json.dumps
    parts = []
    for word in unique:
        entries = get(word)
        parts.append(
            f'{dumps(word, ensure_ascii=False)}:{{"status":"{statuses.get(word, "unknown")}",'
            f'"entries":{entries.decode() if entries is not None else "[]"}}}'
        )
    return "{" + ",".join(parts) + "}"
