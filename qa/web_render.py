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
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from .answer import Answer, Citation
from .chunking import Sentence
from .corpus import Document

logger = logging.getLogger(__name__)

#: Path of the article view, relative to the app's root.
ARTICLE_PATH = "article"


def esc(text: str) -> str:
    """``text`` escaped for HTML element content or a quoted attribute; whitespace runs become one space."""
    return html.escape(" ".join(str(text).split()), quote=True)


def anchor(paragraph: int, sentence: int) -> str:
    """The stable anchor of a sentence in the article view: ``p{paragraph}-s{sentence}`` (both 1-based)."""
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
        """Where ``citation`` points: its first sentence."""
        return self.sentence(citation.doc, citation.paragraph, citation.sentence)


def _marked(text: str, start: int, spans: list[tuple[int, int]]) -> str:
    """``text`` (which starts at document offset ``start``) escaped, with ``spans`` wrapped in ``<mark>``."""
    end = start + len(text)
    cuts = sorted((max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start)
    out, position = [], 0
    for a, b in cuts:
        if a < position:
            a = position
        if a >= b:
            continue
        out.append(esc_inline(text[position:a]))
        out.append(f'<mark class="qa-hit">{esc_inline(text[a:b])}</mark>')
        position = b
    out.append(esc_inline(text[position:]))
    return "".join(out)


def esc_inline(text: str) -> str:
    """Like :func:`esc` but keeps a single leading or trailing space (for text cut into pieces)."""
    collapsed = " ".join(text.split())
    if collapsed and text[:1].isspace():
        collapsed = " " + collapsed
    if collapsed and text[-1:].isspace():
        collapsed += " "
    return html.escape(collapsed or (" " if text else ""), quote=True)


def citation_card(citation: Citation, answer: Answer, linker: Linker) -> str:
    """One numbered citation card: paragraph link, score, and the passage with the answer highlighted."""
    spans = [(s.start, s.end) for s in answer.answer_spans if s.doc == citation.doc]
    href = esc(linker.citation(citation))
    where = f"paragraph {citation.paragraph}, sentence {citation.sentence}"
    return (f'<li class="qa-card" id="qa-cite-{citation.n}">'
            f'<span class="qa-n">[{citation.n}]</span> '
            f'<a class="qa-cite-link" href="{href}" title="Show {where} in the article">'
            f'paragraph {citation.paragraph}</a> '
            f'<span class="qa-score">score {citation.score:.2f}</span>'
            f'<blockquote class="qa-quote">{_marked(citation.text, citation.start, spans)}</blockquote></li>')


def answer_html(answer: Answer, linker: Linker) -> str:
    """The bot's reply: the answer sentence(s), then numbered citation cards ("related" when not covered).

    Returns:
        One HTML block on a single line (no blank lines, so no Markdown is applied inside it).
    """
    if answer.answerable:
        head = f'<p class="qa-answer">{esc(answer.answer)}</p>'
        label = "Sources" if answer.citations else ""
    else:
        head = f'<p class="qa-answer qa-not-covered">{esc(answer.answer)}</p>'
        label = "Related passages (they do not answer it)" if answer.citations else ""
    notes = "".join(f'<p class="qa-note">Note: {esc(note)}</p>' for note in answer.notes)
    cards = "".join(citation_card(c, answer, linker) for c in answer.citations)
    kind = "qa-answered" if answer.answerable else "qa-related"
    listing = f'<p class="qa-label">{label}</p><ol class="qa-cites">{cards}</ol>' if cards else ""
    return f'<div class="qa-reply {kind}">{head}{notes}{listing}</div>'


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
            (ids would clash between documents); else ``id`` attributes for ``/article``.
            Defaults to False.

    Returns:
        An ``<article>`` element.
    """
    grouped = _sentences_by_paragraph(sentences, doc.id)
    parts = [f'<article class="qa-article" data-doc="{esc(doc.id)}"><h2 class="qa-title">{esc(doc.title)}</h2>']
    for number, span in enumerate(doc.paragraphs, start=1):
        position, pieces = span.start, []
        for sentence in grouped.get(number, []):
            if sentence.start > position:
                pieces.append(esc_inline(doc.text[position:sentence.start]))
            name = anchor(number, sentence.index)
            attribute = f'data-anchor="{name}"' if panel else f'id="{name}"'
            pieces.append(f'<span class="qa-s" {attribute}>{esc(sentence.text)}</span>')
            position = max(position, sentence.end)
        if span.end > position:
            pieces.append(esc_inline(doc.text[position:span.end]))
        paragraph_attribute = f'data-anchor="p{number}"' if panel else f'id="p{number}"'
        href = esc(f"{linker.article(doc.id)}#p{number}")
        parts.append(f'<p class="qa-p" {paragraph_attribute}><a class="qa-pn" href="{href}">{number}</a> '
                     f'{"".join(pieces).strip()}</p>')
    parts.append("</article>")
    return "".join(parts)
