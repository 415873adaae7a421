"""CC-CEDICT numbered pinyin ("hao3", "nu:3", "Zhong1 guo2") to tone marks ("hǎo", "nǚ")."""

import functools
import re
import unicodedata

# Combining marks for tones 1-4; tone 5 (neutral) has none.
_TONE_MARKS = {"1": "\u0304", "2": "\u0301", "3": "\u030c", "4": "\u0300"}
_SYLLABLE = re.compile(r"^([a-zü]+)([1-5])$", re.IGNORECASE)
_VOWELS = "aeiouü"


def _mark_position(letters: str) -> int | None:
    """Index of the letter that carries the tone mark, by the standard rules."""
    lower = letters.lower()
    for vowel in ("a", "e"):
        if vowel in lower:
            return lower.index(vowel)
    if "ou" in lower:
        return lower.index("o")
    for i in range(len(lower) - 1, -1, -1):
        if lower[i] in _VOWELS:
            return i
    # Syllabic nasals such as m2, n2, ng2 carry the mark on the nasal.
    for i, ch in enumerate(lower):
        if ch in "mn":
            return i
    return None


# CC-CEDICT has a few thousand distinct syllables in 120,000 lines.
@functools.lru_cache(maxsize=8192)
def syllable_to_marks(syllable: str) -> str:
    """One syllable; anything that is not letters+tone digit (e.g. "," or "xx5") passes as is,
    except that the tone 5 digit is dropped."""
    syllable = syllable.replace("u:", "ü").replace("U:", "Ü")
    match = _SYLLABLE.match(syllable)
    if not match:
        return syllable
    letters, tone = match.groups()
    mark = _TONE_MARKS.get(tone)
    pos = _mark_position(letters)
    if mark is None or pos is None:
        return letters
    marked = letters[: pos + 1] + mark + letters[pos + 1 :]
    return unicodedata.normalize("NFC", marked)


def numbered_to_marks(pinyin: str) -> str:
    """Whole CC-CEDICT pinyin field, syllables separated by spaces."""
    return " ".join(syllable_to_marks(s) for s in pinyin.split())
