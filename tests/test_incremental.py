"""Incremental indexing: only added or changed documents are embedded, removed ones dropped, the rest copied."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from qa import Engine
from qa.chunking import split_document
from qa.corpus import load_corpus
from qa.index import POINTER

WIKI = Path(__file__).parent / "data" / "wiki"


def _vectors_of(engine: Engine, doc_id: str) -> np.ndarray:
    ids = [s.id for s in engine.data.sentences if s.doc == doc_id]
    return np.asarray(engine.data.vectors.vectors[ids[0] : ids[-1] + 1])


def _tokens_of(engine: Engine, doc_id: str) -> np.ndarray:
    ids = [s.id for s in engine.data.sentences if s.doc == doc_id]
    offsets = engine.data.vectors.token_offsets
    return np.asarray(engine.data.vectors.tokens[offsets[ids[0]] : offsets[ids[-1] + 1]])


@pytest.fixture()
def wiki(tmp_path, corpus_dir):
    """A private copy of the test wiki plus the article, and its first engine."""
    corpus = tmp_path / "corpus"
    shutil.copytree(WIKI, corpus)
    shutil.copy2(next(corpus_dir.iterdir()), corpus / "article.txt")
    return corpus, tmp_path / "index", Engine.load(corpus=corpus, index=tmp_path / "index")


@pytest.mark.slow
def test_change_add_and_remove_embed_only_what_changed(wiki):
    corpus, index, first = wiki
    docs = list(first.documents)
    assert first.build_report.embedded_documents == len(docs)
    unchanged = "article.txt"
    before_vectors, before_tokens = _vectors_of(first, unchanged), _tokens_of(first, unchanged)

    notes = corpus / "notes.md"
    notes.write_text(notes.read_text(encoding="utf-8") + "\n\nThe kettle in the kitchen is descaled every Friday.\n",
                     encoding="utf-8")
    changed = Engine.load(corpus=corpus, index=index)
    report = changed.build_report
    assert (report.embedded_documents, report.removed_documents) == (1, 0)
    assert report.embedded_sentences == sum(1 for s in changed.data.sentences if s.doc == "notes.md")
    np.testing.assert_array_equal(_vectors_of(changed, unchanged), before_vectors)   # copied, not re-embedded
    np.testing.assert_array_equal(_tokens_of(changed, unchanged), before_tokens)
    top = changed.ask("Which day is the kitchen kettle descaled?").citations[0]
    assert top.doc == "notes.md" and "kettle" in top.text

    (corpus / "team" / "faq.txt").write_text("Team FAQ\n\nThe office plants are watered by Priya on Mondays.\n",
                                            encoding="utf-8")
    (corpus / "x.txt").unlink()
    updated = Engine.load(corpus=corpus, index=index)
    report = updated.build_report
    assert (report.embedded_documents, report.removed_documents) == (1, 1)
    assert "team/faq.txt" in updated.documents and "x.txt" not in updated.documents
    assert not any(s.doc == "x.txt" for s in updated.data.sentences)
    top = updated.ask("Who waters the office plants?").citations[0]
    assert top.doc == "team/faq.txt" and "Priya" in top.text
    for citation in updated.ask("Who waters the office plants?", top_k=5).citations:   # offsets stay exact
        assert updated.documents[citation.doc].text[citation.start : citation.end] == citation.text


@pytest.mark.slow
def test_an_unchanged_corpus_is_neither_rebuilt_nor_reread(wiki, monkeypatch):
    corpus, index, first = wiki
    build = (index / POINTER).read_text()
    import qa.corpus

    skipped = {item.path for item in first.skipped}        # files without text are looked at again each time
    real_load = qa.corpus._load

    def no_reading(path, doc_id, *args, **kwargs):
        if doc_id not in skipped:
            raise AssertionError(f"unchanged file {doc_id} was read again")
        return real_load(path, doc_id, *args, **kwargs)

    monkeypatch.setattr(qa.corpus, "_load", no_reading)
    again = Engine.load(corpus=corpus, index=index)
    assert again.build_report is None and (index / POINTER).read_text() == build
    assert again.ask("Who wrote the article?").answerable


def test_a_documents_sentences_do_not_depend_on_the_other_documents(corpus_dir):
    article = load_corpus(corpus_dir)[0]
    others = load_corpus(WIKI)
    alone = [(s.start, s.end) for s in split_document(article)]
    assert alone == [(s.start, s.end) for s in split_document(article, first_id=1000)]
    assert others  # the splitter is trained per document: nothing of the wiki reaches the article's splitter
    assert any("U.S." in article.text[a:b] and not article.text[a:b].endswith("U.S.") for a, b in alone)


@pytest.mark.slow
def test_the_build_summary_names_skipped_files(tmp_path, cli_env):
    import subprocess
    import sys

    corpus = tmp_path / "corpus"
    shutil.copytree(WIKI, corpus)
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\x00 not utf-8 \xc3\x28")
    done = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(corpus), "--index",
                           str(tmp_path / "index")], env=cli_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "skipped broken.txt" in done.stdout and "embedded" in done.stdout


@pytest.mark.slow
def test_above_the_flat_limit_the_index_is_hnsw_saved_and_loaded(tmp_path, corpus_dir, monkeypatch):
    import qa.index

    from qa.config import RetrievalSettings, Settings

    monkeypatch.setattr(qa.index, "FLAT_MAX_SENTENCES", 10)      # the article has more: HNSW
    settings = Settings(retrieval=RetrievalSettings(exact_max=5, dense_candidates=8, lexical_candidates=4))
    built = Engine.load(corpus=corpus_dir, index=tmp_path / "index", settings=settings)
    build = tmp_path / "index" / (tmp_path / "index" / POINTER).read_text()
    assert (build / qa.index.HNSW_FILE).is_file() and not isinstance(built.data.faiss_index, __import__("faiss").IndexFlat)
    loaded = Engine.load(corpus=corpus_dir, index=tmp_path / "index", settings=settings)
    assert loaded.build_report is None and loaded.data.faiss_index.ntotal == len(loaded.data.sentences)
    for engine in (built, loaded):
        answer = engine.ask("What did the 2015 agreement bar?")
        assert answer.answerable and "cyber" in answer.answer


@pytest.mark.slow
def test_the_graph_holds_each_text_once_and_a_search_finds_every_copy(tmp_path, corpus_dir, monkeypatch):
    import qa.index
    from qa.config import RetrievalSettings, Settings
    from qa.index import text_twins

    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_dir, corpus)
    article = next(corpus.glob("*.txt"))
    quoted = "Absent effective international enforcement mechanisms, cyber theft trends are likely to continue."
    assert quoted in article.read_text(encoding="utf-8")
    (corpus / "digest.md").write_text(f"# Weekly digest\n\nA quote of the week.\n\n{quoted}\n\n{quoted}\n",
                                      encoding="utf-8")
    monkeypatch.setattr(qa.index, "FLAT_MAX_SENTENCES", 10)
    settings = Settings(retrieval=RetrievalSettings(exact_max=5, dense_candidates=8, lexical_candidates=4))
    engine = Engine.load(corpus=corpus, index=tmp_path / "index", settings=settings)
    texts = [s.text for s in engine.data.sentences]
    copies = [s.id for s in engine.data.sentences if s.text == quoted]
    assert len(copies) == 3 and text_twins(texts)[copies[0]].tolist() == copies
    assert engine.data.faiss_index.ntotal == len(set(texts)) < len(texts)
    _, ids = engine.data.faiss_index.search(engine.embedder.encode([quoted]), 1)
    assert ids[0, 0] == copies[0]                                   # a sentence id: the first copy's
    candidates = engine.retriever.candidates([engine.make_query(quoted)], np.zeros((1, len(texts)), np.float32))
    assert set(copies) <= set(candidates.tolist())                # the graph's hit brings in the other copies
    answer = engine.ask("Are cyber theft trends likely to continue?", doc="digest.md")
    assert answer.answerable and answer.answer == quoted and answer.citations[0].doc == "digest.md"


def test_auto_windows_are_encoded_for_small_corpora_and_pooled_for_large_ones():
    from qa.embedding import ENCODED_WINDOWS_MAX_SENTENCES, window_mode

    assert window_mode("auto", 34) == window_mode("auto", ENCODED_WINDOWS_MAX_SENTENCES) == "encoded"
    assert window_mode("auto", ENCODED_WINDOWS_MAX_SENTENCES + 1) == "pooled"
    assert window_mode("encoded", 10**6) == "encoded" and window_mode("pooled", 1) == "pooled"
    with pytest.raises(ValueError, match="auto, encoded, pooled"):
        window_mode("fast", 1)


@pytest.mark.slow
def test_a_corpus_crossing_the_window_limit_is_embedded_again_once(wiki, monkeypatch):
    import json

    import qa.embedding

    corpus, index, first = wiki
    manifest = lambda: json.loads((index / (index / POINTER).read_text() / "manifest.json").read_text())  # noqa: E731
    assert manifest()["windows"] == "encoded"
    monkeypatch.setattr(qa.embedding, "ENCODED_WINDOWS_MAX_SENTENCES", len(first.data.sentences))
    (corpus / "team" / "faq.txt").write_text("Team FAQ\n\nThe office plants are watered by Priya on Mondays.\n",
                                            encoding="utf-8")
    crossed = Engine.load(corpus=corpus, index=index)          # one sentence more than the limit: pooled
    assert crossed.build_report.embedded_documents == len(crossed.documents)    # every document, once
    assert manifest()["windows"] == "pooled"
    offsets = crossed.data.vectors.token_offsets
    for sentence in crossed.data.sentences:                  # pooled windows: one per 16 tokens of a long sentence
        tokens = int(offsets[sentence.id + 1] - offsets[sentence.id])
        windows = crossed.data.vectors.window_offsets[sentence.id + 1] - crossed.data.vectors.window_offsets[sentence.id]
        assert windows == len(qa.embedding.window_spans(tokens + 2))
    # A pooled window's evidence for the answer's bar is its offset above its cosine similarity (a question that
    # is the window's own words); ranking uses the cosine alone.
    sid = next(s.id for s in crossed.data.sentences
               if crossed.data.vectors.window_offsets[s.id + 1] > crossed.data.vectors.window_offsets[s.id])
    row = int(crossed.data.vectors.window_offsets[sid])
    window = np.asarray(crossed.retriever._windows[row : row + 1], dtype=np.float32)
    window /= np.linalg.norm(window)
    assert crossed.retriever._window_offset == qa.embedding.POOLED_WINDOW_OFFSET and first.retriever._window_offset == 0
    assert crossed.retriever.dense_scores(window, np.array([sid]), crossed.retriever._window_offset)[0, 0] == \
        pytest.approx(1 + qa.embedding.POOLED_WINDOW_OFFSET, abs=0.02)
    assert crossed.retriever.dense_scores(window, np.array([sid]))[0, 0] == pytest.approx(1, abs=0.02)  # ranking: none
    (corpus / "notes.md").write_text((corpus / "notes.md").read_text(encoding="utf-8") + "\n\nA new line.\n",
                                     encoding="utf-8")
    again = Engine.load(corpus=corpus, index=index)
    assert again.build_report.embedded_documents == 1 and manifest()["windows"] == "pooled"
    assert again.ask("Who waters the office plants?").citations[0].doc == "team/faq.txt"


def test_a_file_without_text_is_recorded_and_not_read_again_until_it_changes(tmp_path, corpus_dir, monkeypatch):
    import json
    import os

    import qa.corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(next(corpus_dir.iterdir()), corpus / "article.txt")
    links = "".join(f'<li><a href="p{i}.html">Page {i}</a></li>' for i in range(40))
    (corpus / "contents.html").write_text(f"<html><head><title>Contents</title></head><body><ul>{links}</ul></body></html>",
                                          encoding="utf-8")
    first = Engine.load(corpus=corpus, index=tmp_path / "index")
    assert [item.path for item in first.skipped] == ["contents.html"]
    manifest = json.loads((tmp_path / "index" / (tmp_path / "index" / POINTER).read_text() / "manifest.json").read_text())
    assert manifest["skipped"]["contents.html"]["reason"] == first.skipped[0].reason
    reads = []
    real_load = qa.corpus._load
    monkeypatch.setattr(qa.corpus, "_load", lambda path, *rest: reads.append(path.name) or real_load(path, *rest))
    again = Engine.load(corpus=corpus, index=tmp_path / "index")
    assert again.build_report is None and reads == []                   # neither re-read nor rebuilt
    assert [(item.path, item.reason) for item in again.skipped] == [(item.path, item.reason) for item in first.skipped]
    stat = (corpus / "contents.html").stat()
    os.utime(corpus / "contents.html", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))   # touched: read again
    touched = Engine.load(corpus=corpus, index=tmp_path / "index")
    assert reads == ["contents.html"] and [item.path for item in touched.skipped] == ["contents.html"]
