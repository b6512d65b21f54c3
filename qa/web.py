"""The web app: one FastAPI app with the JSON API, the article and embed pages, and the Gradio chat at ``/``.

Build it with :func:`create_app` (``python app.py`` does, and so do the tests):

    >>> from qa import Engine                                   # doctest: +SKIP
    >>> from qa.web import WebSettings, create_app, server_config  # doctest: +SKIP
    >>> app = create_app(Engine.load(), WebSettings.from_env())  # doctest: +SKIP
    >>> import uvicorn; uvicorn.Server(server_config(app, host="127.0.0.1", port=7860)).run()  # doctest: +SKIP

Routes: ``GET /healthz``; ``GET /api/ask?q=...&k=3``; ``POST /api/ask`` with
``{"question", "history", "top_k"}``; ``GET /article`` and ``/article/{doc}`` (anchors ``#p4-s2``);
``GET /embed`` (iframe chat) and its ``POST /embed/ask``; everything else is Gradio.
Every error on ``/api/``, ``/embed/ask`` and ``/healthz`` is JSON ``{"error", "status"}``; the OpenAPI
schema (``/api/openapi.json``) describes the JSON routes, their bodies and their error responses.
"""
from __future__ import annotations

import html
import json
import logging
import os
import re
import threading
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Mapping
from urllib.parse import urlsplit

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictInt, StrictStr, ValidationError, create_model
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .answer import Answer, AnswerSpan, Citation
from .config import DEFAULT_TOP_K, MAX_QUESTION_CHARS, MAX_TOP_K
from .question import QuestionError, clean_question
from .web_guard import (LOOPBACK_HOSTS, BodyLimit, Busy, ErrorCap, Gate, HostGuard, JSONErrors, MethodGuard,
                        SecurityHeaders, TokenAuth, check_token, install_log_redaction, json_body)
from .web_pages import article_page, embed_page
from .web_render import Linker, answer_html

logger = logging.getLogger(__name__)

ENV_TOKEN = "QA_TOKEN"
ENV_ALLOWED_ORIGINS = "QA_ALLOWED_ORIGINS"
ENV_BASE_URL = "QA_BASE_URL"
ENV_ALLOWED_HOSTS = "QA_ALLOWED_HOSTS"

#: Path prefixes of the app's own JSON routes (errors there are always JSON).
JSON_PREFIXES = ("/api/", "/embed/ask", "/healthz")
#: Methods of each JSON route; any other method gets 405 JSON with ``Allow`` (HEAD is answered as GET).
JSON_ROUTES = {"/api/ask": ("GET", "POST"), "/api/openapi.json": ("GET",), "/embed/ask": ("POST",),
               "/healthz": ("GET",)}
