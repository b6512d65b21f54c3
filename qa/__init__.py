"""Question answering over a news article with cited passages: ``from qa import Engine``."""
from __future__ import annotations

__all__ = ["Engine", "Answer", "Citation", "QuestionError", "QuestionFailure", "QuestionInfo", "Settings",
           "configure_environment"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: importing ``qa`` (e.g. for ``python -m qa --help``) loads no numpy, torch or model.
    if name in ("Engine", "QuestionFailure"):
        from . import engine

        return getattr(engine, name)
    if name == "QuestionInfo":
        from .analysis import QuestionInfo

        return QuestionInfo
    if name in ("Settings", "configure_environment"):
        from . import config

        return getattr(config, name)
    if name in ("Answer", "Citation"):
        from . import answer

        return getattr(answer, name)
    if name == "QuestionError":
        from .question import QuestionError

        return QuestionError
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
