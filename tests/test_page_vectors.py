"""A page's bot on an index that pooled its windows: the page is embedded again on its first scoped question (or
when its embed page opens), as a build of the page alone embeds it, so it scores its page as if indexed alone.

Real model, real builds of a three-document corpus (once with pooled windows, once with encoded ones), real server.
"""
from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from qa import Engine
from qa.config import ChunkSettings
from qa.embedding import word_windows
from qa.page_vectors import PageStore
from qa.web import RunningServer, WebSettings, create_app

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
ARTICLE = "us-china-cyber-relations.txt"
#: Its answer is one clause of a long sentence, the case windows are for.
QUESTION = "What type of competition did the 2015 deal leave out?"


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> tuple[Engine, Engine]:
    """The article, a news story and a handbook page, indexed with pooled windows and with encoded windows."""
    corpus = tmp_path_factory.mktemp("three-pages")
    shutil.copy(ROOT / "corpus" / ARTICLE, corpus)
    shutil.copy(DATA / "coral-reef-recovery.txt", corpus)
    shutil.copy(DATA / "team-handbook.md", corpus)
    pooled = Engine.load(corpus=corpus, index=tmp_path_factory.mktemp("pooled"), chunking=ChunkSettings(windows="pooled"))
    encoded = Engine.load(corpus=corpus, index=tmp_path_factory.mktemp("encoded"), chunking=ChunkSettings(windows="encoded"))
    return pooled, encoded


def _article_id(engine: Engine) -> str:
    return next(doc for doc in engine.documents if doc.endswith(ARTICLE))


def _best(engine: Engine, doc: str | None) -> tuple[int, float]:
    """The best hit's sentence and its evidence (``Hit.dense``) for :data:`QUESTION`, scoped to ``doc``."""
    query = dataclasses.replace(engine.make_query(QUESTION), doc=doc)
    hit = engine.retriever.search([query], top_k=1)[0][0]
    return hit.best_sentence, hit.dense


def test_a_page_is_embedded_again_as_a_build_of_it_alone_embeds_it(engine):
    texts = ["Not only are state-to-state cyber espionage activities likely ongoing, but the agreement also did "
             "not address other types of competition.", "A short one."]
    calls = []
    original = engine.embedder.encode_for_index

    class Counting:                                             # the real embedder, its calls counted
        def encode_for_index(self, batch, windows):
            calls.append((len(batch), windows))
            return original(batch, windows)

    store = PageStore()
    assert store.get(7) is None
    assert store.prepare(7, texts, Counting(), windows=True) and store.prepare(7, texts, Counting(), windows=True)
    assert calls == [(2, "encoded")]                            # once, windows encoded by the model
    page = store.get(7)
    windows = word_windows(texts[0])
    assert page.window_offsets.tolist() == [0, len(windows), len(windows)]
    first = engine.embedder.encode(windows[:1])[0]
    assert float(np.asarray(page.windows[0], dtype=np.float32) @ first) == pytest.approx(1.0, abs=1e-3)
    raw = original(texts, "encoded")
    assert page.token_offsets.tolist() == raw.token_offsets.tolist()
    assert page.basis.components.shape[0] <= len(raw.tokens)      # fitted on the page's own tokens
    assert np.allclose(np.linalg.norm(np.asarray(page.tokens, dtype=np.float32), axis=1), 1, atol=1e-2)


def test_a_page_over_the_limit_keeps_the_corpus_vectors_and_old_pages_are_dropped_past_the_bound(engine):
    long = " ".join(f"word{i}" for i in range(40))                # 40 words: 9 windows of 8 and 4 of 16
    store = PageStore(per_page_max=1 + len(word_windows(long)))    # one sentence and its windows
    assert not store.prepare(1, [long, long], engine.embedder, windows=True) and store.get(1) is None
    assert store.prepare(5, [long, long], engine.embedder)         # sentences only: two texts
    assert store.get(5).windows is None and store.get(5).token_offsets[-1] > 0
    assert store.prepare(2, [long], engine.embedder, windows=True)
    store.held_max = store.get(2).nbytes                          # room for one page
    assert store.prepare(3, [long], engine.embedder, windows=True)
    assert store.get(2) is None and store.get(3) is not None      # the least recently used page went
    assert not PageStore(per_page_max=0).prepare(4, [long], engine.embedder)
    assert not store.prepare(6, [], engine.embedder) and store.get(6) is None      # a page without sentences


