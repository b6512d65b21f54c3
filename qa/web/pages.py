"""The two plain HTML pages: ``/article`` (the article with sentence anchors) and ``/embed`` (compact chat for iframes).

Neither page loads anything from another site. ``/embed`` calls ``embed/ask``
(same JSON body as ``POST /api/ask``) and inserts the reply HTML the server
built with :mod:`qa.web.render`; the user's own text is only ever set with
``textContent``. It tells its parent window its height with ``postMessage``
(``{"type": "qa-embed-height", "height": <px>}``) so a wiki can size the iframe.
"""
from __future__ import annotations

import json
import logging

from .render import Linker, article_html, esc

logger = logging.getLogger(__name__)

#: The one font stack of every page (system fonts: nothing is downloaded, no glyph comes from another face).
FONT_STACK = 'system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif'
#: The one link colour (6.7:1 on white) and the muted text colour (7.7:1 on white) of every page.
LINK_COLOUR = "#1d4ed8"
MUTED_COLOUR = "#52525b"

#: Styles shared by the article view, the embed view and the chat page's replies.
CARD_CSS = """
.qa-reply p{margin:0 0 .4em!important}
.qa-reply a{color:@LINK@!important}
.qa-answer{font-weight:500;line-height:1.5}
.qa-marker{font-weight:600;text-decoration:none!important;white-space:nowrap}
.qa-refused{border-left:4px solid #c2410c;padding-left:.6em}
.qa-not-covered{font-weight:600;color:#7c2d12}
.qa-refusal-icon{display:inline-block;width:1.35em;height:1.35em;line-height:1.35em;border-radius:50%;
  background:#c2410c;color:#fff;text-align:center;font-size:.85em;margin-right:.2em}
.qa-reply summary{cursor:pointer;color:@LINK@;font-size:.9em}
.qa-note{font-size:.85em;color:@MUTED@}
.qa-label{font-size:.8em;text-transform:uppercase;letter-spacing:.04em;color:@MUTED@;margin-top:.6em!important}
.qa-cites{list-style:none;padding:0!important;margin:.2em 0 0!important}
.qa-card{border:1px solid #d4d4d8;border-left:3px solid @LINK@;border-radius:6px;padding:.3em .6em;
  margin:.3em 0!important;scroll-margin:.5em}
.qa-refused .qa-card{border-left-color:#71717a}
.qa-cite-link{font-weight:600}
.qa-doc{font-size:.85em;color:@MUTED@;font-style:italic}
.qa-excerpt{margin:.15em 0 .1em!important;display:-webkit-box!important;-webkit-box-orient:vertical;
  -webkit-line-clamp:3;overflow:hidden}
.qa-more{font-size:.92em}
.qa-score{font-size:.85em;color:@MUTED@}
.qa-quote{margin:.25em 0!important;padding:0 0 0 .5em!important;border:0!important;border-left:2px solid #d4d4d8!important;
  font-style:normal!important}
mark.qa-hit{background:#fde68a;color:#111;padding:0 .1em;border-radius:2px}
.qa-question{white-space:pre-wrap}
""".replace("@LINK@", LINK_COLOUR).replace("@MUTED@", MUTED_COLOUR)

ARTICLE_CSS = """
.qa-article{line-height:1.55}
.qa-title{line-height:1.25}
.qa-p{margin:0 0 .9em;padding:.2em .4em;border-radius:6px;scroll-margin-top:30vh}
.qa-pn{display:inline-block;min-width:1.8em;margin-right:.3em;font-size:.8em;font-weight:700;color:@LINK@!important;
  text-decoration:none;border:1px solid #bfdbfe;border-radius:4px;text-align:center}
.qa-s{border-radius:3px;scroll-margin-top:30vh}
.qa-p.qa-target-p,.qa-p:target{background:#eff6ff;outline:2px solid #93c5fd}
.qa-s.qa-target,.qa-s:target{background:#fde68a;color:#111}
""".replace("@LINK@", LINK_COLOUR)

