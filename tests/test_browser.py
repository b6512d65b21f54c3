"""The web chat in a real browser: Debian's chromium driven by Playwright, against a real server on 127.0.0.1.

Every request the browser makes to anything but 127.0.0.1 is aborted and recorded; each test
asserts there was none. Never run ``playwright install``: the system chromium is used.
"""
from __future__ import annotations

import http.server
import re
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                                "(apt-get install chromium)")

from qa.web import RunningServer, WebSettings, create_app  # noqa: E402
from qa.web_guard import Gate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "screenshot-chat.png"
QUESTION = "What kind of digital theft did the 2015 agreement bar?"
XSS = '<img src=x onerror=alert(1)> <script>alert(2)</script> <b onclick=alert(3)>bold</b>'
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
#: The wiki page of docs/web.md: the iframe and the parent-page auto-size script.
WIKI_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Wiki</title></head><body>
<h1>Team wiki</h1>
<iframe id="qa-chat" src="{app}embed" title="Ask the article" style="width:100%;max-width:720px;border:0"
        height="300"></iframe>
<script>
  window.addEventListener("message", function (event) {{
    var frame = document.getElementById("qa-chat");
    if (event.origin !== new URL(frame.src).origin) return;
    if (!event.data || event.data.type !== "qa-embed-height") return;
    frame.style.height = event.data.height + "px";
  }});
</script></body></html>"""


class _Static:
    """A tiny static site on its own 127.0.0.1 port (the "wiki" that frames the app)."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def sites():
    wiki, stranger = _Static(), _Static()
    yield wiki, stranger
    wiki.close()
    stranger.close()


@pytest.fixture(scope="module")
def server(engine, sites):
    wiki, _ = sites
    with RunningServer(create_app(engine, WebSettings(allowed_origins=(wiki.origin,)))) as running:
        for site in sites:
            site.pages["/"] = WIKI_PAGE.format(app=running.url).encode()
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh page; requests off 127.0.0.1 are aborted and must not happen; alert() must not fire."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    outside, dialogs = [], []

    def guard(route) -> None:
        if re.match(r"^https?://127\.0\.0\.1[:/]", route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.set_default_timeout(20_000)
    yield tab
    context.close()
    assert outside == [], f"the page tried to reach other hosts: {outside}"
    assert dialogs == [], f"script from a message ran: alert({dialogs})"


def ask(page, question: str, replies: int) -> None:
    from playwright.sync_api import expect

    page.locator("#q textarea").fill(question)
    page.locator("#q textarea").press("Enter")
    expect(page.locator('[data-testid="bot"]')).to_have_count(replies)


def test_chat_answers_with_citations_then_follows_up(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ask(page, QUESTION, 1)
    reply = page.locator('[data-testid="bot"]').last
    expect(reply.locator(".qa-answer")).to_contain_text("barred state-sanctioned cyber theft")
    expect(reply).to_contain_text("Sources")
    expect(reply.locator(".qa-card")).to_have_count(3)
    expect(reply.locator(".qa-card").first).to_contain_text(re.compile(r"paragraph \d+\s*score 0\.\d\d"))
    expect(reply.locator("mark.qa-hit").first).to_contain_text("barred state-sanctioned cyber theft")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    reply.locator("a.qa-cite-link").first.click()  # highlight the cited sentence in the article panel
    page.wait_for_timeout(500)  # let the chat finish its own scrolling, then show the question too
    page.locator("#qa-chat .bubble-wrap").evaluate("el => { el.scrollTop = 0; }")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOT))

    ask(page, "Who signed it?", 2)  # "it" = the 2015 agreement, from the conversation
    expect(page.locator('[data-testid="bot"]').last).to_contain_text("Obama-Xi")
    ask(page, "What is a good recipe for banana bread?", 3)
    related = page.locator('[data-testid="bot"]').last
    expect(related).to_contain_text("does not cover")
    expect(related).to_contain_text("Related passages")


