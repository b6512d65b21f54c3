"""The web app: one FastAPI app with the JSON API, the article and embed pages, and the Gradio chat at ``/``.

Build it with :func:`create_app` (``python app.py`` does, and so do the tests):

    >>> from qa import Engine                                   # doctest: +SKIP
    >>> from qa.web import WebSettings, create_app              # doctest: +SKIP
    >>> app = create_app(Engine.load(), WebSettings.from_env())  # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=7860)  # doctest: +SKIP

Routes: ``GET /healthz``; ``GET /api/ask?q=...&k=3``; ``POST /api/ask`` with
``{"question", "history", "top_k"}``; ``GET /article`` and ``/article/{doc}`` (anchors ``#p4-s2``);
``GET /embed`` (iframe chat) and its ``POST /embed/ask``; everything else is Gradio.
Every error on ``/api/``, ``/embed/ask`` and ``/healthz`` is JSON ``{"error", "status"}``.
"""
from __future__ import annotations

import html
import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .answer import Answer
from .config import DEFAULT_TOP_K, MAX_QUESTION_CHARS
from .question import QuestionError
from .web_guard import (BodyLimit, Busy, Gate, JSONErrors, SecurityHeaders, TokenAuth, install_log_redaction,
                        json_body)
from .web_pages import article_page, embed_page
from .web_render import Linker, answer_html

logger = logging.getLogger(__name__)

ENV_TOKEN = "QA_TOKEN"
ENV_ALLOWED_ORIGINS = "QA_ALLOWED_ORIGINS"
ENV_BASE_URL = "QA_BASE_URL"

#: Path prefixes of the app's own JSON routes (errors there are always JSON).
JSON_PREFIXES = ("/api/", "/embed/ask", "/healthz")
#: Shown under the chat and in the embed view.
DEFAULT_EXAMPLES = (
    "What kind of digital theft did the 2015 agreement bar?",
    "Why is the agreement hard to monitor and enforce?",
    "What did the G20 meeting warn about?",
    "Who is Captain Adam Greer?",
)
_ORIGIN = re.compile(r"^https?://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")


def parse_origins(values) -> tuple[str, ...]:
    """Check and normalize allowed origins (``scheme://host[:port]``, no path; a trailing ``/`` is dropped).

    Args:
        values: origins, or one comma-separated string (as in ``$QA_ALLOWED_ORIGINS``).

    Raises:
        ValueError: an origin has a path, a wildcard or another scheme.
    """
    if isinstance(values, str):
        values = values.split(",")
    origins = []
    for value in values or ():
        origin = value.strip().rstrip("/")
        if not origin:
            continue
        if not _ORIGIN.match(origin):
            raise ValueError(f"allowed origin must look like 'https://wiki.example.org' or 'http://127.0.0.1:8001' "
                             f"(scheme://host[:port], no path, no wildcard), got {value!r}")
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