#: Highlights the sentence (and its paragraph) named by the URL's ``#p4-s2`` on arrival and on hash changes.
_ARTICLE_SCRIPT = """
(function () {
  function show() {
    document.querySelectorAll(".qa-target,.qa-target-p").forEach(function (el) {
      el.classList.remove("qa-target", "qa-target-p");
    });
    var name = decodeURIComponent(location.hash.slice(1));
    if (!name) return;
    var el = document.getElementById(name);
    if (!el) {
      var m = /^(p\\d+)-s\\d+$/.exec(name);
      el = m && document.getElementById(m[1]);
    }
    if (!el) return;
    if (el.classList.contains("qa-s")) el.classList.add("qa-target");
    var p = el.closest(".qa-p");
    if (p) p.classList.add("qa-target-p");
    el.scrollIntoView({block: "center"});
  }
  window.addEventListener("hashchange", show);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show); else show();
})();
"""

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:{font};margin:0;color:#18181b;background:#fff}}
a{{color:{link}}}
.qa-sr{{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}}
{css}
</style></head>
<body>{body}
{script}
</body></html>
"""


def _doc_list(docs: list, total: int, linker: Linker) -> str:
    """``docs`` as a list of links to their article views, and how many more of ``total`` there are."""
    items = "".join(f'<li><a href="{esc(linker.article(d.id))}">{esc(d.title)}</a> <code>{esc(d.id)}</code></li>'
                    for d in docs)
    more = (f'<p>… and {total - len(docs):,} more: <a href="{esc(linker.base)}api/docs">api/docs</a> lists them '
            f'all.</p>') if total > len(docs) else ""
    return f"<ul>{items}</ul>{more}"


def article_page(doc, sentences, linker: Linker, other_docs: list | None = None, total_others: int | None = None) -> str:
    """The full ``/article`` page: numbered paragraphs, sentence anchors ``p{n}-s{i}``, highlight on arrival.

    Args:
        doc: the document shown.
        sentences: the index's sentences.
        linker: builds links (relative to the app root).
        other_docs: documents listed as links above the article. Defaults to none.
        total_others: how many other documents there are (the list says how many it leaves out). Defaults
            to ``len(other_docs)``.

    Returns:
        A complete HTML page.
    """
    nav = ""
    if other_docs:
        total = len(other_docs) if total_others is None else total_others
        nav = f'<nav class="qa-docs"><p>Other documents:</p>{_doc_list(other_docs, total, linker)}</nav>'
    body = (f'<main style="max-width:46rem;margin:0 auto;padding:1rem 1.2rem 40vh">'
            f'<p><a href="{esc(linker.base or "./")}">← Ask a question about this article</a></p>{nav}'
            f'{article_html(doc, sentences, linker)}</main>')
    return _page(esc(doc.title), ARTICLE_CSS, body, _ARTICLE_SCRIPT)


def not_found_page(doc: str | None, docs: list, total: int, linker: Linker) -> str:
    """The page for an unknown document id (``/article/{id}``, ``/embed?doc=``): what was asked for, and the
    first ``docs`` of the ``total`` that exist, as links."""
    shown = doc if doc is None or len(doc) <= 200 else doc[:200] + "…"
    body = (f'<main style="max-width:46rem;margin:0 auto;padding:1rem 1.2rem">'
            f'<h1>No such document</h1><p>There is no document <code>{esc(repr(shown))}</code> here. '
            f'Check the id in the link (ids are listed by <code>python -m qa docs</code> and '
            f'<a href="{esc(linker.base)}api/docs">api/docs</a>).</p>'
            f'<p>Documents{"" if total <= len(docs) else f" (the first {len(docs)} of {total:,})"}:</p>'
            f'{_doc_list(docs, len(docs), linker) if docs else "<p>none</p>"}</main>')
    return _page("No such document", "", body, "")


def _page(title: str, css: str, body: str, script: str) -> str:
    """A complete page in the one font stack and link colour; ``title`` and ``body`` are HTML already escaped."""
    return _PAGE.format(title=title, css=css, body=body, script=f"<script>{script}</script>" if script else "",
                        font=FONT_STACK, link=LINK_COLOUR)


_EMBED_CSS = """
body{font-size:15px}
#qa-embed{display:flex;flex-direction:column;gap:.45rem;padding:.5rem;max-width:100%;box-sizing:border-box}
.qa-embed-head{display:flex;align-items:center;gap:.5rem;flex:none}
#qa-embed h1{font-size:1rem;margin:0;flex:1}
#qa-new{font:inherit;font-size:.85em;padding:.2em .6em;border:1px solid #71717a;border-radius:6px;background:#fff;
  color:#18181b;cursor:pointer}
