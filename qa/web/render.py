"""Answer and article to HTML for the web front ends: every user or corpus string is escaped here, once.

The chat, the article view and the embed view all take their markup from this
module, so the escaping rule lives in one place: text is passed through
:func:`html.escape` and never interpreted as HTML or Markdown. The chat renders
a reply as one HTML block without blank lines, which Gradio's Markdown renderer
passes through untouched (no Markdown inside it), then sanitizes.
"""
from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from ..answer import HEADLINE_PARAGRAPH, Answer, Citation, place
from ..chunking import Sentence
from ..corpus import Document, keeps_line_breaks

logger = logging.getLogger(__name__)

#: Path of the article view, relative to the app's root.
ARTICLE_PATH = "article"


def esc(text: str, breaks: bool = False) -> str:
    """``text`` escaped for HTML element content or a quoted attribute; whitespace runs become one space.

    With ``breaks`` (element content only; defaults to False), its line breaks and spaces stay, as in a code sample
    (see :func:`qa.corpus.keeps_line_breaks` and :func:`_code`).
    """
    text = str(text)
    if breaks:
        return _code(text.strip("\n"))
    return html.escape(" ".join(text.split()), quote=True)


def _code(text: str) -> str:
    """``text`` escaped with its line breaks as ``<br>`` and its spaces kept: the indentation of a line after a break
    as no-break spaces, any other run of spaces as no-break spaces and one space where the line may wrap (a tab is 4
    spaces). ``text`` may be a piece of a line: its own start is not taken for a line's."""
    lines = html.escape(text.replace("\r", "").replace("\t", "    "), quote=True).split("\n")
    out = []
    for number, line in enumerate(lines):
        body = line.lstrip(" ") if number else line
        spaced = re.sub(r"  +", lambda run: "&nbsp;" * (len(run.group()) - 1) + " ", body)
        out.append("&nbsp;" * (len(line) - len(body)) + spaced)
    return "<br>".join(out)


def anchor(paragraph: int, sentence: int) -> str:
    """The stable anchor of a sentence in the article view: ``p{paragraph}-s{sentence}`` (both 1-based; the
    headline, paragraph 0, is ``p0-s1``)."""
    return f"p{paragraph}-s{sentence}"


@dataclass(frozen=True)
class Linker:
    """Builds links from citations to the article view.

    Args:
        base: prefix of the article path: ``""`` for links relative to the app root
            (pages served at the root), or an absolute base URL such as
            ``"https://qa.example.org/"`` for the JSON API. Defaults to ``""``.
        first_doc: id of the document shown by ``/article``; the others are at
            ``/article/{id}`` (every document is there too). Defaults to ``""``.
    """

    base: str = ""
    first_doc: str = ""

    def article(self, doc: str) -> str:
        """The article view of ``doc``."""
        path = "" if doc == self.first_doc else f"/{quote(doc, safe='')}"
        return f"{self.base}{ARTICLE_PATH}{path}"

    def sentence(self, doc: str, paragraph: int, sentence: int) -> str:
        """The article view of ``doc`` scrolled to one sentence, highlighted on arrival."""
        return f"{self.article(doc)}#{anchor(paragraph, sentence)}"

    def citation(self, citation: Citation) -> str:
        """Where ``citation`` points: the sentence of it that answers (``answer_sentence``)."""
        return self.sentence(citation.doc, citation.paragraph, citation.answer_sentence)


