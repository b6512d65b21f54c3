"""The real command line in a subprocess: output, streams and exit codes."""
import json
import subprocess
import sys
import time

import pytest


def run(cli_env, *args, env_extra=None):
    env = dict(cli_env, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, env=env, timeout=300)


def test_help_lists_examples_and_is_fast(cli_env):
    started = time.perf_counter()
    result = run(cli_env, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "python -m qa ask" in result.stdout
    for command in ("index", "ask", "eval", "batch"):
        sub = run(cli_env, command, "--help")
        assert sub.returncode == 0 and "example" in sub.stdout, command
    assert time.perf_counter() - started < 60  # sanity only; speed is measured in bench/


def test_help_does_not_import_torch(cli_env):
    code = "import sys; from qa.cli import build_parser; build_parser(); print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env).stdout
    assert out.strip() == "False False"


@pytest.mark.slow
def test_ask_prints_answer_and_citations(cli_env, engine):
    result = run(cli_env, "ask", "What did the Carnegie Endowment call on states to do?")
    assert result.returncode == 0, result.stderr
    assert "Carnegie Endowment" in result.stdout
    assert "[1] paragraph" in result.stdout


@pytest.mark.slow
def test_ask_json_with_history(cli_env, engine):
    result = run(cli_env, "ask", "When was that meeting held?", "--history", "What did the G20 meeting warn about?",
                 "--json", "-k", "2")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["citations"]) == 2 and "held in March this year" in data["answer"]


def test_empty_question_exits_2(cli_env):
    result = run(cli_env, "ask", "   ")
    assert result.returncode == 2
    assert "question is empty" in result.stderr and result.stdout == ""


def test_bad_flag_exits_2(cli_env):
    result = run(cli_env, "ask", "x", "--top-k", "50")
    assert result.returncode == 2 and "must be from 1 to 20" in result.stderr


def test_missing_corpus_exits_1_with_one_line(cli_env, tmp_path):
    result = run(cli_env, "ask", "Who wrote it?", "--corpus", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "pass --corpus DIR" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_exits_1_with_one_line(cli_env, tmp_path):
    result = run(cli_env, "ask", "Who wrote it?", "--model", str(tmp_path / "no-model"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_index_command_rebuilds_and_reports(cli_env, tmp_path):
    result = run(cli_env, "index", "--index", str(tmp_path / "idx"))
    assert result.returncode == 0, result.stderr
    assert "indexed 1 document(s), 9 paragraphs" in result.stdout
    assert (tmp_path / "idx" / "CURRENT").is_file()


@pytest.mark.slow
def test_eval_command_prints_metrics(cli_env, engine):
    result = run(cli_env, "eval", "--json", "--set", "tests/eval/questions.jsonl")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["items"] >= 60 and metrics["rank1"] > 0.5


@pytest.mark.slow
def test_eval_command_scores_sets_side_by_side(cli_env, engine):
    result = run(cli_env, "eval", "-s", "tests/eval/holdout-b.jsonl", "-s", "tests/eval/typed.jsonl")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:3] == ["metric", "holdout-b", "typed"]
    assert any(row.startswith("rank1") and row.count("%") >= 3 for row in rows)


def test_verbose_explains_a_refusal_on_stderr(cli_env, engine):
    result = run(cli_env, "ask", "-v", "What sanctions did the US impose on Huawei in 2019?")
    assert result.returncode == 0 and "never mentions Huawei" in result.stdout
    assert "abstain: the question names Huawei, 2019" in result.stderr and "below name_similarity 0.70" in result.stderr
    quiet = run(cli_env, "ask", "What sanctions did the US impose on Huawei in 2019?")
    assert "abstain" not in quiet.stderr


def test_a_bad_setting_in_the_environment_exits_2(cli_env):
    result = run(cli_env, "ask", "Who wrote it?", env_extra={"QA_ANSWER_MIN_SIMILARITY": "high"})
    assert result.returncode == 2 and "QA_ANSWER_MIN_SIMILARITY must be a number" in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_output_names_a_headline_citation_as_the_headline(engine):
    from qa.cli import format_answer

    text = format_answer(engine.ask("article title"))
    assert text.startswith(engine.docs[0].title + "\n") and f"[1] headline, score" in text
    assert f"“{engine.docs[0].title}”" in text and "paragraph 0" not in text


@pytest.mark.slow
def test_a_reader_that_stops_reading_gets_no_traceback(cli_env, engine):
    # "python -m qa ask ... | head -1": the pipe is closed before the answer is written
    process = subprocess.Popen([sys.executable, "-m", "qa", "ask", "-j", "-k", "20", "What did the 2015 agreement bar?"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=300) == 1 and "Traceback" not in stderr and "BrokenPipe" not in stderr
