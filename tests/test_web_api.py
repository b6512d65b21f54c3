"""JSON API, pages and guards against a real uvicorn server on 127.0.0.1 (plus one gradio_client call)."""
from __future__ import annotations

import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from qa.answer import Answer, AnswerSpan, Citation
from qa.web import RunningServer, WebSettings, create_app, parse_origins
from qa.web.guards import AUTH_COOKIE, Gate, RedactToken
from qa.web.render import Linker, answer_html, question_html

WIKI = "http://127.0.0.1:8001"
OTHER = "http://127.0.0.1:8002"
TOKEN = "t0ken-for-tests-only"
QUESTION = "What kind of digital theft did the 2015 agreement bar?"


@pytest.fixture(scope="module")
def server(engine):
    with RunningServer(create_app(engine, WebSettings(allowed_origins=(WIKI,)))) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def locked(engine):
    """A second server, with a token."""
    with RunningServer(create_app(engine, WebSettings(token=TOKEN))) as running:
        yield running


def assert_json_error(response: httpx.Response, status: int, match: str = "") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and isinstance(body["error"], str)
    assert re.search(match, body["error"]), body["error"]
    return body


# -- answers ----------------------------------------------------------------------------------

def test_healthz_reports_counts_and_model(client, engine):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["documents"] == len(engine.docs) and body["chunks"] == len(engine.data.chunks)
    assert body["model"] == engine.embedder.name


def test_get_ask_returns_the_answer_object_with_citation_urls(client, server, engine):
    response = client.get("/api/ask", params={"q": QUESTION, "k": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"id", "question", "answerable", "answer", "answer_spans", "citations", "latency_ms", "notes"}
    assert body["answerable"] is True and "barred state-sanctioned cyber theft" in body["answer"]
    assert len(body["citations"]) == 2
    first = body["citations"][0]
    assert first["url"] == f"{server.url}article#p{first['paragraph']}-s{first['sentence']}"
    doc = engine.documents[first["doc"]]
    assert doc.text[first["start"]:first["end"]] == first["text"]
    span = body["answer_spans"][0]
    assert any(c["start"] <= span["start"] and span["end"] <= c["end"] for c in body["citations"])
    # same engine object as the CLI: the API answer is the engine's answer plus urls
    direct = engine.ask(QUESTION, top_k=2).to_dict()
    assert direct["answer"] == body["answer"] and [c["text"] for c in direct["citations"]] == \
        [c["text"] for c in body["citations"]]


def test_post_ask_uses_history_for_follow_ups(client):
    alone = client.post("/api/ask", json={"question": "Who signed it?"}).json()
    followed = client.post("/api/ask", json={"question": "Who signed it?", "top_k": 3,
                                             "history": ["What cyber agreement was reached in 2015?"]}).json()
    assert followed["id"] != alone["id"]  # the id covers the history the engine used
    assert len(followed["citations"]) == 3
    assert any("Obama-Xi" in c["text"] for c in followed["citations"])


def test_question_outside_the_article_is_not_answered_but_gets_related_passages(client):
    body = client.get("/api/ask", params={"q": "What is a good recipe for banana bread?"}).json()
    assert body["answerable"] is False and "does not cover" in body["answer"]
    assert body["answer_spans"] == [] and body["citations"]


def test_base_url_setting_is_used_for_citation_urls(engine):
    with RunningServer(create_app(engine, WebSettings(base_url="https://qa.example.org/wiki-qa"))) as running:
        body = httpx.get(running.url + "api/ask", params={"q": QUESTION}, timeout=30).json()
    assert body["citations"][0]["url"].startswith("https://qa.example.org/wiki-qa/article#p")


# -- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("params, status, match", [
    ({}, 400, "question is empty"),
    ({"q": "   "}, 400, "question is empty"),
    ({"q": "x" * 2001}, 400, "2,001 characters; the limit is 2,000"),
    ({"q": QUESTION, "k": 0}, 400, "top_k must be an integer from 1 to 20, got 0"),
    ({"q": QUESTION, "k": "three"}, 422, "invalid request: query.k"),
])
def test_get_errors_are_json_with_status(client, params, status, match):
    assert_json_error(client.get("/api/ask", params=params), status, match)


