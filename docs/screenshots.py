"""Make the README's screenshots in a real browser: the desktop chat, the phone, a refusal and the wiki embed.

Usage (from the repository root; Debian's chromium at /usr/bin/chromium, never ``playwright install``):

    python docs/screenshots.py                 # writes docs/screenshot-*.png
    python docs/screenshots.py --out /tmp/shots

It starts the app on a free 127.0.0.1 port over ``corpus/`` (the index in ``index/``, built if needed)
and a tiny "wiki" on another port that frames ``/embed``; the browser may reach nothing else.
Look at every PNG before committing it.
"""
from __future__ import annotations

import argparse
import http.server
import os
import re
import sys
import threading
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
QUESTION = "What did the G20 meeting warn about?"
FOLLOW_UP = "When was that meeting held?"
REFUSED = "What is a good recipe for banana bread?"
WIKI = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Team wiki: cyber policy</title>
<style>body{{font-family:system-ui,sans-serif;margin:0;background:#f8fafc;color:#18181b}}
header{{background:#334155;color:#fff;padding:.6rem 1.2rem;font-weight:600}}
main{{max-width:760px;margin:0 auto;padding:.5rem 1.2rem}} h1{{font-size:1.4rem}}
iframe{{width:100%;border:1px solid #cbd5e1;border-radius:8px;background:#fff}}</style></head><body>
<header>Team wiki</header><main><h1>US-China cyber relations: reading notes</h1>
<p>Ask the article below; every answer links to its sentence in the article.</p>
<iframe id="qa-chat" src="{src}" title="Ask the article" height="300"></iframe>
<p>Last edited by the policy team.</p></main>
<script>
  window.addEventListener("message", function (event) {{
    var frame = document.getElementById("qa-chat");
    if (event.origin !== new URL(frame.src).origin) return;
    if (!event.data || event.data.type !== "qa-embed-height") return;
    frame.style.height = event.data.height + "px";
  }});
</script></body></html>"""


def _wiki(port: int, page_html: str) -> http.server.ThreadingHTTPServer:
    """Serve ``page_html`` at every path on 127.0.0.1:``port`` (the wiki that frames the app)."""
    body = page_html.encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _ask(page, question: str, replies: int) -> None:
    from playwright.sync_api import expect

    page.locator("#q textarea").fill(question)
    page.locator("#q textarea").press("Enter")
    expect(page.locator('[data-testid="bot"]')).to_have_count(replies)
    page.wait_for_timeout(600)  # the page scrolls the answer into view


def make(out: Path) -> list[Path]:
    """Write the four screenshots into ``out``; returns their paths."""
    from playwright.sync_api import expect, sync_playwright

    from qa import Engine
    from qa.web import RunningServer, WebSettings, create_app

    out.mkdir(parents=True, exist_ok=True)
    engine = Engine.load()
    wiki_port = _free_port()
    wiki_origin = f"http://127.0.0.1:{wiki_port}"
    written = []
    with RunningServer(create_app(engine, WebSettings(allowed_origins=(wiki_origin,)))) as app, \
            sync_playwright() as playwright:
        wiki = _wiki(wiki_port, WIKI.format(src=app.url + "embed"))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            def new_page(width: int, height: int, scale: float = 1):
                context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
                context.route("**/*", lambda route: route.continue_()
                              if re.match(r"^http://127\.0\.0\.1[:/]", route.request.url) else route.abort())
                return context.new_page()

            # 1. desktop: a question and a follow-up, the answer sentence highlighted in the article panel
            page = new_page(1280, 820)
            page.goto(app.url)
            _ask(page, QUESTION, 1)
            _ask(page, FOLLOW_UP, 2)
            page.locator('[data-testid="bot"]').last.locator(".qa-card a.qa-cite-link").first.click()
            page.wait_for_timeout(700)
            written.append(out / "screenshot-chat.png")
            page.screenshot(path=written[-1])

            # 2. a refusal: one line, the closest passages folded away
            _ask(page, REFUSED, 3)
            chat = page.locator("#qa-chat").bounding_box()
            written.append(out / "screenshot-refusal.png")
            page.screenshot(path=written[-1], clip={"x": chat["x"] - 8, "y": chat["y"] - 8,
                                                    "width": chat["width"] + 16, "height": chat["height"] + 16})
            page.context.close()

            # 3. a phone: the answer in view after the reply
            page = new_page(390, 844)
            page.goto(app.url)
            _ask(page, QUESTION, 1)
            written.append(out / "screenshot-phone.png")
            page.screenshot(path=written[-1])
            page.context.close()

            # 4. the embed in a wiki page on another origin, after two questions
            page = new_page(900, 860)
            page.goto(wiki_origin + "/")
            frame = page.frame_locator("#qa-chat")
            for n, question in enumerate([QUESTION, FOLLOW_UP], 1):
                frame.locator("#qa-input").fill(question)
                frame.locator("#qa-input").press("Enter")
                expect(frame.locator(".qa-msg.qa-bot")).to_have_count(n)
            page.wait_for_timeout(600)
            written.append(out / "screenshot-embed.png")
            page.screenshot(path=written[-1])
            page.context.close()
        finally:
            browser.close()
            wiki.shutdown()
            wiki.server_close()
    return written


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs (default: docs/)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 1
    for path in make(args.out):
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
