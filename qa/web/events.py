"""The Gradio page's events refuse a client's malformed input with a short message, never a traceback.

The browser always sends what each event expects, but anyone can call an event by its API name
(``/gradio_api/call/chat``) or by its number (``/gradio_api/queue/join`` with ``fn_index``, private
events included) with anything in ``data``. Gradio checks each value against its component
(``data_model`` and ``preprocess``) before the app's function runs; what fails there reached the
client as ``{"error": null}`` and the log as a full traceback. :class:`GuardedBlocks` turns those
failures into a :class:`gradio.Error` that names the event, the input and the problem (at most
:data:`MAX_MESSAGE` characters) and logs one line.

It also refuses file objects whose ``path`` is not in Gradio's upload folder. For calls through the
API Gradio copies such a path into its cache and serves it (``/gradio_api/file=``): a chat history
holding ``{"file": {"path": "/etc/passwd", ...}}`` came back with a link to that file, and
``/batch`` read any ``.txt``/``.csv``/``.jsonl`` file the server can read as its questions.
"""
from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import gradio as gr
from gradio.exceptions import ComponentProcessingError
from pydantic import ValidationError

from .schema import describe_problems

logger = logging.getLogger(__name__)

#: Longest refusal message sent to the client.
MAX_MESSAGE = 500
#: What a malformed value makes Gradio's input checks raise. Anything else (e.g. ``OSError`` while
#: copying an upload) is the server's problem and keeps Gradio's traceback.
CLIENT_ERRORS = (ValidationError, gr.Error, ValueError, TypeError, KeyError, IndexError, AttributeError)


def event_name(block_fn) -> str:
    """How messages name an event: ``/chat`` for a named one, else its function's name."""
    return f"/{block_fn.api_name}" if block_fn.api_name else f"event {block_fn.name or block_fn.id}"


def describe_input(block_fn, index: int) -> str:
    """``input 2 of /chat (chatbot "Conversation")``: position (from 1), event, component kind and label."""
    block = block_fn.inputs[index]
    label = getattr(block, "label", None)
    kind = block.get_block_name() + (f' "{label}"' if label else "")
    return f"input {index + 1} of {event_name(block_fn)} ({kind})"


def kind_of(value: object) -> str:
    """A short name for a JSON value's type, e.g. ``a list of 3 items`` (the value itself is not echoed)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return f"text of {len(value):,} character{'s' if len(value) != 1 else ''}"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value):,} items"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def expected(block) -> str | None:
    """What a component takes, when it says so itself: ``a number from 1 to 20`` for a slider."""
    low, high = getattr(block, "minimum", None), getattr(block, "maximum", None)
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return f"a number from {low:g} to {high:g}"
    return None


def file_paths(value: object, limit: int = 100_000) -> list[str]:
    """The ``path`` of every file object (``{"path": ..., "meta": {"_type": "gradio.FileData"}}``) in ``value``.

    These are the objects Gradio copies into its cache before an event runs (looking at at most
    ``limit`` nested values; a request body is at most 1 MB anyway).
    """
    found, stack, seen = [], [value], 0
    while stack and seen < limit:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            meta = item.get("meta")
            if isinstance(meta, dict) and meta.get("_type") == "gradio.FileData" and "path" in item:
                found.append(str(item["path"]))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def uploaded(path: str) -> bool:
    """Whether ``path`` is a file in Gradio's upload folder (where ``/gradio_api/upload`` puts files)."""
    root = Path(gr.utils.get_upload_folder()).resolve()
    try:
        resolved = Path(path).resolve()
    except (OSError, ValueError, RuntimeError):  # NUL bytes, symlink loops
        return False
    return resolved != root and resolved.is_relative_to(root)


def refusal(block_fn, inputs: list, exc: Exception) -> str:
    """The message for ``exc``, raised while Gradio checked ``inputs`` of the event ``block_fn``.

    Returns:
        ``invalid input 2 of /chat (chatbot "Conversation"): 0: Input should be a valid dictionary ...``,
        with ``<``, ``>`` and ``&`` escaped (Gradio's toast renders HTML) and at most :data:`MAX_MESSAGE` characters.
    """
    names = [describe_input(block_fn, i).split(" (", 1)[1].rstrip(")") for i in range(len(block_fn.inputs))]
    if len(inputs) < len(block_fn.inputs):
        message = (f"{event_name(block_fn)} takes {len(block_fn.inputs)} inputs ({', '.join(names)}); "
                   f"got {len(inputs)}")
    else:
        index = _input_index(block_fn, inputs, exc)
        where = describe_input(block_fn, index) if index is not None else f"an input of {event_name(block_fn)}"
        if isinstance(exc, ValidationError):
            detail = describe_problems(exc)
        elif isinstance(exc, ComponentProcessingError):
            got = kind_of(inputs[index]) if index is not None else "a value"
            wanted = expected(block_fn.inputs[index]) if index is not None else None
            cause = exc.__cause__
            detail = (f"got {got}; send {wanted}" if wanted else
                      f"got {got}, which it does not take" + (f" ({str(cause)[:150]})" if cause is not None else ""))
        elif isinstance(exc, gr.Error):
            detail = str(exc.message)
        else:
            detail = f"{type(exc).__name__}: {exc}"
        message = f"invalid {where}: {detail}"
    message = html.escape(" ".join(message.split()), quote=False)
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"


def _input_index(block_fn, inputs: list, exc: Exception) -> int | None:
    """Which input ``exc`` is about: Gradio's processing errors name it, a validation error names the model;
    otherwise (an error a component raised itself) the first input its component refuses when checked alone."""
    if isinstance(exc, ComponentProcessingError):
        found = re.search(r"component at index (\d+)", str(exc))
        return int(found.group(1)) if found else None
    if isinstance(exc, ValidationError):
        for index, block in enumerate(block_fn.inputs):
            model = getattr(block, "data_model", None)
            if model is not None and getattr(model, "__name__", None) == exc.title:
                return index
        return None
    for index, block in enumerate(block_fn.inputs):
        if getattr(block, "stateful", False):
            continue
        try:
            value, model = inputs[index], getattr(block, "data_model", None)
            if model is not None and value is not None:
                value = model.model_validate(value, context={"validate_meta": True})
            block.preprocess(value)
        except Exception:  # noqa: BLE001 - any failure marks the culprit
            return index
    return None


class GuardedBlocks(gr.Blocks):
    """:class:`gradio.Blocks` whose events refuse malformed input with :func:`refusal`'s message.

    Usage example (exactly like ``gr.Blocks``):
        >>> with GuardedBlocks(title="demo") as demo:   # doctest: +SKIP
        ...     box = gr.Textbox()
    """

    async def preprocess_data(self, block_fn, inputs, state, explicit_call: bool = False):
        """Gradio's input checks; a client's malformed value becomes a :class:`gradio.Error` without traceback."""
        for index, value in enumerate(inputs[:len(block_fn.inputs)]):
            if any(not uploaded(path) for path in file_paths(value)):
                message = (f"invalid {describe_input(block_fn, index)}: a file must be uploaded first "
                           f"(POST /gradio_api/upload) and sent by the path that returns; this one was not")
                logger.info("refused a call: %s", message)
                raise gr.Error(html.escape(message, quote=False), print_exception=False)
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except CLIENT_ERRORS as exc:
            message = refusal(block_fn, inputs, exc)
            logger.info("refused a call: %s", message)
            raise gr.Error(message, print_exception=False) from None
