"""Dictionary (shared, loaded by `load_dictionary`) and per-user vocabulary and API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class Entry(models.Model):
    """One CC-CEDICT line: a headword with one reading and its glosses."""

    traditional = models.TextField()
    simplified = models.TextField()
    pinyin = models.TextField(help_text="With tone marks, e.g. hǎo.")
    pinyin_numbered = models.TextField(help_text="As in CC-CEDICT, e.g. hao3.")
    glosses = ArrayField(models.TextField())
    hsk_level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1-6, or 7 for the band 7-9."
    )

    # No indexes: words are looked up through Headword; this table is the normalised source
    # (and admin), and index upkeep would slow the bulk load.
    class Meta:
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return f"{self.simplified} [{self.pinyin}]"


class Headword(models.Model):
    """Every simplified or traditional form with its entries, pre-rendered as JSON text.

    Derived from Entry by the loader. The enrich hot path reads this table only, so a page
    costs one indexed lookup per unique word and no per-entry Python objects. Text rather
    than jsonb: it is only ever copied into responses, never queried into.
    """

    form = models.TextField(primary_key=True)
    entries_json = models.TextField()

    def __str__(self) -> str:
        return self.form


class DictionaryRelease(models.Model):
    """The dictionary data currently loaded; `load_dictionary` skips work when it matches."""

    checksum = models.CharField(max_length=64, unique=True)
    entries = models.PositiveIntegerField()
    headwords = models.PositiveIntegerField()
    hsk_standard = models.CharField(max_length=8)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.checksum[:12]} ({self.entries} entries)"


class VocabWord(models.Model):
    """A user's status for one word. Rows set back to "unknown" are kept so that
    `GET /vocab?since=` tells other devices about the change."""

    class Status(models.TextChoices):
        UNKNOWN = "unknown"
        LEARNING = "learning"
        KNOWN = "known"
        IGNORED = "ignored"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    word = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "word"], name="vocab_user_word"),
        ]
        indexes = [models.Index(fields=["user", "updated_at", "id"], name="vocab_user_updated")]

    def __str__(self) -> str:
        return f"{self.word}: {self.status}"


def hash_token(raw: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the browser extension. Only its SHA-256 is stored."""

    PREFIX = "ob_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"

    @classmethod
    def issue(cls, user) -> tuple["ApiToken", str]:
        """Create a token for user; returns the row and the raw token (shown once)."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, key_hash=hash_token(raw), hint=raw[:10])
        return token, raw


class LoginThrottle(models.Model):
    """Failed password checks per account and per client address, in a fixed window.

    In PostgreSQL so that every worker, pod and restart sees the same count (reader.throttle).
    """

    key = models.CharField(max_length=80, primary_key=True)
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
