"""Word windows encoded by the model for one page at a time, when the index pooled them.

A build of more than :data:`qa.embedding.ENCODED_WINDOWS_MAX_SENTENCES` sentences pools its windows from the
sentences' token vectors: no model work, but a pooled window matches a question less closely than its words
encoded alone, so a page's bot (a question scoped with ``doc=``) ranks and answers worse than the same page
indexed alone. :class:`PageWindows` encodes a scoped page's word windows on its first question (or when its
embed page opens, :meth:`qa.Engine.warm`), keeps them in memory, and drops the least recently used pages past a
bound. Measured on the article among the 479 Python documentation pages (104,155 sentences), scoped to the
article: 356 right answers of 412 on the ten evaluation sets with pooled windows, 381 with the page's windows
encoded on its first question, as many as the article indexed alone (docs/scale.md).
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

from .embedding import word_windows

logger = logging.getLogger(__name__)

#: Most windows one page may have to be encoded (a larger page keeps its pooled windows): 4,000 windows
#: take about 14 s on 2 busy cores (290 windows/s). Over the Python documentation a page has a median of
#: 319 windows, 90% have at most 1,874 and 98.7% at most 4,000; the article has 259 (about 1 s).
PAGE_WINDOWS_MAX = 4_000
#: Most encoded windows held in memory over all pages (float16: 768 bytes each, 38 MB).
HELD_WINDOWS_MAX = 50_000


class PageWindows:
    """Encoded word windows of some pages, by document number; safe to share between threads.

    Usage example:
        >>> import numpy as np
        >>> pages = PageWindows(per_page_max=10)
        >>> encode = lambda texts: np.ones((len(texts), 4), dtype=np.float32) / 2
        >>> pages.prepare(0, ["one two three four five six seven eight nine ten", "short"], encode)
        True
        >>> offsets, vectors = pages.get(0)
        >>> offsets.tolist(), vectors.shape
        ([0, 2, 2], (2, 4))

    Args:
        per_page_max: most windows a page may have to be encoded; 0 turns page windows off. Defaults to
            :data:`PAGE_WINDOWS_MAX` (4,000).
        held_max: most windows held over all pages; the least recently used pages are dropped past it.
            Defaults to :data:`HELD_WINDOWS_MAX` (50,000).
    """

    def __init__(self, per_page_max: int = PAGE_WINDOWS_MAX, held_max: int = HELD_WINDOWS_MAX) -> None:
        self.per_page_max = per_page_max
        self.held_max = max(held_max, per_page_max)
        self._pages: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._too_large: set[int] = set()
        self._lock = threading.Lock()

    def get(self, number: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Page ``number``'s windows as ``(offsets, vectors)`` (sentence ``i`` of the page has rows
        ``offsets[i]:offsets[i + 1]``), or None when they are not held."""
        held = self._pages.get(number)
        if held is not None:
            with self._lock:
                if number in self._pages:
                    self._pages.move_to_end(number)
        return held

    def prepare(self, number: int, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> bool:
        """Encode the word windows of page ``number`` (its sentences ``texts``, in order) unless held already.

        Args:
            number: the page's document number.
            texts: the page's sentences.
            encode: the model's encoder: texts to unit vectors, shape ``(len(texts), dimension)``.

        Returns:
            Whether the page's windows are held now (False for a page over ``per_page_max`` windows).
        """
        if number in self._pages:
            return True
        if not self.per_page_max or number in self._too_large:
            return False
        with self._lock:   # one encoding at a time: two questions to a new page encode it once
            if number in self._pages:
                return True
            windows = [word_windows(text) for text in texts]
            lengths = [len(w) for w in windows]
            total = sum(lengths)
            if total > self.per_page_max:
                logger.info("page windows: document %d has %d windows, over %d: its pooled windows are used",
                            number, total, self.per_page_max)
                self._too_large.add(number)
                return False
            flat = [w for page in windows for w in page]
            vectors = np.asarray(encode(flat), dtype=np.float16) if flat else np.zeros((0, 0), dtype=np.float16)
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            self._pages[number] = (offsets, vectors)
            while sum(len(v) for _, v in self._pages.values()) > self.held_max and len(self._pages) > 1:
                self._pages.popitem(last=False)
            logger.debug("page windows: document %d: %d windows encoded", number, total)
            return True
