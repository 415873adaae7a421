"""The dictionary as a memory-mapped file, shared by every worker of a pod.

PostgreSQL stays the dictionary's home (`load_dictionary` fills it); this is a read-only
copy of the Headword table that a process builds from it when it first needs it (gunicorn's
master, before forking, in onebox/wsgi.py) and maps. Workers share the file's pages through
the page cache instead of each holding Python objects (81 MB as a dict, un-shared by
reference counting); a page of words is answered with no database round trip for the
entries. The file is named after the DictionaryRelease row it was built from, so a reload
of the dictionary (a new row) is noticed by the query that reads the user's statuses
(reader.lookup) and a new file is built.

Format (little endian): header (magic, slots, forms, table offset), then the values (each
distinct entries JSON once), then a hash table of u32 record offsets (0: empty; linear
probing on crc32 of the UTF-8 form), then the records (u16 form length, u32 value offset,
u32 value length, form bytes).
"""

import logging
import mmap
import os
import struct
import tempfile
import threading
import zlib
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from .models import DictionaryRelease, Headword

log = logging.getLogger(__name__)

MAGIC = b"OBDICT02"
_HEADER = struct.Struct("<8sIII")  # magic, slots, forms, offset of the table
_SLOT = struct.Struct("<I")
_RECORD = struct.Struct("<HII")


class DictionaryMap:
    def __init__(self, path: Path, key: str) -> None:
        self.key = key
        with path.open("rb") as f:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        magic, slots, self.forms, self._table = _HEADER.unpack_from(self._mm, 0)
        if magic != MAGIC:
            raise ValueError(f"{path} is not a dictionary map")
        self._mask = slots - 1

    def get(self, word: str) -> bytes | None:
        """The entries JSON (UTF-8) for a form, or None if it is not in the dictionary."""
        mm, key = self._mm, word.encode()
        slot = zlib.crc32(key) & self._mask
        while True:
            (offset,) = _SLOT.unpack_from(mm, self._table + 4 * slot)
            if not offset:
                return None
            length, value, size = _RECORD.unpack_from(mm, offset)
            start = offset + _RECORD.size
            if length == len(key) and mm[start : start + length] == key:
                return mm[value : value + size]
            slot = (slot + 1) & self._mask


def _directory() -> Path:
    # Private to this user: a file planted by someone else must not become the dictionary.
    base = Path(settings.ONEBOX_DICTIONARY_DIR or tempfile.gettempdir())
    directory = base / f"onebox-dictionary-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    info = directory.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{directory} must belong to this user with mode 0700")
    return directory


# The forms and their entries as UTF-8 bytes (bytea: psycopg hands them over as bytes, with
# no decoding and encoding in Python). Repeated values (a traditional form often has the
# entries of its simplified form) are written once, found with a dict of the values during
# the build: 30 MB instead of 46 (md5 in PostgreSQL took it 2 s longer).
_ROWS = f"""
SELECT convert_to(form, 'UTF8'), convert_to(entries_json, 'UTF8')
FROM {Headword._meta.db_table}
"""


def _build(path: Path) -> None:
    """Write the Headword table to `path` (through a temporary file and a rename, so that a
    concurrent reader never sees half a file). The values are written as the rows stream in
    (a server-side cursor); the forms and the distinct values are kept until the end, then
    freed."""
    forms: list[tuple[bytes, int, int]] = []
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".building-")
    try:
        with os.fdopen(fd, "wb") as f, transaction.atomic():
            connection.ensure_connection()
            f.write(bytes(_HEADER.size))  # filled in at the end
            position = _HEADER.size
            written: dict[bytes, int] = {}
            with connection.connection.cursor(name="onebox_dictmap") as cursor:
                cursor.execute(_ROWS)
                while rows := cursor.fetchmany(20_000):
                    for form, blob in rows:
                        value_at = written.get(blob)
                        if value_at is None:
                            f.write(blob)
                            value_at = written[blob] = position
                            position += len(blob)
                        forms.append((form, value_at, len(blob)))
            del written
            slots = 1 << max(4, (2 * len(forms) - 1).bit_length())
            table_at = position
            table = bytearray(4 * slots)
            records = bytearray()
            records_at = table_at + len(table)
            mask, unpack, pack, crc32 = slots - 1, _SLOT.unpack_from, _SLOT.pack_into, zlib.crc32
            for key, value_at, value_size in forms:
                slot = crc32(key) & mask
                while unpack(table, 4 * slot)[0]:
                    slot = (slot + 1) & mask
                pack(table, 4 * slot, records_at + len(records))
                records += _RECORD.pack(len(key), value_at, value_size) + key
            f.write(table)
            f.write(records)
            f.seek(0)
            f.write(_HEADER.pack(MAGIC, slots, len(forms), table_at))
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


_lock = threading.Lock()
_current: DictionaryMap | None = None


def current() -> DictionaryMap | None:
    return _current


def release_key() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(RELEASE_KEY_SQL)
        row = cursor.fetchone()
    return row[0] if row else None


# The key of the loaded dictionary: its release row's id and checksum (a forced reload
# makes a new row). reader.lookup reads it in the same query as the user's statuses.
RELEASE_KEY_SQL = (
    f"SELECT id || '-' || left(checksum, 16) FROM {DictionaryRelease._meta.db_table} LIMIT 1"
)


def load(key: str | None = None) -> DictionaryMap | None:
    """The map for release `key` (read from the database if not given), built if this
    machine has no file for it yet; None if no dictionary is loaded or the file cannot be
    made (callers then use the SQL lookup)."""
    global _current
    with _lock:
        if _current is not None and key is not None and _current.key == key:
            return _current
        try:
            key = key or release_key()
            if key is None:
                return None
            path = _directory() / f"{MAGIC.decode()}-{key}.map"
            if not path.exists():
                _build(path)
                log.info("dictionary map %s built", path)
            _current = DictionaryMap(path, key)
        except OSError as exc:
            log.warning("no dictionary map (%s); looking words up in PostgreSQL", exc)
            return None
        return _current
