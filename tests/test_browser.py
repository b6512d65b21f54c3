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
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                                "(apt-get install chromium)")]

from qa.web import RunningServer, WebSettings, create_app  # noqa: E402
from qa.web.guards import Gate  # noqa: E402

QUESTION = "What kind of digital theft did the 2015 agreement bar?"
G20 = "What did the G20 meeting warn about?"
REFUSED = "What is a good recipe for banana bread?"
XSS = '<img src=x onerror=alert(1)> <script>alert(2)</script> <b onclick=alert(3)>bold</b>'
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
#: The wiki page of docs/web.md: the iframe and the parent-page auto-size script.
WIKI_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Wiki</title></head><body>
<h1>Team wiki</h1>
<iframe id="qa-chat" src="{src}" title="Ask the article" style="width:100%;max-width:720px;border:0"
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
    """A tiny static site on its own 127.0.0.1 port (the "wiki" that frames the app).

    Args:
        host: the name its origin uses: ``localhost`` makes it another *site* than the app on
            127.0.0.1 (browsers then treat the iframe as cross-site, as a real wiki's would be).
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
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
        self.origin = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def sites():
    """The wiki (another origin, same site), a wiki on another site, and a site not allowed to frame the app."""
    found = _Static(), _Static("localhost"), _Static()
    yield found
    for site in found:
        site.close()


@pytest.fixture(scope="module")
def server(engine, sites):
    wiki, other_site, _ = sites
    with RunningServer(create_app(engine, WebSettings(allowed_origins=(wiki.origin, other_site.origin)))) as running:
        for site in sites:
            site.pages["/"] = WIKI_PAGE.format(src=running.url + "embed").encode()
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _open(browser, viewport: dict):
    """A fresh page; requests off this machine are aborted and must not happen; alert() must not fire."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    outside, dialogs = [], []

    def guard(route) -> None:
        if re.match(r"^https?://(127\.0\.0\.1|localhost)[:/]", route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.set_default_timeout(20_000)
    return context, tab, outside, dialogs


@pytest.fixture
def page(browser):
    context, tab, outside, dialogs = _open(browser, DESKTOP)
    yield tab
    context.close()
    assert outside == [], f"the page tried to reach other hosts: {outside}"
    assert dialogs == [], f"script from a message ran: alert({dialogs})"


@pytest.fixture
def phone(browser):
    context, tab, outside, dialogs = _open(browser, PHONE)
    yield tab
    context.close()
    assert outside == [] and dialogs == []


def ask(page, question: str, replies: int) -> None:
    from playwright.sync_api import expect

    page.wait_for_function("window.qaChatRestored === true")  # the page is up: its load event has run
    page.locator("#q textarea").fill(question)
    page.locator("#q textarea").press("Enter")
    expect(page.locator('[data-testid="bot"]')).to_have_count(replies, timeout=15_000)
    page.wait_for_timeout(300)  # the page's own scrolling after a reply


def in_view(page, locator) -> bool:
    """Whether the top line of ``locator`` is visible: inside its window (an iframe's, for an element inside one)
    and inside every scrolling box around it."""
    return locator.evaluate("""el => {
        const top = el.getBoundingClientRect().top, line = 16;
        if (top < 0 || top + line > window.innerHeight) return false;
        for (let box = el.parentElement; box; box = box.parentElement) {
            const style = getComputedStyle(box);
            if (!/(auto|scroll|hidden)/.test(style.overflowY) || box.scrollHeight <= box.clientHeight) continue;
            const r = box.getBoundingClientRect();
            if (top < r.top - 1 || top + line > r.bottom + 1) return false;
        }
        return true;
    }""")


def serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:5]]}"
            for v in found if v["impact"] in ("serious", "critical")]


