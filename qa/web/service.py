"""The web side's one path to the engine: :class:`WebService` checks a request's limits and asks (or answers a file) through the gate."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path
from typing import Mapping

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..answer import Answer
from ..batch import BatchSummary, QuestionFile, answer_file
from ..config import MAX_TOP_K
from ..question import QuestionError
from .guards import Gate
from .render import Linker
from .schema import DOCS_LIMIT, MAX_DOC_ID_CHARS, MAX_DOC_IDS, AskBody, describe_problems
from .settings import WebSettings

logger = logging.getLogger(__name__)


class ApiError(ValueError):
    """A bad request, answered as JSON ``{"error": message, "status": status}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class WebService:
    """What the routes and the Gradio events share: one engine, the settings, the gate, the link builders."""

    def __init__(self, engine, settings: WebSettings) -> None:
        self.engine, self.settings = engine, settings
        self.gate = Gate(settings.engine_running, settings.engine_waiting)
        first = engine.docs[0].id if engine.docs else ""
        self.page_linker = Linker("", first)
        self.lock = threading.Lock()
        self.batch_root: Path | None = None
        self._sentences: Counter | None = None
        self._warming: set[str] = set()

    def warm(self, doc: str) -> None:
        """Prepare page ``doc``'s bot in a background thread (:meth:`qa.Engine.warm`), once per page and process,
        so that its first question does not wait for the page to be embedded again."""
        if self.engine.retriever.pages is None:   # one document: nothing to prepare
            return
        with self.lock:
            if doc in self._warming:
                return
            self._warming.add(doc)
        threading.Thread(target=self._warm, args=(doc,), name="qa-warm", daemon=True).start()

    def _warm(self, doc: str) -> None:
        try:
            self.engine.warm(doc)
        except Exception:   # a page that cannot be warmed is encoded at its first question instead
            logger.exception("warming the bot of %r failed", doc)

    def check(self, question: str, history: list[str], doc: str | list[str] | None = None) -> None:
        """Refuse what the engine would silently cut: an oversized question or history; and a ``doc`` scope
        over the limits or naming a document not in the corpus.

        Raises:
            ApiError: 400 with the limit and the size received.
            QuestionError: ``doc`` names a document not in the corpus.
        """
        ids = [doc] if isinstance(doc, str) else list(doc or [])
        if len(ids) > MAX_DOC_IDS:
            raise ApiError(400, f"doc has {len(ids)} document ids; send at most {MAX_DOC_IDS}")
        for position, item in enumerate(ids, start=1):
            if len(item) > MAX_DOC_ID_CHARS:
                raise ApiError(400, f"doc id {position} has {len(item):,} characters; the limit is {MAX_DOC_ID_CHARS}")
        self.engine.scope(doc)
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise ApiError(400, f"question has {len(question):,} characters; the limit is {limit:,}")
        if len(history) > self.settings.max_history:
            raise ApiError(400, f"history has {len(history)} questions; send at most the last "
                                f"{self.settings.max_history}")
        for position, item in enumerate(history, start=1):
            if len(item) > limit:
                raise ApiError(400, f"history item {position} has {len(item):,} characters; the limit is {limit:,}")

    def ask(self, question: str, history: list[str], top_k: int | None, doc: str | list[str] | None = None) -> Answer:
        """Check the request, then ask the shared engine through the gate (from a worker thread).

        Args:
            doc: the document id(s) to answer from. Defaults to None: any document.

        Raises:
            ApiError: 400 for an oversized question, history or ``doc``.
            QuestionError: empty question, ``top_k`` out of range or ``doc`` not in the corpus.
            Busy: too many requests at once.
        """
        self.check(question, history, doc)
        with self.gate.admission():
            return self._ask_in_slot(question, history, top_k, doc)

    async def ask_async(self, question: str, history: list[str], top_k: int | None,
                        doc: str | list[str] | None = None) -> Answer:
        """:meth:`ask` for the API routes: the request is counted at the gate before it waits for a worker
        thread, so a flood is refused with 503 at once rather than queuing for threads.

        Raises:
            ApiError, QuestionError, Busy: as :meth:`ask`.
        """
        self.check(question, history, doc)
        with self.gate.admission():
            return await run_in_threadpool(self._ask_in_slot, question, history, top_k, doc)

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
        except ValidationError as exc:
            raise gr.Error(f"invalid input: {describe_problems(exc)}; send question (text), history (a list "
                           f"of earlier questions) and top_k (1-{MAX_TOP_K})", print_exception=False) from None
        except (ApiError, QuestionError) as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return body.question, body.history, body.top_k

    def ask_from_chat(self, question: str, history: list[str]) -> Answer:
        """The chat page's call: the shared engine through the gate, without :meth:`check`'s limits (the engine
        answers an over-long message from its first 2,000 characters, with a note; the page keeps the history
        to ``max_history``).

        Raises:
            QuestionError: empty question.
            Busy: too many requests at once.
        """
        with self.gate.slot():
            return self._engine_ask(question, history, None)

    def answer_file(self, source: QuestionFile, out: Path, **options) -> BatchSummary:
        """:func:`qa.batch.answer_file` with the shared engine, through the gate (one slot for the whole file).

        Raises:
            BatchError: the file cannot be read or has too many questions.
            Busy: too many requests at once.
        """
        with self.gate.slot():
            return answer_file(self.engine, source, out, **options)

    def _ask_in_slot(self, question: str, history: list[str], top_k: int | None,
                     doc: str | list[str] | None = None) -> Answer:
        """Ask once admitted at the gate. A scoped page not yet embedded again (:meth:`qa.Engine.warm`, up to about
        12 s for a large page, one page at a time) is embedded before the question takes a running slot, so the
        first questions to new pages never hold the slots that every other question waits for."""
        if doc:
            self.engine.warm(doc)
        with self.gate.running_slot():
            return self._engine_ask(question, history, top_k, doc)

    def _engine_ask(self, question: str, history: list[str], top_k: int | None,
                    doc: str | list[str] | None = None) -> Answer:
        return self.engine.ask(question, history=history, top_k=self.settings.top_k if top_k is None else top_k,
                               doc=doc or None)

    def documents(self, offset: int = 0, limit: int = DOCS_LIMIT, prefix: str = "") -> dict:
        """One page of the corpus's documents (``GET /api/docs``), in corpus order.

        Args:
            offset: documents skipped (of those matching ``prefix``). Defaults to 0.
            limit: documents listed. Defaults to 100.
            prefix: only ids that start with it. Defaults to "" (all).

        Returns:
            ``{"documents": [{"id", "title", "sentences"}], "total", "offset", "limit", "next_offset"}``;
            ``next_offset`` is None on the last page.
        """
        if self._sentences is None:   # counted once; the engine does not change under a running app
            self._sentences = Counter(s.doc for s in self.engine.data.sentences)
        matching = [d for d in self.engine.docs if d.id.startswith(prefix)] if prefix else self.engine.docs
        page = matching[offset:offset + limit]
        return {"documents": [{"id": d.id, "title": d.title, "sentences": self._sentences.get(d.id, 0)} for d in page],
                "total": len(matching), "offset": offset, "limit": limit,
                "next_offset": offset + limit if offset + limit < len(matching) else None}

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
