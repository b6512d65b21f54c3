"""HTML pages as text: decode, pick the main content, drop page furniture, keep paragraphs.

Built on lxml's HTML parser (libxml2) with a few general rules, chosen over trafilatura,
jusText and readability-lxml after measuring them on the 530 pages of the Python
documentation (see docs/corpus.md): those were 25-90 s for the pages (this is about 3 s),
flattened code blocks onto one line or dropped definition lists (function signatures).

The rules, none of them specific to one site:

- the main content is the page's ``role="main"``, ``<main>``, the longest ``<article>`` or
  ``itemprop="articleBody"`` element, else ``<body>``;
- scripts, styles, forms, ``<nav>``, ``<aside>``, ``<footer>`` (and ``<header>`` outside the
  main content), hidden elements, ARIA navigation/banner/search/contentinfo regions and
  elements whose class or id names navigation, sidebars, footers, breadcrumbs, sharing,
  cookie banners, ads or comments are dropped;
- permalink anchors (an in-page link whose text is one symbol, such as Sphinx's ``¶``) are dropped;
- each block (paragraph, heading, list item, ``<dt>``, ``<dd>``, table row, ``<pre>``) is one
  paragraph of the text; ``<pre>`` keeps its line breaks, other blocks are one line;
- a page whose text is nearly all link text (an index or contents page) or a form page with
  almost no text (a search page) has no main text.
"""
from __future__ import annotations

import codecs
import functools
import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: A page whose link text is at least this share of its text is a list of links (an index,
#: a table of contents) rather than a document. Defaults to 0.9: the Python documentation's
#: genindex pages are 0.97-1.0, its longest real pages under 0.5.
LINK_LISTING_SHARE = 0.9
#: A block (paragraph, list item, table row) whose link text is at least this share of its
#: text is navigation (a table of contents, an index entry, "related" links) and is dropped.
#: Defaults to 0.9.
LINK_BLOCK_SHARE = 0.9
#: A page with a form and fewer words than this is a form or search page, not a document.
FORM_PAGE_WORDS = 50

_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "caption", "center", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main",
    "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "aside", "footer", "form", "button", "select",
    "input", "textarea", "label", "iframe", "svg", "canvas", "object", "embed", "dialog", "menu",
    "head", "link", "meta", "audio", "video", "map",
})
_DROP_ROLES = frozenset({
    "navigation", "banner", "contentinfo", "search", "complementary", "menu", "menubar", "toolbar",
    "dialog", "alertdialog", "tablist",
})
# Words in a class or id that name page furniture, matched against the words of the
# attribute split at spaces, "-" and "_" (so "related-posts" matches, "highlight" does not).
_FURNITURE = frozenset({
    "nav", "navbar", "navigation", "menu", "menubar", "sidebar", "sidebarwrapper", "sphinxsidebar",
    "footer", "breadcrumb", "breadcrumbs", "share", "sharing", "social", "cookie", "cookies",
    "consent", "related", "comments", "comment", "advert", "advertisement", "ads", "ad", "promo",
    "newsletter", "subscribe", "skip", "skiplink", "pagination", "pager", "masthead", "banner",
})
_ATTR_WORDS = re.compile(r"[a-z0-9]+")
_PERMALINK = re.compile(r"^\W?$")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w\w")  # a block without one (a lone letter, "|") says nothing


class HtmlDecodeError(ValueError):
    """The page is neither in its declared character set nor UTF-8."""


@dataclass(frozen=True)
class HtmlPage:
    """The extracted page: its title and its text blocks in reading order.

    ``blocks`` are ``(text, is_heading)`` pairs; a block's text has no blank line.
    ``reason`` says why a page has no main text (``""`` when it has some).
    """

    title: str
    blocks: list[tuple[str, bool]]
    reason: str = ""


def declared_charset(data: bytes) -> str | None:
    """The character set a page declares in a ``<meta>`` tag in its first 4 KB, if Python knows it."""
    match = _CHARSET.search(data[:4096])
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def decode_html(data: bytes) -> str:
    """The page's text: its declared character set first, then UTF-8 (a BOM is dropped).

    Raises:
        HtmlDecodeError: neither decoding works.
    """
    charset = declared_charset(data)
    tried = []
    for encoding in ([charset] if charset and charset != "utf-8" else []) + ["utf-8-sig"]:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            tried.append(f"{encoding} (byte {exc.start})")
    raise HtmlDecodeError(f"not text in {' or '.join(tried)}")


@functools.lru_cache(maxsize=4096)
def _names_furniture(value: str) -> bool:
    """Whether a class or id value has a word that names page furniture (values repeat: cached)."""
    return not _FURNITURE.isdisjoint(_ATTR_WORDS.findall(value.lower()))


