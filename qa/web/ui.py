"""The Gradio page at ``/``: chat with citation cards beside the numbered article, and the batch tab.

Gradio endpoints (for ``gradio_client``): ``/ask`` (question, history, top_k -> answer
object), ``/batch`` (questions file, format, top_k -> answers file, summary) and ``/chat``
(the page's own chat event; undocumented). All of them call the one shared engine through
:class:`~qa.web.service.WebService` and its :class:`~qa.web.guards.Gate`.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr

from ..batch import INPUT_FORMATS, BatchError, QuestionFile, open_questions
from ..config import MAX_TOP_K
from ..question import QuestionError
from .events import GuardedBlocks
from .guards import Busy
from .pages import ARTICLE_CSS, CARD_CSS, FONT_STACK, LINK_COLOUR, MUTED_COLOUR
from .render import answer_html, article_html, esc, question_html

if TYPE_CHECKING:
    from .service import WebService

logger = logging.getLogger(__name__)

BUSY_MESSAGE = "The server is busy; try again in a moment."
#: Gradio's own cache (answers files waiting to be downloaded, uploads it refused or that were never run) is
#: swept every 10 minutes of files older than 30 minutes; uploads that are run are deleted at once.
CACHE_SWEEP = (600, 1800)
#: Documents shown in the article panel beside the chat (a wiki has thousands; a citation of another document
#: opens its passage in place, and its link opens /article/{id}).
PANEL_DOCS = 20
#: Formats offered for batch answers (``qa.batch`` picks the writer by extension).
BATCH_FORMATS = ("jsonl", "csv", "md")

#: Gradio's theme in the pages' one font stack (system fonts, nothing downloaded) and one link colour, with the
#: primary button and muted text at WCAG 2.1 AA contrast.
THEME = gr.themes.Default(primary_hue="blue", secondary_hue="blue", neutral_hue="zinc",
                          font=FONT_STACK.split(","), font_mono=["ui-monospace", '"DejaVu Sans Mono"', "monospace"]).set(
    button_primary_background_fill=LINK_COLOUR, button_primary_background_fill_hover="#1e40af",
    button_primary_text_color="#ffffff", link_text_color=LINK_COLOUR, link_text_color_visited=LINK_COLOUR,
    link_text_color_hover="#1e3a8a", body_text_color_subdued=MUTED_COLOUR, block_label_text_color=MUTED_COLOUR,
    block_title_text_color=MUTED_COLOUR, block_info_text_color=MUTED_COLOUR, color_accent=LINK_COLOUR)

PAGE_CSS = CARD_CSS + ARTICLE_CSS + """
#qa-chat .message .prose{opacity:1!important}
#qa-article-panel{max-height:72vh!important;overflow-y:auto!important;padding-right:.4em}
#qa-article-panel .qa-title{font-size:1.1em;margin:.2em 0 .6em}
#qa-header h1{font-size:1.35em;margin:.2em 0}
#qa-header p{margin:0;color:@MUTED@}
#qa-header a{color:@LINK@}
footer, footer a, footer button{color:@MUTED@!important;opacity:1!important}
#qa-restore{display:none!important}
.qa-skip{position:absolute;left:-9999px}
.qa-skip:focus{position:static;display:inline-block;padding:.2em .5em;background:#fff;color:@LINK@;
  outline:2px solid @LINK@;border-radius:4px}
