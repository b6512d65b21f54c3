"""Batch answering: every input and output format, bad rows, exit codes, atomic output, and batch == ask."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.batch import run as batch_run
from qa.batch import BatchError, BatchInputError, BatchLimitError, answer_file, markdown_escape

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "tests" / "eval" / "questions.jsonl"
ANSWER_KEYS = ["id", "question", "answerable", "answer", "answer_spans", "citations", "latency_ms", "notes"]
CITATION_KEYS = ["n", "doc", "title", "paragraph", "sentence", "start", "end", "text", "score", "answer_sentence",
                 "answer_start", "answer_end"]
BIG_LINE = "x" * 10_000_000  # 10 MB on one line
Q1 = "What did the 2015 agreement bar?"
Q2 = "Who wrote the article?"
FOLLOW_UP = "Why did it fall short?"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def run_batch_cli(cli_env: dict, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", "batch", *args], env=cli_env, input=input,
                          capture_output=True, timeout=180)


# -- input formats ------------------------------------------------------------------------------

def test_txt_with_bom_crlf_comments_and_blank_lines(engine, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_bytes(f"\ufeff# a comment\r\n{Q1}\r\n\r\n   \r\n\x01\x02\r\n  # indented comment\r\n{Q2}\r\n"
                          .encode("utf-8"))
    out = tmp_path / "a.jsonl"
    summary = answer_file(engine, questions, out)
    entries = read_jsonl(out)
    assert [e["id"] for e in entries] == ["2", "5", "7"]  # the 1-based line numbers
    assert list(entries[0]) == ANSWER_KEYS and list(entries[0]["citations"][0]) == CITATION_KEYS
    assert entries[0]["question"] == Q1 and entries[2]["question"] == Q2
    assert entries[1] == {"id": "5", "question": "\x01\x02", "error": "line 5: empty question"}
    assert (summary.read, summary.errors, summary.answered + summary.abstained) == (3, 1, 2)
    assert summary.line().startswith("read 3 questions: ")
    assert "1 error in" in summary.line() and "questions/s" in summary.line()


def test_csv_in_csv_out_carries_columns_through_unchanged(engine, tmp_path):
    questions = tmp_path / "quiz.csv"
    rows = [["Question", "ID", "History", "Team", "answer"],
            ["What did the 2015\nagreement bar?", "q-a", "", "red, \"blue\"\r\nand green", "gold 1"],
            ["", "q-b", "", "nobody", "gold 2"],
            [FOLLOW_UP, "", f"{Q2} || {Q1}", "", "gold 3"]]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)  # CRLF line ends, quoted multi-line fields
    questions.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    out = tmp_path / "answers.csv"
    summary = answer_file(engine, questions, out, top_k=2)
    got = read_csv(out)
    assert list(got[0]) == ["id", "question", "answerable", "answer",
                            "citation_1_doc", "citation_1_title", "citation_1_paragraph", "citation_1_passage",
                            "citation_1_score",
                            "citation_2_doc", "citation_2_title", "citation_2_paragraph", "citation_2_passage",
                            "citation_2_score",
                            "error", "Team", "input_answer"]
    assert [r["Team"] for r in got] == [r[3] for r in rows[1:]]  # byte for byte, newline and quotes included
    assert [r["input_answer"] for r in got] == ["gold 1", "gold 2", "gold 3"]
    assert [r["id"] for r in got] == ["q-a", "q-b", "3"]  # an empty id cell defaults to the row number
    assert got[1]["error"] == "line 5 (row 2): no question" and got[1]["answerable"] == ""
    assert got[0]["question"] == Q1 and got[0]["answerable"] in ("true", "false")
    follow_up = engine.ask(FOLLOW_UP, history=[Q2, Q1], top_k=2, id="3")
    assert got[2]["answer"] == follow_up.answer
    first = follow_up.citations[0]
    assert (got[2]["citation_1_paragraph"], got[2]["citation_1_passage"]) == (str(first.paragraph), first.text)
    assert (got[2]["citation_1_doc"], got[2]["citation_1_title"]) == (first.doc, first.title)
    assert float(got[2]["citation_1_score"]) == pytest.approx(first.score, abs=2e-3)
    assert (summary.read, summary.errors) == (3, 1)


def test_jsonl_in_jsonl_out_with_bad_lines(engine, tmp_path):
    lines = [json.dumps({"question": Q1, "id": 7, "team": {"name": "red"}, "answer": "gold"}),
             "",
             "{not json",
             "[1, 2]",
             json.dumps({"id": "no-q", "team": "blue", "answer": "gold 2"}),
             json.dumps({"question": 42}),
             json.dumps({"question": FOLLOW_UP, "history": "not a list"}),
             json.dumps({"question": FOLLOW_UP, "history": [Q1], "id": "f"}),
             json.dumps({"question": "   "})]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "a.jsonl"
    summary = answer_file(engine, questions, out)
    entries = read_jsonl(out)
    assert [e["id"] for e in entries] == ["7", "3", "4", "no-q", "6", "7", "f", "9"]
    assert entries[0]["team"] == {"name": "red"} and entries[0]["input_answer"] == "gold"
    assert list(entries[0])[:len(ANSWER_KEYS)] == ANSWER_KEYS
    errors = [e.get("error", "") for e in entries]
    assert errors[1].startswith("line 3: not valid JSON")
    assert errors[2] == "line 4: expected a JSON object with \"question\", got a list"
    assert errors[3].startswith("line 5: no \"question\" key")
    assert (entries[3]["team"], entries[3]["input_answer"]) == ("blue", "gold 2")
    assert errors[4] == "line 6: \"question\" must be a string, got a number"
    assert errors[5].startswith("line 7: \"history\" must be a list")
    assert errors[6] == "" and entries[6]["answer"] == engine.ask(FOLLOW_UP, history=[Q1]).answer
    assert errors[7] == "line 9: empty question" and entries[7]["question"] == "   "
    assert (summary.read, summary.errors) == (8, 6)


def test_jsonl_in_csv_out_collects_keys_across_lines(engine, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": Q1, "a": 1}) + "\n" + json.dumps({"question": Q2, "b": [1, "x"]})
                         + "\n", encoding="utf-8")
    answer_file(engine, questions, tmp_path / "a.csv", top_k=1)
    got = read_csv(tmp_path / "a.csv")
    assert list(got[0])[-2:] == ["a", "b"]
    assert [(r["a"], r["b"]) for r in got] == [("1", ""), ("", '[1, "x"]')]


def test_batch_answers_equal_ask_answers(engine, tmp_path):
    items = [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines()[:16]]
    questions = tmp_path / "eval.jsonl"
    questions.write_text("\n".join(json.dumps({"id": i["id"], "question": i["question"], "history": i["history"]})
                                   for i in items) + "\n", encoding="utf-8")
    out = tmp_path / "a.jsonl"
    answer_file(engine, questions, out, top_k=4)
    for item, got in zip(items, read_jsonl(out), strict=True):
        want = engine.ask(item["question"], history=item["history"], top_k=4, id=item["id"]).to_dict()
        assert list(got) == list(want)
        for entry in (got, want):
            entry.pop("latency_ms")
            for citation in entry["citations"]:
                citation["score"] = pytest.approx(citation["score"], abs=2e-3)
        assert got == want


def test_questions_are_answered_in_chunks_through_ask_many(engine, tmp_path, monkeypatch):
    calls = []
    ask_many = engine.ask_many
    monkeypatch.setattr(batch_run, "CHUNK_SIZE", 4)
    monkeypatch.setattr(engine, "ask_many", lambda qs, hs, **kw: calls.append(len(qs)) or ask_many(qs, hs, **kw))
    monkeypatch.setattr(engine, "ask", lambda *a, **kw: pytest.fail("batch must not call ask"))
    questions = tmp_path / "q.txt"
    questions.write_text("\n".join(f"{Q1} ({i})" for i in range(10)) + "\n\x00\n", encoding="utf-8")
    summary = answer_file(engine, questions, tmp_path / "a.jsonl")
    # the empty question goes to ask_many too, which returns an error record for it
    assert calls == [4, 4, 3] and (summary.read, summary.errors) == (11, 1)


def test_progress_bar_on_stderr_only_for_more_than_a_handful(engine, tmp_path, capsys):
    questions = tmp_path / "q.txt"
    questions.write_text("".join(f"{Q1} ({i})\n" for i in range(30)), encoding="utf-8")
    answer_file(engine, questions, tmp_path / "a.jsonl", progress=True)
    assert "30/30" in capsys.readouterr().err
    questions.write_text(f"{Q1}\n{Q2}\n", encoding="utf-8")
    answer_file(engine, questions, tmp_path / "a.jsonl", progress=True)
    assert capsys.readouterr().err == ""


# -- output formats -----------------------------------------------------------------------------

def test_markdown_report_links_to_the_sentence_and_is_inert(engine, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{Q1}\n<script>alert(1)</script> [x](javascript:alert(1))\n\x00\n", encoding="utf-8")
    linked = (tmp_path / "linked.md")
    answer_file(engine, questions, linked, base_url="https://qa.example.org/")
    text = linked.read_text(encoding="utf-8")
    first = engine.ask(Q1)
    c = first.citations[0]
    assert f"1. [¶{c.paragraph}](https://qa.example.org/article/{c.doc}#p{c.paragraph}-s{c.answer_sentence}) “" in text
    assert f"## 1. {markdown_escape(Q1)}" in text and markdown_escape(first.answer) in text
    assert not re.search(r"(?<!\\)<script|(?<!\\)\]\(javascript", text)  # only escaped, rendered as text
    assert "## 2. \\<script\\>alert(1)\\</script\\> \\[x\\](javascript:alert(1))\n" in text
    assert "**Error:** line 3: empty question" in text
    assert text.rstrip().endswith("questions/s)")
    plain = tmp_path / "plain.md"
    answer_file(engine, questions, plain)
    text = plain.read_text(encoding="utf-8")
    assert f"1. ¶{c.paragraph} (p{c.paragraph}-s{c.answer_sentence}) “" in text and "](http" not in text


def test_markdown_escape():
    assert markdown_escape("<b>[x](javascript:1)</b>\n# *h* & `c`") == \
        "\\<b\\>\\[x\\](javascript:1)\\</b\\> \\# \\*h\\* \\& \\`c\\`"


def test_stdout_gets_json_lines(engine, tmp_path, capsys):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{Q1}\n{Q2}\n", encoding="utf-8")
    answer_file(engine, questions, "-")
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["question"] for e in entries] == [Q1, Q2]


# -- bad input and output -----------------------------------------------------------------------

@pytest.mark.parametrize("name, content", [
    ("missing.txt", None),
    ("q.json", b"{}"),
    ("q", b"What?"),
    ("latin1.txt", "Qu'est-ce que la cl\u00e9 ?\n".encode("latin-1")),
    ("random.csv", bytes(range(256)) * 64),
    ("no_question_column.csv", b"a,b\n1,2\n"),
    ("empty.csv", b""),
    ("folder.txt", "dir"),
])
def test_unreadable_input_is_refused_with_the_accepted_formats(engine, tmp_path, name, content):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(BatchInputError, match=r"accepted: UTF-8 \.txt .*\.csv .*\.jsonl"):
        answer_file(engine, path, tmp_path / "a.jsonl")
    assert not (tmp_path / "a.jsonl").exists()


def test_bad_output_and_settings_are_refused(engine, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{Q1}\n", encoding="utf-8")
    with pytest.raises(BatchError, match=r"unknown extension '\.json'; accepted: \.jsonl, \.csv or \.md"):
        answer_file(engine, questions, tmp_path / "a.json")
    with pytest.raises(BatchError, match="does not exist"):
        answer_file(engine, questions, tmp_path / "nowhere" / "a.jsonl")
    same = tmp_path / "q.jsonl"
    same.write_text(json.dumps({"question": Q1}) + "\n", encoding="utf-8")
    with pytest.raises(BatchError, match="is the questions file"):
        answer_file(engine, same, same)
    with pytest.raises(BatchError, match=r"top_k must be an integer from 1 to 20, got 0"):
        answer_file(engine, questions, tmp_path / "a.jsonl", top_k=0)
    with pytest.raises(BatchError, match=r"base URL must be an http"):
        answer_file(engine, questions, tmp_path / "a.md", base_url="javascript:alert(1)")


def test_huge_lines_become_error_rows(engine, tmp_path):
    files = {"q.txt": f"{Q1}\n{BIG_LINE}\n{Q2}\n",
             "q.jsonl": f'{{"question": "{Q1}"}}\n{{"question": "{BIG_LINE}"}}\n{{"question": "{Q2}"}}\n',
             "q.csv": f'question\r\n{Q1}\r\n"{BIG_LINE}"\r\n{Q2}\r\n'}
    for name, text in files.items():
        questions = tmp_path / name
        questions.write_text(text, encoding="utf-8")
        out = tmp_path / f"{name}.jsonl"
        summary = answer_file(engine, questions, out)
        entries = read_jsonl(out)
        assert [e["question"] for e in entries] == [Q1, "", Q2], name
        assert "line longer than 1,000,000 characters" in entries[1]["error"], name
        assert entries[1]["error"].startswith("line 3 (row 2)" if name.endswith("csv") else "line 2"), name
        assert (summary.read, summary.errors) == (3, 1)


def test_max_questions_refuses_before_touching_the_output(engine, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{Q1}\n{Q2}\n{FOLLOW_UP}\n", encoding="utf-8")
    out = tmp_path / "a.jsonl"
    out.write_bytes(b"old answers\n")
    with pytest.raises(BatchLimitError, match=r"has 3 questions; at most 2 are allowed"):
        answer_file(engine, questions, out, max_questions=2)
    assert out.read_bytes() == b"old answers\n"
    assert answer_file(engine, questions, out, max_questions=3).read == 3


def test_failure_mid_run_removes_the_temp_file_and_keeps_the_old_answers(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(batch_run, "CHUNK_SIZE", 2)
    ask_many = engine.ask_many
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return ask_many(*args, **kwargs)

    monkeypatch.setattr(engine, "ask_many", failing)
    questions = tmp_path / "q.txt"
    questions.write_text(f"{Q1}\n{Q2}\n{FOLLOW_UP}\n", encoding="utf-8")
    for name in ("a.jsonl", "a.csv", "a.md"):
        calls.clear()
        out = tmp_path / name
        out.write_bytes(b"old answers\r\n")
        with pytest.raises(KeyboardInterrupt):
            answer_file(engine, questions, out)
        assert out.read_bytes() == b"old answers\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.jsonl", "a.md", "q.txt"]


# -- the real command line ----------------------------------------------------------------------

@pytest.mark.parametrize("name, content, extra", [
    ("missing.txt", None, []),
    ("q.json", b"{}", []),
    ("random.txt", bytes(range(256)) * 4096, []),
    ("q.txt", b"What?\n", ["--out", "answers.pdf"]),
])
def test_cli_exits_2_when_input_cannot_be_read(cli_env, tmp_path, name, content, extra):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run_batch_cli(cli_env, str(path), "--out", str(tmp_path / "a.jsonl"), *extra)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert stderr.startswith("qa: error: ") and "accepted: " in stderr and "Traceback" not in stderr
    assert not (tmp_path / "a.jsonl").exists() and result.stdout == b""


@pytest.mark.slow
def test_cli_bad_rows_exit_0_or_1_with_strict(engine, cli_env, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{Q1}\n\x00\n{BIG_LINE}\n{Q2}\n", encoding="utf-8")
    out = tmp_path / "a.jsonl"
    result = run_batch_cli(cli_env, str(questions), "--out", str(out), "--strict", "--top-k", "2")
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr and "qa: line 2: empty question" in stderr
    assert "read 4 questions: " in stderr and "2 errors" in stderr
    entries = read_jsonl(out)
    assert [e.get("error", "")[:7] for e in entries] == ["", "line 2:", "line 3:", ""]
    assert len(entries[0]["citations"]) == 2


@pytest.mark.slow
def test_cli_stdin_to_stdout_exits_0_with_bad_rows(engine, cli_env):
    stdin = f"\ufeff{Q1}\r\n# skipped\r\n\x01\r\n{Q2}\r\n".encode("utf-8")
    result = run_batch_cli(cli_env, "-", "--out", "-", input=stdin)
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    entries = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [e["id"] for e in entries] == ["1", "3", "4"]
    assert entries[1] == {"id": "3", "question": "\x01", "error": "line 3: empty question"}
    assert [e["question"] for e in entries[::2]] == [Q1, Q2]
    assert "read 3 questions: " in stderr and "Traceback" not in stderr


@pytest.mark.slow
def test_cli_killed_mid_run_leaves_the_old_answers_intact(engine, cli_env, tmp_path):
    questions = tmp_path / "many.txt"
    questions.write_text("".join(f"{Q1} Case {i}.\n" for i in range(40_000)), encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    old = b'{"id": "old"}\n' * 3
    out.write_bytes(old)
    process = subprocess.Popen([sys.executable, "-m", "qa", "batch", str(questions), "--out", str(out)],
                               env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".answers.jsonl.*.tmp")):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the temp file never appeared"
            time.sleep(0.02)
        time.sleep(0.3)  # let it write into the temp file
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert out.read_bytes() == old


def test_markdown_report_names_a_headline_citation_as_the_headline(engine, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("article title\n", encoding="utf-8")
    answer_file(engine, questions, tmp_path / "a.md")
    text = (tmp_path / "a.md").read_text(encoding="utf-8")
    assert f"1. headline (p0-s1) “{engine.docs[0].title}”" in text and "¶0" not in text
