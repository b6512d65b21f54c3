"""Spelling: read a misspelt question word as the close corpus or common English word it was meant to be."""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

#: A word at least this frequent in English (Zipf scale: 3 is once per million words) is a word, not a typo.
KNOWN_ZIPF = 3.0
#: Common English words that are candidates besides the corpus's own words.
ENGLISH_CANDIDATES = 30000
#: A correction must be this much more frequent (Zipf) than the word typed, so rare real words stay.
MIN_GAIN = 1.5

_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
# British and American spellings of one word: a variant the corpus uses is read as the corpus's.
_VARIANTS = (("isation", "ization"), ("ization", "isation"), ("ise", "ize"), ("ize", "ise"), ("yse", "yze"),
             ("our", "or"), ("or", "our"), ("tre", "ter"), ("ter", "tre"), ("ence", "ense"), ("ense", "ence"),
             ("ogue", "og"), ("og", "ogue"), ("lled", "led"), ("lling", "ling"))
#: Shortest part of a run-together word ("cyberattacks" as "cyber attacks").
MIN_PART = 3


def _single(word: str) -> str:
    """``word`` with every run of one letter written once ("reccomend" -> "recomend")."""
    return re.sub(r"(.)\1+", r"\1", word)


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """How common ``word`` is in English on the Zipf scale (0 unknown, 7 'the'); from ``wordfreq``."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def english_words(n: int = ENGLISH_CANDIDATES) -> list[str]:
    """The ``n`` most common English words (letters only). Defaults to 30,000."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", n) if w.isalpha()]


class Speller:
    """Corrects question words that are neither in the corpus nor common English.

    A word is left alone when the corpus uses it or it is a common English word
    (Zipf >= :data:`KNOWN_ZIPF`). Otherwise the candidates are the corpus's words and
    the common English words within a small edit distance (Levenshtein with a dropped
    letter costing 1 and an extra or wrong letter 2, since typing too fast drops
    letters: at most 1 for words of up to 4 letters, else 2; a letter doubled or not counts as 1, and two
    corpus words run together are split: "cyberattacks" is read as "cyber attacks"). The closest wins, then
    a corpus word, then the most frequent; the correction is made only when it is
    clearly more common than the word typed (:data:`MIN_GAIN`) and no other candidate
    is as good. A British or American spelling of a corpus word ("organisations",
    "centre") is read as the corpus's spelling.

    Usage example:
        >>> speller = Speller(["The agreement barred theft of property."])
        >>> speller.correct("aggreement"), speller.correct("agreement"), speller.correct("banana")
        ('agreement', None, None)
        >>> speller.correct("theftproperty")
        'theft property'

    Args:
        texts: the corpus's sentences.
        english: common English words that may be meant. Defaults to :func:`english_words`.
    """

    def __init__(self, texts: Iterable[str], english: list[str] | None = None) -> None:
        vocabulary: set[str] = set()
        for text in texts:     # a set, not a Counter: built at every Engine.load (0.7 s of it at 104,155 sentences)
            vocabulary.update(map(str.lower, _WORD.findall(text)))
        self.vocabulary = frozenset(vocabulary)
        english = english_words() if english is None else english
        self._candidates = sorted(self.vocabulary | {w for w in english if len(w) > 1})
        self._by_length: dict[int, list[str]] = {}
        for word in self._candidates:
            self._by_length.setdefault(len(word), []).append(word)
        self._cache: dict[str, str | None] = {}

    def known(self, word: str) -> bool:
        """Whether ``word`` (lower case) is the corpus's or common English."""
        return word in self.vocabulary or zipf(word) >= KNOWN_ZIPF

    def correct(self, word: str) -> str | None:
        """The word meant by ``word`` (lower case), or None when it is fine or no correction is confident."""
        if word in self._cache:
            return self._cache[word]
        result = self._variant(word) if word not in self.vocabulary else None
        if result is None and len(word) >= 3 and word.isascii() and word.isalpha() and not self.known(word):
            result = self._closest(word)
        if len(self._cache) < 65536:
            self._cache[word] = result
        return result

    def _split(self, word: str) -> str | None:
        """``word`` as two corpus words run together ("cyberattacks" as "cyber attacks"), or None; the split
        with the commonest rarer part wins."""
        splits = [(word[:i], word[i:]) for i in range(MIN_PART, len(word) - MIN_PART + 1)
                  if word[:i] in self.vocabulary and word[i:] in self.vocabulary]
        if not splits:
            return None
        head, tail = max(splits, key=lambda parts: min(zipf(parts[0]), zipf(parts[1])))
        return f"{head} {tail}"

    def _variant(self, word: str) -> str | None:
        """The corpus's British/American spelling of ``word``, if it has one."""
        for ending, other in _VARIANTS:
            for position in [m.start() for m in re.finditer(ending, word)]:
                candidate = word[:position] + other + word[position + len(ending):]
                if candidate in self.vocabulary:
                    return candidate
        return None

    def _closest(self, word: str) -> str | None:
        from rapidfuzz import process
        from rapidfuzz.distance import OSA, Levenshtein

        limit = 1 if len(word) <= 4 else 2
        pool = [w for n in range(len(word) - limit, len(word) + limit + 1) for w in self._by_length.get(n, ())]
        found = process.extract(word, pool, scorer=Levenshtein.distance, scorer_kwargs={"weights": (1, 2, 2)},
                                score_cutoff=limit, limit=None)
        if not found and len(word) >= 4:   # a swapped pair ("beleive", "waht") counts as one edit
            letters = sorted(word)
            found = [(cand, 1, None) for cand in pool
                     if len(cand) == len(word) and sorted(cand) == letters and OSA.distance(word, cand) == 1]
        if not found:   # a letter doubled or not ("reccomend", "comitee"): the same word once runs are single
            single = _single(word)
            found = [(cand, 1, None) for cand in pool if _single(cand) == single and cand != word]
        if not found:
            return self._split(word)
        ranked = sorted(((distance, cand not in self.vocabulary, -zipf(cand), cand) for cand, distance, _ in found))
        best = ranked[0]
        if len(ranked) > 1 and ranked[1][:2] == best[:2] and ranked[1][2] - best[2] < 1.0:
            return None   # two candidates as close and as common: not confident
        gain = (-best[2] if best[1] else max(-best[2], KNOWN_ZIPF)) - zipf(word)
        return best[3] if gain >= MIN_GAIN else None