def test_a_page_in_use_is_kept_past_the_bound_until_its_question_is_answered(engine):
    store = PageStore()
    assert store.prepare(1, ["A page about reefs.", "Fishing was banned."], engine.embedder)
    store.held_max = store.get(1).nbytes                          # room for one page
    with store.pinned([1]):                                       # page 1's question is being answered
        with store.pinned([1, 2]):                                # and another one's, on pages 1 and 2
            assert store.prepare(2, ["Another page."], engine.embedder)
        assert store.prepare(3, ["A third page."], engine.embedder)
        assert store.get(1) is not None and store.get(2) is None  # 2 is no longer in use: it went, over the bound
    assert store.prepare(4, ["A fourth page."], engine.embedder)
    assert store.get(1) is None and store.get(3) is None and store.get(4) is not None


def test_a_scoped_question_scores_its_page_as_the_page_indexed_alone(builds, engine):
    pooled, encoded = builds
    doc = _article_id(pooled)
    assert engine.retriever.pages is None                         # one document: its vectors are its own already
    unscoped = _best(pooled, None)
    before = _best(pooled, doc)
    pooled.warm(doc)
    after = _best(pooled, doc)
    alone = _best(engine, None)                                   # the article indexed alone
    assert after[0] - pooled.retriever._doc_start[pooled.retriever._doc_numbers[doc]] == alone[0]
    assert after[1] == pytest.approx(alone[1], abs=0.02)          # int8 windows in the index, float16 here
    assert abs(before[1] - alone[1]) > 0.02                       # pooled windows (plus their offset) differed
    assert _best(pooled, None) == unscoped                        # unscoped questions still use the corpus's vectors
    query = dataclasses.replace(pooled.make_query(QUESTION), doc=doc)
    ids = np.arange(pooled.retriever._doc_start[pooled.retriever._doc_numbers[doc]],
                    pooled.retriever._doc_end[pooled.retriever._doc_numbers[doc]])
    _, tokens = pooled.retriever._page_scores(query.scope, query.vector, query.tokens, ids)
    expected = engine.retriever.token_scores([engine.make_query(QUESTION)])[0]
    assert np.allclose(tokens, expected, atol=0.02)               # token MaxSim in a basis of the page's own
    answer = pooled.ask(QUESTION, doc=doc)
    assert answer.answerable and "competition" in answer.answer
    encoded.warm(doc)                                             # windows encoded at the build: tokens only
    number = encoded.retriever._doc_numbers[doc]
    assert encoded.retriever.pages.get(number).windows is None
    assert _best(encoded, doc)[1] == pytest.approx(alone[1], abs=0.02)


def test_the_first_scoped_question_encodes_its_page_and_the_next_reuse_it(builds, monkeypatch):
    pooled, _ = builds
    reef = next(doc for doc in pooled.documents if "coral" in doc)
    number = pooled.retriever._doc_numbers[reef]
    calls = []
    original = pooled.embedder.encode_for_index
    monkeypatch.setattr(pooled.embedder, "encode_for_index", lambda texts, windows: calls.append(len(texts)) or original(texts, windows))
    pooled.ask("Where are the reefs recovering?")                 # unscoped: no page is encoded
    assert pooled.retriever.pages.get(number) is None
    first = pooled.ask("Where are the reefs recovering?", doc=reef)
    assert pooled.retriever.pages.get(number) is not None
    assert calls == [sum(s.doc == reef for s in pooled.data.sentences)]   # one call, with the page's sentences
    second = pooled.ask("Where are the reefs recovering?", doc=reef)
    assert len(calls) == 1                                        # the page's vectors were kept
    assert first.answer == second.answer and first.citations[0].doc == reef


