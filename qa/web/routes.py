"""The web app: one FastAPI app with the JSON API, the article and embed pages, and the Gradio chat at ``/``.

Build it with :func:`create_app` (``python app.py`` does, and so do the tests):

    >>> from qa import Engine                                   # doctest: +SKIP
    >>> from qa.web import WebSettings, create_app, server_config  # doctest: +SKIP
    >>> app = create_app(Engine.load(), WebSettings.from_env())  # doctest: +SKIP
    >>> import uvicorn; uvicorn.Server(server_config(app, host="127.0.0.1", port=7860)).run()  # doctest: +SKIP

Routes: ``GET /healthz``; ``GET /api/ask?q=...&k=3&doc=ID``; ``POST /api/ask`` with
``{"question", "history", "top_k", "doc"}``; ``GET /api/docs?offset=0&limit=100&prefix=`` (document ids and
titles); ``GET /article`` and ``/article/{doc}`` (ids may hold ``/``; anchors ``#p4-s2``); ``GET /embed``
(iframe chat; ``?doc=ID`` scopes it to one document) and its ``POST /embed/ask``; everything else is Gradio.
Every error on ``/api/``, ``/embed/ask`` and ``/healthz`` is JSON ``{"error", "status"}``; the OpenAPI
schema (``/api/openapi.json``) describes the JSON routes, their bodies and their error responses.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ..config import MAX_TOP_K
from ..question import QuestionError
from .guards import (BodyLimit, Busy, ErrorCap, HostGuard, JSONErrors, MethodGuard, SecurityHeaders, TokenAuth,
                     install_log_redaction, json_body)
from .pages import article_page, embed_page, not_found_page
from .render import Linker, answer_html
from .schema import (DOC_DESCRIPTION, DOCS_LIMIT, MAX_DOCS_LIMIT, MAX_PREFIX_CHARS, AnswerOut, AskBody, DocsOut,
                     EmbedOut, HealthOut, describe_api, describe_problems, route_responses)
from .service import ApiError, WebService
from .settings import WebSettings

logger = logging.getLogger(__name__)

#: Path prefixes of the app's own JSON routes (errors there are always JSON).
JSON_PREFIXES = ("/api/", "/embed/ask", "/healthz")
#: Methods of each JSON route; any other method gets 405 JSON with ``Allow`` (HEAD is answered as GET).
JSON_ROUTES = {"/api/ask": ("GET", "POST"), "/api/docs": ("GET",), "/api/openapi.json": ("GET",),
               "/embed/ask": ("POST",), "/healthz": ("GET",)}
#: Documents named on a "no such document" page and listed above an article (a wiki has thousands).
LISTED_DOCS = 10


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
                            '{"question": "...", "history": [], "top_k": 3, "doc": null}') from None
    try:
        return AskBody.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, f"body does not match {{question: string, history: [string], top_k: int, "
                            f"doc: string or [string]}}: {describe_problems(exc)}") from None


def _add_routes(app: FastAPI, ctx: WebService) -> None:
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
        errors = exc.errors()
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:3])
        more = f"; and {len(errors) - 3:,} more" if len(errors) > 3 else ""
        return _error_response(422, f"invalid request: {problems}{more}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # the client hung up (or was cut off by the body timeout) before its body was in: nothing to log but a line
        logger.info("%s %s: the client left before sending the whole request body", request.method, request.url.path)
        return _error_response(400, "the request body was not received")  # never sent: nobody is listening

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("error answering %s %s", request.method, request.url.path)
        return _error_response(500, "internal error; the server log has the details")

    @app.get("/healthz", response_model=None, responses=route_responses(HealthOut))
    def healthz() -> dict:
        """Status, document and chunk counts, model name."""
        return {"status": "ok", **ctx.engine.stats()}

    @app.get("/api/ask", response_model=None, responses=route_responses(AnswerOut, 400, 401, 422, 503))
    async def ask_get(request: Request, q: str = Query("", description="the question"),
                      k: int = Query(settings.top_k, description=f"number of citations, 1-{MAX_TOP_K}"),
                      doc: list[str] = Query([], description=DOC_DESCRIPTION + " (repeat doc= for several)")) -> dict:
        """Answer ``q`` with ``k`` citations, from the documents ``doc`` when given."""
        answer = await ctx.ask_async(q, [], k, doc)
        return ctx.answer_json(answer, ctx.base_url_for(request))

    @app.post("/api/ask", response_model=None, responses=route_responses(AnswerOut, 400, 401, 413, 415, 422, 503))
    async def ask_post(request: Request) -> dict:
        """Answer ``{"question", "history", "top_k", "doc"}``."""
        body = await _parse_body(request)
        answer = await ctx.ask_async(body.question, body.history, body.top_k, body.doc)
        return ctx.answer_json(answer, ctx.base_url_for(request))

    @app.get("/api/docs", response_model=None, responses=route_responses(DocsOut, 401, 422))
    def docs(offset: int = Query(0, ge=0, le=10**9, description="documents to skip"),
             limit: int = Query(DOCS_LIMIT, ge=1, le=MAX_DOCS_LIMIT,
                                description=f"documents per page, 1-{MAX_DOCS_LIMIT}"),
             prefix: str = Query("", max_length=MAX_PREFIX_CHARS,
                                 description="only the ids that start with it (e.g. a folder: library/)")) -> dict:
        """The documents (id, title, sentences), a page at a time: follow ``next_offset`` until it is null."""
        return ctx.documents(offset, limit, prefix)

    @app.post("/embed/ask", response_model=None, responses=route_responses(EmbedOut, 400, 401, 413, 415, 422, 503))
    async def embed_ask(request: Request) -> dict:
        """The embed view's call: the answer object and its reply HTML (escaped by the server)."""
        body = await _parse_body(request)
        answer = await ctx.ask_async(body.question, body.history, body.top_k, body.doc)
        return {"answer": ctx.answer_json(answer, ctx.base_url_for(request)),
                "html": answer_html(answer, ctx.page_linker)}

    def article_view(request: Request, doc: str | None) -> HTMLResponse:
        docs = ctx.engine.docs
        chosen = ctx.engine.documents.get(doc) if doc else (docs[0] if docs else None)
        linker = Linker(request.scope.get("root_path", "").rstrip("/") + "/", ctx.page_linker.first_doc)
        if chosen is None:
            return HTMLResponse(not_found_page(doc, docs[:LISTED_DOCS], len(docs), linker), status_code=404)
        others = [d for d in docs[:LISTED_DOCS + 1] if d.id != chosen.id][:LISTED_DOCS]
        return HTMLResponse(article_page(chosen, ctx.engine.data.sentences, linker, others, len(docs) - 1))

    @app.api_route("/article", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def article(request: Request) -> HTMLResponse:
        """The first article with numbered paragraphs and sentence anchors (``#p4-s2``)."""
        return article_view(request, None)

    @app.api_route("/article/{doc:path}", methods=["GET", "HEAD"], response_class=HTMLResponse,
                   include_in_schema=False)
    def article_doc(request: Request, doc: str) -> HTMLResponse:
        """Any document by id (which may hold ``/``: ``library/functions.html``), same anchors (the batch
        ``.md`` report links here)."""
        return article_view(request, doc)

    @app.api_route("/embed", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def embed(request: Request, doc: str | None = None) -> HTMLResponse:
        """The compact chat for iframes; ``?doc=ID`` answers from that document only (a wiki page's own bot)."""
        if doc is not None:
            chosen = ctx.engine.documents.get(doc) if len(doc) <= MAX_PREFIX_CHARS else None
            if chosen is None:
                linker = Linker(request.scope.get("root_path", "").rstrip("/") + "/", ctx.page_linker.first_doc)
                return HTMLResponse(not_found_page(doc, ctx.engine.docs[:LISTED_DOCS], len(ctx.engine.docs),
                                                   linker), status_code=404)
            ctx.warm(chosen.id)
            return HTMLResponse(embed_page(chosen.title, [], settings.top_k, settings.max_history,
                                           settings.max_question_chars, doc=chosen.id))
        docs = ctx.engine.docs
        if len(docs) > 1:   # any of them: the heading names none in particular
            return HTMLResponse(embed_page(f"all {len(docs):,} documents", list(settings.examples[:3]), settings.top_k,
                                           settings.max_history, settings.max_question_chars, about="the documents"))
        title = docs[0].title if docs else "the article"
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

    from .ui import PAGE_CSS, PAGE_HEAD, THEME, build_blocks

    settings = settings or WebSettings.from_env()
    if settings.top_k is None:
        settings = replace(settings, top_k=engine.settings.top_k)
    ctx = WebService(engine, settings)
    app = FastAPI(title="Ask the article", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.qa = ctx
    _add_routes(app, ctx)

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = describe_api(get_openapi(title=app.title, version=app.version,
                                                           description=__doc__.split("\n\n")[0],
                                                           routes=app.routes), settings,
                                                  [doc.id for doc in engine.docs])
        return app.openapi_schema

    app.openapi = openapi
    # add_middleware puts each one outside the previous: the last added runs first.
    app.add_middleware(MethodGuard, routes=JSON_ROUTES, prefix="/api/")
    app.add_middleware(BodyLimit, limit=settings.max_gradio_body_bytes, limits=(
        *((prefix, settings.max_body_bytes) for prefix in JSON_PREFIXES),
        ("/gradio_api/upload", settings.max_upload_bytes + 64 * 1024)))
    if settings.token:
        app.add_middleware(TokenAuth, token=settings.token, json_prefixes=JSON_PREFIXES)
        install_log_redaction()
    app.add_middleware(SecurityHeaders, frame_origins=settings.allowed_origins)
    # Always present (even empty) so Gradio defers to it instead of applying its own CORS rules.
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.allowed_origins), allow_credentials=False,
                       allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(JSONErrors, prefixes=JSON_PREFIXES)
    app.add_middleware(ErrorCap)
    app.add_middleware(HostGuard, hosts=settings.hosts)
    demo = build_blocks(ctx)
    app = gr.mount_gradio_app(app, demo, path="/", footer_links=["api"], run_history=False, show_error=False,
                              root_path=settings.base_url.rstrip("/") if settings.base_url else None,
                              max_file_size=settings.max_upload_bytes, css=PAGE_CSS, head=PAGE_HEAD, theme=THEME,
                              ssr_mode=False, mcp_server=False, pwa=False)
    logger.info("web app ready: %s", settings)
    return app
