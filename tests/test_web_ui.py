"""The Gradio side under load and with uploads: several chats at once, a full queue says "busy", batch uploads
are handled in a private folder under generated names and deleted once the answers are handed over.

Everything goes through ``gradio_client`` against a real uvicorn server on 127.0.0.1.
"""
from __future__ import annotations

import json
import re
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from gradio_client.utils import QueueError

from qa.web import ui as web_ui
from qa.web import RunningServer, WebSettings, create_app

QUESTION = "What kind of digital theft did the 2015 agreement bar?"


@pytest.fixture(scope="module")
def server(engine):
    with RunningServer(create_app(engine, WebSettings())) as running:
        yield running


def client(server) -> Client:
    return Client(server.url, verbose=False)


# -- queue --------------------------------------------------------------------------------------

def test_several_chat_users_are_served_at_once(server, engine, monkeypatch):
    """Four chats (the default concurrency) must be inside the engine together, or the barrier breaks."""
    settings = server.server.config.app.state.qa.settings
    assert settings.chat_concurrency == 4 and settings.queue_size == 32
    together = threading.Barrier(settings.chat_concurrency, timeout=20)
    ask = engine.ask

    def ask_together(*args, **kwargs):
        together.wait()
        return ask(*args, **kwargs)

    monkeypatch.setattr(engine, "ask", ask_together)

    def chat(i: int) -> list:
        _, history = client(server).predict(f"{QUESTION} ({i})", [], api_name="/chat")
        return history

    started = time.perf_counter()
    with ThreadPoolExecutor(settings.chat_concurrency) as pool:
        histories = list(pool.map(chat, range(settings.chat_concurrency)))
    assert not together.broken and time.perf_counter() - started < 20
    for history in histories:
        assert [m["role"] for m in history] == ["user", "assistant"]
        assert "qa-card" in str(history[1]["content"])


@pytest.mark.slow
def test_full_queue_answers_busy_try_again(engine, monkeypatch):
    """One event at a time and one waiting: a third caller is told the queue is full, at once."""
    release, entered = threading.Event(), threading.Event()
    ask = engine.ask

    def stuck(*args, **kwargs):
        entered.set()
        release.wait(30)
        return ask(*args, **kwargs)

    monkeypatch.setattr(engine, "ask", stuck)
    running = RunningServer(create_app(engine, WebSettings(chat_concurrency=1, queue_size=1)))
    try:
        first = client(running).submit(QUESTION, api_name="/ask")
        assert entered.wait(20)
        second = client(running).submit(QUESTION, api_name="/ask")
        time.sleep(0.5)  # let it join the queue
        started = time.perf_counter()
        with pytest.raises(QueueError, match="Queue is full! Please try again."):
            client(running).predict(QUESTION, api_name="/ask")
        assert time.perf_counter() - started < 5
        raw = httpx.post(running.url + "gradio_api/call/ask", json={"data": [QUESTION]}, timeout=10)
        assert raw.status_code == 503 and "Queue is full" in raw.json()["detail"]
        release.set()
        assert first.result(timeout=30)["citations"] and second.result(timeout=30)["citations"]
    finally:
        release.set()
        running.stop()


# -- batch uploads ------------------------------------------------------------------------------

def test_batch_upload_uses_a_private_folder_and_generated_names_then_deletes_them(server, engine, tmp_path,
                                                                                 monkeypatch):
    ctx = server.server.config.app.state.qa
    seen = []
    real_open = web_ui.open_questions

    def spy(path):
        seen.append(Path(path))
        return real_open(path)

    monkeypatch.setattr(web_ui, "open_questions", spy)
    hostile = tmp_path / "..;rm -rf ~;<img src=x onerror=alert(1)> team quiz.txt"
    hostile.write_text(f"{QUESTION}\nWho wrote the article?\n", encoding="utf-8")
    answers, summary = client(server).predict(handle_file(str(hostile)), "md", 2, api_name="/batch")

    assert summary.startswith("read 2 questions: ")
    report = Path(answers).read_text(encoding="utf-8")
    assert report.startswith("# Answers to ") and "team quiz.txt" in report and "<img" not in report
    assert Path(answers).name == "answers.md"  # generated, nothing from the upload's name
    # the file the engine read was a private copy under a generated name ...
    (copy,) = seen
    assert copy.name == "questions.txt" and copy.parent.parent == ctx.batch_root
    assert stat.S_IMODE(ctx.batch_root.stat().st_mode) == 0o700
    # ... and it, its folder and Gradio's cached upload are gone once the answers were handed over
    assert not copy.parent.exists() and list(ctx.batch_root.iterdir()) == []
    uploads = Path(web_ui.gr.utils.get_upload_folder())
    assert not [p for p in uploads.rglob("*team quiz*")], "Gradio's copy of the upload was kept"