def _is_furniture(el, in_main: bool) -> bool:
    """Whether ``el`` is page furniture. Inside a marked main element ids are not read:
    there they are usually made from the content ("module-http.cookies")."""
    if el.tag in _DROP_TAGS:
        return True
    attrib = el.attrib
    if not attrib:
        return False
    get = attrib.get
    if get("hidden") is not None or get("aria-hidden") == "true" or get("role") in _DROP_ROLES:
        return True
    style = get("style")
    if style and "display:none" in style.replace(" ", "").lower():
        return True
    value = get("class")
    if value and _names_furniture(value):
        return True
    value = None if in_main else get("id")
    return bool(value) and _names_furniture(value)


def _text_of(el) -> str:
    """All the text inside ``el`` (not its tail)."""
    return "".join(el.itertext())


def _main_element(body):
    """The element that holds the page's main content (see the module docstring)."""
    for path in ('.//*[@role="main"]', ".//main", './/*[@itemprop="articleBody"]'):
        found = body.xpath(path)
        if found:
            return found[0], True
    articles = body.xpath(".//article")
    if articles:
        return max(articles, key=lambda el: len(_text_of(el))), True
    return body, False


class _Blocks:
    """Collects text blocks while walking the tree: inline text joins, block tags break."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, bool]] = []
        self.parts: list[str] = []
        self.heading = False
        self.link_chars = 0  # in the current block
        self.chars = 0  # of every block, kept or not
        self.all_link_chars = 0  # of every block, kept or not

    def flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self.parts)).strip()
        if text:
            chars = len(text) - text.count(" ")
            self.chars += chars
            self.all_link_chars += min(self.link_chars, chars)
            if self.heading or (self.link_chars < LINK_BLOCK_SHARE * chars and _WORD.search(text)):
                self.blocks.append((text, self.heading))
        self.parts = []
        self.heading = False
        self.link_chars = 0

    def add_pre(self, text: str) -> None:
        self.flush()
        lines = [line.rstrip() for line in text.expandtabs(4).splitlines()]
        text = "\n".join(line for line in lines if line.strip())
        if text:
            self.blocks.append((text, False))


def _walk(main, out: _Blocks, in_main: bool) -> None:
    """Append the text of ``main`` (not its tail) to ``out``, skipping page furniture.

    Walks with lxml's ``iterwalk`` (no recursion: a page nested 100,000 deep is fine).
    """
    from lxml import etree

    walker = etree.iterwalk(main, events=("start", "end"))
    skipped = set()
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "end":
            if el in skipped:
                skipped.discard(el)
            elif tag in _BLOCK_TAGS:
                out.flush()
            if el.tail and el is not main:
                out.parts.append(el.tail)
            continue
        if (not tag or _is_furniture(el, in_main) or (tag == "header" and not in_main)
                or (tag == "a" and (el.get("href") or "").startswith("#")
                    and _PERMALINK.match(_text_of(el).strip()))):
            skipped.add(el)
            walker.skip_subtree()
        elif tag == "pre":
            out.add_pre(_text_of(el))
            skipped.add(el)
            walker.skip_subtree()
        elif tag == "br":
            out.parts.append(" ")
        else:
            if tag in _BLOCK_TAGS:
                out.flush()
                out.heading = tag in _HEADINGS
            elif tag in ("td", "th") and "".join(out.parts).strip():
                out.parts.append(" | ")
            elif tag == "a":
                out.link_chars += len(_SPACES.sub("", _text_of(el)))
            if el.text:
                out.parts.append(el.text)


def _title(root, blocks: list[tuple[str, bool]]) -> str:
    """``<title>``, or the first heading when ``<title>`` is that heading plus a site name."""
    title = _SPACES.sub(" ", " ".join(root.xpath("//title//text()"))).strip()
    heading = next((text for text, is_heading in blocks if is_heading), "")
    if heading and (not title or heading.casefold() in title.casefold()):
        return heading
    return title or heading


def extract_html(text: str) -> HtmlPage:
    """The title and main-text blocks of an HTML page (see the module docstring for the rules).

    Args:
        text: the decoded page.

    Returns:
        An :class:`HtmlPage`; its ``blocks`` are empty and ``reason`` says why when the
        page has no main text (an index of links, a search page, an empty page).
    """
    from lxml import etree

    # Plain lxml elements (etree.HTMLParser), not lxml.html's: its per-element class lookup
    # was a fifth of the time on the Python documentation.
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)
    root = etree.fromstring(text.encode("utf-8", "surrogatepass"), parser) if text.strip() else None
    if root is None:
        return HtmlPage("", [], "an empty HTML page")
    body = root.find("body")
    if body is None:
        body = root
    main, marked = _main_element(body)
    out = _Blocks()
    _walk(main, out, marked)
    out.flush()
    title = _title(root, out.blocks)
    words = sum(len(text.split()) for text, heading in out.blocks if not heading)
    if out.chars and out.all_link_chars >= LINK_LISTING_SHARE * out.chars:
        share = out.all_link_chars / out.chars
        return HtmlPage(title, [], f"only links ({share:.0%} of the text): an index or contents page")
    if not words:
        return HtmlPage(title, [], "no main text")
    if words < FORM_PAGE_WORDS and main.xpath(".//form|.//input"):
        return HtmlPage(title, [], f"a form or search page with {words} words of text")
    return HtmlPage(title, out.blocks)