@pytest.mark.parametrize("content, status, match", [
    (b'{"question": ', 422, "not valid JSON"),
    (b"[" * 30_000 + b"]" * 30_000, 422, "not valid JSON"),
    (b'["a list"]', 422, "does not match"),
    (b'{"history": []}', 422, "question: Field required"),
    (b'{"question": 5}', 422, "question: Input should be a valid string"),
    (b'{"question": "ok?", "topk": 3}', 422, "topk: Extra inputs are not permitted"),
    (b'{"question": ""}', 400, "question is empty"),
    (json.dumps({"question": "ok?", "history": ["q?"] * 21}).encode(), 400,
     "history has 21 questions; send at most the last 20"),
    (json.dumps({"question": "ok?", "history": ["q" * 2001]}).encode(), 400,
     "history item 1 has 2,001 characters"),
])
def test_post_errors_are_json_with_status(client, content, status, match):
    response = client.post("/api/ask", content=content, headers={"Content-Type": "application/json"})
    assert_json_error(response, status, match)


def test_wrong_content_type_is_415_json(client):
    response = client.post("/api/ask", content=b"question=hi", headers={"Content-Type": "text/plain"})
    assert_json_error(response, 415, "Content-Type must be application/json, got 'text/plain'")


def test_body_over_64_kb_is_413_json_with_or_without_length(client):
    big = b'{"question": "' + b"a" * 70_000 + b'"}'
    assert_json_error(client.post("/api/ask", content=big, headers={"Content-Type": "application/json"}),
                      413, "over 64 KB")

    def chunks():
        for _ in range(70):
            yield b"a" * 1000
    chunked = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert_json_error(chunked, 413, "over 64 KB")


def test_unknown_route_and_wrong_method_are_json(client):
    assert_json_error(client.get("/api/nothing"), 404, "no API route /api/nothing")
    body = assert_json_error(client.put("/api/ask", json={}), 405, "use GET or POST")
    assert body["status"] == 405


def test_overload_is_503_json_with_retry_after(server, client):
    ctx = server.server.config.app.state.qa
    original, ctx.gate = ctx.gate, Gate(running=1, waiting=0, wait_seconds=0.5)
    try:
        with ctx.gate.slot():  # the only slot is taken: the request is refused at once
            response = client.get("/api/ask", params={"q": QUESTION})
    finally:
        ctx.gate = original
    assert_json_error(response, 503, "busy; try again")
    assert response.headers["retry-after"] == "2"


def test_several_clients_at_once_all_get_answers(server):
    def ask(i: int) -> int:
        return httpx.get(server.url + "api/ask", params={"q": f"{QUESTION} ({i})"}, timeout=60).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(ask, range(8))) == [200] * 8


# -- CORS and framing -------------------------------------------------------------------------