@pytest.mark.slow
def test_opening_a_pages_embed_view_prepares_its_bot(builds):
    pooled, _ = builds
    handbook = next(doc for doc in pooled.documents if "handbook" in doc)
    number = pooled.retriever._doc_numbers[handbook]
    assert pooled.retriever.pages.get(number) is None
    with RunningServer(create_app(pooled, WebSettings())) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/embed", params={"doc": handbook}).status_code == 200
        deadline = time.monotonic() + 60
        while pooled.retriever.pages.get(number) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pooled.retriever.pages.get(number) is not None
        body = http.post("/embed/ask", json={"question": "Who is the release manager?", "doc": handbook}).json()
        citations = body["answer"]["citations"]
        assert citations and all(c["doc"] == handbook for c in citations) and "Priya" in body["answer"]["answer"]


def test_a_batch_scoped_to_more_pages_than_held_at_once_answers_as_one_page_at_a_time(builds, monkeypatch):
    import qa.engine

    pooled, _ = builds
    docs = list(pooled.documents)
    questions = ["Who is the release manager?", "Where are the reefs recovering?", QUESTION]
    monkeypatch.setattr(pooled.retriever, "pages", PageStore(held_max=1))     # room for one page only
    one_by_one = [pooled.ask(q, doc=d).answer for q in questions for d in docs]
    monkeypatch.setattr(qa.engine, "PAGES_AT_ONCE", 1)
    together = pooled.ask_many([q for q in questions for _ in docs], docs=[d for _ in questions for d in docs])
    assert [a.answer for a in together] == one_by_one
    mixed = pooled.ask_many(questions + questions, docs=[docs[0], docs[1], docs[2], None, None, None])
    assert [a.answer for a in mixed[3:]] == [pooled.ask(q).answer for q in questions]   # the unscoped ones, in order
    assert [a.answer for a in mixed[:3]] == [pooled.ask(q, doc=d).answer for q, d in zip(questions, docs)]


def test_an_unscoped_follow_up_kept_on_its_page_does_not_depend_on_the_pages_asked_before(builds, monkeypatch):
    pooled, _ = builds
    doc = _article_id(pooled)
    history = ["What did the 2015 agreement bar?"]
    monkeypatch.setattr(pooled.retriever, "pages", PageStore())   # nothing held
    before = pooled.ask("and why did it fall short?", history=history)
    pooled.warm(doc)
    after = pooled.ask("and why did it fall short?", history=history)
    assert before.citations[0].doc == doc and after.to_dict() | {"latency_ms": 0} == before.to_dict() | {"latency_ms": 0}


def test_a_page_being_embedded_does_not_hold_the_slots_other_questions_wait_for(builds, monkeypatch):
    from qa.web.guards import Gate
    from qa.web.service import WebService

    pooled, _ = builds
    handbook = next(doc for doc in pooled.documents if "handbook" in doc)
    store = PageStore()
    monkeypatch.setattr(pooled.retriever, "pages", store)          # no page held yet
    service = WebService(pooled, WebSettings())
    service.gate = Gate(running=1, waiting=4, wait_seconds=3)      # one slot: a question holding it blocks all
    scoped: list = []
    with store._lock:                                               # another page's embedding is under way
        asker = threading.Thread(target=lambda: scoped.append(
            service.ask("Who is the release manager?", [], None, doc=handbook)))
        asker.start()
        deadline = time.monotonic() + 10
        while service.gate._inside < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)                                             # the scoped question now waits for its page
        assert asker.is_alive() and not scoped
        unscoped = service.ask("What did the provincial government ban?", [], None)   # Busy if the slot were held
        assert unscoped.answerable and unscoped.citations[0].doc.endswith("coral-reef-recovery.txt")
    asker.join(60)
    assert scoped and "Priya" in scoped[0].answer and scoped[0].citations[0].doc == handbook
    assert store.get(pooled.retriever._doc_numbers[handbook]) is not None
