"""A scoped page embedded again as an index of that page alone would embed it, when the corpus is large.

A build of more than :data:`qa.embedding.ENCODED_WINDOWS_MAX_SENTENCES` sentences pools its windows from the
sentences' token vectors (no model work), and every build keeps token vectors in one basis fitted on the whole
corpus. Both cost a page's bot (a question scoped with ``doc=``) precision: a pooled window matches a question
less closely than its words encoded alone, and a basis fitted on thousands of other pages tells the page's own
tokens apart less well. :class:`PageStore` embeds a scoped page again on its first question (or when its embed
page opens, :meth:`qa.Engine.warm`): its word windows encoded by the model and its token vectors in a basis of
its own, as a build of the page alone makes them. It keeps them in memory and drops the least recently used pages
past a bound. Figures (the article among the 479 Python documentation pages) are in docs/scale.md.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .embedding import Embedder, TokenBasis, word_windows

logger = logging.getLogger(__name__)

#: Most word windows a page may have to be embedded again (a larger page keeps the corpus's vectors), so that a
#: first question waits at most about 12 s on 2 cores (``bench/page_bots.py``: the article, 34 sentences and 259
#: windows, 1.3 s; a page of 152 sentences and 320 windows 3.4 s; the glossary, 598 and 1,891, 11.5 s). Over
#: the Python documentation a page has a median of 319 windows and 90% have at most 1,874.
PAGE_WINDOWS_MAX = 2_000
#: Most bytes of page vectors held in memory; the least recently used pages are dropped past it.
HELD_BYTES_MAX = 64 * 2**20


@dataclass(frozen=True)
class PageVectors:
    """One page's vectors as an index of the page alone holds them.

    Sentence ``i`` of the page has windows ``windows[window_offsets[i]:window_offsets[i + 1]]`` (float16 unit
    rows, each window's text encoded by the model) and tokens ``tokens[token_offsets[i]:token_offsets[i + 1]]``
    (float16 unit rows in ``basis``, fitted on the page's own token vectors).
    """

    window_offsets: np.ndarray
    windows: np.ndarray
    token_offsets: np.ndarray
    tokens: np.ndarray
    basis: TokenBasis

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes."""
        return sum(a.nbytes for a in (self.window_offsets, self.windows, self.token_offsets, self.tokens))


class PageStore:
    """:class:`PageVectors` of some pages, by document number; safe to share between threads.

    Usage example:
        >>> from qa import Engine
        >>> store = PageStore()
        >>> store.prepare(0, ["One short sentence.", "Another one, of twelve words: enough for two word windows."],
        ...               Engine.load().embedder)
        True
        >>> store.get(0).window_offsets.tolist()
        [0, 0, 2]

    Args:
        per_page_max: most word windows a page may have to be embedded again; 0 turns page vectors off.
            Defaults to :data:`PAGE_WINDOWS_MAX` (2,000).
        held_max: most bytes held over all pages. Defaults to :data:`HELD_BYTES_MAX` (64 MiB).
    """

    def __init__(self, per_page_max: int = PAGE_WINDOWS_MAX, held_max: int = HELD_BYTES_MAX) -> None:
        self.per_page_max = per_page_max
        self.held_max = held_max
        self._pages: OrderedDict[int, PageVectors] = OrderedDict()
        self._too_large: set[int] = set()
        self._lock = threading.Lock()

    def get(self, number: int) -> PageVectors | None:
        """Page ``number``'s vectors, or None when they are not held."""
        held = self._pages.get(number)
        if held is not None:
            with self._lock:
                if number in self._pages:
                    self._pages.move_to_end(number)
        return held

    def prepare(self, number: int, texts: list[str], embedder: Embedder) -> bool:
        """Embed page ``number`` (its sentences ``texts``, in order) unless it is held already.

        Args:
            number: the page's document number.
            texts: the page's sentences.
            embedder: the index's model.

        Returns:
            Whether the page's vectors are held now (False for a page over ``per_page_max`` windows).
        """
        if number in self._pages:
            return True
        if not self.per_page_max or number in self._too_large:
            return False
        with self._lock:   # one page at a time: two questions to a new page embed it once
            if number in self._pages:
                return True
            windows = sum(len(word_windows(text)) for text in texts)
            if windows > self.per_page_max:
                logger.info("page vectors: document %d has %d word windows, over %d: the corpus's vectors are used",
                            number, windows, self.per_page_max)
                self._too_large.add(number)
                return False
            raw = embedder.encode_for_index(texts, "encoded")
            basis = TokenBasis.fit(raw.tokens, sentences=len(texts))    # as a build of this page alone
            page = PageVectors(np.asarray(raw.window_offsets, dtype=np.int64), np.asarray(raw.windows, np.float16),
                               np.asarray(raw.token_offsets, dtype=np.int64),
                               basis.reduce(raw.tokens).astype(np.float16), basis)
            self._pages[number] = page
            while sum(p.nbytes for p in self._pages.values()) > self.held_max and len(self._pages) > 1:
                self._pages.popitem(last=False)
            logger.debug("page vectors: document %d: %d sentences and %d windows embedded", number, len(texts), windows)
            return True
