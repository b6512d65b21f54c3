"""Lexical matching: NLTK tokenizing and Porter stemming, and Okapi BM25 over a fixed set of passages."""
from __future__ import annotations

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


def _idf(size, df):
    """BM25's IDF of a term held by ``df`` of ``size`` passages (numbers or arrays)."""
    return np.log(1 + (size - df + 0.5) / (df + 0.5))


class BM25:
    """Okapi BM25 scores of a query against every passage, from a sparse term-by-passage matrix.

    Row ``vocab[term]`` of ``matrix`` holds that term's BM25 weight in each passage, so a query costs
    one sparse row sum per query term, whatever the number of passages. The matrix is saved with the
    index (:meth:`to_arrays`, :meth:`from_arrays`), so loading builds nothing.

    Usage example:
        >>> bm25 = BM25.build([terms("cyber theft of property"), terms("financial data")])
        >>> [round(float(x), 3) for x in bm25.scores(terms("cyber theft"))]
        [1.281, 0.0]
    """

    def __init__(self, matrix, vocab: dict[str, int], idf: np.ndarray) -> None:
        self.matrix = matrix.tocsr()
        self.matrix.sort_indices()
        self.size = matrix.shape[1]
        self.vocab = vocab
        self.idf = {term: float(idf[row]) for term, row in vocab.items()}
        self._rarest = float(idf.max()) if len(idf) else 1.0

    @classmethod
    def build(cls, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> "BM25":
        """BM25 over ``docs``, each a list of terms (see :func:`terms`).

        Args:
            docs: the passages' terms.
            k1: term-frequency saturation. Defaults to 1.2.
            b: length normalisation. Defaults to 0.75.
        """
        from scipy import sparse

        size = len(docs)
        vocab: dict[str, int] = {}
        rows, cols, counts = [], [], []
        lengths = np.zeros(size, dtype=np.float32)
        for col, doc in enumerate(docs):
            lengths[col] = len(doc)
            for term, count in Counter(doc).items():
                rows.append(vocab.setdefault(term, len(vocab)))
                cols.append(col)
                counts.append(count)
        rows_a, cols_a = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
        tf = np.array(counts, dtype=np.float32)
        df = np.bincount(rows_a, minlength=len(vocab)).astype(np.float64)
        idf = _idf(size, df)
        avg = float(lengths.mean()) if size and lengths.mean() > 0 else 1.0
        norm = k1 * (1 - b + b * lengths[cols_a] / avg)
        weights = (idf[rows_a] * tf * (k1 + 1) / (tf + norm)).astype(np.float32)
        matrix = sparse.csr_matrix((weights, (rows_a, cols_a)), shape=(len(vocab), size), dtype=np.float32)
        return cls(matrix, vocab, idf.astype(np.float32))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays :meth:`from_arrays` needs (for ``np.savez``)."""
        terms_by_row = sorted(self.vocab, key=self.vocab.get)
        return {"data": self.matrix.data, "indices": self.matrix.indices, "indptr": self.matrix.indptr,
                "shape": np.array(self.matrix.shape, dtype=np.int64),
                "terms": np.frombuffer("\n".join(terms_by_row).encode("utf-8"), dtype=np.uint8), "idf": np.array(
                    [self.idf[t] for t in terms_by_row], dtype=np.float32)}

    @classmethod
    def from_arrays(cls, arrays) -> "BM25":
        """The BM25 saved by :meth:`to_arrays`."""
        from scipy import sparse

        shape = tuple(int(x) for x in arrays["shape"])
        matrix = sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
        words = bytes(np.asarray(arrays["terms"], dtype=np.uint8)).decode("utf-8").split("\n") if shape[0] else []
        return cls(matrix, {word: i for i, word in enumerate(words)}, np.asarray(arrays["idf"]))

    def count_within(self, term: str, within: list[tuple[int, int]]) -> int:
        """How many passages of ``within`` (``[start, end)`` ranges) hold ``term``."""
        if term not in self.vocab:
            return 0
        row = self.vocab[term]
        cols = self.matrix.indices[self.matrix.indptr[row]:self.matrix.indptr[row + 1]]   # sorted
        return int(sum(np.searchsorted(cols, end) - np.searchsorted(cols, start) for start, end in within))

    def idf_within(self, term: str, within: list[tuple[int, int]]) -> float:
        """The IDF of ``term`` among the passages of ``within`` (``[start, end)`` ranges) alone, as a BM25 of just
        those passages would weigh it (a term none of them holds weighs most)."""
        return float(_idf(sum(end - start for start, end in within), self.count_within(term, within)))

    def scores(self, query: list[str], within: list[tuple[int, int]] | None = None) -> np.ndarray:
        """BM25 score of every passage for ``query`` terms; shape ``(size,)``, zeros when no term matches.

        Args:
            query: the terms.
            within: ``[start, end)`` passage ranges whose own IDF weighs the terms (see :meth:`idf_within`).
                Defaults to None: the IDF of all passages.
        """
        out = np.zeros(self.size, dtype=np.float32)
        factors: dict[str, float] = {}
        for term in query:
            if term not in self.vocab:
                continue
            row = self.vocab[term]
            start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
            data = self.matrix.data[start:end]
            if within:      # the weights hold the corpus's IDF: trade it for that of the passages within
                if term not in factors:
                    factors[term] = self.idf_within(term, within) / self.idf[term]
                data = data * factors[term]
            out[self.matrix.indices[start:end]] += data   # a row's indices are unique
        return out

    def coverage(self, query: list[str], within: list[tuple[int, int]] | None = None) -> np.ndarray:
        """IDF-weighted share of ``query``'s distinct terms each passage holds; shape ``(size,)``, 0..1.

        A term no passage holds weighs as much as the rarest one that some passage does. ``within``: passage
        ranges whose own IDF weighs the terms, as in :meth:`scores`. Defaults to None.
        """
        out = np.zeros(self.size, dtype=np.float32)
        distinct = set(query)
        if not distinct or not self.size:
            return out
        total = 0.0
        for term in distinct:
            weight = self.idf_within(term, within) if within else self.idf.get(term, self._rarest)
            total += weight
            if term in self.vocab:
                row = self.vocab[term]
                out[self.matrix.indices[self.matrix.indptr[row]:self.matrix.indptr[row + 1]]] += weight
        return out / total

    def matched(self, query: set[str], passage: int) -> int:
        """How many of the distinct terms ``query`` passage number ``passage`` holds."""
        count = 0
        for term in query:
            row = self.vocab.get(term)
            if row is not None:
                indices = self.matrix.indices[self.matrix.indptr[row]:self.matrix.indptr[row + 1]]
                position = np.searchsorted(indices, passage)
                count += bool(position < len(indices) and indices[position] == passage)
        return count
