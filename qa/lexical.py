"""Lexical matching: NLTK tokenizing and Porter stemming, and Okapi BM25 over a fixed set of passages."""
from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np

# A small English stop list (NLTK's list needs a data download, which is not possible here).
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she should
so some such than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves s t d ll m o re ve y don doesn didn isn aren wasn weren couldn shouldn wouldn
hasn haven hadn won article articles author authors writer writers say says said tell mean
""".split())

@lru_cache(maxsize=1)
def _tokenizer():
    from nltk.tokenize import RegexpTokenizer

    return RegexpTokenizer(r"\w+(?:[-'’]\w+)*")


@lru_cache(maxsize=1)
def _porter():
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    stem = _porter().stem(word)
    # Porter keeps an agent noun apart from its verb ("hackers" -> "hacker", "hacking" -> "hack");
    # people ask about "hackers" where the text says "hacking organizations".
    return stem[:-2] if stem.endswith("er") and len(stem) > 5 else stem


_SPLIT_COMPOUND = re.compile(r"[-'’]")
_CONTRACTION = re.compile(r"['’](s|t|ve|re|ll|d|m)$")


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text``: NLTK regexp tokens, lower-cased, stop words dropped.

    Hyphenated words count as themselves and as their parts ("Obama-Xi" gives
    "obama-xi", "obama", "xi").

    Example:
        >>> terms("The U.S. hackers' agreements")
        ['u', 'hack', 'agreement']
    """
    out: list[str] = []
    for token in _tokenizer().tokenize(text.lower()):
        token = _CONTRACTION.sub("", token)   # "what's" is "what", "pact's" is "pact", "don't" is "don"
        parts = _SPLIT_COMPOUND.split(token)
        words = [token, *parts] if len(parts) > 1 else parts
        for word in words:
            if word and word not in STOPWORDS:
                out.append(_stem(word))
    return out


class BM25:
    """Okapi BM25 scores of a query against every passage, as one NumPy vector.

    Per-term score vectors are computed once, so a query costs one vector add per
    query term.

    Usage example:
        >>> bm25 = BM25([terms("cyber theft of property"), terms("financial data")])
        >>> [round(float(x), 3) for x in bm25.scores(terms("cyber theft"))]
        [1.281, 0.0]

    Args:
        docs: the passages, each as a list of terms (see :func:`terms`).
        k1: term-frequency saturation. Defaults to 1.2.
        b: length normalisation. Defaults to 0.75.
    """

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        norm = k1 * (1 - b + b * lengths / avg)
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(set(doc))
        self._vectors: dict[str, np.ndarray] = {}
        for term, freq in df.items():
            idf = math.log(1 + (self.size - freq + 0.5) / (freq + 0.5))
            tf = np.array([doc.count(term) for doc in docs], dtype=np.float32)
            self._vectors[term] = (idf * tf * (k1 + 1) / (tf + norm)).astype(np.float32)
        self.idf = {t: math.log(1 + (self.size - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def coverage(self, query: list[str]) -> np.ndarray:
        """IDF-weighted share of ``query``'s distinct terms each passage holds; shape ``(len(docs),)``, 0..1.

        A term no passage holds weighs as much as the rarest one that some passage does.
        """
        out = np.zeros(self.size, dtype=np.float32)
        distinct = set(query)
        if not distinct or not self.size:
            return out
        rarest = max(self.idf.values(), default=1.0)
        total = 0.0
        for term in distinct:
            vector = self._vectors.get(term)
            weight = self.idf.get(term, rarest)
            total += weight
            if vector is not None:
                out += weight * (vector > 0)
        return out / total

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every passage for ``query`` terms; shape ``(len(docs),)``, zeros when no term matches."""
        out = np.zeros(self.size, dtype=np.float32)
        for term in query:
            vector = self._vectors.get(term)
            if vector is not None:
                out += vector
        return out
