"""Corpus cleaning, paragraph spans, Punkt sentences and chunks, on the real article."""

import pytest

from qa.chunking import make_chunks, make_sentence_splitter, split_sentences
from qa.config import ChunkSettings
from qa.corpus import CorpusError, load_corpus

DEBRIS = ("Trans-Pacific View", "Recent Features", "Credit: White House")


@pytest.fixture(scope="module")
def docs(corpus_dir):
    return load_corpus(corpus_dir)


@pytest.fixture(scope="module")
def sentences(docs):
    return split_sentences(docs)


def test_title_comes_from_the_repeated_headline(docs):
    assert docs[0].title == "How Are US-China Cyber Relations Progressing?"
    assert docs[0].id == "us-china-cyber-relations.txt"


def test_debris_is_not_a_paragraph_and_author_line_is(docs):
    doc = docs[0]
    paragraphs = [doc.paragraph_text(i + 1) for i in range(len(doc.paragraphs))]
    assert len(paragraphs) == 9
    for text in paragraphs:
        assert not any(text.startswith(d) for d in DEBRIS)
        assert doc.title not in text
    assert paragraphs[0].startswith("The 2015 agreement may have fallen short")
    assert paragraphs[-1].startswith("Captain Adam Greer")


def test_us_abbreviation_never_ends_a_sentence(sentences):
    for s in sentences:
        assert not s.text.endswith("U.S."), s.text
    joined = [s for s in sentences if "U.S. Department of Justice" in s.text]
    assert len(joined) == 1
    assert any("U.S. Pacific Command" in s.text for s in sentences)


def test_sentence_offsets_are_exact_and_stay_in_paragraphs(docs, sentences):
    doc = docs[0]
    assert len(sentences) > 30
    for s in sentences:
        assert doc.text[s.start:s.end] == s.text
        para = doc.paragraphs[s.paragraph - 1]
        assert para.start <= s.start < s.end <= para.end


@pytest.mark.parametrize("size,overlap", [(1, 0), (2, 1), (3, 1), (2, 0)])
def test_chunks_never_cross_paragraphs_and_offsets_hold(docs, sentences, size, overlap):
    chunks = make_chunks(docs, sentences, ChunkSettings(size, overlap))
    text = docs[0].text
    covered = set()
    for c in chunks:
        assert text[c.start:c.end] == c.text
        assert {sentences[i].paragraph for i in c.sentence_ids} == {c.paragraph}
        assert len(c.sentence_ids) <= size
        covered.update(c.sentence_ids)
    assert covered == {s.id for s in sentences}


def test_chunk_settings_reject_bad_overlap():
    with pytest.raises(ValueError, match="overlap must be in"):
        ChunkSettings(max_sentences=2, overlap=2)


def test_missing_and_empty_corpus_raise_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match="not found; pass --corpus"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match=r"no \.txt, \.md or \.html files"):
        load_corpus(tmp_path)


def test_markdown_title_crlf_and_bom(tmp_path):
    (tmp_path / "note.md").write_bytes("\ufeff# My Note\r\n\r\nFirst para. The U.S. side agreed.\r\n\r\nSecond one.\r\n".encode())
    doc = load_corpus(tmp_path)[0]
    assert doc.title == "My Note"
    assert [doc.paragraph_text(i + 1) for i in range(2)] == ["First para. The U.S. side agreed.", "Second one."]
    sents = split_sentences([doc])
    assert [s.text for s in sents] == ["First para.", "The U.S. side agreed.", "Second one."]
