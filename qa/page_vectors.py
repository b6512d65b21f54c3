"""A scoped page embedded again as an index of that page alone would embed it, in a corpus of several documents.

Every build keeps token vectors in one basis fitted on the whole corpus, and a build of more than
:data:`qa.embedding.ENCODED_WINDOWS_MAX_SENTENCES` sentences pools its windows from the sentences' token vectors (no
model work). Both cost a page's bot (a question scoped with ``doc=``) precision: a basis fitted on many other pages
tells the page's own tokens apart less well, and a pooled window matches a question less closely than its words
encoded alone. :class:`PageStore` embeds a scoped page again on its first question (or when its embed page opens,
:meth:`qa.Engine.warm`): its token vectors in a basis of its own, and its word windows encoded by the model when
the index pooled them, as a build of the page alone makes them. It keeps them in memory and drops the least
recently used pages past a bound. Figures (the article among Python documentation pages) are in docs/scale.md.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .embedding import Embedder, TokenBasis, word_windows

logger = logging.getLogger(__name__)

#: Most texts the model may embed for one page (its sentences, plus its word windows when the index pooled them;
#: a larger page keeps the corpus's vectors), so that a first question waits at most about 12 s on 2 cores
#: (``bench/page_bots.py`` at 104,155 sentences: the article, 34 sentences and 259 windows, 1.3 s; a page of 152
#: sentences and 320 windows 3.4 s; the glossary, 598 and 1,891, 11.5 s). Over the Python documentation a page
#: has a median of 319 windows and 90% have at most 1,874.
PAGE_TEXTS_MAX = 2_500
#: Most bytes of page vectors held in memory; the least recently used pages are dropped past it, but not those a
#: question is being answered from (:meth:`PageStore.pinned`).
HELD_BYTES_MAX = 64 * 2**20


@dataclass(frozen=True)
class PageVectors:
    """One page's vectors as an index of the page alone holds them.

    Sentence ``i`` of the page has tokens ``tokens[token_offsets[i]:token_offsets[i + 1]]`` (float16 unit rows in
    ``basis``, fitted on the page's own token vectors) and, when the index pooled its windows, windows
    ``windows[window_offsets[i]:window_offsets[i + 1]]`` (float16 unit rows, each window's text encoded by the
    model; None: the index's own windows are encoded already).
    """

    token_offsets: np.ndarray
    tokens: np.ndarray
    basis: TokenBasis
    window_offsets: np.ndarray | None = None
    windows: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes."""
        return sum(a.nbytes for a in (self.window_offsets, self.windows, self.token_offsets, self.tokens)
                   if a is not None)


class PageStore:
    """:class:`PageVectors` of some pages, by document number; safe to share between threads.

    Usage example:
        >>> from qa import Engine
        >>> store = PageStore()
        >>> store.prepare(0, ["One short sentence.", "Another one, of ten words: enough for two word windows."],
        ...               Engine.load().embedder, windows=True)
        True
        >>> store.get(0).window_offsets.tolist()
        [0, 0, 2]

    Args:
        per_page_max: most texts the model may embed for one page; 0 turns page vectors off. Defaults to
            :data:`PAGE_TEXTS_MAX` (2,500).
        held_max: most bytes held over all pages. Defaults to :data:`HELD_BYTES_MAX` (64 MiB).
    """

    def __init__(self, per_page_max: int = PAGE_TEXTS_MAX, held_max: int = HELD_BYTES_MAX) -> None:
        self.per_page_max = per_page_max
        self.held_max = held_max
        self._pages: OrderedDict[int, PageVectors] = OrderedDict()
        self._too_large: set[int] = set()
        self._pinned: Counter[int] = Counter()
        self._lock = threading.Lock()         # held while a page is embedded
        self._pin_lock = threading.Lock()     # held only to count the pages in use: never waits for an embedding

    def get(self, number: int) -> PageVectors | None:
        """Page ``number``'s vectors, or None when they are not held."""
        held = self._pages.get(number)
        if held is not None:
            with self._lock:
                if number in self._pages:
                    self._pages.move_to_end(number)
        return held

    @contextmanager
    def pinned(self, numbers: Iterable[int]) -> Iterator[None]:
        """Keep pages ``numbers`` held (once prepared) for the ``with`` block, past the memory bound if need be: a
        question's pages are not dropped by another question's between their preparation and their search."""
        numbers = list(numbers)
        with self._pin_lock:
            self._pinned.update(numbers)
        try:
            yield
        finally:
            with self._pin_lock:
                self._pinned.subtract(numbers)
                self._pinned += Counter()     # drops the pages no question holds any more

    def prepare(self, number: int, texts: list[str], embedder: Embedder, windows: bool = False) -> bool:
        """Embed page ``number`` (its sentences ``texts``, in order) unless it is held already.

        Args:
            number: the page's document number.
            texts: the page's sentences.
            embedder: the index's model.
            windows: also encode the sentences' word windows (for an index that pooled its windows). Defaults to
                False.

        Returns:
            Whether the page's vectors are held now (False for a page over ``per_page_max`` texts, or without text).
        """
        if number in self._pages:
            return True
        if not self.per_page_max or not texts or number in self._too_large:
            return False
        with self._lock:   # one page at a time: two questions to a new page embed it once
            if number in self._pages:
                return True
            count = len(texts) + (sum(len(word_windows(text)) for text in texts) if windows else 0)
            if count > self.per_page_max:
                logger.info("page vectors: document %d would embed %d texts, over %d: the corpus's vectors are used",
                            number, count, self.per_page_max)
                self._too_large.add(number)
                return False
            raw = embedder.encode_for_index(texts, "encoded" if windows else "pooled")
            basis = TokenBasis.fit(raw.tokens, sentences=len(texts))    # as a build of this page alone
            page = PageVectors(np.asarray(raw.token_offsets, dtype=np.int64),
                               basis.reduce(raw.tokens).astype(np.float16), basis,
                               np.asarray(raw.window_offsets, dtype=np.int64) if windows else None,
                               np.asarray(raw.windows, np.float16) if windows else None)
            self._pages[number] = page
            held = sum(p.nbytes for p in self._pages.values())
            with self._pin_lock:
                unpinned = [n for n in self._pages if n != number and not self._pinned[n]]   # least recently used first
            for old in unpinned:
                if held <= self.held_max:
                    break
                held -= self._pages.pop(old).nbytes
            logger.debug("page vectors: document %d: %d texts embedded", number, count)
            return True