@dataclass(frozen=True)
class WebSettings:
    """How the web app behaves; :meth:`from_env` reads the environment.

    Args:
        allowed_origins: sites (``https://wiki.example.org``) that may frame the app
            (CSP ``frame-ancestors``) and call the API from a browser (CORS). Defaults to
            none: same origin only.
        token: shared token for the API and the pages (``$QA_TOKEN``). Defaults to None (no auth).
        base_url: public URL of the app, for the ``url`` of citations (``$QA_BASE_URL``).
            Defaults to None: derived from each request.
        top_k: citations per chat answer and API default. Defaults to 3.
        max_body_bytes: largest JSON request body. Defaults to 64 KB.
        max_question_chars: longest question accepted by the API. Defaults to 2,000.
        max_history: most earlier questions per request. Defaults to 20.
        max_upload_bytes: largest batch questions file. Defaults to 5 MB.
        max_batch_questions: most questions per batch file. Defaults to 10,000.
        engine_running: engine calls at once, API and chat together. Defaults to 4.
        engine_waiting: calls that may wait for the engine before "busy" (503). Defaults to 32.
        chat_concurrency: Gradio events run at once. Defaults to 4.
        queue_size: Gradio events that may wait; more get "busy, try again". Defaults to 32.
        examples: example questions on the chat page and the embed. Defaults to four about the article.
    """

    allowed_origins: tuple[str, ...] = ()
    token: str | None = field(default=None, repr=False)
    base_url: str | None = None
    top_k: int = DEFAULT_TOP_K
    max_body_bytes: int = 64 * 1024
    max_question_chars: int = MAX_QUESTION_CHARS
    max_history: int = 20
    max_upload_bytes: int = 5 * 1024 * 1024
    max_batch_questions: int = 10_000
    engine_running: int = 4
    engine_waiting: int = 32
    chat_concurrency: int = 4
    queue_size: int = 32
    examples: tuple[str, ...] = DEFAULT_EXAMPLES

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_origins", parse_origins(self.allowed_origins))
        if self.base_url is not None:
            if not re.match(r"^https?://[^/\s]+", self.base_url):
                raise ValueError(f"base URL must start with http:// or https:// and a host, "
                                 f"e.g. 'https://qa.example.org/', got {self.base_url!r}")
            object.__setattr__(self, "base_url", self.base_url.rstrip("/") + "/")
        if self.token is not None and not self.token.strip():
            object.__setattr__(self, "token", None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "WebSettings":
        """Settings from ``$QA_ALLOWED_ORIGINS`` (comma-separated), ``$QA_TOKEN`` and ``$QA_BASE_URL``.

        Args:
            environ: the environment. Defaults to :data:`os.environ`.
            overrides: fields that win over the environment (e.g. command-line flags);
                ``allowed_origins`` given here are added to the environment's.
        """
        environ = os.environ if environ is None else environ
        settings = cls(allowed_origins=parse_origins(environ.get(ENV_ALLOWED_ORIGINS, "")),
                       token=environ.get(ENV_TOKEN) or None, base_url=environ.get(ENV_BASE_URL) or None)
        if "allowed_origins" in overrides:
            overrides["allowed_origins"] = settings.allowed_origins + parse_origins(overrides["allowed_origins"])
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


class AskBody(BaseModel):
    """The body of ``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid")
    question: StrictStr
    history: list[StrictStr] = []
    top_k: StrictInt | None = None


class ApiError(ValueError):
    """A bad request, answered as JSON ``{"error": message, "status": status}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class WebContext:
    """What the routes and the Gradio events share: one engine, the settings, the gate, the link builders."""

    def __init__(self, engine, settings: WebSettings) -> None:
        self.engine, self.settings = engine, settings
        self.gate = Gate(settings.engine_running, settings.engine_waiting)
        first = engine.docs[0].id if engine.docs else ""
        self.page_linker = Linker("", first)
        self.lock = threading.Lock()
        self.batch_root: Path | None = None

    def check(self, question: str, history: list[str]) -> None:
        """Refuse what the engine would silently cut: an oversized question or history.

        Raises:
            ApiError: 400 with the limit and the size received.
        """
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise ApiError(400, f"question has {len(question):,} characters; the limit is {limit:,}")
        if len(history) > self.settings.max_history:
            raise ApiError(400, f"history has {len(history)} questions; send at most the last "
                                f"{self.settings.max_history}")
        for position, item in enumerate(history, start=1):
            if len(item) > limit:
                raise ApiError(400, f"history item {position} has {len(item):,} characters; the limit is {limit:,}")

    def ask(self, question: str, history: list[str], top_k: int | None) -> Answer:
        """Check the request, then ask the shared engine through the gate.

        Raises:
            ApiError: 400 for an oversized question or history.
            QuestionError: empty question or ``top_k`` out of range.
            Busy: too many requests at once.
        """
        self.check(question, history)
        with self.gate.slot():
            return self.engine.ask(question, history=history, top_k=self.settings.top_k if top_k is None else top_k)

    def base_url_from_headers(self, headers: Mapping[str, str], scheme: str = "http") -> str:
        """The public base URL: ``settings.base_url``, else ``scheme://Host/`` from the request headers."""
        if self.settings.base_url:
            return self.settings.base_url
        lowered = {k.lower(): v for k, v in headers.items()}
        proto = lowered.get("x-forwarded-proto", scheme).split(",")[0].strip()
        host = lowered.get("x-forwarded-host") or lowered.get("host") or "127.0.0.1"
        return f"{proto}://{host.split(',')[0].strip()}/"

    def base_url_for(self, request: Request) -> str:
        """The public base URL for ``request`` (``settings.base_url`` wins)."""
        return self.settings.base_url or str(request.base_url)

    def answer_json(self, answer: Answer, base_url: str) -> dict:
        """``answer.to_dict()`` plus a ``url`` per citation pointing at its sentence in the article view."""
        linker = Linker(base_url, self.page_linker.first_doc)
        data = answer.to_dict()
        for citation, item in zip(answer.citations, data["citations"]):
            item["url"] = linker.citation(citation)
        return data


def _error_response(status: int, message: str, headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    return JSONResponse(json.loads(json_body(status, message, **extra)), status_code=status, headers=headers)


async def _parse_body(request: Request) -> AskBody:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, f"Content-Type must be application/json, got {media or 'none'!r}")
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting too deep
        raise ApiError(422, f"body is not valid JSON ({str(exc)[:200] or 'nested too deeply'}); send "
                            '{"question": "...", "history": [], "top_k": 3}') from None
    try:
        return AskBody.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise ApiError(422, f"body does not match {{question: string, history: [string], top_k: int}}: "
                            f"{problems}") from None


def _add_routes(app: FastAPI, ctx: WebContext) -> None:
    settings = ctx.settings

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(QuestionError)
    async def question_error(request: Request, exc: QuestionError) -> JSONResponse:
        return _error_response(400, str(exc))

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        logger.warning("busy: %s", exc)
        return _error_response(503, "the server is busy; try again in a moment", {"Retry-After": "2"})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error_response(422, f"invalid request: {problems}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("error answering %s %s", request.method, request.url.path)
        return _error_response(500, "internal error; the server log has the details")

    @app.get("/healthz")
    def healthz() -> dict:
        """Status, document and chunk counts, model name."""
        return {"status": "ok", **ctx.engine.stats()}

    @app.get("/api/ask")
    def ask_get(request: Request, q: str = Query("", description="the question"),
                k: int = Query(settings.top_k, description="number of citations, 1-20")) -> dict:
        """Answer ``q`` with ``k`` citations."""
        answer = ctx.ask(q, [], k)
        return ctx.answer_json(answer, ctx.base_url_for(request))

    @app.post("/api/ask")
    async def ask_post(request: Request) -> dict:
        """Answer ``{"question", "history", "top_k"}``."""
        body = await _parse_body(request)
        answer = await run_in_threadpool(ctx.ask, body.question, body.history, body.top_k)
        return ctx.answer_json(answer, ctx.base_url_for(request))

    @app.post("/embed/ask")
    async def embed_ask(request: Request) -> dict:
        """The embed view's call: the answer object and its reply HTML (escaped by the server)."""
        body = await _parse_body(request)
        answer = await run_in_threadpool(ctx.ask, body.question, body.history, body.top_k)
        return {"answer": ctx.answer_json(answer, ctx.base_url_for(request)),
                "html": answer_html(answer, ctx.page_linker)}

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    def api_unknown(rest: str, request: Request) -> JSONResponse:
        if rest == "ask":
            return _error_response(405, f"method {request.method} not allowed on /api/ask; use GET or POST",
                                   {"Allow": "GET, POST"})
        return _error_response(404, f"no API route /api/{rest}; the API is GET or POST /api/ask")

    def article_view(request: Request, doc: str | None) -> HTMLResponse:
        docs = ctx.engine.docs
        chosen = ctx.engine.documents.get(doc) if doc else (docs[0] if docs else None)
        if chosen is None:
            known = ", ".join(d.id for d in docs) or "none"
            return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>Not found</title>"
                                f"<p>No document {html.escape(repr(doc))}. Known documents: {html.escape(known)}.</p>",
                                status_code=404)
        linker = Linker(request.scope.get("root_path", "").rstrip("/") + "/", ctx.page_linker.first_doc)
        others = [d for d in docs if d.id != chosen.id]
        return HTMLResponse(article_page(chosen, ctx.engine.data.sentences, linker, others))

    @app.get("/article", response_class=HTMLResponse)
    def article(request: Request) -> HTMLResponse:
        """The first article with numbered paragraphs and sentence anchors (``#p4-s2``)."""
        return article_view(request, None)

    @app.get("/article/{doc}", response_class=HTMLResponse)
    def article_doc(request: Request, doc: str) -> HTMLResponse:
        """Any document by id, same anchors (the batch ``.md`` report links here)."""
        return article_view(request, doc)

    @app.get("/embed", response_class=HTMLResponse)
    def embed() -> HTMLResponse:
        """The compact chat for iframes."""
        title = ctx.engine.docs[0].title if ctx.engine.docs else "the article"
        return HTMLResponse(embed_page(title, list(settings.examples[:3]), settings.top_k, settings.max_history,
                                       settings.max_question_chars))


def create_app(engine, settings: WebSettings | None = None) -> FastAPI:
    """The whole web app around one shared engine.

    Args:
        engine: a loaded :class:`qa.Engine` (shared by all requests and threads).
        settings: origins, token, limits. Defaults to :meth:`WebSettings.from_env`.

    Returns:
        A FastAPI app: JSON routes and pages first, then the Gradio UI mounted at ``/``.
    """
    import gradio as gr

    from .web_ui import PAGE_CSS, PAGE_HEAD, build_blocks

    settings = settings or WebSettings.from_env()
    ctx = WebContext(engine, settings)
    app = FastAPI(title="Ask the article", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.qa = ctx
    _add_routes(app, ctx)
    # add_middleware puts each one outside the previous: the last added runs first.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, prefixes=("/api/", "/embed/ask"))
    if settings.token:
        app.add_middleware(TokenAuth, token=settings.token, json_prefixes=JSON_PREFIXES)
        install_log_redaction()
    app.add_middleware(SecurityHeaders, frame_origins=settings.allowed_origins)
    # Always present (even empty) so Gradio defers to it instead of applying its own CORS rules.
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.allowed_origins), allow_credentials=False,
                       allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(JSONErrors, prefixes=JSON_PREFIXES)
    demo = build_blocks(ctx)
    app = gr.mount_gradio_app(app, demo, path="/", footer_links=["api"], run_history=False, show_error=False,
                              max_file_size=settings.max_upload_bytes, css=PAGE_CSS, head=PAGE_HEAD,
                              ssr_mode=False, mcp_server=False, pwa=False)
    logger.info("web app ready: %s", settings)
    return app


class RunningServer:
    """A uvicorn server running ``app`` in a background thread (tests, benchmarks, notebooks).

    Usage example:
        >>> server = RunningServer(create_app(engine))   # doctest: +SKIP
        >>> httpx.get(server.url + "healthz").json()["status"]   # doctest: +SKIP
        'ok'
        >>> server.stop()   # doctest: +SKIP

    Args:
        app: the ASGI app.
        host: address to bind. Defaults to 127.0.0.1.
        port: port to bind. Defaults to 0: a free port, see :attr:`url`.
        timeout: seconds to wait for the server to start. Defaults to 30.

    Raises:
        RuntimeError: the server did not start within ``timeout``.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0) -> None:
        import socket
        import time

        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.url = f"http://{host}:{self.socket.getsockname()[1]}/"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                                   timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name=f"uvicorn {self.url}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise RuntimeError(f"web server at {self.url} did not start within {timeout:g} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask the server to exit and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