#qa-log{display:flex;flex-direction:column;gap:.4rem;overflow-y:auto;min-height:0;flex:0 1 auto;
  overscroll-behavior:contain;border-radius:8px}
#qa-log:empty{display:none}
.qa-msg{padding:.45em .7em;border-radius:10px;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere;flex:none}
.qa-msg.qa-user{align-self:flex-end;background:#e0e7ff;white-space:pre-wrap}
.qa-msg.qa-bot{align-self:stretch;background:#f4f4f5}
.qa-msg.qa-error{background:#fee2e2;color:#7f1d1d}
#qa-form{display:flex;gap:.4rem;flex:none}
#qa-input{flex:1;font:inherit;padding:.45em .6em;border:1px solid #71717a;border-radius:8px;min-width:0}
#qa-form button{font:inherit;padding:.45em .9em;border:0;border-radius:8px;background:@LINK@;color:#fff;cursor:pointer}
#qa-form button[disabled]{background:#52525b;cursor:wait}
#qa-examples{display:flex;flex-wrap:wrap;gap:.3rem;flex:none}
#qa-examples[hidden]{display:none}
#qa-examples button{font:inherit;font-size:.85em;padding:.2em .6em;border:1px solid #a1a1aa;border-radius:999px;
  background:#fff;color:#18181b;cursor:pointer}
""".replace("@LINK@", LINK_COLOUR)

#: The embed's behaviour. Server HTML (already escaped) goes in with innerHTML; user text only via textContent.
#: The conversation is kept in sessionStorage (this tab only) and restored on reload.
_EMBED_SCRIPT = """
(function () {
  var config = JSON.parse(document.getElementById("qa-config").textContent);
  var main = document.getElementById("qa-embed"), log = document.getElementById("qa-log");
  var form = document.getElementById("qa-form"), input = document.getElementById("qa-input");
  var button = form.querySelector("button"), fresh = document.getElementById("qa-new");
  var examples = document.getElementById("qa-examples");
  var params = new URLSearchParams(location.search);
  var limit = parseInt(params.has("max") ? params.get("max") : config.maxHeight, 10);
  if (!(limit >= 0)) limit = config.maxHeight;
  if (limit > 0) main.style.maxHeight = Math.max(limit, config.minHeight) + "px";  // 0: grows with the conversation
  var key = "qa-embed:" + location.pathname + (config.doc ? "?doc=" + config.doc : ""), state = {history: [], messages: []};
  try {
    var saved = JSON.parse(sessionStorage.getItem(key) || "null");
    if (saved && Array.isArray(saved.history) && Array.isArray(saved.messages)) state = saved;
  } catch (err) { /* storage blocked or garbled: start afresh */ }
  function save() {
    state.messages = state.messages.slice(-config.keepMessages);
    try { sessionStorage.setItem(key, JSON.stringify(state)); } catch (err) { /* storage blocked or full */ }
  }
  function postHeight() {
    if (window.parent === window) return;
    var height = Math.ceil(main.getBoundingClientRect().height);
    window.parent.postMessage({type: "qa-embed-height", height: height}, "*");
  }
  function render(message) {
    var div = document.createElement("div");
    div.className = "qa-msg qa-" + message.kind;
    if (message.kind === "bot") div.innerHTML = message.html; else div.textContent = message.text;
    div.querySelectorAll("a").forEach(function (a) { a.target = "_blank"; a.rel = "noopener"; });
    log.appendChild(div);
    return div;
  }
  function refresh() {
    fresh.hidden = state.messages.length === 0;
    examples.hidden = state.messages.length > 0;
    postHeight();
  }
  function reveal(div) {  // the newest exchange at the top of the conversation's visible part
    var question = div.previousElementSibling;
    var top = question && question.classList.contains("qa-user") &&
              question.getBoundingClientRect().height < log.clientHeight / 3 ? question : div;
    log.scrollTop += top.getBoundingClientRect().top - log.getBoundingClientRect().top - 4;
  }
  function add(kind, text, html) {
    var message = {kind: kind, text: text || "", html: html || ""};
    state.messages.push(message);
    save();
    var div = render(message);
    refresh();
    reveal(div);
    return div;
  }
  async function ask(question) {
    if (question.length > config.maxChars) {
      add("error", "Your question has " + question.length.toLocaleString("en") + " characters; the limit is " +
          config.maxChars.toLocaleString("en") + ". Shorten it and ask again.");
      return;
    }
    add("user", question);
    button.disabled = true;
    try {
      var response = await fetch(config.endpoint, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify({question: question, history: state.history.slice(-config.maxHistory),
                              top_k: config.topK, doc: config.doc})
      });
      var data = await response.json().catch(function () { return {}; });
      if (response.status === 503) add("error", "The server is busy; try again in a moment.");
      else if (!response.ok) add("error", data.error || ("Request failed (" + response.status + ")."));
      else {
        state.history.push(data.answer.question);
        state.history = state.history.slice(-config.maxHistory);
        add("bot", "", data.html);
      }
    } catch (err) {
      add("error", "Could not reach the server; try again.");
    } finally {
      button.disabled = false;
    }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question) { input.focus(); return; }
    input.value = "";
    ask(question);
  });
  examples.querySelectorAll("button").forEach(function (b) {
    b.addEventListener("click", function () { ask(b.textContent); });
  });
  fresh.addEventListener("click", function () {
    state = {history: [], messages: []};
    save();
    log.textContent = "";
    refresh();
    input.focus();
  });
  state.messages.forEach(render);
  refresh();
  if (log.lastElementChild) reveal(log.lastElementChild);
  if (window.ResizeObserver) new ResizeObserver(postHeight).observe(main);
  window.addEventListener("load", postHeight);
})();
"""

#: The embed's default maximum height in pixels (``/embed?max=N`` changes it; ``?max=0`` lets it grow).
EMBED_MAX_HEIGHT = 600


def embed_page(title: str, examples: list[str], top_k: int, max_history: int, max_chars: int,
               max_height: int = EMBED_MAX_HEIGHT, doc: str | None = None, about: str | None = None) -> str:
    """The ``/embed`` page: a compact chat without page chrome, for an iframe.

    The conversation scrolls inside a box of at most ``max_height`` pixels (the page's own
    ``?max=N`` wins; ``?max=0`` grows without a limit) and follows the newest answer; the
    page posts its height to the parent (``{"type": "qa-embed-height", "height": px}``),
    so the parent never needs to be taller than that. "New conversation" clears it; it is
    kept across reloads of the tab (``sessionStorage``).

    Args:
        title: shown as the heading.
        examples: example questions offered as buttons.
        top_k: citations per answer.
        max_history: earlier questions sent with each question.
        max_chars: longest question; a longer one is refused with a message, never cut.
        max_height: the default maximum height in pixels. Defaults to 600.
        doc: the id of the one document every question is answered from (sent with each question; "this
            page" is then that document, and the page says "this page" rather than "the article"). Defaults
            to None: any document.
        about: what the questions are about, in the input's placeholder and label. Defaults to "this page"
            with ``doc``, else "the article".

    Returns:
        A complete HTML page.
    """
    config = json.dumps({"endpoint": "embed/ask", "topK": top_k, "maxHistory": max_history, "maxChars": max_chars,
                         "maxHeight": max_height, "minHeight": 200, "keepMessages": 60, "doc": doc}
                        ).replace("<", "\\u003c")
    about = about or ("this page" if doc is not None else "the article")
    buttons = "".join(f'<button type="button">{esc(q)}</button>' for q in examples)
    body = (f'<main id="qa-embed" aria-labelledby="qa-embed-title">'
            f'<div class="qa-embed-head"><h1 id="qa-embed-title">Ask: {esc(title)}</h1>'
            f'<button type="button" id="qa-new" hidden>New conversation</button></div>'
            f'<div id="qa-log" role="log" aria-live="polite" aria-label="Conversation" tabindex="0"></div>'
            f'<form id="qa-form"><label class="qa-sr" for="qa-input">Your question about {about}</label>'
            f'<input id="qa-input" name="q" autocomplete="off" placeholder="Ask a question about {about}">'
            f'<button type="submit">Ask</button></form>'
            f'<div id="qa-examples" role="group" aria-label="Example questions">{buttons}</div></main>'
            f'<script type="application/json" id="qa-config">{config}</script>')
    return _page(esc(title), CARD_CSS + _EMBED_CSS, body, _EMBED_SCRIPT)
