"""The one seam to the word segmenter: `segment(text)` and the process-wide instance behind it.

Backends give identical tokens (jieba is the reference; rjieba is its Rust port) and are
chosen with ONEBOX_SEGMENTER. The instance is built on first use; the WSGI module calls
`load()` so that gunicorn's preloading master builds it once, before forking the workers.
"""

import logging
import threading
from collections.abc import Callable

from django.conf import settings

_lock = threading.Lock()
_cut: Callable[[str], list[str]] | None = None
_backend: str | None = None


def _load_rjieba() -> Callable[[str], list[str]]:
    # Importing rjieba builds its default instance; a Jieba() of our own would be a second
    # copy of the dictionary (+25 MB).
    import rjieba

    return lambda text: rjieba.cut(text, hmm=True)


def _load_jieba() -> Callable[[str], list[str]]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    if settings.ONEBOX_JIEBA_CACHE:
        # The image builds this file, so a read-only root filesystem costs no start-up time.
        tokenizer.cache_file = settings.ONEBOX_JIEBA_CACHE
    tokenizer.initialize()
    return lambda text: tokenizer.lcut(text, HMM=True)


_LOADERS = {"rjieba": _load_rjieba, "jieba": _load_jieba}


def load(backend: str | None = None) -> None:
    """Build the segmenter now (idempotent). `backend` overrides the setting (benchmarks)."""
    global _cut, _backend
    backend = backend or settings.ONEBOX_SEGMENTER
    with _lock:
        if _cut is None or _backend != backend:
            _cut = _LOADERS[backend]()
            _backend = backend


def loaded() -> bool:
    return _cut is not None


def backend() -> str | None:
    return _backend


def segment(text: str) -> list[str]:
    """Split text into words; the tokens concatenate back to the text."""
    if _cut is None:
        load()
    return _cut(text)