def _marked(text: str, start: int, spans: list[tuple[int, int]], breaks: bool = False) -> str:
    """``text`` (which starts at document offset ``start``) escaped, with ``spans`` wrapped in ``<mark>`` (its line
    breaks kept with ``breaks``, as in :func:`esc`; defaults to False)."""
    end = start + len(text)
    cuts = sorted((max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start)
    out, position = [], 0
    for a, b in cuts:
        if a < position:
            a = position
        if a >= b:
            continue
        out.append(esc_inline(text[position:a], breaks))
        out.append(f'<mark class="qa-hit">{esc_inline(text[a:b], breaks)}</mark>')
        position = b
    out.append(esc_inline(text[position:], breaks))
    return "".join(out)


def esc_inline(text: str, breaks: bool = False) -> str:
    """Like :func:`esc` but keeps a single leading or trailing space (for text cut into pieces); with ``breaks``
    (defaults to False), the piece's line breaks and spaces stay, as in :func:`esc`."""
    if breaks:
        return _code(text)
    collapsed = " ".join(text.split())
    if collapsed and text[:1].isspace():
        collapsed = " " + collapsed
    if collapsed and text[-1:].isspace():
        collapsed += " "
    return html.escape(collapsed or (" " if text else ""), quote=True)


def _answer_ranges(citation: Citation, answer: Answer) -> list[tuple[int, int]]:
    """The answer spans that overlap ``citation``'s passage."""
    return [(s.start, s.end) for s in answer.answer_spans
            if s.doc == citation.doc and s.start < citation.end and s.end > citation.start]


def cited_excerpt(citation: Citation, answer: Answer) -> tuple[int, int]:
    """Document offsets of what a source card shows: the answer sentence(s) the passage holds (from the
    first answer sentence to the end of the last one inside it), else its ``answer_sentence``."""
    inside = _answer_ranges(citation, answer)
    if not inside:
        return citation.answer_start, citation.answer_end
    return max(citation.start, min(a for a, _ in inside)), min(citation.end, max(b for _, b in inside))


def cites_several(answer: Answer) -> bool:
    """Whether ``answer`` cites more than one document (its sources then name their document)."""
    return len({c.doc for c in answer.citations}) > 1


def citation_card(citation: Citation, answer: Answer, linker: Linker, show_title: bool = False) -> str:
    """One compact source: its number and paragraph (a link to the answer sentence in the article), its
    document's title when ``show_title`` (defaults to False), the cited sentence(s) with the answer
    highlighted, and the whole passage and its score behind "Whole passage"."""
    spans = _answer_ranges(citation, answer)
    breaks = keeps_line_breaks(citation.doc)
    href = esc(linker.citation(citation))
    start, end = cited_excerpt(citation, answer)
    excerpt = citation.text[start - citation.start:end - citation.start]
    sentence = "" if citation.paragraph == HEADLINE_PARAGRAPH else f", sentence {citation.answer_sentence}"
    where = place(citation) + sentence
    more = (f'<details class="qa-more"><summary>Whole passage</summary>'
            f'<blockquote class="qa-quote">{_marked(citation.text, citation.start, spans, breaks)}</blockquote>'
            f'<p class="qa-score">Relevance score {citation.score:.2f}</p></details>')
    return (f'<li class="qa-card qa-card-{citation.n}">'
            f'<a class="qa-cite-link" href="{href}" title="Show {where} in the article (relevance score '
            f'{citation.score:.2f})">[{citation.n}] {place(citation).capitalize()}</a>'
            + (f' <span class="qa-doc">{esc(citation.title)}</span>' if show_title else "") +
            f'<p class="qa-excerpt">{_marked(excerpt, start, spans, breaks)}</p>{more}</li>')


def _markers(answer: Answer, linker: Linker) -> str:
    """Inline ``[1]`` links after the answer to the sources that hold it (the first source if none does)."""
    holding = [c for c in answer.citations if _answer_ranges(c, answer)] or answer.citations[:1]
    several = cites_several(answer)
    return "".join(f' <a class="qa-cite-link qa-marker qa-to-{c.n}" href="{esc(linker.citation(c))}" '
                   f'title="Source {c.n}: {esc(c.title) + ", " if several else ""}{place(c)}">[{c.n}]</a>'
                   for c in holding)


def answer_html(answer: Answer, linker: Linker) -> str:
    """The bot's reply: the answer with inline source markers, then compact numbered sources.

    A question the article does not cover gets one line saying so, and the closest passages
    folded away under "Closest passages", so it never looks like an answer. When the sources come from
    more than one document, each names its document's title.

    Returns:
        One HTML block on a single line (no blank lines, so no Markdown is applied inside it).
    """
    notes = "".join(f'<p class="qa-note">Note: {esc(note)}</p>' for note in answer.notes)
    several = cites_several(answer)
    cards = "".join(citation_card(c, answer, linker, several) for c in answer.citations)
    if answer.answerable:
        breaks = bool(answer.answer_spans) and keeps_line_breaks(answer.answer_spans[0].doc)
        head = f'<p class="qa-answer">{esc(answer.answer, breaks)}{_markers(answer, linker)}</p>'
        listing = f'<p class="qa-label">Sources</p><ol class="qa-cites">{cards}</ol>' if cards else ""
        return f'<div class="qa-reply qa-answered">{head}{notes}{listing}</div>'
    head = (f'<p class="qa-answer qa-not-covered"><span class="qa-refusal-icon" aria-hidden="true">?</span> '
            f'{esc(answer.answer)}</p>')
    listing = (f'<details class="qa-closest"><summary>Closest passages (they do not answer it)</summary>'
               f'<ol class="qa-cites">{cards}</ol></details>') if cards else ""
    return f'<div class="qa-reply qa-refused">{head}{notes}{listing}</div>'


def question_html(question: str) -> str:
    """The user's message as it shows in the chat: escaped text, never HTML or Markdown."""
    return f'<div class="qa-question">{esc(question)}</div>'


def _sentences_by_paragraph(sentences: list[Sentence], doc: str) -> dict[int, list[Sentence]]:
    grouped: dict[int, list[Sentence]] = defaultdict(list)
    for sentence in sentences:
        if sentence.doc == doc:
            grouped[sentence.paragraph].append(sentence)
    return grouped


def article_html(doc: Document, sentences: list[Sentence], linker: Linker, panel: bool = False) -> str:
    """The document with numbered paragraphs; each sentence is a span with its stable anchor.

    Args:
        doc: the document.
        sentences: the index's sentences (those of other documents are ignored).
        linker: builds the paragraph-number links.
        panel: markup for the chat page's side panel, where anchors go in ``data-anchor``
            (ids would clash between documents) and the title is an ``h2``; else ``id``
            attributes and an ``h1`` title for ``/article``. Defaults to False.

    Returns:
        An ``<article>`` element.
    """
    grouped = _sentences_by_paragraph(sentences, doc.id)
    breaks = keeps_line_breaks(doc.id)
    level = "h2" if panel else "h1"
    headline = anchor(HEADLINE_PARAGRAPH, 1)      # the headline's citation points here
    parts = [f'<article class="qa-article" data-doc="{esc(doc.id)}">'
             f'<{level} class="qa-title"><span class="qa-s" {"data-anchor" if panel else "id"}="{headline}">'
             f'{esc(doc.title)}</span></{level}>']
    for number, span in enumerate(doc.paragraphs, start=1):
        position, pieces = span.start, []
        for sentence in grouped.get(number, []):
            if sentence.start > position:
                pieces.append(esc_inline(doc.text[position:sentence.start], breaks))
            name = anchor(number, sentence.index)
            attribute = f'data-anchor="{name}"' if panel else f'id="{name}"'
            pieces.append(f'<span class="qa-s" {attribute}>{esc(sentence.text, breaks)}</span>')
            position = max(position, sentence.end)
        if span.end > position:
            pieces.append(esc_inline(doc.text[position:span.end], breaks))
        paragraph_attribute = f'data-anchor="p{number}"' if panel else f'id="p{number}"'
        href = esc(f"{linker.article(doc.id)}#p{number}")
        parts.append(f'<p class="qa-p" {paragraph_attribute}><a class="qa-pn" href="{href}">{number}</a> '
                     f'{"".join(pieces).strip()}</p>')
    parts.append("</article>")
    return "".join(parts)