.qa-card.qa-target-card{outline:2px solid @LINK@}
@media (max-width: 720px){
  /* a phone: one scroll area (the page); the chat grows with the conversation, no nested scroll boxes */
  #qa-chat, #qa-chat > div, #qa-chat .bubble-wrap{height:auto!important;max-height:none!important;
    overflow:visible!important}
  #qa-article-panel{max-height:none!important;overflow:visible!important}
  #qa-chat .message-row{margin:8px 4px 4px!important;max-width:calc(100% - 8px)!important}
  #qa-chat .bot-row{width:calc(100% - 8px)}
  #qa-chat .bubble-wrap{padding-top:36px!important}
}
""".replace("@LINK@", LINK_COLOUR).replace("@MUTED@", MUTED_COLOUR)

#: The chat page keeps the questions of the tab's conversation in ``sessionStorage`` (never the replies: on a
#: reload the server answers them again, so no HTML from the browser is ever shown), at most this many.
RESTORED_QUESTIONS = 30
_SAVED_KEY = "qa-chat-questions"
#: Saves the conversation's questions (the text of the user's messages) whenever the chat changes, once the
#: saved ones have been read (the empty chat of a fresh page must not overwrite them first).
SAVE_JS = """(chat) => {
  if (!window.qaChatRestored) return;
  try {
    var asked = (chat || []).filter(function (m) { return m && m.role === "user"; }).map(function (m) {
      var c = m.content, html = typeof c === "string" ? c : Array.isArray(c) ? c.map(function (part) {
        return typeof part === "string" ? part : (part && (part.text || part.value)) || ""; }).join("") : "";
      return new DOMParser().parseFromString(html, "text/html").body.textContent;
    });
    sessionStorage.setItem("@KEY@", JSON.stringify(asked.slice(-@N@)));
  } catch (err) { /* storage blocked: the conversation is not kept */ }
}""".replace("@KEY@", _SAVED_KEY).replace("@N@", str(RESTORED_QUESTIONS))
#: Reads them back (the click of the hidden "restore" button, see :data:`PAGE_HEAD`).
LOAD_JS = """() => {
  window.qaChatRestored = true;
  try { return sessionStorage.getItem("@KEY@") || ""; } catch (err) { return ""; }
}""".replace("@KEY@", _SAVED_KEY)

#: The chat page's behaviour (and the one style rule Gradio's scoped ``css`` cannot reach):
#: - after each reply the answer's first line is scrolled into view (the chat's own autoscroll is off);
#: - a click on a citation highlights its sentence in the article panel beside the chat, scrolling only the
#:   panel; where the panel is not beside the chat (a phone), it opens the source's passage in place instead;
#:   a modified click (Ctrl+click) still opens ``/article#p..-s..`` in a new tab;
#: - the "Skip to the sources" link after the Ask button moves the focus to the latest answer's first source;
#: - on load, a conversation kept in the tab's ``sessionStorage`` is answered again (the hidden restore button).
PAGE_HEAD = """<style>
/* outside Gradio's scoped custom CSS: the page's own margins on a phone */
@media (max-width: 720px){ .gradio-container .main.app{padding:8px 6px!important} }
</style>
<script>
(function () {
  function chatBox() { return document.getElementById("qa-chat"); }
  function scroller(el) {  // the nearest ancestor inside the chat that scrolls
    for (var node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      var style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight + 1) return node;
    }
    return null;
  }
  function reveal(reply) {
    var message = reply.closest(".message-row") || reply.closest("[data-testid=bot]") || reply;
    var rows = Array.prototype.slice.call(chatBox().querySelectorAll(".message-row"));
    var box = scroller(message), asked = rows[rows.indexOf(message) - 1], anchor = message;
    var room = box ? box.clientHeight : window.innerHeight;
    // the question too, when it is short: the answer then reads under it
    if (asked && asked.classList.contains("user-row") && rows.indexOf(message) > 0 &&
        message.getBoundingClientRect().top - asked.getBoundingClientRect().top < room / 4) anchor = asked;
    if (box) box.scrollTop += anchor.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    var top = message.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) window.scrollBy(0, anchor.getBoundingClientRect().top - 12);
  }
  // The tab's saved conversation: ask the server to answer its questions again (button wired in build_blocks).
  var tries = 0;
  (function restore() {
    var button = document.getElementById("qa-restore");
    if (!button) { if (++tries < 200) setTimeout(restore, 50); else window.qaChatRestored = true; return; }
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem("@KEY@") || "null"); } catch (err) { saved = null; }
    if (Array.isArray(saved) && saved.length) button.click(); else window.qaChatRestored = true;
  })();
  var seen = 0;
  function check() {
    var chat = chatBox();
    var replies = chat ? chat.querySelectorAll(".qa-reply") : [];
    if (replies.length > seen) reveal(replies[replies.length - 1]);
    seen = replies.length;
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; check(); setTimeout(check, 60); });
  }).observe(document.documentElement, {childList: true, subtree: true});

  function inPanel(link, panel) {
    var url = new URL(link.getAttribute("href"), location.href);
    var path = /\\/article\\/([^\\/]+)$/.exec(url.pathname), name = decodeURIComponent(url.hash.slice(1));
    var doc = path ? decodeURIComponent(path[1]) : null;
    var article = doc ? panel.querySelector('article[data-doc="' + CSS.escape(doc) + '"]')
                      : panel.querySelector("article");
    return article && article.querySelector('[data-anchor="' + CSS.escape(name) + '"]');
  }
  function beside(panel) {
    var chat = chatBox(), a = panel.getBoundingClientRect(), b = chat && chat.getBoundingClientRect();
    return b && a.width > 0 && a.left >= b.right - 1;
  }
  function openInPlace(link) {
    var reply = link.closest(".qa-reply"), marker = /\\bqa-to-(\\d+)\\b/.exec(link.className);
    var card = marker ? reply && reply.querySelector(".qa-card-" + marker[1]) : link.closest(".qa-card");
    if (!card) return false;
    var closest = card.closest("details.qa-closest");
    if (closest) closest.open = true;
    var more = card.querySelector("details.qa-more");
    if (more) more.open = marker ? true : !more.open;
    reply.querySelectorAll(".qa-target-card").forEach(function (el) { el.classList.remove("qa-target-card"); });
    card.classList.add("qa-target-card");
    var top = card.getBoundingClientRect().top;  // a marker's card may be out of view; a card's own link is not
    if (top < 0 || top > window.innerHeight - 60) card.scrollIntoView({block: "start"});
    return true;
  }
  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var skip = event.target.closest && event.target.closest("a.qa-skip");
    if (skip) {
      var chat = chatBox(), replies = chat ? chat.querySelectorAll(".qa-reply") : [];
      var first = replies.length && replies[replies.length - 1].querySelector("a.qa-cite-link, summary");
      event.preventDefault();
      if (first) { reveal(replies[replies.length - 1]); first.focus(); }
      return;
    }
    var link = event.target.closest && event.target.closest("a.qa-cite-link");
    var panel = document.getElementById("qa-article-panel");
    if (!link || !panel) return;
    var target = inPanel(link, panel);
    if (!beside(panel) || !target) {
      if (openInPlace(link)) { event.preventDefault(); event.stopPropagation(); }
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    panel.querySelectorAll(".qa-target,.qa-target-p").forEach(function (el) {
      el.classList.remove("qa-target", "qa-target-p");
    });
    target.classList.add("qa-target");
    var paragraph = target.closest(".qa-p");
    if (paragraph) paragraph.classList.add("qa-target-p");
    // scroll the panel only (never the page): the sentence to the panel's middle
    var box = panel.getBoundingClientRect(), at = target.getBoundingClientRect();
    panel.scrollTo({top: panel.scrollTop + at.top - box.top - (box.height - at.height) / 2, behavior: "smooth"});
  }, true);
})();
</script>""".replace("@KEY@", _SAVED_KEY)

#: The question box's accessible name (shown to screen readers; the placeholder says the same on screen), about
#: "the article", or "the documents" in a corpus of several.
QUESTION_LABEL = "Your question about {about}"


def capitalised(message: str) -> str:
    """``message`` with its first letter in upper case (for toasts: "Question is empty; ...")."""
    return message[:1].upper() + message[1:]


@dataclass(frozen=True)
class NamedQuestions(QuestionFile):
    """An uploaded questions file that calls itself by the name the user gave it, not by its server path."""

    display_name: str = ""

    @property
    def name(self) -> str:
        return self.display_name or super().name

    @classmethod
    def of(cls, source: QuestionFile, display_name: str) -> "NamedQuestions":
        """``source`` (from :func:`qa.batch.open_questions`) shown as ``display_name``."""
        return cls(**{f.name: getattr(source, f.name) for f in fields(source)}, display_name=display_name)


def _run_folder(ctx: "WebService", keep_seconds: float = 3600.0) -> Path:
    """A new private folder for one batch run, inside the app's private batch folder (both mode 0700).

    A run removes its own folder when it ends; folders older than ``keep_seconds`` (left by a
    process killed mid-run) are removed here too.
    """
    with ctx.lock:
        if ctx.batch_root is None or not ctx.batch_root.is_dir():
            ctx.batch_root = Path(tempfile.mkdtemp(prefix="qa-web-batch-"))
        now = time.time()
        for old in ctx.batch_root.iterdir():
            if now - old.stat().st_mtime > keep_seconds:
                shutil.rmtree(old, ignore_errors=True)
        return Path(tempfile.mkdtemp(prefix="run-", dir=ctx.batch_root))


def display_name(name: str, limit: int = 80) -> str:
    """An uploaded file's name for messages and the report heading: no control characters, at most ``limit`` long."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in name).strip() or "questions"
    return shown if len(shown) <= limit else shown[:limit - 1] + "…"


