"""Web front end: one FastAPI app with the JSON API, the article and embed pages, and the Gradio chat at ``/``.

One job per module: ``settings`` (:class:`WebSettings`, read from the environment), ``service``
(:class:`WebService`, the one path to the engine, with the gate), ``schema`` (the API's pydantic
models), ``routes`` (the routes and :func:`create_app`), ``guards`` (middleware), ``ui`` (the
Gradio page), ``events`` (its events' refusal of malformed input), ``render`` (answers and the article
as HTML), ``pages`` (the article and embed pages), ``server`` (uvicorn settings and :class:`RunningServer`).

    >>> from qa import Engine                                   # doctest: +SKIP
    >>> from qa.web import WebSettings, create_app, server_config  # doctest: +SKIP
    >>> app = create_app(Engine.load(), WebSettings.from_env())  # doctest: +SKIP
"""
from __future__ import annotations

from .routes import JSON_PREFIXES, JSON_ROUTES, create_app
from .server import (BODY_MIN_RATE, BODY_TIMEOUT_SECONDS, HEAD_TIMEOUT_SECONDS, KEEP_ALIVE_SECONDS,
                     MAX_REQUEST_HEAD_BYTES, RunningServer, server_config)
from .service import ApiError, WebService
from .settings import DEFAULT_EXAMPLES, WebSettings, parse_origins

__all__ = ["create_app", "WebSettings", "WebService", "ApiError", "RunningServer", "server_config", "parse_origins",
           "DEFAULT_EXAMPLES", "JSON_PREFIXES", "JSON_ROUTES", "MAX_REQUEST_HEAD_BYTES", "HEAD_TIMEOUT_SECONDS",
           "KEEP_ALIVE_SECONDS", "BODY_TIMEOUT_SECONDS", "BODY_MIN_RATE"]
