"""Corpus formats of a wiki export: .txt, .md, .html/.htm in nested folders; ids, titles, offsets, skipped files."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from qa.corpus import (CorpusError, SkippedFile, corpus_files, corpus_hash, document_hash, load_corpus,
                       load_document)
from qa.html_text import decode_html, extract_html

WIKI = Path(__file__).resolve().parent / "data" / "wiki"
ARTICLE = Path(__file__).resolve().parent.parent / "corpus" / "us-china-cyber-relations.txt"

#: Text of page furniture in the test pages: none of it may reach a document.
FURNITURE = ("Navigation", "previous", "Quick search", "Table of Contents", "Copyright", "Found a bug",
             "scripted text", "tracking code", "World", "Sport", "cookies", "Accept all", "Home",
             "Share on", "Related stories", "Ferry fares", "Most read", "Storm warning", "Subscribe",
             "All rights reserved", "Privacy", "¶", "The Daily Example", "Accounts", "Laptops")


@pytest.fixture()
def wiki(tmp_path) -> Path:
    """A private copy of the test wiki plus the article (tests may add broken files to it)."""
    folder = tmp_path / "wiki"
    shutil.copytree(WIKI, folder)
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    return folder


@pytest.fixture()
def loaded(wiki):
    skipped: list[SkippedFile] = []
    docs = load_corpus(wiki, skipped)
    return {doc.id: doc for doc in docs}, skipped


def test_every_format_in_nested_folders_is_a_document_with_its_relative_path_as_id(loaded):
    docs, skipped = loaded
    assert list(docs) == ["cafe-rota.htm", "news/harbour-bridge.html", "notes.md", "team/onboarding/setup.html",
                          "us-china-cyber-relations.txt", "x.md", "x.txt"]
    assert [(s.path, s.reason) for s in skipped] == [
        ("search.html", "no text paragraphs (a form or search page with 11 words of text)")]


def test_same_stem_files_are_two_documents(loaded):
    docs, _ = loaded
    assert docs["x.txt"].title == "Deploy checklist" and "test suite" in docs["x.txt"].text
    assert docs["x.md"].title == "Retrospective template" and "went well" in docs["x.md"].text
    assert document_hash(docs["x.txt"]) != document_hash(docs["x.md"])


def test_offsets_are_exact_for_every_paragraph_of_every_document(loaded):
    docs, _ = loaded
    for doc in docs.values():
        assert doc.paragraphs, doc.id
        for span in doc.paragraphs:
            text = doc.text[span.start:span.end]
            assert text and text == text.strip() and "\n\n" not in text, (doc.id, text)
        starts = [span.start for span in doc.paragraphs]
        assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_titles_come_from_title_tag_first_heading_or_markdown_heading(loaded):
    docs, _ = loaded
    assert {doc_id: doc.title for doc_id, doc in docs.items()} == {
        "cafe-rota.htm": "Café rota",
        "news/harbour-bridge.html": "Harbour bridge reopens after repairs",  # <title> less " | The Daily Example"
        "notes.md": "Release notes",
        "team/onboarding/setup.html": "Setting up a workstation",  # <title> less the site name, no "¶"
        "us-china-cyber-relations.txt": "How Are US-China Cyber Relations Progressing?",
        "x.md": "Retrospective template",
        "x.txt": "Deploy checklist",
    }


def test_html_keeps_main_text_code_and_definitions_and_drops_page_furniture(loaded):
    docs, _ = loaded
    setup, news = docs["team/onboarding/setup.html"], docs["news/harbour-bridge.html"]
    for doc in (setup, news):
        for junk in FURNITURE:
            assert junk not in doc.text, (doc.id, junk)
    paragraphs = [setup.paragraph_text(i + 1) for i in range(len(setup.paragraphs))]
    assert paragraphs == [
        "New engineers install the toolchain on the first day. The whole set-up takes about an hour.",
        "python3 -m venv .venv\n.venv/bin/pip install -r requirements.txt\n.venv/bin/python -m pytest -q",
        "bootstrap(profile, force=False)",
        "Create the workstation's configuration from profile. With force, an existing configuration is replaced.",
        "Tool | Version",
        "Python | 3.11",
    ]
    assert setup.text.startswith("Setting up a workstation\n\nNew engineers")  # the heading: text, not a paragraph
    paragraphs = [news.paragraph_text(i + 1) for i in range(len(news.paragraphs))]
    assert paragraphs[1] == ("The harbour bridge reopened to traffic on Monday after eight months of repairs "
                             "to its steel deck.")
    assert paragraphs[-1] == "The repairs cost €14 million, two million more than planned."
    assert "By Jane Doe" in paragraphs[0] and "The bridge at dawn on Monday." in paragraphs


def test_html_in_its_declared_charset_and_hidden_files_are_not_documents(loaded, wiki):
    docs, _ = loaded
    assert docs["cafe-rota.htm"].paragraph_text(1).startswith("The café on the third floor")
    assert (wiki / ".hidden.md").exists() and (wiki / ".drafts" / "secret.txt").exists()
    assert not any("hidden" in doc.text or "draft" in doc.text for doc in docs.values())


def test_the_article_reads_as_before(loaded):
    docs, _ = loaded
    alone = load_corpus(ARTICLE.parent)
    article = docs["us-china-cyber-relations.txt"]
    assert [d.id for d in alone] == ["us-china-cyber-relations.txt"]
    assert article.text == alone[0].text == ARTICLE.read_text(encoding="utf-8")
    assert article.paragraphs == alone[0].paragraphs and len(article.paragraphs) == 9


def test_unusable_files_are_skipped_and_listed_and_the_rest_load(wiki, caplog):
    (wiki / "latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    (wiki / "bad-charset.html").write_bytes(b"<meta charset='utf-8'><p>caf\xe9 \xff au lait</p>")
    os.mkfifo(wiki / "pipe.md")  # a FIFO: reading it would block forever
    (wiki / "folder.txt").mkdir()  # a folder with a document suffix is a folder: its documents are read
    (wiki / "folder.txt" / "inside.txt").write_text("Inside\n\nA document inside a folder named folder.txt.\n", encoding="utf-8")
    outside = wiki.parent / "outside.txt"
    outside.write_text("A file outside the corpus folder.\n", encoding="utf-8")
    (wiki / "link-out.txt").symlink_to(outside)
    (wiki / "link-in.txt").symlink_to(wiki / "x.txt")
    (wiki / "big.md").write_text("# Big\n\n" + "word " * 5000 + "\n", encoding="utf-8")
    skipped: list[SkippedFile] = []
    with caplog.at_level(logging.WARNING, logger="qa.corpus"):
        docs = {doc.id: doc for doc in load_corpus(wiki, skipped, max_bytes=20_000)}
    reasons = {s.path: s.reason for s in skipped}
    assert reasons == {
        "bad-charset.html": "not text in utf-8-sig (byte 28)",
        "big.md": "25,008 bytes, over the limit of 20,000 bytes for one document",
        "latin1.txt": "not UTF-8 text (byte 3)",
        "link-out.txt": "a symbolic link to outside the corpus folder",
        "pipe.md": "not a regular file",
        "search.html": "no text paragraphs (a form or search page with 11 words of text)",
    }
    for path in reasons:
        assert f"skipping {path}: " in caplog.text
    assert "folder.txt/inside.txt" in docs and docs["link-in.txt"].text == docs["x.txt"].text
    assert "news/harbour-bridge.html" in docs and "us-china-cyber-relations.txt" in docs


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions")
def test_a_file_without_read_permission_is_skipped(wiki):
    (wiki / "locked.txt").write_text("Secret.\n", encoding="utf-8")
    (wiki / "locked.txt").chmod(0)
    skipped: list[SkippedFile] = []
    load_corpus(wiki, skipped)
    assert ("locked.txt", "cannot read it: Permission denied") in {(s.path, s.reason) for s in skipped}


def test_a_corpus_with_no_usable_document_raises_listing_the_reasons(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "b.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"has no document with text: a\.txt: not UTF-8 text \(byte 0\); "
                                          r"b\.html: no text paragraphs \(no main text\)"):
        load_corpus(tmp_path)
    with pytest.raises(CorpusError, match=r"cannot use corpus file .*a\.txt: not UTF-8 text"):
        load_document(tmp_path / "a.txt")


def test_a_folder_without_documents_raises(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(CorpusError, match=r"no \.txt, \.md or \.html files \(sub-folders included\)"):
        corpus_files(tmp_path)


def test_corpus_files_are_sorted_by_id_and_skip_hidden(wiki):
    names = [p.relative_to(wiki).as_posix() for p in corpus_files(wiki)]
    assert names == sorted(names) and "team/onboarding/setup.html" in names
    assert not any(part.startswith(".") for name in names for part in name.split("/"))


def test_document_hash_changes_with_its_document_only(wiki):
    before = {doc.id: doc for doc in load_corpus(wiki)}
    (wiki / "x.md").write_text("# Retrospective template\n\nA changed line.\n", encoding="utf-8")
    after = {doc.id: doc for doc in load_corpus(wiki)}
    changed = {i for i in before if document_hash(before[i]) != document_hash(after[i])}
    assert changed == {"x.md"}
    assert len(document_hash(after["x.md"])) == 64
    assert corpus_hash(list(before.values())) != corpus_hash(list(after.values()))


def test_only_links_is_an_index_page_and_declared_charsets_decode():
    page = extract_html("<html><title>Index</title><body><div role=main><h1>Index</h1><ul>"
                        + "".join(f"<li><a href='p{i}.html'>entry {i}</a></li>" for i in range(30))
                        + "</ul><p>See also <a href='x'>the glossary of all the terms</a>.</p></div></body></html>")
    assert page.blocks == [] and page.reason.startswith("only links") and page.title == "Index"
    assert decode_html(b"<meta http-equiv='Content-Type' content='text/html; charset=windows-1252'>\x93q\x94") \
        .endswith("\u201cq\u201d")
    assert decode_html("\ufeff<p>é</p>".encode("utf-8")) == "<p>é</p>"


@pytest.mark.slow
def test_the_engine_answers_from_html_and_nested_pages_with_their_titles(wiki, tmp_path):
    from qa import Engine

    engine = Engine.load(corpus=wiki, index=tmp_path / "index")
    assert sorted(engine.documents) == ["cafe-rota.htm", "news/harbour-bridge.html", "notes.md",
                                        "team/onboarding/setup.html", "us-china-cyber-relations.txt", "x.md", "x.txt"]
    for question, doc, title, words in [
        ("How much did the bridge repairs cost?", "news/harbour-bridge.html",
         "Harbour bridge reopens after repairs", "€14 million"),
        ("How is a failed release rolled back?", "notes.md", "Release notes", "previous tag"),
        ("What did the 2015 agreement bar?", "us-china-cyber-relations.txt",
         "How Are US-China Cyber Relations Progressing?", "cyber theft"),
    ]:
        answer = engine.ask(question)
        assert answer.answerable and words in answer.answer, (question, answer.answer)
        assert (answer.citations[0].doc, answer.citations[0].title) == (doc, title)
        for citation in answer.citations:
            assert engine.documents[citation.doc].text[citation.start:citation.end] == citation.text


@pytest.mark.slow
def test_code_from_an_html_page_shows_its_line_breaks_and_wrapped_prose_does_not(wiki, tmp_path):
    from qa import Engine
    from qa.web.render import Linker, answer_html, article_html, esc, esc_inline

    (wiki / "wrapped.md").write_text("# Wrapped notes\n\nThe build runs every night and\nposts its report to the "
                                     "team channel.\n\nNobody reads it on Sundays.\n", encoding="utf-8")
    engine = Engine.load(corpus=wiki, index=tmp_path / "index")
    setup = "team/onboarding/setup.html"
    answer = engine.ask("how do i install the requirements", doc=setup)
    assert answer.answer.count("\n") == 2                      # the <pre> block, as the page shows it
    lines = "python3 -m venv .venv<br>.venv/bin/pip install -r requirements.txt<br>.venv/bin/python -m pytest -q"
    reply = answer_html(answer, Linker())
    assert reply.count(lines) == 3                             # the answer, its source card and the whole passage
    assert lines in article_html(engine.documents[setup], engine.data.sentences, Linker())
    wrapped = article_html(engine.documents["wrapped.md"], engine.data.sentences, Linker())
    assert "every night and posts its report" in wrapped and "<br>" not in wrapped
    assert esc("if x:\n    y = '<b>'", breaks=True) == "if x:<br>&nbsp;&nbsp;&nbsp;&nbsp;y = &#x27;&lt;b&gt;&#x27;"
    assert esc(">>> try:\n...     raise", breaks=True) == "&gt;&gt;&gt; try:<br>...&nbsp;&nbsp;&nbsp;&nbsp; raise"
    assert esc(">>> try:\n...     raise") == "&gt;&gt;&gt; try: ... raise"          # prose: one line
    assert esc_inline("a\n    foo ", breaks=True) == "a<br>&nbsp;&nbsp;&nbsp;&nbsp;foo "   # a piece before a highlight