def _discard_upload(path: Path) -> None:
    """Delete Gradio's cached copy of an upload (only ever inside Gradio's upload folder)."""
    root = Path(gr.utils.get_upload_folder()).resolve()
    try:
        resolved = path.resolve()
        if resolved.is_relative_to(root) and resolved != root:
            resolved.unlink(missing_ok=True)
            if resolved.parent != root:
                resolved.parent.rmdir()  # Gradio's one-upload folder, if nothing else is in it
    except OSError:
        pass


def take_upload(upload: Path, folder: Path, limit: int) -> Path:
    """Move an uploaded questions file into the private ``folder`` under a generated name.

    The copy is ``questions.txt``, ``.csv`` or ``.jsonl`` (the extension is the only part of the
    user's file name that is used, and only from that list); at most ``limit`` bytes are copied.
    Gradio's cached upload is deleted whatever happens.

    Returns:
        The private copy.

    Raises:
        gradio.Error: the upload is gone, has another extension, or is over ``limit`` bytes.
    """
    try:
        suffix = upload.suffix.lower()
        if suffix not in INPUT_FORMATS:
            raise gr.Error(f"The questions file must be .txt, .csv or .jsonl; got {esc(suffix or 'no extension')}.")
        target, copied = folder / f"questions{suffix}", 0
        too_big = gr.Error(f"The questions file is over {limit / 2**20:g} MB. Split it into smaller files.")
        try:
            with open(upload, "rb") as source, open(target, "xb") as sink:
                if os.fstat(source.fileno()).st_size > limit:
                    raise too_big
                while chunk := source.read(1 << 20):
                    copied += len(chunk)
                    if copied > limit:  # grew after the check
                        raise too_big
                    sink.write(chunk)
        except FileNotFoundError:
            raise gr.Error("The uploaded file is gone (each upload is deleted once it is answered); "
                           "upload it again.") from None
        return target
    finally:
        _discard_upload(upload)