def test_batch_upload_over_the_cap_or_of_another_type_is_refused_and_deleted(server, engine, tmp_path):
    ctx = server.server.config.app.state.qa
    limit = ctx.settings.max_upload_bytes
    uploads = Path(web_ui.gr.utils.get_upload_folder())
    # over the cap: Gradio's upload route refuses it before anything is kept (take_upload caps it again)
    refused = httpx.post(server.url + "gradio_api/upload", timeout=30,
                         files={"files": ("big-quiz.txt", b"Who wrote it?\n" * (limit // 14 + 10), "text/plain")})
    assert refused.status_code == 413 and not list(uploads.rglob("*big-quiz*"))
    other = tmp_path / "quiz-other.pdf"
    other.write_bytes(b"%PDF-1.4 Who wrote it?\n")
    # another type: Gradio's File component refuses it before the batch runs (the refused upload is left to
    # Gradio's cache clean-up, see delete_cache in qa.web.ui)
    with pytest.raises(AppError, match=r"Invalid file type.*'\.txt', '\.csv', '\.jsonl'"):
        client(server).predict(handle_file(str(other)), "jsonl", 3, api_name="/batch")
    assert not ctx.batch_root or list(ctx.batch_root.iterdir()) == []


def test_take_upload_copies_at_most_the_limit_and_never_uses_the_name(tmp_path):
    upload, folder = tmp_path / "up" / "../evil name.CSV", tmp_path / "private"
    (tmp_path / "up").mkdir()
    folder.mkdir()
    upload.write_bytes(b"question\nWho?\n")
    copy = web_ui.take_upload(upload, folder, limit=100)
    assert copy == folder / "questions.csv" and copy.read_bytes() == b"question\nWho?\n"
    assert upload.exists()  # not in Gradio's upload folder: never deleted
    second = tmp_path / "private2"
    second.mkdir()
    with pytest.raises(web_ui.gr.Error, match="The questions file is over"):
        web_ui.take_upload(upload, second, limit=10)
    assert list(second.iterdir()) in ([], [second / "questions.csv"])
    assert web_ui.display_name("a\x00b\nc.txt") == "a?b?c.txt" and len(web_ui.display_name("x" * 500)) == 80


def test_batch_error_messages_escape_text_from_the_file(server, tmp_path):
    """Gradio renders error toasts as HTML: a header cell like <b>...</b> must arrive escaped."""
    bad = tmp_path / "no-question.csv"
    bad.write_text("<img src=x onerror=alert(1)>,it's\n1,2\n", encoding="utf-8")
    with pytest.raises(AppError) as refused:
        client(server).predict(handle_file(str(bad)), "jsonl", 3, api_name="/batch")
    message = str(refused.value)
    assert "no &#x27;question&#x27; column" in message and "&lt;img src=x onerror=alert(1)&gt;" in message
    assert "<img" not in message and str(tmp_path) not in message


# -- corpus text in the pages -------------------------------------------------------------------

EVIL_DOC = """# <script>alert('title')</script> Evil & "quoted" title

The first paragraph has <img src=x onerror=alert(1)> in it and a [link](javascript:alert(2)) too. \
The 2015 agreement barred cyber theft of <b onclick=alert(3)>secrets</b> for gain.

A second paragraph ends with </article><script>alert(4)</script> and an ampersand & more.
"""


def test_corpus_text_is_escaped_in_the_article_view_chat_panel_and_replies(tmp_path):
    from qa import Engine

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "evil'<b>doc.md").write_text(EVIL_DOC, encoding="utf-8")
    engine = Engine.load(corpus=corpus, index=tmp_path / "index")
    with RunningServer(create_app(engine, WebSettings())) as running, \
            httpx.Client(base_url=running.url, timeout=30) as http:
        responses = {"/article": http.get("/article"),
                     "/article/{doc}": http.get("/article/" + quote("evil'<b>doc.md", safe="")),
                     "/": http.get("/"),
                     "/ (config)": http.get("/config"),
                     "/embed": http.get("/embed"),
                     "/embed/ask": http.post("/embed/ask", json={"question": "What did the 2015 agreement bar?"})}
    assert all(r.status_code == 200 for r in responses.values()), {k: r.status_code for k, r in responses.items()}
    pages = {name: r.text for name, r in responses.items()}
    pages["/embed/ask"] = responses["/embed/ask"].json()["html"]
    config = responses["/ (config)"].json()
    assert config.pop("title").startswith("Ask the article: <script>")  # the tab title: set as text, never as HTML
    pages["/ (config)"] = json.dumps(config, ensure_ascii=False)
    for name, page in pages.items():
        for raw in ("<script>alert", "<img src=x", "<b onclick", "<b>doc", "</article><script"):
            assert raw not in page, f"{name} has {raw!r} unescaped"
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["/article"]
    title = "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; Evil &amp; &quot;quoted&quot; title"
    assert title in pages["/article"]
    assert "&lt;b onclick=alert(3)&gt;secrets&lt;/b&gt;" in pages["/embed/ask"]
    assert "Evil &amp; &quot;quoted&quot; title" in pages["/article/{doc}"]


# -- pages --------------------------------------------------------------------------------------

def test_head_on_the_pages_answers_like_get(server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for path in ("/article", "/embed", "/article/us-china-cyber-relations.txt"):
            got, head = http.get(path), http.head(path)
            assert got.status_code == head.status_code == 200, path
            assert head.headers["content-type"] == got.headers["content-type"] and head.content == b""
        assert http.head("/article/no-such-doc").status_code == 404


def test_wrong_token_and_blocked_cookie_get_their_own_messages(engine):
    token = "ui-test-token"
    with RunningServer(create_app(engine, WebSettings(token=token))) as locked, \
            httpx.Client(base_url=locked.url, timeout=30, follow_redirects=False) as http:
        missing = http.get("/embed")
        assert missing.status_code == 401 and "Token needed" in missing.text
        wrong = http.get("/embed", params={"token": "not-it"})
        assert wrong.status_code == 401 and "Wrong access token" in wrong.text and "not-it" not in wrong.text
        stale = http.get("/embed", headers={"Cookie": "qa_auth=from-an-older-token"})
        assert stale.status_code == 401 and "token has changed" in stale.text
        framed = http.get("/embed", headers={"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"})
        assert framed.status_code == 401 and "Sign-in cookie blocked" in framed.text and "HTTPS" in framed.text
        api = http.get("/api/ask", params={"q": QUESTION}, headers={"Authorization": "Bearer not-it"})
        assert api.status_code == 401 and api.json()["error"].startswith("wrong token")
        assert http.get("/api/ask", params={"q": QUESTION}).json()["error"].startswith("missing token")


def test_reply_links_its_answer_sentence_and_a_refusal_folds_its_passages_away(engine):
    from qa.web.render import Linker, answer_html

    answer = engine.ask("What did the G20 meeting warn about?")
    (span,) = answer.answer_spans
    (sentence,) = [s for s in engine.data.sentences if (s.doc, s.start) == (span.doc, span.start)]
    top = answer.citations[0]
    assert (top.answer_sentence, top.answer_start, top.answer_end) == (sentence.index, span.start, span.end)
    assert top.sentence < top.answer_sentence  # the passage starts one sentence before the answer
    html = answer_html(answer, Linker("", top.doc))
    anchor = f'href="article#p{sentence.paragraph}-s{sentence.index}"'
    assert html.count(anchor) >= 2  # the [1] marker and the source's link
    shown = re.sub(r'title="[^"]*"', "", html.split('<details class="qa-more">')[0])
    assert "score" not in shown.lower()  # the score is in the link's hover title and in the details only

    refused = engine.ask("What is a good recipe for banana bread?")
    html = answer_html(refused, Linker("", top.doc))
    assert not refused.answerable and 'class="qa-reply qa-refused"' in html
    assert '<details class="qa-closest"><summary>Closest passages' in html and "qa-marker" not in html
    assert all(c.answer_start >= c.start and c.answer_end <= c.end for c in refused.citations)
