"""Web settings: :class:`WebSettings` (allowed origins and hosts, token, base URL, limits), read from the environment."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Mapping
from urllib.parse import urlsplit

from ..config import MAX_QUESTION_CHARS, base_url_from_env, check_base_url
from .guards import LOOPBACK_HOSTS, check_token

ENV_TOKEN = "QA_TOKEN"
ENV_ALLOWED_ORIGINS = "QA_ALLOWED_ORIGINS"
ENV_ALLOWED_HOSTS = "QA_ALLOWED_HOSTS"

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
        top_k: citations per chat answer and API default. Defaults to None: the engine's setting
            (``$QA_TOP_K``, else 3), so the CLI, batch and the web agree.
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
    top_k: int | None = None
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
            # One check for every front end (qa.config); kept with a trailing slash for joining paths.
            object.__setattr__(self, "base_url", check_base_url(self.base_url) + "/")
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
                       token=environ.get(ENV_TOKEN) or None, base_url=base_url_from_env(environ))
        if "allowed_origins" in overrides:
            overrides["allowed_origins"] = settings.allowed_origins + parse_origins(overrides["allowed_origins"])
        if "allowed_hosts" in overrides:
            overrides["allowed_hosts"] = settings.allowed_hosts + tuple(overrides["allowed_hosts"] or ())
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})
