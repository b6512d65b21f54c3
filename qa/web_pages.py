"""The two plain HTML pages: ``/article`` (the article with sentence anchors) and ``/embed`` (compact chat for iframes).

Neither page loads anything from another site. ``/embed`` calls ``embed/ask``
(same JSON body as ``POST /api/ask``) and inserts the reply HTML the server
built with :mod:`qa.web_render`; the user's own text is only ever set with
``textContent``. It tells its parent window its height with ``postMessage``
(``{"type": "qa-embed-height", "height": <px>}``) so a wiki can size the iframe.
"""
from __future__ import annotations

import json
import logging

from .web_render import Linker, article_html, esc

logger = logging.getLogger(__name__)

#: Styles shared by the article view, the embed view and the chat page's reply cards.
CARD_CSS = """
.qa-reply p{margin:0 0 .4em}
.qa-answer{font-weight:500}
.qa-not-covered{color:#9a3412}
.qa-note{font-size:.85em;opacity:.8}
.qa-label{font-size:.85em;text-transform:uppercase;letter-spacing:.04em;opacity:.75;margin-top:.6em!important}
.qa-cites{list-style:none;padding:0!important;margin:.2em 0 0!important}
.qa-card{border:1px solid #d4d4d8;border-left:4px solid #2563eb;border-radius:6px;padding:.35em .6em;
  margin:.35em 0!important}
.qa-related .qa-card{border-left-color:#a1a1aa}
.qa-n{font-weight:600}
.qa-cite-link{font-weight:600}
.qa-score{font-size:.8em;opacity:.75;margin-left:.4em}
.qa-quote{margin:.25em 0 0!important;padding:0 0 0 .2em!important;border:0!important;font-style:normal!important}
mark.qa-hit{background:#fde68a;color:#111;padding:0 .1em;border-radius:2px}
.qa-question{white-space:pre-wrap}
"""

