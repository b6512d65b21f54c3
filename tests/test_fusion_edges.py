"""Score fusion on tiny hand-built vectors against brute-force NumPy, and named corpus edge cases."""
from __future__ import annotations

import numpy as np
import pytest

from qa.chunking import Chunk, Sentence
from qa.corpus import Document, Span
from qa.embedding import IndexVectors
from qa.index import IndexData, make_faiss_index
from qa.lexical import BM25, terms
from qa.retrieval import Query, Retriever


def _unit(rows) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture()
def tiny():
    """Three sentences in one document, 4-d vectors: sentence 0 also has a window."""
    texts = ["Alpha beta gamma.", "Delta epsilon zeta.", "Eta theta iota."]
    sentences, offset = [], 0
    for i, text in enumerate(texts):
        sentences.append(Sentence(i, "doc", 2 + i, 1, offset, offset + len(text), text))
        offset += len(text) + 2
    chunks = [Chunk(i, "doc", s.paragraph, s.start, s.end, s.text, (i,)) for i, s in enumerate(sentences)]
    units = _unit([[1, 0, 0, 0], [0.6, 0.8, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0.2]])
    unit_sentence = np.array([0, 0, 1, 2])
    tokens = _unit([[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    # token and window vectors are stored as float16: compare against the values as stored
    tokens = tokens.astype(np.float16).astype(np.float32)
    units[1] = units[1].astype(np.float16).astype(np.float32)
    offsets = np.array([0, 2, 4, 5])
    doc = Document("doc", "Doc", "\n\n".join(texts), [Span(s.start, s.end) for s in sentences])
    vectors = IndexVectors(units[[0, 2, 3]], tokens.astype(np.float16), offsets, units[[1]].astype(np.float16),
                           np.array([0, 1, 1, 1]))
    data = IndexData({}, [doc], sentences, chunks, vectors, BM25.build([terms(t) for t in texts]),
                     make_faiss_index(vectors.vectors), {})
    return data, units, unit_sentence, tokens, offsets


def _brute_force(query_vec, query_tokens, units, unit_sentence, tokens, offsets, n):
    dense = np.array([max(float(units[u] @ query_vec) for u in np.flatnonzero(unit_sentence == s)) for s in range(n)])
    maxsim = np.array([np.mean([max(float(t @ v) for v in tokens[offsets[s]:offsets[s + 1]]) for t in query_tokens])
                       for s in range(n)])
    return dense, maxsim


def test_dense_and_token_scores_equal_brute_force(tiny):
    data, units, unit_sentence, tokens, offsets = tiny
    retriever = Retriever(data, lexical_weight=0.0)
    rng = np.random.default_rng(7)
    queries = [Query(_unit(rng.normal(size=(1, 4)))[0], _unit(rng.normal(size=(k, 4))), [], []) for k in (1, 3, 2)]
    dense = retriever.dense_scores(np.stack([q.vector for q in queries]))
    maxsim = retriever.token_scores(queries)
    for row, query in enumerate(queries):
        want_dense, want_maxsim = _brute_force(query.vector, query.tokens, units, unit_sentence, tokens, offsets, 3)
        np.testing.assert_allclose(dense[row], want_dense, atol=1e-6)
        np.testing.assert_allclose(maxsim[row], want_maxsim, atol=1e-6)


def test_search_ranks_by_the_weighted_mean_of_dense_and_maxsim(tiny):
    data, units, unit_sentence, tokens, offsets = tiny
    retriever = Retriever(data, token_weight=0.5, lexical_weight=0.0, pair_weight=0.0, deck_penalty=0.0,
                          disclaimer_penalty=0.0, question_penalty=0.0)
    query = Query(_unit([[0.1, 1, 0.1, 0]])[0], _unit([[0, 1, 0.2, 0], [0, 0, 1, 0.1]]), [], [])
    want_dense, want_maxsim = _brute_force(query.vector, query.tokens, units, unit_sentence, tokens, offsets, 3)
    fused = (want_dense + 0.5 * want_maxsim) / 1.5
    hits = retriever.search([query], top_k=3)[0]
    assert [h.best_sentence for h in hits] == list(np.argsort(-fused, kind="stable"))
    np.testing.assert_allclose([h.score for h in hits], np.sort(fused)[::-1], atol=1e-5)


def test_top_k_larger_than_the_corpus_returns_every_chunk_once(tiny):
    data = tiny[0]
    query = Query(_unit([[1, 1, 1, 1]])[0], _unit([[1, 0, 0, 0]]), [], [])
    hits = Retriever(data).search([query], top_k=50)[0]
    assert sorted(h.chunk_id for h in hits) == [0, 1, 2]


def _engine(tmp_path, text: str):
    from qa import Engine

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "page.txt").write_text(text, encoding="utf-8")
    return Engine.load(corpus=corpus, index=tmp_path / "index")


def test_a_one_sentence_document_answers_and_refuses(tmp_path):
    text = "Fox facts\n\nThe quick brown fox jumps over the lazy dog near the river bank.\n"
    engine = _engine(tmp_path, text)
    answer = engine.ask("What does the fox jump over?", top_k=5)
    assert answer.answerable
    assert answer.answer == "The quick brown fox jumps over the lazy dog near the river bank."
    assert len(answer.citations) == 1
    citation = answer.citations[0]
    assert text[citation.start:citation.end] == citation.text
    assert not engine.ask("What is the capital of France?").answerable


def test_duplicate_sentences_each_cite_their_own_offsets(tmp_path):
    line = "Cats sleep all day long in the sun."
    text = f"Pets\n\n{line}\n\n{line}\n\nDogs bark at the mailman every morning.\n"
    engine = _engine(tmp_path, text)
    answer = engine.ask("When do cats sleep?", top_k=3)
    assert answer.answerable and answer.answer == line
    starts = [c.start for c in answer.citations if c.text == line]
    assert sorted(starts) == [text.index(line), text.rindex(line)]
    for citation in answer.citations:
        assert text[citation.start:citation.end] == citation.text
    assert engine.ask("What do dogs do every morning?").answer == "Dogs bark at the mailman every morning."


def test_bm25_within_passages_weighs_terms_as_a_bm25_of_those_passages_alone():
    texts = ["The agreement barred theft.", "A bar of soap.", "The bar serves drinks.", "Foo bar baz.",
             "The agreement held.", "Theft of secrets."]
    corpus = BM25.build([terms(t) for t in texts])
    part = BM25.build([terms(t) for t in texts[4:]] + [terms(texts[0])])   # a page of passages 4, 5 and 0
    within = [(0, 1), (4, 6)]
    for term in ("agreement", "theft", "bar"):                  # "barred" is "bar" as a stem
        assert corpus.idf_within(term, within) == pytest.approx(part.idf[term], rel=1e-5)
        assert corpus.idf_within(term, within) != pytest.approx(corpus.idf[term])   # the corpus weighs it otherwise
    query = terms("what did the agreement bar theft")
    scores = corpus.scores(query, within)
    plain = corpus.scores(query)
    # each term's weight is traded for its IDF within; what else BM25 weighs (term frequency, length) is the corpus's
    for passage in (0, 4, 5):
        expected = sum(float(corpus.matrix[corpus.vocab[t], passage]) * corpus.idf_within(t, within) / corpus.idf[t]
                       for t in query if t in corpus.vocab)
        assert scores[passage] == pytest.approx(expected, rel=1e-5)
    assert scores[0] != pytest.approx(plain[0])
    cover = corpus.coverage(terms("agreement theft"), within)
    assert cover[0] == pytest.approx(1.0) and cover[4] == pytest.approx(
        part.idf["agreement"] / (part.idf["agreement"] + part.idf["theft"]), rel=1e-5)