#: Largest request line plus headers the server reads (h11's own default is 16 KB, or whatever one read brings);
#: a longer one (e.g. a query string with tens of thousands of parameters) gets 400 JSON before reaching the app.
MAX_REQUEST_HEAD_BYTES = 64 * 1024
#: Seconds a client has to send a whole request head (from connecting, or from the end of its previous
#: response); a client that trickles bytes slower is disconnected.
HEAD_TIMEOUT_SECONDS = 10.0
#: Seconds an idle keep-alive connection stays open after a response.
KEEP_ALIVE_SECONDS = 5
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
        base_url: public URL of the app, for the ``url`` of citations and Gradio's links
            (``$QA_BASE_URL``). Defaults to None: derived from each request's ``Host`` (or
            ``X-Forwarded-Host``), which must then be one of :attr:`hosts`.
        allowed_hosts: host names the app answers for besides 127.0.0.1, localhost, ::1 and the
            base URL's host (``$QA_ALLOWED_HOSTS``, comma-separated; ``*.example.org`` for
            subdomains, ``*`` for any name). Other names get 400. Defaults to none.
        top_k: citations per chat answer and API default. Defaults to 3.
        max_body_bytes: largest JSON request body (``/api/``, ``/embed/ask``). Defaults to 64 KB.
        max_gradio_body_bytes: largest request body on every other route (Gradio's events carry the
            chat shown so far). Defaults to 1 MB; uploads get ``max_upload_bytes`` plus 64 KB.
        max_question_chars: longest question accepted by the API. Defaults to 2,000.
        max_history: most earlier questions per request. Defaults to 20.
        max_upload_bytes: largest batch questions file. Defaults to 5 MB.
        max_batch_questions: most questions per batch file. Defaults to 10,000.
        engine_running: engine calls at once, API and chat together. Defaults to 4.
        engine_waiting: calls that may wait for the engine before "busy" (503). Defaults to 64: 50
            API clients and the chat at once are all served (bench/bench_load.py).
        chat_concurrency: Gradio events run at once. Defaults to 4.
        queue_size: Gradio events that may wait; more get "busy, try again". Defaults to 32.
        examples: example questions on the chat page and the embed. Defaults to four about the article.
    """

    allowed_origins: tuple[str, ...] = ()
    token: str | None = field(default=None, repr=False)
    base_url: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    top_k: int = DEFAULT_TOP_K
    max_body_bytes: int = 64 * 1024
    max_gradio_body_bytes: int = 1024 * 1024
    max_question_chars: int = MAX_QUESTION_CHARS
    max_history: int = 20
    max_upload_bytes: int = 5 * 1024 * 1024
    max_batch_questions: int = 10_000
    engine_running: int = 4
    engine_waiting: int = 64
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
        if self.token is not None:
            object.__setattr__(self, "token", check_token(self.token.strip()) if self.token.strip() else None)
        if isinstance(self.allowed_hosts, str):
            object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts.split(",")))
        hosts = tuple(h.strip() for h in self.allowed_hosts if h.strip())
        for host in hosts:
            if not re.fullmatch(r"\*|(\*\.)?[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?", host):
                raise ValueError(f"allowed host must be a host name such as 'qa.example.org', '*.example.org' or "
                                 f"'*', without scheme or port; got {host!r}")
        object.__setattr__(self, "allowed_hosts", hosts)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host name the app answers for: loopback, the base URL's host and :attr:`allowed_hosts`."""
        own = (urlsplit(self.base_url).hostname,) if self.base_url else ()
        return tuple(dict.fromkeys((*LOOPBACK_HOSTS, *own, *self.allowed_hosts)))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "WebSettings":
        """Settings from ``$QA_ALLOWED_ORIGINS``, ``$QA_ALLOWED_HOSTS`` (comma-separated), ``$QA_TOKEN``,
        ``$QA_BASE_URL``.

        Args:
            environ: the environment. Defaults to :data:`os.environ`.
            overrides: fields that win over the environment (e.g. command-line flags);
                ``allowed_origins`` and ``allowed_hosts`` given here are added to the environment's.

        Raises:
            ValueError: a setting is malformed (the message names it and shows a valid example).
        """
        environ = os.environ if environ is None else environ
        settings = cls(allowed_origins=parse_origins(environ.get(ENV_ALLOWED_ORIGINS, "")),
                       allowed_hosts=environ.get(ENV_ALLOWED_HOSTS, ""),
                       token=environ.get(ENV_TOKEN) or None, base_url=environ.get(ENV_BASE_URL) or None)
        if "allowed_origins" in overrides:
            overrides["allowed_origins"] = settings.allowed_origins + parse_origins(overrides["allowed_origins"])
        if "allowed_hosts" in overrides:
            overrides["allowed_hosts"] = settings.allowed_hosts + tuple(overrides["allowed_hosts"] or ())
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _whole_number(value: object) -> object:
    """``3.0`` as ``3``: JSON Schema's "integer" does not tell them apart; ``3.5`` and ``true`` stay invalid."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class AskBody(BaseModel):
    """The body of ``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid")
    question: StrictStr
    history: list[StrictStr] = []
    top_k: Annotated[StrictInt, BeforeValidator(_whole_number)] | None = None


def _schema_of(shape: type, name: str, doc: str, **fields) -> type[BaseModel]:
    """A pydantic model (for the OpenAPI schema only) with the fields of dataclass ``shape``.

    ``fields`` (name -> type) replace or add fields, so the schema follows the one
    :class:`~qa.answer.Answer` shape instead of describing it a second time.
    """
    kinds = {**typing.get_type_hints(shape), **fields}
    return create_model(name, __doc__=doc, **{key: (kind, ...) for key, kind in kinds.items()})


SpanOut = _schema_of(AnswerSpan, "SpanOut", "Where an answer sentence is: ``document.text[start:end]``.")
CitationOut = _schema_of(
    Citation, "CitationOut",
    "A cited passage (``document.text[start:end] == text``) and its link into the article view.", url=str)
AnswerOut = _schema_of(
    Answer, "AnswerOut", "The answer object of ``/api/ask``: :meth:`qa.answer.Answer.to_dict` plus a ``url`` per "
    "citation.", answer_spans=list[SpanOut], citations=list[CitationOut])