def test_citation_click_highlights_its_sentence_in_the_article_panel(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ask(page, QUESTION, 1)
    link = page.locator('[data-testid="bot"] a.qa-cite-link').nth(1)
    anchor = link.get_attribute("href").split("#")[1]
    link.click()
    target = page.locator(f'#qa-article-panel [data-anchor="{anchor}"]')
    expect(target).to_have_class(re.compile(r"\bqa-target\b"))
    expect(target).to_be_in_viewport()
    paragraph = anchor.split("-")[0]
    expect(page.locator(f'#qa-article-panel p[data-anchor="{paragraph}"]')).to_have_class(
        re.compile(r"\bqa-target-p\b"))
    assert len(page.context.pages) == 1  # stayed on the chat


def test_deep_link_highlights_the_sentence_on_arrival(page, server, engine):
    from playwright.sync_api import expect

    sentence = engine.data.sentences[-3]
    name = f"p{sentence.paragraph}-s{sentence.index}"
    page.goto(f"{server.url}article#{name}")
    target = page.locator(f"#{name}")
    expect(target).to_have_class(re.compile(r"\bqa-target\b"))
    expect(target).to_have_text(sentence.text)
    expect(target).to_be_in_viewport()
    expect(page.locator(f"#p{sentence.paragraph}")).to_have_class(re.compile(r"\bqa-target-p\b"))


def test_example_question_runs_on_click(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    page.get_by_text("Who is Captain Adam Greer?", exact=True).click()
    expect(page.locator('[data-testid="bot"]')).to_have_count(1)
    expect(page.locator('[data-testid="bot"] .qa-card').first).to_be_visible()


def test_html_in_a_question_shows_as_text_and_runs_nothing(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ask(page, XSS, 1)
    user = page.locator('[data-testid="user"]').last
    expect(user).to_contain_text("<img src=x onerror=alert(1)> <script>alert(2)</script>")
    assert user.locator("img, script, b").count() == 0
    user.click()
    page.wait_for_timeout(300)  # give any injected handler a chance to fire (the fixture checks dialogs)


def test_busy_engine_shows_a_plain_try_again_message(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ctx = server.server.config.app.state.qa
    original, ctx.gate = ctx.gate, Gate(running=1, waiting=0, wait_seconds=0.5)
    try:
        with ctx.gate.slot():
            page.locator("#q textarea").fill(QUESTION)
            page.locator("#q textarea").press("Enter")
            expect(page.get_by_text("The server is busy; try again in a moment.").first).to_be_visible()
    finally:
        ctx.gate = original


def test_embed_works_in_an_iframe_on_another_port_and_sizes_it(page, server, sites):
    from playwright.sync_api import expect

    wiki, _ = sites
    page.goto(wiki.origin + "/")
    frame = page.frame_locator("#qa-chat")
    frame.locator("#qa-input").fill(XSS + " What did the 2015 agreement bar?")
    frame.locator("#qa-input").press("Enter")
    expect(frame.locator(".qa-msg.qa-bot .qa-card").first).to_be_visible()
    expect(frame.locator(".qa-msg.qa-user")).to_contain_text("<img src=x onerror=alert(1)>")
    assert frame.locator(".qa-msg img, .qa-msg script").count() == 0
    link = frame.locator(".qa-cite-link").first
    assert re.fullmatch(r"article#p\d+-s\d+", link.get_attribute("href"))
    assert link.get_attribute("target") == "_blank"
    # the parent page resized the iframe from the embed's postMessage
    page.wait_for_function("parseInt(document.getElementById('qa-chat').style.height) > 300")


def test_embed_is_refused_on_a_site_not_on_the_allow_list(page, sites):
    _, stranger = sites
    page.goto(stranger.origin + "/")
    page.wait_for_timeout(1500)
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.locator("#qa-input").count() == 0


def test_batch_upload_and_download(page, server, tmp_path):
    from playwright.sync_api import expect

    questions = tmp_path / "questions.txt"
    questions.write_text(f"# team quiz\n{QUESTION}\nWho wrote this article?\n\nWhat is a good recipe?\n")
    page.goto(server.url)
    page.get_by_role("tab", name="Batch").click()
    page.locator("#qa-batch-file input[type=file]").set_input_files(str(questions))
    page.locator("#qa-batch-format").get_by_text("md", exact=True).click()
    page.locator("#qa-batch-run").click()
    expect(page.locator("#qa-batch-status textarea")).to_have_value(
        re.compile(r"read 3 questions: 2 answered, 1 abstained, 0 errors"))
    with page.expect_download() as download:
        page.locator("#qa-batch-result a").first.click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert report.startswith("# Answers to questions.txt")
    assert f"]({server.url}article/" in report and re.search(r"#p\d+-s\d+\)", report)

    too_many = tmp_path / "many.txt"
    too_many.write_text("Who wrote it?\n" * 10_001)
    page.locator("#qa-batch-file button[aria-label='Clear']").first.click()
    page.locator("#qa-batch-file input[type=file]").set_input_files(str(too_many))
    page.locator("#qa-batch-run").click()
    expect(page.get_by_text("many.txt has 10,001 questions; at most 10,000 are allowed").first).to_be_visible()

    too_big = tmp_path / "big.txt"
    too_big.write_text(("Why did the 2015 agreement fall short? " * 50 + "\n") * 3000)  # 5.9 MB
    page.locator("#qa-batch-file button[aria-label='Clear']").first.click()
    page.locator("#qa-batch-file input[type=file]").set_input_files(str(too_big))
    expect(page.get_by_text(re.compile(r"exceed the maximum allowed size of 5\.0 Mb")).first).to_be_visible()


def test_page_with_token_auth_works_after_opening_it_with_the_token(page, engine):
    from playwright.sync_api import expect

    token = "browser-test-token"
    with RunningServer(create_app(engine, WebSettings(token=token))) as locked:
        response = page.goto(locked.url)
        assert response.status == 401 and "access token" in page.content()
        page.goto(f"{locked.url}?token={token}")
        assert page.url == locked.url  # the token left the address bar
        ask(page, QUESTION, 1)
        expect(page.locator('[data-testid="bot"] .qa-card').first).to_be_visible()
        assert token not in page.content()
