"""Settings from one place (qa.config), the process set-up, and the core modules' import arrows."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from qa.config import (PROCESS_ENVIRONMENT, AnswerSettings, RetrievalSettings, Settings, SettingsError,
                       configure_environment)

QA = Path(__file__).resolve().parent.parent / "qa"
#: The engine core: these import only each other, never a front end.
CORE = ("abbreviations", "analysis", "answer", "building", "chunking", "config", "corpus", "embedding", "engine",
        "evaluation", "focus", "followup", "index", "lexical", "page_vectors", "question", "retrieval", "specifics",
        "spelling", "structure")


def test_settings_from_env_reads_every_variable_once():
    env = {"QA_CORPUS_DIR": "/c", "QA_INDEX_DIR": "/i", "QA_MODEL": "m", "QA_TOP_K": "5",
           "QA_BASE_URL": "https://qa.example.org/", "QA_ANSWER_MIN_SIMILARITY": "0.45",
           "QA_RETRIEVAL_FOLLOW": "3", "QA_INDEX_UNRELATED": "x"}
    settings = Settings.from_env(env)
    assert (settings.corpus_dir, settings.index_dir, settings.model) == (Path("/c"), Path("/i"), "m")
    assert settings.top_k == 5 and settings.base_url == "https://qa.example.org"
    assert settings.answer == AnswerSettings(min_similarity=0.45)
    assert settings.retrieval == RetrievalSettings(follow=3)
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize("env, message", [
    ({"QA_TOP_K": "0"}, "top_k must be an integer from 1 to 20"),
    ({"QA_TOP_K": "three"}, "QA_TOP_K must be a whole number"),
    ({"QA_RETRIEVAL_FOLLOW": "1.5"}, "QA_RETRIEVAL_FOLLOW must be a whole number"),
])
def test_bad_settings_are_named(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_configure_environment_keeps_what_is_set():
    env = configure_environment({"HF_HUB_OFFLINE": "0"})
    assert env["HF_HUB_OFFLINE"] == "0" and env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert set(PROCESS_ENVIRONMENT) <= set(env)


@pytest.mark.slow
def test_engine_load_takes_the_thresholds(engine, corpus_dir, index_dir):
    from qa import Engine

    strict = Engine.load(corpus=corpus_dir, index=index_dir,
                         settings=Settings(answer=AnswerSettings(min_similarity=0.99), top_k=2))
    answer = strict.ask("Why did the 2015 agreement fall short?")
    assert strict.composer.min_similarity == 0.99 and len(answer.citations) == 2
    assert not answer.answerable and engine.ask("Why did the 2015 agreement fall short?").answerable


def _imports(module: str) -> set[str]:
    """The qa modules ``module`` imports at its top level (not inside functions)."""
    tree = ast.parse((QA / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add((node.module or "").split(".")[0])
    return found - {""}


def test_core_modules_import_no_front_end_and_no_circle():
    graph = {module: _imports(module) for module in CORE}
    for module, imported in graph.items():
        assert imported <= set(CORE), f"{module} imports a front end: {imported - set(CORE)}"
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import circle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for child in graph[module]:
            visit(child, (*path, module))
        done.add(module)

    for module in CORE:
        visit(module, ())


@pytest.mark.parametrize("module", CORE)
def test_every_core_module_says_its_one_job(module):
    doc = ast.get_docstring(ast.parse((QA / f"{module}.py").read_text(encoding="utf-8")))
    assert doc and doc.splitlines()[0].strip().endswith((".", ":", ")"))


@pytest.mark.parametrize("bad", ["ftp://qa.example.org", "https://", "https://qa.example.org/a b", "qa.example.org"])
def test_every_front_end_checks_the_base_url_alike(bad):
    from qa.batch.write import BatchError, check_base_url as batch_check
    from qa.config import SettingsError, base_url_from_env, check_base_url
    from qa.web import WebSettings

    assert check_base_url(" https://qa.example.org/wiki/ ") == "https://qa.example.org/wiki"
    assert batch_check("https://qa.example.org/wiki/") == "https://qa.example.org/wiki"
    assert WebSettings(base_url="https://qa.example.org/wiki").base_url == "https://qa.example.org/wiki/"
    assert base_url_from_env({"QA_BASE_URL": "https://qa.example.org/"}) == "https://qa.example.org"
    with pytest.raises(SettingsError, match="base URL must be"):
        check_base_url(bad)
    with pytest.raises(BatchError, match="base URL must be"):
        batch_check(bad)
    with pytest.raises(ValueError, match="base URL must be"):
        WebSettings(base_url=bad)
    with pytest.raises(SettingsError, match="base URL must be"):
        base_url_from_env({"QA_BASE_URL": bad})


def test_the_web_takes_its_default_top_k_from_the_engine_settings(engine):
    from dataclasses import replace

    from qa.web import WebSettings, create_app

    assert create_app(engine, WebSettings()).state.qa.settings.top_k == engine.settings.top_k == 3
    configured = replace(engine.settings, top_k=5)
    original = engine.settings
    try:
        engine.settings = configured
        assert create_app(engine, WebSettings()).state.qa.settings.top_k == 5
        assert create_app(engine, WebSettings(top_k=2)).state.qa.settings.top_k == 2
    finally:
        engine.settings = original