def _history_text(questions: list[str] | None, limit: int) -> list[str]:
    return [q for q in (questions or []) if isinstance(q, str)][-limit:]


def build_blocks(ctx: "WebService") -> gr.Blocks:
    """The Gradio UI for ``ctx``'s engine and settings (queue configured; not yet mounted).

    Args:
        ctx: the web app's shared engine, settings, gate and link builders.

    Returns:
        The :class:`gradio.Blocks` to mount at ``/``.
    """
    engine, settings = ctx.engine, ctx.settings
    several = len(engine.docs) > 1     # a wiki: the heading names no page in particular, as /embed does
    title = f"all {len(engine.docs):,} documents" if several else engine.docs[0].title if engine.docs else "the article"
    about = "the documents" if several else "the article"

    def respond(message: str, chat: list, questions: list, request: gr.Request):
        """Answer one chat message; the earlier questions of this conversation are the history."""
        chat = list(chat or [])
        questions = _history_text(questions, settings.max_history)
        try:
            answer = ctx.ask_from_chat(message or "", questions)
        except QuestionError as exc:   # the engine's word on an empty question
            gr.Warning(capitalised(str(exc)))
            return message, chat, questions
        except Busy:
            raise gr.Error(BUSY_MESSAGE) from None
        chat.append({"role": "user", "content": question_html(message)})
        chat.append({"role": "assistant", "content": answer_html(answer, ctx.page_linker)})
        return "", chat, [*questions, answer.question][-settings.max_history:]

    def restore(saved: str | None):
        """The tab's conversation after a reload: its saved questions (JSON list) answered again, in order."""
        try:
            asked = json.loads(saved) if saved else []
        except ValueError:
            asked = []
        asked = [q for q in (asked if isinstance(asked, list) else []) if isinstance(q, str)][-RESTORED_QUESTIONS:]
        if not asked:  # nothing kept: leave the chat alone (a question asked at once may already be answered)
            return gr.skip(), gr.skip()
        chat, questions = [], []
        for question in asked:
            try:
                answer = ctx.ask_from_chat(question, questions)
            except (QuestionError, Busy):
                continue
            chat += [{"role": "user", "content": question_html(question)},
                     {"role": "assistant", "content": answer_html(answer, ctx.page_linker)}]
            questions = [*questions, answer.question][-settings.max_history:]
        return chat, questions

    def ask(question: str, history: list[str] | None = None, top_k: int = settings.top_k,
            request: gr.Request = None) -> dict:
        """Answer a question about the article with cited passages.

        Args:
            question: the question.
            history: earlier questions of the conversation, oldest first (at most 20).
            top_k: number of citations, 1 to 20.

        Returns:
            The answer object of ``GET /api/ask`` (answer, answerable, citations with url, ...).
        """
        question, history, top_k = ctx.gradio_inputs(question, history, top_k)
        try:
            answer = ctx.ask(question, history, top_k)
        except (QuestionError, ValueError) as exc:   # the client's mistake: no traceback in the log
            raise gr.Error(str(exc), print_exception=False) from None
        except Busy:
            raise gr.Error(BUSY_MESSAGE) from None
        return ctx.answer_json(answer, ctx.base_url_from_headers(dict(request.headers) if request else {}))

    def batch(upload: str | None, fmt: str, top_k: float, request: gr.Request):
        """Answer every question of an uploaded file; gives the answers file and a one-line summary.

        The upload is copied into a private folder under a generated name and Gradio's copy is
        deleted; the answers are written there too. The folder is deleted once Gradio has taken the
        answers file for the download (this is a generator so that the cleanup runs after that).
        """
        if not upload:
            raise gr.Error("Choose a questions file first (.txt, .csv or .jsonl).")
        if fmt not in BATCH_FORMATS:
            raise gr.Error(f"answers format must be one of {', '.join(BATCH_FORMATS)}; got {esc(repr(fmt))}")
        if not 1 <= top_k <= MAX_TOP_K:  # NaN passes the slider's own check
            raise gr.Error(f"citations per answer must be a number from 1 to {MAX_TOP_K}", print_exception=False)
        shown = display_name(Path(upload).name)
        folder = _run_folder(ctx)
        try:
            questions = take_upload(Path(upload), folder, settings.max_upload_bytes)
            out_path = folder / f"answers.{fmt}"
            base = ctx.base_url_from_headers(dict(request.headers) if request else {})
            try:
                source = NamedQuestions.of(open_questions(questions), shown)
                summary = ctx.answer_file(source, out_path, top_k=int(top_k), base_url=base,
                                          max_questions=settings.max_batch_questions)
            except BatchError as exc:  # unreadable file, too many questions: say so without server paths
                raise gr.Error(esc(str(exc).replace(str(questions), shown))) from None
            except Busy:
                raise gr.Error(BUSY_MESSAGE) from None
            logger.info("batch %s: %s", shown, summary.line())
            yield str(out_path), summary.line()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    with GuardedBlocks(title=f"Ask: {title}" if several else f"Ask the article: {title}", analytics_enabled=False,
                       delete_cache=CACHE_SWEEP) as demo:
        heading = title[:1].upper() + title[1:]
        gr.HTML(f'<div id="qa-header"><h1>{esc(heading)}</h1><p>Ask questions about {about}; every answer '
                + ("cites the paragraphs it comes from, with their page's title.</p></div>" if several else
                   'cites the paragraphs it comes from. <a href="article" target="_blank">Read the article</a>'
                   '</p></div>'), padding=False)
        questions = gr.State([])
        saved = gr.Textbox(visible=False)  # the questions kept in sessionStorage, read on load
        # clicked by the page's script on load, only when the tab has a conversation to restore (an event run
        # on every load raced with a question asked at once, whose reply then never showed)
        restore_button = gr.Button("Restore the conversation", elem_id="qa-restore")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(label="Conversation", show_label=False, elem_id="qa-chat", height=560,
                                          autoscroll=False,
                                          allow_tags=False, latex_delimiters=[], sanitize_html=True, buttons=["copy"],
                                          feedback_options=None,
                                          placeholder="Ask a question below, or click an example.")
                        with gr.Row():
                            # no max_length: the browser would cut a long question silently; the engine
                            # cuts it and the reply says so (its note)
                            box = gr.Textbox(placeholder=f"Ask a question about {about} and press Enter",
                                             label=QUESTION_LABEL.format(about=about), show_label=False, elem_id="q",
                                             scale=5, autofocus=True)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
                        gr.HTML('<a class="qa-skip" href="#qa-chat">Skip to the sources of the latest answer</a>',
                                padding=False)
                        examples = gr.Examples(list(map(list, zip(settings.examples))), inputs=[box],
                                               label="Example questions", examples_per_page=10)
                        new = gr.Button("New conversation", size="sm", elem_id="qa-new")
                    with gr.Column(scale=2, min_width=280):
                        gr.HTML("".join(article_html(doc, engine.data.sentences, ctx.page_linker, panel=True)
                                        for doc in engine.docs[:PANEL_DOCS]), elem_id="qa-article-panel",
                                label="Article", padding=False)
            with gr.Tab("Batch", id="batch"):
                gr.Markdown(
                    f"Upload a questions file and download the answers with citations.\n\n"
                    f"- **.txt**: one question per line (`#` comments and blank lines skipped)\n"
                    f"- **.csv**: a `question` column (optional `id`, `history`)\n"
                    f"- **.jsonl**: objects with `question` (optional `id`, `history`)\n\n"
                    f"At most {settings.max_upload_bytes / 2**20:g} MB and "
                    f"{settings.max_batch_questions:,} questions per file.")
                with gr.Row():
                    upload = gr.File(label="Questions file", file_types=[".txt", ".csv", ".jsonl"],
                                     type="filepath", elem_id="qa-batch-file")
                    with gr.Column():
                        fmt = gr.Radio(list(BATCH_FORMATS), value="jsonl", label="Answers format",
                                       elem_id="qa-batch-format")
                        top_k = gr.Slider(1, MAX_TOP_K, value=settings.top_k, step=1, label="Citations per answer")
                        run = gr.Button("Answer all", variant="primary", elem_id="qa-batch-run")
                status = gr.Textbox(label="Result", interactive=False, elem_id="qa-batch-status")
                result = gr.File(label="Answers", interactive=False, elem_id="qa-batch-result")

        chat_io = dict(fn=respond, inputs=[box, chat, questions], outputs=[box, chat, questions],
                       concurrency_id="engine", show_progress="minimal")
        box.submit(api_name="chat", api_visibility="undocumented", **chat_io)
        send.click(api_visibility="private", **chat_io)
        examples.load_input_event.then(api_visibility="private", **chat_io)
        new.click(lambda: ([], []), None, [chat, questions], api_visibility="private", queue=False)
        chat.clear(lambda: [], None, [questions], api_visibility="private", queue=False)
        chat.change(None, [chat], None, js=SAVE_JS, api_visibility="private", queue=False)
        restore_button.click(restore, [saved], [chat, questions], js=LOAD_JS, api_visibility="private",
                             concurrency_id="engine")
        run.click(batch, [upload, fmt, top_k], [result, status], api_name="batch", concurrency_limit=1)
        gr.api(ask, api_name="ask", concurrency_id="engine")
    demo.queue(default_concurrency_limit=settings.chat_concurrency, max_size=settings.queue_size)
    return demo