ARTICLE_CSS = """
.qa-article{line-height:1.55}
.qa-p{margin:0 0 .9em;padding:.2em .4em;border-radius:6px;scroll-margin-top:30vh}
.qa-pn{display:inline-block;min-width:1.8em;margin-right:.3em;font-size:.8em;font-weight:700;color:#2563eb;
  text-decoration:none;border:1px solid #bfdbfe;border-radius:4px;text-align:center}
.qa-s{border-radius:3px;scroll-margin-top:30vh}
.qa-p.qa-target-p,.qa-p:target{background:#eff6ff;outline:2px solid #93c5fd}
.qa-s.qa-target,.qa-s:target{background:#fde68a;color:#111}
"""

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
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#18181b;background:#fff}}
a{{color:#1d4ed8}}
{css}
</style></head>
<body>{body}
<script>{script}</script>
</body></html>
"""


def article_page(doc, sentences, linker: Linker, other_docs: list | None = None) -> str:
    """The full ``/article`` page: numbered paragraphs, sentence anchors ``p{n}-s{i}``, highlight on arrival.

    Args:
        doc: the document shown.
        sentences: the index's sentences.
        linker: builds links (relative to the app root).
        other_docs: documents listed as links above the article. Defaults to none.

    Returns:
        A complete HTML page.
    """
    nav = ""
    if other_docs:
        items = "".join(f'<li><a href="{esc(linker.article(d.id))}">{esc(d.title)}</a></li>' for d in other_docs)
        nav = f'<nav class="qa-docs"><p>Other documents:</p><ul>{items}</ul></nav>'
    body = (f'<main style="max-width:46rem;margin:0 auto;padding:1rem 1.2rem 40vh">'
            f'<p><a href="{esc(linker.base or "./")}">← Ask a question about this article</a></p>{nav}'
            f'{article_html(doc, sentences, linker)}</main>')
    return _PAGE.format(title=esc(doc.title), css=ARTICLE_CSS, body=body, script=_ARTICLE_SCRIPT)


_EMBED_CSS = """
body{font-size:15px;background:transparent}
#qa-embed{padding:.5rem;max-width:100%;box-sizing:border-box}
#qa-embed h1{font-size:1rem;margin:0 0 .4rem}
#qa-log{display:flex;flex-direction:column;gap:.4rem}
.qa-msg{padding:.45em .7em;border-radius:10px;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere}
.qa-msg.qa-user{align-self:flex-end;background:#e0e7ff;white-space:pre-wrap}
.qa-msg.qa-bot{align-self:stretch;background:#f4f4f5}
.qa-msg.qa-error{background:#fee2e2;color:#7f1d1d}
#qa-form{display:flex;gap:.4rem;margin-top:.5rem}
#qa-input{flex:1;font:inherit;padding:.45em .6em;border:1px solid #a1a1aa;border-radius:8px;min-width:0}
#qa-form button{font:inherit;padding:.45em .9em;border:0;border-radius:8px;background:#2563eb;color:#fff;cursor:pointer}
#qa-form button[disabled]{opacity:.6;cursor:wait}
.qa-examples{display:flex;flex-wrap:wrap;gap:.3rem;margin-top:.4rem}
.qa-examples button{font:inherit;font-size:.8em;padding:.2em .6em;border:1px solid #d4d4d8;border-radius:999px;
  background:#fff;cursor:pointer}
"""

#: The embed's behaviour. Server HTML (already escaped) goes in with innerHTML; user text only via textContent.
_EMBED_SCRIPT = """
(function () {
  var config = JSON.parse(document.getElementById("qa-config").textContent);
  var log = document.getElementById("qa-log"), form = document.getElementById("qa-form");
  var input = document.getElementById("qa-input"), button = form.querySelector("button");
  var history = [];
  function postHeight() {
    if (window.parent === window) return;
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    window.parent.postMessage({type: "qa-embed-height", height: height}, "*");
  }
  function add(kind, text, html) {
    var div = document.createElement("div");
    div.className = "qa-msg qa-" + kind;
    if (html !== undefined) div.innerHTML = html; else div.textContent = text;
    div.querySelectorAll("a").forEach(function (a) { a.target = "_blank"; a.rel = "noopener"; });
    log.appendChild(div);
    postHeight();
    return div;
  }
  async function ask(question) {
    add("user", question);
    button.disabled = true;
    try {
      var response = await fetch(config.endpoint, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify({question: question, history: history.slice(-config.maxHistory), top_k: config.topK})
      });
      var data = await response.json().catch(function () { return {}; });
      if (response.status === 503) add("error", "The server is busy; try again in a moment.");
      else if (!response.ok) add("error", data.error || ("Request failed (" + response.status + ")."));
      else { history.push(data.answer.question); add("bot", "", data.html); }
    } catch (err) {
      add("error", "Could not reach the server; try again.");
    } finally {
      button.disabled = false;
    }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question) return;
    input.value = "";
    ask(question);
  });
  document.querySelectorAll(".qa-examples button").forEach(function (b) {
    b.addEventListener("click", function () { ask(b.textContent); });
  });
  if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.body);
  window.addEventListener("load", postHeight);
  postHeight();
})();
"""


def embed_page(title: str, examples: list[str], top_k: int, max_history: int, max_chars: int) -> str:
    """The ``/embed`` page: a compact chat without page chrome, for an iframe.

    Args:
        title: shown as a small heading.
        examples: example questions offered as buttons.
        top_k: citations per answer.
        max_history: earlier questions sent with each question.
        max_chars: longest question the input accepts.

    Returns:
        A complete HTML page.
    """
    config = json.dumps({"endpoint": "embed/ask", "topK": top_k, "maxHistory": max_history}).replace("<", "\\u003c")
    buttons = "".join(f'<button type="button">{esc(q)}</button>' for q in examples)
    body = (f'<div id="qa-embed"><h1>Ask: {esc(title)}</h1>'
            f'<div id="qa-log" aria-live="polite"></div>'
            f'<form id="qa-form"><input id="qa-input" name="q" autocomplete="off" maxlength="{max_chars}" '
            f'placeholder="Ask a question about the article" aria-label="Question">'
            f'<button type="submit">Ask</button></form>'
            f'<div class="qa-examples">{buttons}</div></div>'
            f'<script type="application/json" id="qa-config">{config}</script>')
    return _PAGE.format(title=esc(title), css=CARD_CSS + _EMBED_CSS, body=body, script=_EMBED_SCRIPT)