def test_cors_allows_only_listed_origins(client):
    allowed = client.get("/api/ask", params={"q": QUESTION}, headers={"Origin": WIKI})
    assert allowed.headers["access-control-allow-origin"] == WIKI
    other = client.get("/api/ask", params={"q": QUESTION}, headers={"Origin": OTHER})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = client.options("/api/ask", headers={"Origin": WIKI, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == WIKI
    refused = client.options("/api/ask", headers={"Origin": OTHER, **preflight})
    assert "access-control-allow-origin" not in refused.headers
    assert_json_error(refused, 400, "Disallowed CORS origin")
    # Gradio's own routes follow the same list (Gradio defers to the parent's CORSMiddleware)
    assert "access-control-allow-origin" not in client.get("/config", headers={"Origin": OTHER}).headers


def test_default_is_same_origin_only(engine):
    with RunningServer(create_app(engine, WebSettings())) as running:
        response = httpx.get(running.url + "api/ask", params={"q": QUESTION}, headers={"Origin": WIKI}, timeout=30)
        page = httpx.get(running.url + "embed", timeout=30)
    assert "access-control-allow-origin" not in response.headers
    assert page.headers["content-security-policy"] == "frame-ancestors 'self'"


@pytest.mark.parametrize("path", ["/", "/embed", "/article", "/api/ask?q=hi", "/healthz"])
def test_frame_ancestors_lists_self_and_allowed_sites(client, path):
    response = client.get(path)
    assert response.headers["content-security-policy"] == f"frame-ancestors 'self' {WIKI}"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_origin_settings_are_checked():
    assert parse_origins("https://wiki.example.org/, http://127.0.0.1:8001") == \
        ("https://wiki.example.org", "http://127.0.0.1:8001")
    with pytest.raises(ValueError, match=r"scheme://host\[:port\], no path, no wildcard\), got '\*'"):
        parse_origins(["*"])
    with pytest.raises(ValueError, match="got 'https://wiki.example.org/page'"):
        WebSettings(allowed_origins=("https://wiki.example.org/page",))
    env = {"QA_ALLOWED_ORIGINS": "https://a.example", "QA_TOKEN": "zz-secret-zz", "QA_BASE_URL": "https://qa.example"}
    settings = WebSettings.from_env(env, allowed_origins=["https://b.example"])
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.base_url == "https://qa.example/" and "zz-secret-zz" not in repr(settings)
    assert settings.token == "zz-secret-zz"


# -- pages ------------------------------------------------------------------------------------

def test_article_page_has_an_anchor_per_sentence(client, engine):
    page = client.get("/article").text
    for sentence in engine.data.sentences:
        assert f'id="p{sentence.paragraph}-s{sentence.index}"' in page
    for number in range(1, len(engine.docs[0].paragraphs) + 1):
        assert f'id="p{number}"' in page
    doc = engine.docs[0]
    assert client.get(f"/article/{doc.id}").status_code == 200
    missing = client.get("/article/%3Cscript%3E")
    assert missing.status_code == 404 and "<script>" not in missing.text


def test_embed_ask_returns_escaped_html(client):
    body = client.post("/embed/ask", json={"question": "<img src=x onerror=alert(1)> 2015 agreement?"}).json()
    assert body["answer"]["citations"] and 'class="qa-card ' in body["html"]
    assert "<img" not in body["html"] and "<script" not in body["html"]


def test_reply_html_escapes_corpus_and_question_text():
    evil = '<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) "q"'
    citation = Citation(1, "d", "T", 2, 1, 100, 100 + len(evil), evil, 0.5, 1, 100, 100 + len(evil))
    answer = Answer("id", evil, True, evil, [AnswerSpan("d", 100, 108)], [citation], 1.0, [evil])
    html = answer_html(answer, Linker("", "d")) + question_html(evil)
    assert "<script" not in html and "<img" not in html and "javascript:alert(3)" in html  # text, not a link
    assert '<mark class="qa-hit">&lt;script&gt;</mark>' in html
    assert 'href="article#p2-s1"' in html


# -- auth -------------------------------------------------------------------------------------

def test_auth_off_by_default(client):
    assert client.get("/api/ask", params={"q": QUESTION}).status_code == 200
    assert client.get("/").status_code == 200


def test_token_required_for_api_and_page(locked):
    with httpx.Client(base_url=locked.url, timeout=30, follow_redirects=False) as http:
        assert http.get("/healthz").status_code == 200
        missing = http.get("/api/ask", params={"q": QUESTION})
        assert_json_error(missing, 401, "Authorization: Bearer")
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert_json_error(http.get("/api/ask", params={"q": QUESTION}, headers={"Authorization": "Bearer nope"}),
                          401)
        good = http.get("/api/ask", params={"q": QUESTION}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert good.status_code == 200 and good.json()["answerable"]
        assert http.get("/").status_code == 401
        assert http.get("/config").status_code == 401
        assert http.get("/", params={"token": "wrong"}).status_code == 401
        login = http.get("/embed", params={"token": TOKEN, "k": "2"})
        assert login.status_code == 303 and login.headers["location"] == "/embed?k=2"
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and TOKEN not in cookie
        for response in (missing, good, login):
            assert TOKEN not in response.text and TOKEN not in str(response.headers)
        value = http.cookies.get(AUTH_COOKIE)
        assert value and http.get("/embed").status_code == 200
        assert http.post("/api/ask", json={"question": QUESTION}).status_code == 200


def test_token_never_reaches_the_access_log():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/embed?token={TOKEN}&k=2", "1.1", 303), None)
    RedactToken().filter(record)
    assert TOKEN not in record.getMessage() and "token=***&k=2" in record.getMessage()


# -- Gradio endpoints -------------------------------------------------------------------------

@pytest.mark.slow
def test_gradio_client_calls_the_named_ask_endpoint(server, locked):
    from gradio_client import Client

    answer = Client(server.url, verbose=False).predict(question=QUESTION, history=[], top_k=2, api_name="/ask")
    assert answer["answerable"] is True and len(answer["citations"]) == 2
    assert answer["citations"][0]["url"].startswith(server.url + "article#p")
    authed = Client(locked.url, verbose=False, headers={"Authorization": f"Bearer {TOKEN}"})
    assert authed.predict(question=QUESTION, api_name="/ask")["citations"]
    names = set(authed.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/ask", "/batch"} <= names


def test_a_headline_answer_cites_the_headline_and_links_to_it(client, engine):
    body = client.get("/api/ask", params={"q": "whats the headline of this piece"}).json()
    first = body["citations"][0]
    assert body["answer"] == engine.docs[0].title == first["text"] and first["paragraph"] == 0
    assert first["url"].endswith("#p0-s1")
    page = client.get("/article").text
    assert f'<span class="qa-s" id="p0-s1">{engine.docs[0].title}</span>' in page   # the link lands on the title
    html = client.post("/embed/ask", json={"question": "whats the headline of this piece"}).json()["html"]
    assert "[1] Headline</a>" in html and 'href="article#p0-s1"' in html
