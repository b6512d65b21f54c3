"""The usage examples in the docstrings of the engine-free modules run as written."""
import doctest

import pytest

from qa import abbreviations, analysis, answer, config, corpus, followup, lexical, question, specifics, spelling
from qa.config import PROJECT_ROOT


@pytest.mark.parametrize("module", [analysis, answer, lexical, question, corpus, spelling, abbreviations, specifics, followup], ids=lambda m: m.__name__)
def test_docstring_examples_run(module, monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)  # the corpus example reads corpus/
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
