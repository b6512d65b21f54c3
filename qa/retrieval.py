"""Retrieval in two stages: candidates from FAISS and BM25, then precise scores for them only, as chunks."""
from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass

import numpy as np

from .embedding import POOLED_WINDOW_OFFSET
from .index import IndexData, text_twins
from .lexical import terms
from .page_vectors import PAGE_TEXTS_MAX, PageStore
from .structure import TOPIC_RULES, TopicRule, asks, role_masks

logger = logging.getLogger(__name__)

#: Token and window vectors up to this size (as float32) are held in memory; larger ones stay memory-mapped.
IN_MEMORY_BYTES = 64 * 2**20
#: A page part that at most this many documents have (a byline, authors' bios) is a candidate in all of them
#: for a question about it ("who wrote this?"); a commoner part (a deck) only in the best hits' documents.
RARE_ROLE_DOCS = 20
#: Most sentences of one repeated text that a FAISS hit on it brings in as candidates ("Note" is 642 sentences of
#: the Python documentation; one of them is as good as another for the first stage).
MAX_TWINS = 32


@dataclass(frozen=True)
class Query:
    """What retrieval needs of a question.

    ``vector`` is the question's unit vector; ``tokens`` its unit token vectors
    (without ``[CLS]``/``[SEP]``); ``terms`` its stemmed words and ``context_terms``
    those of the earlier question(s) a follow-up refers to; ``topics`` what it asks
    about besides the subject (see :func:`qa.analysis.question_topics`); ``asks`` its
    kind ("why", "what", ...; see :func:`qa.structure.asks`); ``doc`` the one document to
    answer from (or several; None: any, the best match's document being the one in focus);
    ``as_alone`` whether a scoped query scores its documents as if they were indexed alone: BM25
    and term coverage with their own IDF, and their own vectors when held (:mod:`qa.page_vectors`);
    False for a follow-up kept on its conversation's document, which the user did not scope (its
    answer then does not depend on the pages asked before, and unscoped conversations keep the
    corpus's weights).
    """

    vector: np.ndarray
    tokens: np.ndarray
    terms: list[str]
    context_terms: list[str]
    topics: frozenset[str] = frozenset()
    asks: str | None = None
    doc: str | tuple[str, ...] | None = None
    prefer: str | None = None
    as_alone: bool = True

    @property
    def scope(self) -> tuple[str, ...]:
        """The documents to answer from (empty: all)."""
        if self.doc is None:
            return ()
        return (self.doc,) if isinstance(self.doc, str) else tuple(self.doc)


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk.

    ``score`` is the chunk's fused score (its best sentence's, plus a little of its
    other sentences'); ``dense`` the best sentence's cosine similarity; ``lexical``
    its BM25 share (0..1); ``sentence_scores`` the fused score of each of the
    chunk's sentences, in the chunk's order; ``matched`` how many of the question's
    distinct content words (stems) the best sentence contains, of ``asked_terms``;
    ``on_topic`` whether the best sentence is the part of the page the question asks
    about (the deck for "the subtitle", a bio for "who wrote this").
    """

    chunk_id: int
    score: float
    dense: float
    lexical: float
    best_sentence: int
    sentence_scores: tuple[float, ...]
    matched: int = 0
    asked_terms: int = 0
    on_topic: bool = False


class Retriever:
    """Hybrid retrieval over sentences, ranked as chunks, in two stages.

    **Candidates** (stage 1): the ``dense_candidates`` sentences nearest the question in FAISS, the
    ``lexical_candidates`` best by BM25 (a sparse matrix, so no loop over sentences), for questions about the
    page its parts (deck, byline...) in the documents of the best hits, the questions the article asks that
    precede a candidate, and every sentence sharing a chunk with a candidate. A corpus of at most
    ``exact_max`` sentences is scored whole, so a single article is ranked exactly as before.

    **Scores** (stage 2, candidates only): a weighted mean of three signals:

    - dense: the best cosine similarity between the question and the sentence or one of its word
      windows (encoded by the model, or pooled from the sentence's tokens in large corpora; the
      similarity a hit reports for the answer's bar counts a pooled window's plus
      ``qa.embedding.POOLED_WINDOW_OFFSET``, which is not used for ranking);
    - tokens: MaxSim of the question's token vectors against the sentence's (each question token's best
      match, averaged), which catches paraphrased words;
    - lexical: BM25 over stemmed words, divided by the best BM25 of the query over the corpus (0..1).

    Then the page's structure (:mod:`qa.structure`) adjusts it. The article's own
    questions ("Why has the agreement fallen short?") lose ``question_penalty``, and
    the ``follow`` sentences after one inherit its score when the user asks the same
    kind of question ("why"): what follows a question is its answer. The deck (the
    summary under the headline) and the "views are the authors'" line lose
    ``deck_penalty`` and ``disclaimer_penalty``, since the body says the same with the
    detail. Sentences with a role the question asks about (the deck for "the subtitle",
    the conclusion for "what do they conclude", the byline for "whose views", the
    article's questions for "what question do the authors pose") gain the boost of their
    :data:`qa.structure.TOPIC_RULES` entry, and such a match is evidence enough to answer
    (``Hit.on_topic``); for questions about the authors every bio scores as the row's best, so
    "who wrote this?" names them all. The parts of the page are those of the document in focus
    only: the query's ``doc`` when given, else the document of the best sentence before these
    adjustments; a question about the page (or a query with ``doc``) is answered and cited from
    that document alone.

    A chunk scores as its best sentence plus ``pair_weight`` times the mean of its
    others. Chunks whose best sentence is already inside a better chunk are skipped,
    so the citations do not repeat a sentence as the main evidence.

    Usage example:
        >>> from qa import Engine
        >>> engine = Engine.load()
        >>> hits = engine.retriever.search([engine.make_query("What did the 2015 agreement bar?")], top_k=2)[0]
        >>> len(hits), hits[0].score >= hits[1].score
        (2, True)

    Args:
        data: the loaded index.
        token_weight: weight of the token MaxSim. Defaults to 0.5.
        lexical_weight: weight of BM25. Defaults to 0.05.
        question_penalty: subtracted from sentences ending in "?". Defaults to 0.3.
        context_weight: weight of a follow-up's context terms in BM25. Defaults to 0.5.
        pair_weight: weight of a chunk's other sentences. Defaults to 0.1.
        topic_rules: ``{topic: TopicRule(role, boost, answers_directly)}``. Defaults to
            :data:`qa.structure.TOPIC_RULES`.
        deck_penalty: subtracted from the deck unless the question asks about it. Defaults to 0.06.
        follow: how many sentences after one of the article's questions inherit its score.
            Defaults to 2.
        dense_candidates: sentences taken from FAISS per question. Defaults to 100.
        lexical_candidates: sentences taken from BM25 per question. Defaults to 50.
        exact_max: corpora up to this many sentences are scored whole. Defaults to 500.
        continuity_boost: added to the sentences of a conversation's document (``Query.prefer``, set for a
            question with a history that is not a follow-up; a follow-up is scoped to it). Defaults to 0.1.
        page_texts: most texts (sentences, and word windows when the index pooled them) the model may embed again
            for a scoped question's page in a corpus of several documents, as an index of the page alone would
            (:mod:`qa.page_vectors`); 0 keeps the corpus's vectors. Defaults to 2,500.
    """

    def __init__(self, data: IndexData, token_weight: float = 0.5, lexical_weight: float = 0.05,
                 question_penalty: float = 0.3, context_weight: float = 0.5, pair_weight: float = 0.1,
                 deck_penalty: float = 0.06, disclaimer_penalty: float = 0.1,
                 follow: int = 2, coverage_weight: float = 0.2, coverage_terms: int = 4,
                 topic_rules: dict[str, TopicRule] | None = None, dense_candidates: int = 100,
                 lexical_candidates: int = 50, exact_max: int = 500, continuity_boost: float = 0.1,
                 page_texts: int = PAGE_TEXTS_MAX) -> None:
        self.data = data
        self.continuity_boost = continuity_boost
        self.coverage_terms = coverage_terms
        self.coverage_weight = coverage_weight
        self.token_weight = token_weight
        self.lexical_weight = lexical_weight
        self.question_penalty = question_penalty
        self.context_weight = context_weight
        self.pair_weight = pair_weight
        self.topic_rules = TOPIC_RULES if topic_rules is None else topic_rules
        self.deck_penalty = deck_penalty
        self.disclaimer_penalty = disclaimer_penalty
        self.dense_candidates = dense_candidates
        self.lexical_candidates = lexical_candidates
        self.exact_max = exact_max
        self.bm25 = data.bm25
        n = len(data.sentences)
        self.size = n
        vectors = data.vectors
        self._token_offsets = np.asarray(vectors.token_offsets, dtype=np.int64)
        self._window_offsets = np.asarray(vectors.window_offsets, dtype=np.int64)
        # Small indexes are held as float32 in memory (no conversion per query); large ones stay mapped.
        small = lambda array: array.shape[0] * array.shape[1] * 4 <= IN_MEMORY_BYTES   # noqa: E731
        self._basis = data.basis
        self._token_scale = 1.0 / 127 if data.basis is not None else 1.0     # int8 rows of unit vectors
        self._tokens = (np.asarray(vectors.tokens, dtype=np.float32) * self._token_scale if small(vectors.tokens)
                        else None)
        self._windows = vectors.windows[: len(vectors.windows)] if small(vectors.windows) else vectors.windows
        self._windows = np.asarray(self._windows, dtype=np.float32) if small(vectors.windows) else self._windows
        self._window_offset = POOLED_WINDOW_OFFSET if data.manifest.get("windows") == "pooled" else 0.0
        #: Scoped pages embedded again as alone, standing in for the corpus's vectors (None: one document, or off).
        self.pages = PageStore(page_texts) if page_texts and len(data.documents) > 1 else None
        # A graph of distinct texts (qa.index.make_faiss_index) stands for each repeated sentence by its first.
        self._twins = text_twins([s.text for s in data.sentences]) if hasattr(data.faiss_index, "id_map") else {}
        # Chunks as (first sentence, count); every chunk is consecutive sentences of one paragraph.
        firsts = np.array([c.sentence_ids[0] for c in data.chunks], dtype=np.int64)
        counts = np.array([len(c.sentence_ids) for c in data.chunks], dtype=np.int64)
        self._chunk_first, self._chunk_count = firsts, counts
        width = int(counts.max()) if len(counts) else 1
        steps = np.arange(width)
        self._members = firsts[:, None] + np.minimum(steps[None, :], np.maximum(counts[:, None] - 1, 0))
        self._member_mask = steps[None, :] < counts[:, None]
        # Per sentence: the range of sentences sharing a chunk with it, and of chunks holding it.
        self._mate_lo, self._mate_hi = np.arange(n), np.arange(n)
        self._chunk_lo, self._chunk_hi = np.full(n, len(firsts), dtype=np.int64), np.full(n, -1, dtype=np.int64)
        for step in range(width):
            valid = counts > step
            ids = firsts[valid] + step
            np.minimum.at(self._mate_lo, ids, firsts[valid])
            np.maximum.at(self._mate_hi, ids, firsts[valid] + counts[valid] - 1)
            np.minimum.at(self._chunk_lo, ids, np.flatnonzero(valid))
            np.maximum.at(self._chunk_hi, ids, np.flatnonzero(valid))
        self.profiles = data.profiles
        self.roles = role_masks(self.profiles, n)
        self.is_question = self.roles["asked"]
        # Which document each sentence is in, as a number, and each document's sentence range.
        self._doc_names = [doc.id for doc in data.documents] or list(dict.fromkeys(s.doc for s in data.sentences))
        numbers = {doc: i for i, doc in enumerate(self._doc_names)}
        self._doc_numbers = numbers
        self._sentence_doc = np.array([numbers[s.doc] for s in data.sentences], dtype=np.int64)
        self._chunk_doc = self._sentence_doc[firsts] if len(firsts) else np.zeros(0, dtype=np.int64)
        self._doc_start = np.searchsorted(self._sentence_doc, np.arange(len(self._doc_names)), side="left")
        self._doc_end = np.searchsorted(self._sentence_doc, np.arange(len(self._doc_names)), side="right")
        self._disclaimers = self.roles["byline"] * (1.0 - self.roles["bio"])
        self._role_ids = {role: np.flatnonzero(mask) for role, mask in self.roles.items()}
        self._role_docs = {role: np.unique(self._sentence_doc[where]) for role, where in self._role_ids.items()}
        # A question the article asks is answered by what follows it: the next
        # ``follow`` sentences of the same document, outside the byline.
        sentences = data.sentences
        self._followers = {int(q): [int(q) + step for step in range(1, follow + 1)
                                    if q + step < n and sentences[q + step].doc == sentences[q].doc
                                    and not self.roles["byline"][q + step]]
                           for q in self._role_ids["asked"]}
        self._leaders = np.array(sorted(self._followers), dtype=np.int64)
        self._asks = {sid: asks(sentences[sid].text) for sid in self._followers}
        self.follow = follow

    # -- stage 1 ------------------------------------------------------------------------------

    def _scope_ids(self, scope: tuple[str, ...]) -> np.ndarray:
        """Sentence ids of the documents ``scope`` (all sentences when empty)."""
        if not scope:
            return np.arange(self.size)
        parts = []
        for doc in scope:
            if doc not in self._doc_numbers:
                raise ValueError(f"no document {doc!r} in the index")
            number = self._doc_numbers[doc]
            parts.append(np.arange(self._doc_start[number], self._doc_end[number]))
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _scope_ranges(self, scope: tuple[str, ...]) -> list[tuple[int, int]] | None:
        """The ``[start, end)`` sentence ranges of the documents of ``scope``; None for no scope (the corpus)."""
        if not scope or len(self._doc_names) <= 1:
            return None
        numbers = sorted({self._doc_numbers[d] for d in scope})
        return [(int(self._doc_start[n]), int(self._doc_end[n])) for n in numbers]

    def scope_size(self, scope: tuple[str, ...]) -> int:
        """How many sentences a question scoped to ``scope`` searches (all when empty)."""
        return int(sum(self._doc_end[self._doc_numbers[d]] - self._doc_start[self._doc_numbers[d]]
                       for d in set(scope))) if scope else self.size

    def mentions(self, doc: str, word: str) -> bool:
        """Whether document ``doc`` uses ``word``: verbatim in any case, as a dotted acronym ("US" as "U.S."),
        or by stem (a row of the BM25 matrix with a sentence of ``doc``)."""
        number = self._doc_numbers[doc]
        a, b = int(self._doc_start[number]), int(self._doc_end[number])
        text = self.data.documents[number].text if number < len(self.data.documents) else ""
        lowered = word.lower().removesuffix("’s").removesuffix("'s")
        pattern = re.escape(lowered) + ("|" + re.escape(".".join(lowered) + ".") if word.isupper() else "")
        if re.search(pattern, text, re.IGNORECASE):
            return True
        return any(self.bm25.count_within(term, [(a, b)]) for term in terms(lowered))

    def _nearest(self, vectors: np.ndarray, k: int) -> np.ndarray:
        """Ids of the ``k`` sentences nearest each of ``vectors`` by FAISS: shape ``(len(vectors), <=k)``."""
        index = self.data.faiss_index
        _, ids = index.search(np.ascontiguousarray(vectors, dtype=np.float32), min(k, self.size))
        return ids

    def _with_twins(self, ids: np.ndarray) -> np.ndarray:
        """``ids`` (from FAISS, best first) with the other sentences of the same text after each, at most
        ``MAX_TWINS`` of a text."""
        if not self._twins or not any(i in self._twins for i in ids.tolist()):
            return ids
        return np.concatenate([self._twins[i][:MAX_TWINS] if i in self._twins else [i] for i in ids.tolist()])

    def candidates(self, queries: list[Query], lexical: np.ndarray) -> np.ndarray:
        """Sorted ids of the sentences worth scoring precisely for ``queries`` (see the class notes).

        Args:
            queries: the questions.
            lexical: their BM25 shares over every sentence, shape ``(len(queries), n_sentences)``.
        """
        scoped = [q.scope for q in queries]
        if self.size <= self.exact_max:
            if any(scoped):
                return np.unique(np.concatenate([self._scope_ids(s) for s in scoped]))
            return np.arange(self.size)
        picked = []
        unscoped = [row for row, s in enumerate(scoped) if not s]
        if unscoped:
            nearest = self._nearest(np.stack([queries[r].vector for r in unscoped]), self.dense_candidates)
            picked.append(self._with_twins(nearest[nearest >= 0].ravel()))
            for row, ids in zip(unscoped, nearest):
                asked = queries[row].topics & self.topic_rules.keys()
                if asked:   # the page parts of the best hits' documents, and of the few pages having the part asked
                    for number in np.unique(self._sentence_doc[ids[ids >= 0][:3]]):
                        picked.append(self._doc_roles(int(number)))
                    for role in {self.topic_rules[topic].role for topic in asked}:
                        if len(self._role_docs[role]) <= RARE_ROLE_DOCS:
                            picked.append(self._role_ids[role])
        for row, scope in enumerate(scoped):
            if scope:
                ids = self._scope_ids(scope)
                sims = np.asarray(self.data.vectors.vectors[ids], dtype=np.float32) @ queries[row].vector \
                    if len(ids) <= 50 * self.dense_candidates else None
                if sims is None:
                    near = self._with_twins(self._nearest(queries[row].vector[None, :], 20 * self.dense_candidates)[0])
                    picked.append(near[np.isin(near, ids)][: self.dense_candidates])
                else:
                    picked.append(ids[np.argsort(-sims)[: self.dense_candidates]])
                for number in {self._doc_numbers[d] for d in scope}:
                    picked.append(self._doc_roles(number))
        for row in range(len(queries)):
            scores = lexical[row]
            if scoped[row]:
                ids = self._scope_ids(scoped[row])
                top = ids[np.argsort(-scores[ids])[: self.lexical_candidates]]
            else:
                k = min(self.lexical_candidates, self.size)
                top = np.argpartition(-scores, k - 1)[:k]
            picked.append(top[scores[top] > 0])
        ids = np.unique(np.concatenate(picked).astype(np.int64))
        # The article's questions a candidate follows (it inherits their score), then whole chunks.
        if len(self._leaders):
            near = self._leaders[np.searchsorted(self._leaders, ids, side="right") - 1] if len(ids) else ids
            ok = (near <= ids) & (ids - near <= self.follow) & (np.searchsorted(self._leaders, ids, side="right") > 0)
            ids = np.union1d(ids, near[ok])
            ids = np.union1d(ids, np.concatenate([self._followers[int(q)] for q in ids if int(q) in self._followers]
                                                 or [np.zeros(0, dtype=np.int64)]))
        lo, hi = self._mate_lo[ids], self._mate_hi[ids]
        spans = np.concatenate([np.arange(a, b + 1) for a, b in zip(lo.tolist(), hi.tolist())]) if len(ids) else ids
        return np.union1d(ids, spans).astype(np.int64)

    def _doc_roles(self, number: int) -> np.ndarray:
        """Ids of the sentences of document ``number`` that have any page role."""
        a, b = self._doc_start[number], self._doc_end[number]
        return np.unique(np.concatenate([ids[(ids >= a) & (ids < b)] for ids in self._role_ids.values()]))

    # -- stage 2 ------------------------------------------------------------------------------

    def lexical_scores(self, query: Query) -> np.ndarray:
        """BM25 share of every sentence for ``query``: shape ``(n_sentences,)``, values 0..1 (the best
        sentence of the query's scope scores 1)."""
        within = self._scope_ranges(query.scope) if query.as_alone else None
        raw = self.bm25.scores(query.terms, within)
        if query.context_terms:
            raw = raw + self.context_weight * self.bm25.scores(query.context_terms, within)
        within = raw[self._scope_ids(query.scope)] if query.scope else raw
        best = float(within.max()) if within.size else 0.0
        return raw / best if best > 0 else raw

    @staticmethod
    def _rows(offsets: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of sentences ``ids`` in an array grouped by ``offsets``, and each sentence's row count."""
        starts, lengths = offsets[ids], offsets[ids + 1] - offsets[ids]
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, dtype=np.int64), lengths
        shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        return np.arange(total) + shift, lengths

    def token_scores(self, queries: list[Query], ids: np.ndarray | None = None) -> np.ndarray:
        """MaxSim of each query's tokens against sentences ``ids`` (default: all): shape ``(n_queries, len(ids))``."""
        ids = np.arange(self.size) if ids is None else ids
        out = np.zeros((len(queries), len(ids)), dtype=np.float32)
        rows, lengths = self._rows(self._token_offsets, ids)
        has = np.flatnonzero(lengths)
        q_lengths = np.array([len(q.tokens) for q in queries])
        if not len(rows) or not q_lengths.sum():
            return out
        if self._tokens is not None:
            tokens = self._tokens[rows]
        else:
            tokens = np.asarray(self.data.vectors.tokens[rows], dtype=np.float32) * self._token_scale
        stacked = np.concatenate([np.asarray(q.tokens, dtype=np.float32) for q in queries if len(q.tokens)])
        if self._basis is not None:
            stacked = self._basis.reduce(stacked)
        starts = np.concatenate([[0], np.cumsum(lengths[has])[:-1]])
        best = np.maximum.reduceat(stacked @ tokens.T, starts, axis=1)          # (query tokens, sentences with tokens)
        q_starts = np.concatenate([[0], np.cumsum(q_lengths[q_lengths > 0])[:-1]])
        sums = np.add.reduceat(best, q_starts, axis=0)
        out[np.ix_(np.flatnonzero(q_lengths), has)] = sums / q_lengths[q_lengths > 0, None]
        return out

    def dense_scores(self, vectors: np.ndarray, ids: np.ndarray | None = None, window_offset: float = 0.0) -> np.ndarray:
        """Best cosine similarity of each query vector with sentences ``ids`` (default: all) or their windows
        (each window's plus ``window_offset``, which defaults to 0): shape ``(n_queries, len(ids))``."""
        ids = np.arange(self.size) if ids is None else ids
        vectors = np.asarray(vectors, dtype=np.float32)
        out = vectors @ np.asarray(self.data.vectors.vectors[ids], dtype=np.float32).T
        rows, lengths = self._rows(self._window_offsets, ids)
        if len(rows):
            has = np.flatnonzero(lengths)
            sims = vectors @ np.asarray(self._windows[rows], dtype=np.float32).T + window_offset
            best = np.maximum.reduceat(sims, np.concatenate([[0], np.cumsum(lengths[has])[:-1]]), axis=1)
            out[:, has] = np.maximum(out[:, has], best)
        return out

    def pinned_pages(self, scopes: list[tuple[str, ...]]):
        """A context manager keeping the pages of ``scopes`` held while it lasts (:meth:`PageStore.pinned`; nothing to
        do without page vectors)."""
        if self.pages is None or not scopes:
            return contextlib.nullcontext()
        return self.pages.pinned({self._doc_numbers[d] for scope in scopes for d in scope if d in self._doc_numbers})

    def prepare_pages(self, scope: tuple[str, ...], embedder) -> None:
        """Embed the documents of ``scope`` (a scoped question's pages) again as an index of each alone would, in a
        corpus of several documents; once per page (:class:`qa.page_vectors.PageStore`).

        Args:
            scope: document ids.
            embedder: the index's model (:class:`qa.embedding.Embedder`).
        """
        if self.pages is None:
            return
        for doc in scope:
            number = self._doc_numbers[doc]
            a, b = int(self._doc_start[number]), int(self._doc_end[number])
            self.pages.prepare(number, [s.text for s in self.data.sentences[a:b]], embedder,
                               windows=bool(self._window_offset))

    def _page_scores(self, scope: tuple[str, ...], vector: np.ndarray, raw_tokens: np.ndarray,
                     ids: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(dense, tokens)`` scores of sentences ``ids`` for a query (``vector``, its token vectors ``raw_tokens``)
        scoped to ``scope``, from its pages' own vectors (as :meth:`dense_scores` and :meth:`token_scores`;
        sentences outside the scope score 0, and the query ranks them last anyway); None unless every page in scope
        is held."""
        if self.pages is None or not scope or not len(ids):
            return None
        numbers = [self._doc_numbers[d] for d in dict.fromkeys(scope)]
        pages = [self.pages.get(n) for n in numbers]
        if any(page is None for page in pages):
            return None
        vector = np.asarray(vector, dtype=np.float32)
        raw_tokens = np.asarray(raw_tokens, dtype=np.float32)
        encoded = all(page.windows is None for page in pages)     # the index's windows are encoded already
        dense = self.dense_scores(vector[None, :], ids)[0] if encoded else \
            np.asarray(self.data.vectors.vectors[ids], dtype=np.float32) @ vector
        tokens = np.zeros(len(ids), dtype=np.float32)
        for number, page in zip(numbers, pages):
            inside = np.flatnonzero((ids >= self._doc_start[number]) & (ids < self._doc_end[number]))
            local = ids[inside] - self._doc_start[number]
            best = None if page.windows is None else self._best_rows(page.window_offsets, page.windows, local,
                                                                      vector[None, :])
            if best is not None:
                has, sims = best
                dense[inside[has]] = np.maximum(dense[inside[has]], sims[0])
            if len(raw_tokens):
                best = self._best_rows(page.token_offsets, page.tokens, local, page.basis.reduce(raw_tokens))
                if best is not None:
                    has, sims = best
                    tokens[inside[has]] = sims.mean(axis=0)
        return dense, tokens

    def _best_rows(self, offsets: np.ndarray, rows: np.ndarray, local: np.ndarray, queries: np.ndarray):
        """For sentences ``local`` whose rows (``rows[offsets[i]:offsets[i + 1]]``) are not empty: their positions
        in ``local`` and each query row's best cosine among their rows, shape ``(len(queries), len(has))``; None
        when none has rows."""
        picked, lengths = self._rows(offsets, local)
        if not len(picked):
            return None
        has = np.flatnonzero(lengths)
        sims = queries @ np.asarray(rows[picked], dtype=np.float32).T
        return has, np.maximum.reduceat(sims, np.concatenate([[0], np.cumsum(lengths[has])[:-1]]), axis=1)

    def best_similarity(self, vectors: np.ndarray, scopes: list[tuple[str, ...]] | None = None) -> np.ndarray:
        """Each query vector's best dense score over the corpus (its nearest sentences' and their windows'), or over
        its entry of ``scopes`` (document ids; empty: the corpus) when that holds at most
        ``50 * dense_candidates`` sentences. Defaults to the corpus for every vector."""
        if not self.size:
            return np.zeros(len(vectors), dtype=np.float32)
        scopes = scopes or [()] * len(vectors)
        out = np.zeros(len(vectors), dtype=np.float32)
        whole = []
        for row, scope in enumerate(scopes):
            ids = self._scope_ids(scope) if scope and self.scope_size(scope) <= 50 * self.dense_candidates else None
            if ids is None:
                whole.append(row)
            elif len(ids):
                page = self._page_scores(scope, vectors[row], np.zeros((0, vectors.shape[1])), ids)
                out[row] = (page[0] if page is not None else self.dense_scores(vectors[row][None, :], ids)[0]).max()
        if not whole:
            return out
        if self.size <= self.exact_max:
            out[whole] = self.dense_scores(vectors[whole]).max(axis=1)
            return out
        nearest = self._nearest(vectors[whole], 32)
        out[whole] = [self.dense_scores(vectors[row][None, :], ids[ids >= 0]).max() for row, ids in zip(whole, nearest)]
        return out

    def _focus(self, queries: list[Query], fused: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The document in focus per row, as a number: the query's (first) ``doc``, else its best sentence's (for a
        question about a page part, such as "who wrote this?", the best sentence's among pages having that part)."""
        focus = self._sentence_doc[ids[fused.argmax(axis=1)]].copy()
        doc_of = self._sentence_doc[ids]
        for row, query in enumerate(queries):
            asked = query.topics & self.topic_rules.keys()
            if asked and not query.scope:
                having = np.zeros(len(ids), dtype=bool)
                for role in {self.topic_rules[topic].role for topic in asked}:
                    having |= np.isin(doc_of, self._role_docs[role])
                if having.any():
                    focus[row] = doc_of[np.flatnonzero(having)[int(fused[row, having].argmax())]]
        for row, query in enumerate(queries):
            if query.scope:
                in_scope = [self._doc_numbers[d] for d in query.scope]
                best = int(self._sentence_doc[ids[int(fused[row].argmax())]])
                focus[row] = best if best in in_scope else in_scope[0]
        return focus

    def _apply_structure(self, queries: list[Query], fused: np.ndarray, dense: np.ndarray,
                         focus: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Adjust ``fused`` and ``dense`` (shape ``(n_queries, len(ids))``) in place for the page's structure.

        The sentences after each question the article asks take at least its score in the rows
        asking the same kind of question ("why" for "why"); then each row gets the adjustment
        for its topics in its document in ``focus``; for a topic whose rule says ``all_best`` (the
        authors' bios), every sentence of that role in that document scores as the row's best.

        Returns:
            Boolean array of the same shape: where a sentence has a role its row asks about.
        """
        kinds = [q.asks for q in queries]
        position = {int(sid): p for p, sid in enumerate(ids)} if len(self._followers) else {}
        for asked, followers in self._followers.items():
            if asked not in position:
                continue
            rows = [row for row, kind in enumerate(kinds) if kind is not None and kind == self._asks[asked]]
            cols = [position[f] for f in followers if f in position]
            if rows and cols:
                cells = np.ix_(rows, cols)
                for matrix in (fused, dense):
                    matrix[cells] = np.maximum(matrix[cells], matrix[rows, position[asked]][:, None])
        adjusted = [self._topic_adjustment(q.topics, int(doc), ids) for q, doc in zip(queries, focus)]
        fused += np.stack([adjust for adjust, _ in adjusted])
        doc_of = self._sentence_doc[ids]
        for row, q in enumerate(queries):
            for topic in sorted(q.topics & self.topic_rules.keys()):
                rule = self.topic_rules[topic]
                if rule.all_best:
                    cols = np.flatnonzero(self.roles[rule.role][ids] * (doc_of == focus[row]))
                    if cols.size:
                        fused[row, cols] = fused[row].max()
        return np.stack([direct for _, direct in adjusted])

    def _topic_adjustment(self, topics: frozenset[str], doc: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score change of sentences ``ids`` for a query about ``topics`` with document ``doc`` in focus, and where
        a sentence answers such a query directly: two arrays of shape ``(len(ids),)``.

        Sentences of ``doc`` with a role the question asks about gain that topic's boost; the article's own
        questions, the deck and the disclaimer lose their penalties unless the question asks about them.
        """
        adjust = np.zeros(len(ids), dtype=np.float32)
        direct = np.zeros(len(ids), dtype=bool)
        if "asked" not in topics:
            adjust -= self.question_penalty * self.is_question[ids]
        if "deck" not in topics:
            adjust -= self.deck_penalty * self.roles["deck"][ids]
        if "byline" not in topics:
            adjust -= self.disclaimer_penalty * self._disclaimers[ids]
        in_focus = self._sentence_doc[ids] == doc
        for topic in sorted(topics & self.topic_rules.keys()):
            rule = self.topic_rules[topic]
            mask = self.roles[rule.role][ids] * in_focus
            adjust += rule.boost * mask
            if rule.answers_directly:
                direct |= mask > 0
        return adjust, direct

    def search(self, queries: list[Query], top_k: int) -> list[list[Hit]]:
        """The ``top_k`` best chunks for each query.

        Returns:
            One list per query, sorted by decreasing score, ties broken by chunk id;
            shorter than ``top_k`` only when there are fewer distinct chunks.

        Raises:
            ValueError: a query's ``doc`` is not in the index.
        """
        if not queries:
            return []
        if not self.data.sentences:
            return [[] for _ in queries]
        block = 64 if self.size <= self.exact_max else 8
        hits: list[list[Hit]] = []
        for first in range(0, len(queries), block):
            hits += self._search_block(queries[first : first + block], top_k)
        return hits

    def _search_block(self, queries: list[Query], top_k: int) -> list[list[Hit]]:
        for q in queries:
            self._scope_ids(q.scope)   # unknown documents fail before any work
        lexical_all = np.stack([self.lexical_scores(q) for q in queries])
        ids = self.candidates(queries, lexical_all)
        vectors = np.stack([q.vector for q in queries])
        dense = self.dense_scores(vectors, ids)
        # The evidence the answer is judged on (Hit.dense): pooled windows count what they would score encoded.
        evidence = self.dense_scores(vectors, ids, self._window_offset) if self._window_offset else dense
        lexical = lexical_all[:, ids]
        tokens = self.token_scores(queries, ids)
        for row, q in enumerate(queries):    # a scoped page embedded again scores as if it were indexed alone
            page = self._page_scores(q.scope, q.vector, q.tokens, ids) if q.as_alone else None
            if page is not None:
                dense[row], tokens[row] = page
                evidence[row] = page[0]
        norm = 1.0 + self.token_weight + self.lexical_weight
        fused = (dense + self.token_weight * tokens + self.lexical_weight * lexical) / norm
        # Short questions in the corpus's own words: a keyword query ("carnegie call") embeds poorly.
        short = [row for row, q in enumerate(queries) if 0 < len(set(q.terms)) <= self.coverage_terms
                 and all(t in self.bm25.idf for t in q.terms)]
        if self.coverage_weight and short:
            fused[short] += self.coverage_weight * np.stack([
                self.bm25.coverage(queries[row].terms,
                                   self._scope_ranges(queries[row].scope) if queries[row].as_alone else None)[ids]
                for row in short])
        for row, q in enumerate(queries):      # a follow-up stays with the document of the question it continues
            if q.prefer is not None and q.prefer in self._doc_numbers and len(ids):
                fused[row] += self.continuity_boost * (self._sentence_doc[ids] == self._doc_numbers[q.prefer])
        for row, q in enumerate(queries):      # a scoped query scores nothing outside its documents
            if q.scope and len(ids):
                outside = ~np.isin(self._sentence_doc[ids], [self._doc_numbers[d] for d in q.scope])
                fused[row, outside] = -np.inf
        focus = self._focus(queries, fused, ids)
        on_topic = self._apply_structure(queries, fused, evidence, focus, ids)
        # The chunks made of candidates: every chunk holding a candidate's chunk-mate, kept when whole.
        chunk_ids = np.unique(np.concatenate([np.arange(a, b + 1) for a, b in
                                              zip(self._chunk_lo[ids].tolist(), self._chunk_hi[ids].tolist()) if b >= a]
                                             or [np.zeros(0, dtype=np.int64)])).astype(np.int64)
        whole = (np.isin(self._members[chunk_ids], ids) | ~self._member_mask[chunk_ids]).all(axis=1)
        chunk_ids = chunk_ids[whole]                                    # chunks made of candidates only
        members = np.searchsorted(ids, self._members[chunk_ids])       # positions of members in ids
        mask = self._member_mask[chunk_ids]
        scored = fused[:, members]                                      # (queries, chunks, width)
        scored[:, ~mask] = -np.inf
        best_pos = scored.argmax(axis=2)
        best = np.take_along_axis(scored, best_pos[..., None], axis=2)[..., 0]
        valid_sum = np.where(mask, np.where(np.isfinite(scored), scored, 0.0), 0.0).sum(axis=2)
        counts = mask.sum(axis=1)
        finite = np.isfinite(best)                                      # False: a chunk outside the query's scope
        others = np.where(counts > 1, (valid_sum - np.where(finite, best, 0.0)) / np.maximum(counts - 1, 1), 0.0)
        scores = np.where(finite, best + self.pair_weight * others, -np.inf)
        # a page question is answered from the document in focus alone (a scope is already kept by -inf above)
        only = [int(focus[q]) if queries[q].topics & self.topic_rules.keys() else None
                for q in range(len(queries))]
        hit_lists = [self._hits(chunk_ids, scores[q], best_pos[q], fused[q], evidence[q], lexical[q], ids,
                                set(queries[q].terms), on_topic[q], top_k, only[q])
                     for q in range(len(queries))]
        if logger.isEnabledFor(logging.DEBUG):
            for q, hits in enumerate(hit_lists):
                top = hits[0] if hits else None
                logger.debug("retrieval: %d candidates; document in focus %s%s; best chunk %s: score %.3f, "
                             "dense %.3f, %d of %d content words, on the page part asked %s", len(ids),
                             self._doc_names[focus[q]], " (only)" if only[q] is not None else "",
                             top.chunk_id if top else None, top.score if top else 0.0, top.dense if top else 0.0,
                             top.matched if top else 0, top.asked_terms if top else 0,
                             top.on_topic if top else False)
        return hit_lists

    def _hits(self, chunk_ids, scores, best_pos, fused, dense, lexical, ids, asked: set[str], on_topic,
              top_k: int, only: int | None = None) -> list[Hit]:
        """The ``top_k`` best of chunks ``chunk_ids`` for one row (of document number ``only``, when given).

        ``fused``, ``dense``, ``lexical`` and ``on_topic`` are over the candidate sentences ``ids``.
        """
        hits: list[Hit] = []
        covered: set[int] = set()
        chunks = self.data.chunks
        position = {int(sid): p for p, sid in enumerate(ids)}
        for n in np.lexsort((chunk_ids, -scores)):
            if not np.isfinite(scores[n]):
                break
            chunk_id = int(chunk_ids[n])
            chunk = chunks[chunk_id]
            if only is not None and self._chunk_doc[chunk_id] != only:
                continue
            best = chunk.sentence_ids[best_pos[n]]
            if best in covered:
                continue
            covered.update(chunk.sentence_ids)
            at = position[best]
            hits.append(Hit(chunk_id, round(float(scores[n]), 6), float(dense[at]), float(lexical[at]), best,
                            tuple(float(fused[position[sid]]) for sid in chunk.sentence_ids),
                            self.bm25.matched(asked, best), len(asked), bool(on_topic[at])))
            if len(hits) == top_k:
                break
        return hits
