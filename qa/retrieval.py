"""Retrieval: score every sentence (dense FAISS + token MaxSim + BM25), then rank the chunks that hold them."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .index import IndexData
from .lexical import BM25, terms
from .structure import TOPIC_RULES, TopicRule, asks, page_profiles, role_masks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Query:
    """What retrieval needs of a question.

    ``vector`` is the question's unit vector; ``tokens`` its unit token vectors
    (without ``[CLS]``/``[SEP]``); ``terms`` its stemmed words and ``context_terms``
    those of the earlier question(s) a follow-up refers to; ``topics`` what it asks
    about besides the subject (see :func:`qa.analysis.question_topics`); ``asks`` its
    kind ("why", "what", ...; see :func:`qa.structure.asks`); ``doc`` the document id, or tuple of
    ids, to answer from (None: any, the best match's document being the one in focus; of several, the
    best match's among them).
    """

    vector: np.ndarray
    tokens: np.ndarray
    terms: list[str]
    context_terms: list[str]
    topics: frozenset[str] = frozenset()
    asks: str | None = None
    doc: str | tuple[str, ...] | None = None


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
    """Hybrid retrieval over sentences, ranked as chunks.

    A sentence's score is a weighted mean of three signals:

    - dense: the best cosine similarity between the question and the sentence or
      one of its word windows (FAISS, exact inner product);
    - tokens: MaxSim of the question's token vectors against the sentence's
      (each question token's best match, averaged), which catches paraphrased words;
    - lexical: BM25 over stemmed words, divided by the best BM25 of the query (0..1).

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
    """

    def __init__(self, data: IndexData, token_weight: float = 0.5, lexical_weight: float = 0.05,
                 question_penalty: float = 0.3, context_weight: float = 0.5, pair_weight: float = 0.1,
                 deck_penalty: float = 0.06, disclaimer_penalty: float = 0.1,
                 follow: int = 2, coverage_weight: float = 0.2, coverage_terms: int = 3,
                 topic_rules: dict[str, TopicRule] | None = None) -> None:
        self.data = data
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
        sentence_terms = [terms(s.text) for s in data.sentences]
        self.bm25 = BM25(sentence_terms)
        self._term_sets = [frozenset(t) for t in sentence_terms]
        # Units grouped by sentence, for a per-sentence max with one reduceat.
        self._unit_order = np.argsort(data.unit_sentence, kind="stable")
        self._unit_starts = np.searchsorted(data.unit_sentence[self._unit_order], np.arange(len(data.sentences)))
        # Chunk -> sentence ids, padded to the widest chunk.
        width = max((len(c.sentence_ids) for c in data.chunks), default=1)
        self._members = np.zeros((len(data.chunks), width), dtype=np.int64)
        self._member_mask = np.zeros((len(data.chunks), width), dtype=bool)
        for chunk in data.chunks:
            self._members[chunk.id, : len(chunk.sentence_ids)] = chunk.sentence_ids
            self._member_mask[chunk.id, : len(chunk.sentence_ids)] = True
        self.profiles = data.profiles or page_profiles(data.sentences)
        self.roles = role_masks(self.profiles, len(data.sentences))
        self.is_question = self.roles["asked"]
        # Which document each sentence is in, as a number (for the document in focus).
        self._doc_names = list(dict.fromkeys(s.doc for s in data.sentences))
        self._doc_numbers = numbers = {doc: n for n, doc in enumerate(self._doc_names)}
        self._sentence_doc = np.array([numbers[s.doc] for s in data.sentences], dtype=np.int64)
        self._chunk_doc = np.array([numbers.get(c.doc, -1) for c in data.chunks], dtype=np.int64)
        self._disclaimers = self.roles["byline"] * (1.0 - self.roles["bio"])
        # A question the article asks is answered by what follows it: the next
        # ``follow`` sentences of the same document, outside the byline.
        self._followers = {s.id: [s.id + step for step in range(1, follow + 1)
                                  if s.id + step < len(data.sentences) and data.sentences[s.id + step].doc == s.doc
                                  and not self.roles["byline"][s.id + step]]
                           for s in data.sentences if self.is_question[s.id]}
        self._asks = {sid: asks(data.sentences[sid].text) for sid in self._followers}
        self._adjustments: dict[tuple[frozenset[str], int], tuple[np.ndarray, np.ndarray]] = {}

    def lexical_scores(self, query: Query) -> np.ndarray:
        """BM25 share of every sentence for ``query``: shape ``(n_sentences,)``, values 0..1."""
        raw = self.bm25.scores(query.terms)
        if query.context_terms:
            raw = raw + self.context_weight * self.bm25.scores(query.context_terms)
        best = float(raw.max()) if raw.size else 0.0
        return raw / best if best > 0 else raw

    def token_scores(self, queries: list[Query], block: int = 64) -> np.ndarray:
        """MaxSim of each query's tokens against every sentence: shape ``(n_queries, n_sentences)``.

        Queries are stacked ``block`` at a time into one matrix product.
        """
        data = self.data
        out = np.zeros((len(queries), len(data.sentences)), dtype=np.float32)
        if not len(data.token_vectors):
            return out
        for first in range(0, len(queries), block):
            group = queries[first : first + block]
            lengths = np.array([len(q.tokens) for q in group])
            if not lengths.sum():
                continue
            stacked = np.concatenate([q.tokens for q in group if len(q.tokens)])
            best = np.maximum.reduceat(stacked @ data.token_vectors.T, data.token_offsets[:-1], axis=1)
            starts = np.concatenate([[0], np.cumsum(lengths[lengths > 0])[:-1]])
            sums = np.add.reduceat(best, starts, axis=0)
            out[first + np.flatnonzero(lengths)] = sums / lengths[lengths > 0, None]
        return out

    def dense_scores(self, vectors: np.ndarray) -> np.ndarray:
        """Best unit cosine similarity per sentence for each query: shape ``(n_queries, n_sentences)``."""
        index = self.data.faiss_index
        sims, ids = index.search(np.ascontiguousarray(vectors, dtype=np.float32), index.ntotal)
        by_unit = np.empty_like(sims)
        np.put_along_axis(by_unit, ids, sims, axis=1)
        return np.maximum.reduceat(by_unit[:, self._unit_order], self._unit_starts, axis=1)

    def _scope(self, query: Query) -> np.ndarray | None:
        """The document numbers ``query`` is limited to (None: any; ids without sentences in the index have
        nothing to answer from and are left out, so the array may be empty)."""
        if query.doc is None:
            return None
        ids = (query.doc,) if isinstance(query.doc, str) else query.doc
        return np.array([self._doc_numbers[doc] for doc in ids if doc in self._doc_numbers], dtype=np.int64)

    def _focus(self, queries: list[Query], fused: np.ndarray) -> np.ndarray:
        """The document in focus per row, as a number: its best sentence's, among the query's ``doc`` when given."""
        focus = self._sentence_doc[fused.argmax(axis=1)].copy()
        for row, query in enumerate(queries):
            scope = self._scope(query)
            if scope is not None:
                inside = np.isin(self._sentence_doc, scope)
                if inside.any():
                    focus[row] = self._sentence_doc[np.where(inside, fused[row], -np.inf).argmax()]
        return focus

    def _apply_structure(self, queries: list[Query], fused: np.ndarray, dense: np.ndarray,
                         focus: np.ndarray) -> np.ndarray:
        """Adjust ``fused`` and ``dense`` (shape ``(n_queries, n_sentences)``) in place for the page's structure.

        The sentences after each question the article asks take at least its score in the rows
        asking the same kind of question ("why" for "why"); then each row gets the adjustment
        for its topics in its document in ``focus``; for a topic whose rule says ``all_best`` (the
        authors' bios), every sentence of that role in that document scores as the row's best.

        Returns:
            Boolean array of the same shape: where a sentence has a role its row asks about.
        """
        kinds = [q.asks for q in queries]
        for asked, followers in self._followers.items():
            rows = [row for row, kind in enumerate(kinds) if kind is not None and kind == self._asks[asked]]
            if rows and followers:
                cells = np.ix_(rows, followers)
                for matrix in (fused, dense):
                    matrix[cells] = np.maximum(matrix[cells], matrix[rows, asked][:, None])
        adjusted = [self._topic_adjustment(q.topics, int(doc)) for q, doc in zip(queries, focus)]
        fused += np.stack([adjust for adjust, _ in adjusted])
        for row, q in enumerate(queries):
            for topic in sorted(q.topics & self.topic_rules.keys()):
                rule = self.topic_rules[topic]
                if rule.all_best:
                    ids = np.flatnonzero(self.roles[rule.role] * (self._sentence_doc == focus[row]))
                    if ids.size:
                        fused[row, ids] = fused[row].max()
        return np.stack([direct for _, direct in adjusted])

    def _topic_adjustment(self, topics: frozenset[str], doc: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-sentence score change for a query about ``topics`` with document ``doc`` in focus, and where
        a sentence answers such a query directly: two arrays of shape ``(n_sentences,)`` (cached; do not modify).

        Sentences of ``doc`` with a role the question asks about gain that topic's boost; the article's own
        questions, the deck and the disclaimer lose their penalties unless the question asks about them.
        """
        cached = self._adjustments.get((topics, doc))
        if cached is not None:
            return cached
        adjust = np.zeros(len(self.data.sentences), dtype=np.float32)
        direct = np.zeros(len(self.data.sentences), dtype=bool)
        if "asked" not in topics:
            adjust -= self.question_penalty * self.is_question
        if "deck" not in topics:
            adjust -= self.deck_penalty * self.roles["deck"]
        if "byline" not in topics:
            adjust -= self.disclaimer_penalty * self._disclaimers
        in_focus = self._sentence_doc == doc
        for topic in sorted(topics & self.topic_rules.keys()):
            rule = self.topic_rules[topic]
            mask = self.roles[rule.role] * in_focus
            adjust += rule.boost * mask
            if rule.answers_directly:
                direct |= mask > 0
        self._adjustments[(topics, doc)] = adjust, direct
        return adjust, direct

    def search(self, queries: list[Query], top_k: int) -> list[list[Hit]]:
        """The ``top_k`` best chunks for each query.

        Returns:
            One list per query, sorted by decreasing score, ties broken by chunk id;
            shorter than ``top_k`` only when there are fewer distinct chunks.
        """
        if not queries:
            return []
        if not self.data.sentences:
            return [[] for _ in queries]
        dense = self.dense_scores(np.stack([q.vector for q in queries]))
        lexical = np.stack([self.lexical_scores(q) for q in queries])
        norm = 1.0 + self.token_weight + self.lexical_weight
        fused = (dense + self.token_weight * self.token_scores(queries) + self.lexical_weight * lexical) / norm
        # Short questions in the corpus's own words: a keyword query ("carnegie call") embeds poorly.
        short = [row for row, q in enumerate(queries) if 0 < len(set(q.terms)) <= self.coverage_terms
                 and all(t in self.bm25.idf for t in q.terms)]
        if self.coverage_weight and short:
            fused[short] += self.coverage_weight * np.stack([self.bm25.coverage(queries[row].terms) for row in short])
        focus = self._focus(queries, fused)
        on_topic = self._apply_structure(queries, fused, dense, focus)
        # Chunk scores for all queries at once: best member + pair_weight * mean of the others.
        members = fused[:, self._members]                       # (queries, chunks, width)
        members[:, ~self._member_mask] = -np.inf
        best_pos = members.argmax(axis=2)
        best = np.take_along_axis(members, best_pos[..., None], axis=2)[..., 0]
        valid_sum = np.where(self._member_mask, members, 0.0).sum(axis=2)
        counts = self._member_mask.sum(axis=1)
        others = np.where(counts > 1, (valid_sum - best) / np.maximum(counts - 1, 1), 0.0)
        scores = best + self.pair_weight * others
        # a page question is answered from the document in focus alone; a scoped one from its documents
        only: list[frozenset[int] | None] = []
        for q, query in enumerate(queries):
            scope = self._scope(query)
            scoped = None if scope is None else frozenset(scope.tolist())
            only.append(frozenset({int(focus[q])}) if query.topics & self.topic_rules.keys() and scoped != frozenset()
                        else scoped)
        hit_lists = [self._hits(scores[q], best_pos[q], fused[q], dense[q], lexical[q], set(queries[q].terms),
                                on_topic[q], top_k, only[q])
                     for q in range(len(queries))]
        if logger.isEnabledFor(logging.DEBUG):
            for q, hits in enumerate(hit_lists):
                top = hits[0] if hits else None
                logger.debug("retrieval: document in focus %s%s; best chunk %s: score %.3f, dense %.3f, "
                             "%d of %d content words, on the page part asked %s",
                             self._doc_names[focus[q]], " (only)" if only[q] is not None else "",
                             top.chunk_id if top else None, top.score if top else 0.0, top.dense if top else 0.0,
                             top.matched if top else 0, top.asked_terms if top else 0,
                             top.on_topic if top else False)
        return hit_lists

    def _hits(self, scores, best_pos, fused, dense, lexical, asked: set[str], on_topic, top_k: int,
              only: frozenset[int] | None = None) -> list[Hit]:
        """The ``top_k`` best chunks of one row (of the document numbers ``only``, when given)."""
        hits: list[Hit] = []
        covered: set[int] = set()
        chunks = self.data.chunks
        for chunk_id in np.lexsort((np.arange(len(scores)), -scores)):
            chunk = chunks[chunk_id]
            if only is not None and self._chunk_doc[chunk_id] not in only:
                continue
            best = chunk.sentence_ids[best_pos[chunk_id]]
            if best in covered:
                continue
            covered.update(chunk.sentence_ids)
            hits.append(Hit(int(chunk_id), round(float(scores[chunk_id]), 6), float(dense[best]),
                            float(lexical[best]), best, tuple(float(fused[sid]) for sid in chunk.sentence_ids),
                            len(asked & self._term_sets[best]), len(asked), bool(on_topic[best])))
            if len(hits) == top_k:
                break
        return hits
