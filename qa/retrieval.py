"""Retrieval: score every sentence (dense FAISS + token MaxSim + BM25), then rank the chunks that hold them."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .index import IndexData
from .lexical import BM25, terms

_NAME_WORD = re.compile(r"[\w’'-]+")


@dataclass(frozen=True)
class Query:
    """What retrieval needs of a question.

    ``vector`` is the question's unit vector; ``tokens`` its unit token vectors
    (without ``[CLS]``/``[SEP]``); ``terms`` its stemmed words and ``context_terms``
    those of the earlier question(s) a follow-up refers to.
    """

    vector: np.ndarray
    tokens: np.ndarray
    terms: list[str]
    context_terms: list[str]


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk.

    ``score`` is the chunk's fused score (its best sentence's, plus a little of its
    other sentences'); ``dense`` the best sentence's cosine similarity; ``lexical``
    its BM25 share (0..1); ``sentence_scores`` the fused score of each of the
    chunk's sentences, in the chunk's order.
    """

    chunk_id: int
    score: float
    dense: float
    lexical: float
    best_sentence: int
    sentence_scores: tuple[float, ...]


class Retriever:
    """Hybrid retrieval over sentences, ranked as chunks.

    A sentence's score is a weighted mean of three signals, minus a penalty for
    sentences that are themselves questions (they rarely answer one):

    - dense: the best cosine similarity between the question and the sentence or
      one of its word windows (FAISS, exact inner product);
    - tokens: MaxSim of the question's token vectors against the sentence's
      (each question token's best match, averaged), which catches paraphrased words;
    - lexical: BM25 over stemmed words, divided by the best BM25 of the query (0..1).

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
        question_penalty: subtracted from sentences ending in "?". Defaults to 0.1.
        context_weight: weight of a follow-up's context terms in BM25. Defaults to 0.5.
        pair_weight: weight of a chunk's other sentences. Defaults to 0.1.
    """

    def __init__(self, data: IndexData, token_weight: float = 0.5, lexical_weight: float = 0.05,
                 question_penalty: float = 0.1, context_weight: float = 0.5, pair_weight: float = 0.1) -> None:
        self.data = data
        self.token_weight = token_weight
        self.lexical_weight = lexical_weight
        self.question_penalty = question_penalty
        self.context_weight = context_weight
        self.pair_weight = pair_weight
        self.bm25 = BM25([terms(s.text) for s in data.sentences])
        self._lower_text = " ".join(s.text.lower() for s in data.sentences)
        self.is_question = np.array([s.text.rstrip(" ”\"')").endswith("?") for s in data.sentences],
                                    dtype=np.float32)

    def unknown_names(self, question: str) -> list[str]:
        """Numbers and capitalised words of ``question`` (past its first word) that the corpus never uses.

        A question about a name or a year the article never mentions ("What did the US
        do to Huawei?", "... in 2020?") is not answered by it, however close the topic.

        Example:
            >>> engine.retriever.unknown_names("What sanctions did the US impose on Huawei in 2019?")
            ['Huawei', '2019']
        """
        words = _NAME_WORD.findall(question)[1:]
        return [w for w in words if (w[0].isupper() or w[0].isdigit()) and not self._mentions(w)]

    def _mentions(self, word: str) -> bool:
        """Whether the corpus uses ``word``: verbatim, as a dotted acronym ("US" as "U.S."), or by stem."""
        lowered = word.lower().removesuffix("’s").removesuffix("'s")
        if lowered in self._lower_text or (word.isupper() and ".".join(lowered) + "." in self._lower_text):
            return True
        return any(t in self.bm25.idf for t in terms(lowered))

    def lexical_scores(self, query: Query) -> np.ndarray:
        """BM25 share of every sentence for ``query``: shape ``(n_sentences,)``, values 0..1."""
        raw = self.bm25.scores(query.terms)
        if query.context_terms:
            raw = raw + self.context_weight * self.bm25.scores(query.context_terms)
        best = float(raw.max()) if raw.size else 0.0
        return raw / best if best > 0 else raw

    def token_scores(self, query: Query) -> np.ndarray:
        """MaxSim of the query tokens against every sentence: shape ``(n_sentences,)``."""
        data = self.data
        if not len(query.tokens) or not len(data.token_vectors):
            return np.zeros(len(data.sentences), dtype=np.float32)
        sims = query.tokens @ data.token_vectors.T
        return np.maximum.reduceat(sims, data.token_offsets[:-1], axis=1).mean(axis=0)

    def dense_scores(self, vectors: np.ndarray) -> np.ndarray:
        """Best unit cosine similarity per sentence for each query: shape ``(n_queries, n_sentences)``."""
        data = self.data
        n_units = data.faiss_index.ntotal
        sims, ids = data.faiss_index.search(np.ascontiguousarray(vectors, dtype=np.float32), n_units)
        dense = np.full((len(vectors), len(data.sentences)), -1.0, dtype=np.float32)
        for row in range(len(vectors)):
            np.maximum.at(dense[row], data.unit_sentence[ids[row]], sims[row])
        return dense

    def search(self, queries: list[Query], top_k: int) -> list[list[Hit]]:
        """The ``top_k`` best chunks for each query.

        Returns:
            One list per query, sorted by decreasing score, ties broken by chunk id;
            shorter than ``top_k`` only when there are fewer distinct chunks.
        """
        data = self.data
        if not queries:
            return []
        if not data.sentences:
            return [[] for _ in queries]
        dense_all = self.dense_scores(np.stack([q.vector for q in queries]))
        norm = 1.0 + self.token_weight + self.lexical_weight
        results = []
        for query, dense in zip(queries, dense_all):
            lexical = self.lexical_scores(query)
            fused = (dense + self.token_weight * self.token_scores(query) + self.lexical_weight * lexical) / norm
            fused = fused - self.question_penalty * self.is_question
            results.append(self._rank_chunks(fused, dense, lexical, top_k))
        return results

    def _rank_chunks(self, fused: np.ndarray, dense: np.ndarray, lexical: np.ndarray, top_k: int) -> list[Hit]:
        scored = []
        for chunk in self.data.chunks:
            ids = chunk.sentence_ids
            best = max(ids, key=lambda sid: (fused[sid], -sid))
            others = [fused[sid] for sid in ids if sid != best]
            score = float(fused[best]) + (self.pair_weight * float(np.mean(others)) if others else 0.0)
            scored.append((score, chunk.id, best))
        scored.sort(key=lambda item: (-item[0], item[1]))
        hits: list[Hit] = []
        covered: set[int] = set()
        for score, chunk_id, best in scored:
            if best in covered:
                continue
            chunk = self.data.chunks[chunk_id]
            covered.update(chunk.sentence_ids)
            hits.append(Hit(chunk_id, round(score, 6), float(dense[best]), float(lexical[best]), best,
                            tuple(float(fused[sid]) for sid in chunk.sentence_ids)))
            if len(hits) == top_k:
                break
        return hits
