"""The JSON API's schema: request and response models (derived from the :class:`~qa.answer.Answer` dataclasses) and the OpenAPI additions."""
from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictInt, StrictStr, ValidationError, create_model

from ..answer import Answer, AnswerSpan, Citation
from ..config import MAX_TOP_K

if TYPE_CHECKING:
    from .settings import WebSettings


#: Most document ids one question may be scoped to (``doc``), and the longest id accepted.
MAX_DOC_IDS = 20
MAX_DOC_ID_CHARS = 512
#: ``GET /api/docs``: documents per page by default and at most, and the longest ``prefix``.
DOCS_LIMIT = 100
MAX_DOCS_LIMIT = 1000
MAX_PREFIX_CHARS = MAX_DOC_ID_CHARS
#: Up to this many documents, the schema lists their ids (``enum``) for ``doc``; a wiki's thousands would make
#: the schema megabytes, so past it ``doc`` is any string and ``GET /api/docs`` lists the ids.
ENUM_DOCS = 100


def _whole_number(value: object) -> object:
    """``3.0`` as ``3``: JSON Schema's "integer" does not tell them apart; ``3.5`` and ``true`` stay invalid."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class AskBody(BaseModel):
    """The body of ``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid")
    question: StrictStr
    history: list[StrictStr] = []
    top_k: Annotated[StrictInt, BeforeValidator(_whole_number)] | None = None
    doc: StrictStr | list[StrictStr] | None = None


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


class DocOut(BaseModel):
    """One document: its id (for ``doc=``, ``/embed?doc=`` and ``/article/{id}``), title and sentence count."""

    id: str
    title: str
    sentences: int


class DocsOut(BaseModel):
    """``GET /api/docs``: one page of the documents in corpus order, ``total`` of them match ``prefix``."""

    documents: list[DocOut]
    total: int
    offset: int
    limit: int
    next_offset: int | None


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
    400: "empty question (nothing left once control characters and spaces are removed), question, history or doc "
         "over the limits, top_k outside 1-20, or doc naming a document not in the corpus",
    401: "missing or wrong token (only when QA_TOKEN is set)",
    413: "request body over the limit (64 KB by default)",
    415: "Content-Type is not application/json",
    422: "the request does not have the documented shape (not JSON, wrong types, unknown keys)",
    503: "busy: too many requests at once; try again after Retry-After seconds",
}


def route_responses(model: type[BaseModel], *errors: int) -> dict:
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


DOC_DESCRIPTION = (f"the document(s) to answer from: an id of GET /api/docs, or a list of at most {MAX_DOC_IDS} "
                   f"(each at most {MAX_DOC_ID_CHARS} characters); \"this article\" is then the scoped one. "
                   f"Default: every document")


def describe_api(schema: dict, settings: "WebSettings", doc_ids: list[str] | None = None) -> dict:
    """Add what the route signatures cannot say: the POST body, the question's limits, ``q`` being required, and
    the valid ``doc`` ids (listed when there are at most :data:`ENUM_DOCS` of ``doc_ids``; defaults to none known)."""
    question = {"type": "string", "minLength": 1, "maxLength": settings.max_question_chars,
                "pattern": question_pattern(),
                "description": f"the question: at most {settings.max_question_chars:,} characters, and something "
                               f"besides spaces and control characters"}
    doc_id = {"type": "string", "minLength": 1, "maxLength": MAX_DOC_ID_CHARS}
    if doc_ids is not None and len(doc_ids) <= ENUM_DOCS:
        doc_id = {"type": "string", "enum": list(doc_ids)}
    body = {"type": "object", "additionalProperties": False, "required": ["question"], "properties": {
        "question": question,
        "history": {"type": "array", "maxItems": settings.max_history, "default": [],
                    "items": {"type": "string", "maxLength": settings.max_question_chars},
                    "description": f"earlier questions of the conversation, oldest first (at most "
                                   f"{settings.max_history})"},
        "top_k": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_TOP_K}, {"type": "null"}],
                  "default": None, "description": f"number of citations, 1-{MAX_TOP_K} "
                                                  f"(default {settings.top_k})"},
        "doc": {"anyOf": [doc_id, {"type": "array", "items": doc_id, "maxItems": MAX_DOC_IDS}, {"type": "null"}],
                "default": None, "description": DOC_DESCRIPTION}}}
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
        elif parameter["name"] == "doc":
            parameter["schema"] = {"type": "array", "items": doc_id, "maxItems": MAX_DOC_IDS, "title": "Doc"}
    return schema


def describe_problems(exc: ValidationError, shown: int = 3) -> str:
    """The first ``shown`` problems of a validation error, one clause each, and how many more there are.

    A body of 30,000 numbers where strings belong has 30,000 problems; listing them all made a
    1.4 MB error message.
    """
    errors = exc.errors()
    text = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in errors[:shown])
    return text + (f"; and {len(errors) - shown:,} more" if len(errors) > shown else "")