class EmbedOut(BaseModel):
    """The answer of ``POST /embed/ask``: the answer object and the reply as escaped HTML."""

    answer: AnswerOut
    html: str


class HealthOut(BaseModel):
    """``GET /healthz``."""

    status: str
    documents: int
    sentences: int
    chunks: int
    model: str


class ErrorOut(BaseModel):
    """Every error of the JSON routes."""

    error: str
    status: int


_ERRORS = {
    400: "empty question (nothing left once control characters and spaces are removed), question or history "
         "over the limits, or top_k outside 1-20",
    401: "missing or wrong token (only when QA_TOKEN is set)",
    413: "request body over the limit (64 KB by default)",
    415: "Content-Type is not application/json",
    422: "the request does not have the documented shape (not JSON, wrong types, unknown keys)",
    503: "busy: too many requests at once; try again after Retry-After seconds",
}


def _responses(model: type[BaseModel], *errors: int) -> dict:
    """OpenAPI ``responses`` for a JSON route: ``model`` on 200 and :class:`ErrorOut` on each error status."""
    described: dict = {200: {"model": model, "description": model.__doc__.strip().splitlines()[0]}}
    for status in errors:
        described[status] = {"model": ErrorOut, "description": _ERRORS[status]}
        if status == 503:
            described[status]["headers"] = {"Retry-After": {"description": "seconds to wait", "required": True,
                                                            "schema": {"type": "integer"}}}
    return described


def question_pattern() -> str:
    """A JSON Schema ``pattern`` that a question matches when it has something left to ask.

    :func:`qa.question.clean_question` drops control and format characters (keeping the zero-width
    joiner) and whitespace; a question that is nothing else is refused with 400. The pattern is
    one character class of everything else (lone surrogates aside, which JSON Schema regexes
    cannot name). Format and control characters lie only below U+20000 and in U+E0000-U+E0FFF.
    """
    import unicodedata

    def dropped(char: str) -> bool:
        return (unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char != "\u200d") or char.isspace()

    ranges: list[list[int]] = []
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        if dropped(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "[^" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]"


def _describe_api(schema: dict, settings: "WebSettings") -> dict:
    """Add what the route signatures cannot say: the POST body, the question's limits, ``q`` being required."""
    question = {"type": "string", "minLength": 1, "maxLength": settings.max_question_chars,
                "pattern": question_pattern(),
                "description": f"the question: at most {settings.max_question_chars:,} characters, and something "
                               f"besides spaces and control characters"}
    body = {"type": "object", "additionalProperties": False, "required": ["question"], "properties": {
        "question": question,
        "history": {"type": "array", "maxItems": settings.max_history, "default": [],
                    "items": {"type": "string", "maxLength": settings.max_question_chars},
                    "description": f"earlier questions of the conversation, oldest first (at most "
                                   f"{settings.max_history})"},
        "top_k": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_TOP_K}, {"type": "null"}],
                  "default": None, "description": f"number of citations, 1-{MAX_TOP_K} "
                                                  f"(default {settings.top_k})"}}}
    paths = schema["paths"]
    for path in ("/api/ask", "/embed/ask"):
        paths[path]["post"]["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": body}},
            "description": f"at most {settings.max_body_bytes // 1024} KB in all (a longer body gets 413)"}
    for parameter in paths["/api/ask"]["get"]["parameters"]:
        if parameter["name"] == "q":
            parameter["required"] = True
            parameter["schema"] = {**question, "title": "Q"}
        elif parameter["name"] == "k":
            parameter["schema"].update(minimum=1, maximum=MAX_TOP_K)
    return schema


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
        """Check the request, then ask the shared engine through the gate (from a worker thread).

        Raises:
            ApiError: 400 for an oversized question or history.
            QuestionError: empty question or ``top_k`` out of range.
            Busy: too many requests at once.
        """
        self.check(question, history)
        with self.gate.slot():
            return self._engine_ask(question, history, top_k)

    async def ask_async(self, question: str, history: list[str], top_k: int | None) -> Answer:
        """:meth:`ask` for the API routes: the request is counted at the gate before it waits for a worker
        thread, so a flood is refused with 503 at once rather than queuing for threads.

        Raises:
            ApiError, QuestionError, Busy: as :meth:`ask`.
        """
        self.check(question, history)
        with self.gate.admission():
            return await run_in_threadpool(self._ask_in_slot, question, history, top_k)

    def gradio_inputs(self, question: object, history: object, top_k: object) -> tuple[str, list[str], int | None]:
        """Check the inputs of the Gradio ``/ask`` endpoint exactly as ``POST /api/ask`` checks its body.

        Returns:
            ``(question, history, top_k)`` ready for :meth:`ask` (``top_k`` None means the default).

        Raises:
            gradio.Error: a clear message (e.g. ``history.0: Input should be a valid string``); it is
                a client's mistake, so Gradio logs no traceback for it.
        """
        import gradio as gr

        try:
            body = AskBody.model_validate({"question": question, "history": [] if history is None else history,
                                           "top_k": top_k})
            if body.top_k is not None and not 1 <= body.top_k <= MAX_TOP_K:
                raise ApiError(400, f"top_k must be an integer from 1 to {MAX_TOP_K}, got {body.top_k}")
            self.check(body.question, body.history)
            clean_question(body.question)
        except ValidationError as exc:
            raise gr.Error(f"invalid input: {describe_problems(exc)}; send question (text), history (a list "
                           f"of earlier questions) and top_k (1-{MAX_TOP_K})", print_exception=False) from None
        except (ApiError, QuestionError) as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return body.question, body.history, body.top_k

    def _ask_in_slot(self, question: str, history: list[str], top_k: int | None) -> Answer:
        with self.gate.running_slot():
            return self._engine_ask(question, history, top_k)

    def _engine_ask(self, question: str, history: list[str], top_k: int | None) -> Answer:
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