def test_chat_answers_first_with_compact_sources_then_follows_up_and_refuses_plainly(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ask(page, QUESTION, 1)
    reply = page.locator('[data-testid="bot"]').last
    expect(reply.locator(".qa-answer")).to_contain_text("barred state-sanctioned cyber theft")
    expect(reply.locator(".qa-answer a.qa-marker").first).to_have_text("[1]")
    expect(reply).to_contain_text("Sources")
    expect(reply.locator(".qa-card")).to_have_count(3)
    expect(reply.locator(".qa-card").first).to_contain_text(re.compile(r"\[1\] Paragraph \d+"))
    expect(reply.locator(".qa-card mark.qa-hit").first).to_contain_text("barred state-sanctioned cyber theft")
    assert "score" not in reply.inner_text().lower()  # scores only on hover (title) or inside "Whole passage"
    more = reply.locator(".qa-card details.qa-more").first
    more.locator("summary").click()
    expect(more.locator(".qa-score")).to_have_text(re.compile(r"Relevance score 0\.\d\d"))

    ask(page, "Who signed it?", 2)  # "it" = the 2015 agreement, from the conversation
    expect(page.locator('[data-testid="bot"]').last).to_contain_text("Obama-Xi")
    ask(page, REFUSED, 3)
    refused = page.locator('[data-testid="bot"]').last
    expect(refused.locator(".qa-not-covered")).to_contain_text("does not cover")
    closest = refused.locator("details.qa-closest")
    expect(closest.locator("summary").first).to_have_text(re.compile(r"^Closest passages"))
    expect(refused.locator(".qa-card").first).to_be_hidden()  # folded away: visibly not an answer
    assert refused.locator(".qa-marker").count() == 0


def test_g20_answer_sentence_is_highlighted_in_the_chat_and_linked_by_the_article_and_the_api(page, server, engine):
    """The G20 answer is paragraph 5's sixth sentence; the passage starts one sentence earlier (the MIT report)."""
    from playwright.sync_api import expect

    import httpx

    answer = engine.ask(G20)
    (span,) = answer.answer_spans
    (sentence,) = [s for s in engine.data.sentences if (s.doc, s.start) == (span.doc, span.start)]
    name = f"p{sentence.paragraph}-s{sentence.index}"
    assert answer.citations[0].sentence < sentence.index  # the passage starts before the answer

    page.goto(server.url)
    ask(page, G20, 1)
    reply = page.locator('[data-testid="bot"]').last
    expect(reply.locator(".qa-card").first.locator("mark.qa-hit").first).to_have_text(sentence.text)
    marker = reply.locator(".qa-answer a.qa-marker").first
    assert marker.get_attribute("href").endswith(f"#{name}")
    link = reply.locator(".qa-card a.qa-cite-link").first
    assert link.get_attribute("href").endswith(f"#{name}")
    link.click()  # highlighted in the article panel beside the chat
    target = page.locator("#qa-article-panel .qa-target")
    expect(target).to_have_count(1)
    expect(target).to_have_text(sentence.text)
    expect(target).to_be_in_viewport()

    api = httpx.get(server.url + "api/ask", params={"q": G20}, timeout=30).json()
    url = api["citations"][0]["url"]
    assert url.endswith(f"article#{name}") and api["citations"][0]["answer_sentence"] == sentence.index
    page.goto(url)
    expect(page.locator(".qa-s.qa-target")).to_have_text(sentence.text)
    expect(page.locator(f"#{name}")).to_be_in_viewport()


@pytest.mark.parametrize("device", ["page", "phone"])
def test_the_answer_is_in_view_after_each_reply(device, request, server):
    from playwright.sync_api import expect

    page = request.getfixturevalue(device)
    page.goto(server.url)
    for n, question in enumerate([QUESTION, "Why is the agreement hard to monitor and enforce?", G20, REFUSED], 1):
        ask(page, question, n)
        answer = page.locator('[data-testid="bot"]').last.locator(".qa-answer")
        expect(answer).to_be_visible()
        assert in_view(page, answer), f"reply {n}: the answer's first line is out of view"
    if device == "phone":
        # one scroll area (the page): the chat is not a scroll box of its own
        assert page.evaluate("""() => [...document.querySelectorAll('#qa-chat *')].every(el =>
            !/(auto|scroll)/.test(getComputedStyle(el).overflowY) || el.scrollHeight <= el.clientHeight + 1)""")
        # a tap on a source opens its passage in place; the reader stays where they were
        reply = page.locator('[data-testid="bot"]').nth(2)
        reply.scroll_into_view_if_needed()
        link = reply.locator(".qa-card a.qa-cite-link").first
        link.scroll_into_view_if_needed()
        before = page.evaluate("window.scrollY")
        link.click()
        expect(reply.locator(".qa-card details.qa-more").first).to_have_attribute("open", "")
        assert abs(page.evaluate("window.scrollY") - before) < 200 and page.url == server.url


def test_citation_click_highlights_its_sentence_in_the_panel_without_scrolling_the_page(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ask(page, QUESTION, 1)
    link = page.locator('[data-testid="bot"] .qa-card a.qa-cite-link').nth(1)
    anchor = link.get_attribute("href").split("#")[1]
    before = page.evaluate("window.scrollY")
    link.click()
    target = page.locator(f'#qa-article-panel [data-anchor="{anchor}"]')
    expect(target).to_have_class(re.compile(r"\bqa-target\b"))
    expect(target).to_be_in_viewport()
    paragraph = anchor.split("-")[0]
    expect(page.locator(f'#qa-article-panel p[data-anchor="{paragraph}"]')).to_have_class(
        re.compile(r"\bqa-target-p\b"))
    assert len(page.context.pages) == 1  # stayed on the chat
    assert page.evaluate("window.scrollY") == before  # only the panel scrolled


def test_keyboard_reaches_the_sources_from_the_question_box(page, server):
    page.goto(server.url)
    ask(page, QUESTION, 1)
    page.locator("#q textarea").focus()
    page.keyboard.press("Tab")  # the Ask button
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Skip to the sources")
    page.keyboard.press("Enter")
    focused = page.evaluate("document.activeElement.closest('.qa-reply') !== null && "
                            "document.activeElement.classList.contains('qa-cite-link')")
    assert focused


def test_no_serious_accessibility_violations_after_an_answer(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ask(page, G20, 1)
    problems = {"/": serious(page)}
    page.goto(server.url + "article#p5-s6")
    problems["/article"] = serious(page)
    page.goto(server.url + "embed")
    page.locator("#qa-input").fill(G20)
    page.locator("#qa-input").press("Enter")
    expect(page.locator(".qa-msg.qa-bot")).to_have_count(1)
    problems["/embed"] = serious(page)
    assert problems == {"/": [], "/article": [], "/embed": []}
    assert page.locator("main").count() == 1 and page.get_by_label("Your question about the article").count() == 1


def test_one_font_stack_and_one_link_colour_on_every_page(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ask(page, QUESTION, 1)
    seen = {}
    seen["/"] = page.evaluate("""() => [getComputedStyle(document.querySelector('#qa-header h1')).fontFamily,
        getComputedStyle(document.querySelector('.qa-card a.qa-cite-link')).color]""")
    page.goto(server.url + "article")
    seen["/article"] = page.evaluate("""() => [getComputedStyle(document.querySelector('h1')).fontFamily,
        getComputedStyle(document.querySelector('main a')).color]""")
    page.goto(server.url + "embed")
    page.locator("#qa-input").fill(QUESTION)
    page.locator("#qa-input").press("Enter")
    expect(page.locator(".qa-msg.qa-bot")).to_have_count(1)
    seen["/embed"] = page.evaluate("""() => [getComputedStyle(document.querySelector('h1')).fontFamily,
        getComputedStyle(document.querySelector('.qa-card a.qa-cite-link')).color]""")
    fonts = {font.replace('"', "").replace(" ", "") for font, _ in seen.values()}
    colours = {colour for _, colour in seen.values()}
    assert len(fonts) == 1 and fonts.pop().startswith("system-ui"), seen
    assert colours == {"rgb(29, 78, 216)"}, seen


def test_empty_question_toast_is_a_sentence_and_a_cut_question_says_so(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    page.wait_for_function("window.qaChatRestored === true")
    page.locator("#q textarea").fill("   ")
    page.locator("#q textarea").press("Enter")
    expect(page.locator(".toast-body").first).to_contain_text(re.compile(r"Question is empty"))
    ask(page, QUESTION + " " + "x" * 2_100, 1)
    expect(page.locator('[data-testid="bot"] .qa-note')).to_contain_text("cut to its first 2000 characters")


def test_the_chat_is_kept_across_reloads_of_its_tab_only(page, server):
    from playwright.sync_api import expect

    page.goto(server.url)
    ask(page, G20, 1)
    ask(page, "When was <b>that meeting</b> held?", 2)
    answers = page.locator('[data-testid="bot"] .qa-answer').all_inner_texts()
    page.reload()
    expect(page.locator('[data-testid="bot"]')).to_have_count(2)
    assert page.locator('[data-testid="bot"] .qa-answer').all_inner_texts() == answers
    expect(page.locator('[data-testid="user"]').last).to_contain_text("When was <b>that meeting</b> held?")
    other = page.context.new_page()  # another tab has its own conversation
    other.goto(server.url)
    expect(other.locator("#q textarea")).to_be_visible()
    other.wait_for_timeout(500)
    assert other.locator('[data-testid="bot"]').count() == 0
    other.close()
    page.locator("#qa-new").click()
    expect(page.locator('[data-testid="bot"]')).to_have_count(0)
    page.reload()
    expect(page.locator("#q textarea")).to_be_visible()
    page.wait_for_timeout(500)
    assert page.locator('[data-testid="bot"]').count() == 0


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
    page.wait_for_function("window.qaChatRestored === true")
    page.wait_for_timeout(500)  # the load event has answered
    ctx = server.server.config.app.state.qa
    original, ctx.gate = ctx.gate, Gate(running=1, waiting=0, wait_seconds=0.5)
    try:
        with ctx.gate.slot():
            page.locator("#q textarea").fill(QUESTION)
            page.locator("#q textarea").press("Enter")
            expect(page.get_by_text("The server is busy; try again in a moment.").first).to_be_visible()
    finally:
        ctx.gate = original


def test_embed_in_a_wiki_stays_within_its_height_follows_answers_and_keeps_them(page, server, sites):
    from playwright.sync_api import expect

    from qa.web.pages import EMBED_MAX_HEIGHT

    wiki = sites[0]
    assert wiki.origin != server.url.rstrip("/")
    page.goto(wiki.origin + "/")
    iframe = page.locator("#qa-chat")
    frame = page.frame_locator("#qa-chat")

    def check(messages: int) -> None:
        expect(frame.locator(".qa-msg")).to_have_count(messages)
        page.wait_for_timeout(300)  # the parent resizes the iframe from the embed's message
        height = iframe.bounding_box()["height"]
        content = frame.locator("#qa-embed").bounding_box()["height"]
        assert height <= EMBED_MAX_HEIGHT + 1, f"iframe {height}px over its maximum"
        assert abs(height - content) <= 2, f"blank area: iframe {height}px for {content}px of content"
        newest = frame.locator(".qa-msg.qa-bot").last.locator(".qa-answer")
        assert in_view(page, newest), "the newest answer is out of view"

    for n, question in enumerate([XSS + " What did the 2015 agreement bar?", G20, "Who is Captain Adam Greer?",
                                  "Why is the agreement hard to monitor and enforce?"], 1):
        frame.locator("#qa-input").fill(question)
        frame.locator("#qa-input").press("Enter")
        check(2 * n)
    expect(frame.locator(".qa-msg.qa-user").first).to_contain_text("<img src=x onerror=alert(1)>")
    assert frame.locator(".qa-msg img, .qa-msg script").count() == 0
    link = frame.locator(".qa-card .qa-cite-link").first
    assert re.fullmatch(r"article#p\d+-s\d+", link.get_attribute("href"))
    assert link.get_attribute("target") == "_blank"
    assert iframe.bounding_box()["height"] > EMBED_MAX_HEIGHT - 20  # it grew to its maximum and scrolls inside

    page.reload()  # the conversation is kept for the tab
    check(8)
    expect(frame.locator(".qa-msg.qa-user").last).to_have_text("Why is the agreement hard to monitor and enforce?")

    frame.get_by_role("button", name="New conversation").click()
    expect(frame.locator(".qa-msg")).to_have_count(0)
    expect(frame.locator("#qa-examples")).to_be_visible()
    page.wait_for_timeout(300)
    assert iframe.bounding_box()["height"] < 250  # shrank with it: no blank area
    page.reload()
    expect(frame.locator("#qa-input")).to_be_visible()
    expect(frame.locator(".qa-msg")).to_have_count(0)
    # a question over the limit is refused with a message, never cut silently
    frame.locator("#qa-input").fill("Why? " * 500)
    frame.locator("#qa-input").press("Enter")
    expect(frame.locator(".qa-msg.qa-error")).to_contain_text("the limit is 2,000")


def test_embed_on_another_site_that_blocks_its_storage_still_answers_and_fits(page, server, sites):
    """A wiki on another site (localhost vs 127.0.0.1): this browser, like a private window, blocks the frame's
    storage, so the conversation cannot outlive a reload; everything else works."""
    from playwright.sync_api import expect

    from qa.web.pages import EMBED_MAX_HEIGHT

    other_site = sites[1]
    assert other_site.origin.startswith("http://localhost:")
    page.goto(other_site.origin + "/")
    frame = page.frame_locator("#qa-chat")
    for n, question in enumerate([G20, QUESTION, "Who is Captain Adam Greer?"], 1):
        frame.locator("#qa-input").fill(question)
        frame.locator("#qa-input").press("Enter")
        expect(frame.locator(".qa-msg.qa-bot")).to_have_count(n)
    page.wait_for_timeout(300)
    assert EMBED_MAX_HEIGHT - 20 < page.locator("#qa-chat").bounding_box()["height"] <= EMBED_MAX_HEIGHT + 1
    assert in_view(page, frame.locator(".qa-msg.qa-bot").last.locator(".qa-answer"))
    frame.get_by_role("button", name="New conversation").click()
    expect(frame.locator(".qa-msg")).to_have_count(0)


def test_embed_is_refused_on_a_site_not_on_the_allow_list(page, sites):
    stranger = sites[2]
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
        response = page.goto(f"{locked.url}?token=not-{token}")
        assert response.status == 401 and "Wrong access token" in page.content()
        page.goto(f"{locked.url}?token={token}")
        assert page.url == locked.url  # the token left the address bar
        ask(page, QUESTION, 1)
        expect(page.locator('[data-testid="bot"] .qa-card').first).to_be_visible()
        assert token not in page.content()


def test_embed_with_a_token_on_a_cross_site_wiki_over_http_says_why_the_cookie_is_blocked(page, engine):
    """Over plain HTTP the sign-in cookie is SameSite=Lax, which a browser never sends into another site's frame."""
    from playwright.sync_api import expect

    token = "browser-test-token"
    wiki = _Static("localhost")
    try:
        with RunningServer(create_app(engine, WebSettings(token=token, allowed_origins=(wiki.origin,)))) as locked:
            wiki.pages["/"] = WIKI_PAGE.format(src=f"{locked.url}embed?token={token}").encode()
            page.goto(wiki.origin + "/")
            frame = page.frame_locator("#qa-chat")
            expect(frame.locator("h1")).to_have_text("Sign-in cookie blocked")
            expect(frame.locator("main")).to_contain_text("HTTPS")
    finally:
        wiki.close()
