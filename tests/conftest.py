"""Shared fixtures: one real engine (real model, real FAISS, real files) per test session."""
from __future__ import annotations

import os
import resource
import shutil
import signal
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "us-china-cyber-relations.txt"


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """A private copy of the project's corpus (tests may not touch the real one)."""
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    return folder


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="session")
def engine(corpus_dir, index_dir):
    """The real engine over the article, built once for the whole session."""
    from qa import Engine

    return Engine.load(corpus=corpus_dir, index=index_dir)


@pytest.fixture(scope="session")
def cli_env(corpus_dir, index_dir) -> dict:
    """Environment for running ``python -m qa`` in a subprocess against the session's corpus and index."""
    env = dict(os.environ)
    env.update({"QA_CORPUS_DIR": str(corpus_dir), "QA_INDEX_DIR": str(index_dir), "PYTHONPATH": str(ROOT)})
    return env


@pytest.fixture()
def full_disk():
    """``full_disk(limit)`` is a ``preexec_fn`` that lets a child process write files of at most ``limit`` bytes:
    a write past it fails with EFBIG ("File too large"), as on a disk that is full."""
    def limit_to(limit: int):
        def apply() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return apply
    return limit_to
