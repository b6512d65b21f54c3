"""A page's bot on an index that pooled its windows: the page's word windows are encoded by the model on its first
scoped question (or when its embed page opens), so it scores its page as if the page were indexed alone.

Real model, real builds of a three-document corpus (once with pooled windows, once with encoded ones), real server.
"""
from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from qa import Engine
from qa.config import ChunkSettings
from qa.embedding import word_windows
from qa.page_windows import PageWindows
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


def test_page_windows_are_each_sentences_word_windows_encoded_once(engine):
    texts = ["Not only are state-to-state cyber espionage activities likely ongoing, but the agreement also did "
             "not address other types of competition.", "A short one."]
    calls = []

    def encode(batch):
        calls.append(len(batch))
        return engine.embedder.encode(batch)

    pages = PageWindows()
    assert pages.get(7) is None
    assert pages.prepare(7, texts, encode) and pages.prepare(7, texts, encode)
    offsets, vectors = pages.get(7)
    windows = word_windows(texts[0])
    assert calls == [len(windows)]                               # one model call, for the long sentence only
    assert offsets.tolist() == [0, len(windows), len(windows)]
    expected = engine.embedder.encode(windows[:1])[0]
    assert float(np.asarray(vectors[0], dtype=np.float32) @ expected) == pytest.approx(1.0, abs=1e-3)


def test_a_page_over_the_limit_keeps_its_pooled_windows_and_old_pages_are_dropped_past_the_bound(engine):
    long = " ".join(f"word{i}" for i in range(40))                # 40 words: 9 windows of 8 and 4 of 16
    pages = PageWindows(per_page_max=len(word_windows(long)), held_max=len(word_windows(long)))
    assert not pages.prepare(1, [long, long], engine.embedder.encode) and pages.get(1) is None
    assert pages.prepare(2, [long], engine.embedder.encode) and pages.prepare(3, [long], engine.embedder.encode)
    assert pages.get(2) is None and pages.get(3) is not None        # the least recently used page went
    assert not PageWindows(per_page_max=0).prepare(4, [long], engine.embedder.encode)


def test_a_scoped_question_scores_its_page_as_an_index_with_encoded_windows_does(builds):
    pooled, encoded = builds
    doc = _article_id(pooled)
    assert encoded.retriever.page_windows is None                 # windows encoded at the build: nothing to add
    assert pooled.retriever.page_windows is not None
    unscoped = _best(pooled, None)
    before = _best(pooled, doc)
    pooled.warm(doc)
    after = _best(pooled, doc)
    alone = _best(encoded, doc)
    assert after[0] == alone[0]
    assert after[1] == pytest.approx(alone[1], abs=0.02)          # int8 windows in the index, float16 here
    assert abs(before[1] - alone[1]) > 0.02                       # pooled windows (plus their offset) differed
    assert _best(pooled, None) == unscoped                        # unscoped questions still use the pooled windows
    answer = pooled.ask(QUESTION, doc=doc)
    assert answer.answerable and "competition" in answer.answer


def test_the_first_scoped_question_encodes_its_page_and_the_next_reuse_it(builds, monkeypatch):
    pooled, _ = builds
    reef = next(doc for doc in pooled.documents if "coral" in doc)
    number = pooled.retriever._doc_numbers[reef]
    calls = []
    original = pooled.embedder.encode
    monkeypatch.setattr(pooled.embedder, "encode", lambda texts, **kw: calls.append(len(texts)) or original(texts, **kw))
    pooled.ask("Where are the reefs recovering?")                 # unscoped: no page is encoded
    assert pooled.retriever.page_windows.get(number) is None
    first = pooled.ask("Where are the reefs recovering?", doc=reef)
    assert pooled.retriever.page_windows.get(number) is not None
    sentences = pooled.data.sentences
    assert calls == [sum(len(word_windows(s.text)) for s in sentences if s.doc == reef)]   # one call: the page's
    second = pooled.ask("Where are the reefs recovering?", doc=reef)
    assert len(calls) == 1                                        # the page's windows were kept
    assert first.answer == second.answer and first.citations[0].doc == reef


@pytest.mark.slow
def test_opening_a_pages_embed_view_prepares_its_bot(builds):
    pooled, _ = builds
    handbook = next(doc for doc in pooled.documents if "handbook" in doc)
    number = pooled.retriever._doc_numbers[handbook]
    assert pooled.retriever.page_windows.get(number) is None
    with RunningServer(create_app(pooled, WebSettings())) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/embed", params={"doc": handbook}).status_code == 200
        deadline = time.monotonic() + 60
        while pooled.retriever.page_windows.get(number) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pooled.retriever.page_windows.get(number) is not None
        body = http.post("/embed/ask", json={"question": "Who is the release manager?", "doc": handbook}).json()
        citations = body["answer"]["citations"]
        assert citations and all(c["doc"] == handbook for c in citations) and "Priya" in body["answer"]["answer"]