def describe_problems(exc: ValidationError, shown: int = 3) -> str:
    """The first ``shown`` problems of a validation error, one clause each, and how many more there are.

    A body of 30,000 numbers where strings belong has 30,000 problems; listing them all made a
    1.4 MB error message.
    """
    errors = exc.errors()
    text = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in errors[:shown])
    return text + (f"; and {len(errors) - shown:,} more" if len(errors) > shown else "")


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
        raise ApiError(422, f"body does not match {{question: string, history: [string], top_k: int}}: "
                            f"{describe_problems(exc)}") from None


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
        errors = exc.errors()
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:3])
        more = f"; and {len(errors) - 3:,} more" if len(errors) > 3 else ""
        return _error_response(422, f"invalid request: {problems}{more}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("error answering %s %s", request.method, request.url.path)
        return _error_response(500, "internal error; the server log has the details")

    @app.get("/healthz", response_model=None, responses=_responses(HealthOut))
    def healthz() -> dict:
        """Status, document and chunk counts, model name."""
        return {"status": "ok", **ctx.engine.stats()}

    @app.get("/api/ask", response_model=None, responses=_responses(AnswerOut, 400, 401, 422, 503))
    async def ask_get(request: Request, q: str = Query("", description="the question"),
                      k: int = Query(settings.top_k, description=f"number of citations, 1-{MAX_TOP_K}")) -> dict:
        """Answer ``q`` with ``k`` citations."""
        answer = await ctx.ask_async(q, [], k)
        return ctx.answer_json(answer, ctx.base_url_for(request))

    @app.post("/api/ask", response_model=None, responses=_responses(AnswerOut, 400, 401, 413, 415, 422, 503))
    async def ask_post(request: Request) -> dict:
        """Answer ``{"question", "history", "top_k"}``."""
        body = await _parse_body(request)
        answer = await ctx.ask_async(body.question, body.history, body.top_k)
        return ctx.answer_json(answer, ctx.base_url_for(request))

    @app.post("/embed/ask", response_model=None, responses=_responses(EmbedOut, 400, 401, 413, 415, 422, 503))
    async def embed_ask(request: Request) -> dict:
        """The embed view's call: the answer object and its reply HTML (escaped by the server)."""
        body = await _parse_body(request)
        answer = await ctx.ask_async(body.question, body.history, body.top_k)
        return {"answer": ctx.answer_json(answer, ctx.base_url_for(request)),
                "html": answer_html(answer, ctx.page_linker)}

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

    @app.api_route("/article", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def article(request: Request) -> HTMLResponse:
        """The first article with numbered paragraphs and sentence anchors (``#p4-s2``)."""
        return article_view(request, None)

    @app.api_route("/article/{doc}", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def article_doc(request: Request, doc: str) -> HTMLResponse:
        """Any document by id, same anchors (the batch ``.md`` report links here)."""
        return article_view(request, doc)

    @app.api_route("/embed", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
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

    from .web_ui import PAGE_CSS, PAGE_HEAD, THEME, build_blocks

    settings = settings or WebSettings.from_env()
    ctx = WebContext(engine, settings)
    app = FastAPI(title="Ask the article", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.qa = ctx
    _add_routes(app, ctx)

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _describe_api(get_openapi(title=app.title, version=app.version,
                                                           description=__doc__.split("\n\n")[0],
                                                           routes=app.routes), settings)
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


def _head_size(event) -> int:
    """Bytes of a parsed request head as sent: request line, headers, blank line."""
    line = len(event.method) + len(event.target) + len(event.http_version) + 8  # spaces, "HTTP/", CRLF
    return line + sum(len(name) + len(value) + 4 for name, value in event.headers.raw_items()) + 2


def server_config(app, head_timeout: float = HEAD_TIMEOUT_SECONDS, keep_alive: int = KEEP_ALIVE_SECONDS,
                  **options):
    """The uvicorn settings of ``python app.py`` and :class:`RunningServer`.

    HTTP/1.1 through h11 with three limits uvicorn lacks or applies loosely:

    - a request head (request line and headers) over :data:`MAX_REQUEST_HEAD_BYTES` is refused
      however it arrives (h11 alone checks only a head still incomplete after a read, so one
      read could bring in 108 KB);
    - a client must send a whole request head within ``head_timeout`` seconds of connecting (or
      of its previous response); uvicorn has no such timeout, so clients trickling a header byte
      every few seconds were held forever;
    - an idle keep-alive connection is closed after ``keep_alive`` seconds.

    A request uvicorn cannot parse, or one with a longer head, is answered with 400 JSON
    ``{"error", "status"}`` instead of uvicorn's plain-text 400.

    Args:
        app: the ASGI app.
        head_timeout: seconds to send a request head. Defaults to :data:`HEAD_TIMEOUT_SECONDS` (10).
        keep_alive: seconds an idle connection stays open. Defaults to :data:`KEEP_ALIVE_SECONDS` (5).
        options: more :class:`uvicorn.Config` arguments (host, port, log_level, ...).

    Returns:
        A :class:`uvicorn.Config`.
    """
    import h11
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadLimitedConnection(h11.Connection):
        def next_event(self):
            event = super().next_event()
            if isinstance(event, h11.Request) and _head_size(event) > MAX_REQUEST_HEAD_BYTES:
                raise h11.RemoteProtocolError("request head too long", error_status_hint=431)
            return event

    class GuardedH11Protocol(H11Protocol):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.conn = HeadLimitedConnection(h11.SERVER, MAX_REQUEST_HEAD_BYTES)
            self.head_timer = None

        def _arm_head_timer(self) -> None:
            self._disarm_head_timer()
            if not self.transport.is_closing():
                self.head_timer = self.loop.call_later(head_timeout, self._head_timed_out)

        def _disarm_head_timer(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def _head_timed_out(self) -> None:
            self.head_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()  # nothing was asked yet: no answer is owed

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm_head_timer()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:  # the head is in: the request runs
                self._disarm_head_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.conn.their_state is h11.IDLE:  # waiting for the next request's head
                self._arm_head_timer()

        def connection_lost(self, exc) -> None:
            self._disarm_head_timer()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            body = json_body(400, f"invalid HTTP request: the request line and headers must be valid HTTP/1.1 and "
                                  f"at most {MAX_REQUEST_HEAD_BYTES // 1024} KB in all")
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                       (b"x-content-type-options", b"nosniff"), (b"connection", b"close")]
            self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
            self.transport.close()

    return uvicorn.Config(app, http=GuardedH11Protocol, h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
                          timeout_keep_alive=keep_alive, **options)


class RunningServer:
    """A uvicorn server running ``app`` in a background thread (tests, benchmarks, notebooks).

    Usage example (as a context manager it stops on leaving the block; else call :meth:`stop`):
        >>> with RunningServer(create_app(engine)) as server:   # doctest: +SKIP
        ...     httpx.get(server.url + "healthz").json()["status"]
        'ok'

    Args:
        app: the ASGI app.
        host: address to bind. Defaults to 127.0.0.1.
        port: port to bind. Defaults to 0: a free port, see :attr:`url`.
        timeout: seconds to wait for the server to start. Defaults to 30.
        options: more :func:`server_config` arguments, e.g. ``head_timeout=1.0``.

    Raises:
        RuntimeError: the server did not start within ``timeout``.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0, **options) -> None:
        import socket
        import time

        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.url = f"http://{host}:{self.socket.getsockname()[1]}/"
        self.server = uvicorn.Server(server_config(app, **{"log_level": "warning", "access_log": False,
                                                           "timeout_graceful_shutdown": 2, **options}))
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

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
