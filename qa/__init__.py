"""Question answering over a news article with cited passages: ``from qa import Engine``."""
from __future__ import annotations

__all__ = ["Engine", "Answer", "Citation", "QuestionError"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: importing ``qa`` (e.g. for ``python -m qa --help``) loads no numpy, torch or model.
    if name == "Engine":
        from .engine import Engine

        return Engine
    if name in ("Answer", "Citation"):
        from . import answer

        return getattr(answer, name)
    if name == "QuestionError":
        from .question import QuestionError

        return QuestionError
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
