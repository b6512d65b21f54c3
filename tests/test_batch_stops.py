"""Batch runs that are stopped (issue 12): SIGTERM/SIGHUP, a full disk, --resume after an interruption,
and JSON Lines rows that repeat a key. The real command line in subprocesses."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.batch import BatchError, answer_file
from qa.batch.read import open_questions

Q1 = "What did the 2015 agreement bar?"
OLD = b'{"id": "old"}\n' * 3


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def start_batch(cli_env: dict, *args: str, preexec=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", "batch", *args], env=cli_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=preexec)


def wait_for(condition, process: subprocess.Popen, what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_stop_signal_removes_the_temp_file_and_keeps_the_old_answers(cli_env, tmp_path, stop):
    """Before: SIGTERM/SIGHUP left a 240-320 KB partial temp file beside the answers."""
    questions = tmp_path / "many.txt"
    questions.write_text("".join(f"{Q1} Case {i}.\n" for i in range(5000)), encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    out.write_bytes(OLD)
    process = start_batch(cli_env, str(questions), "--out", str(out))
    try:
        wait_for(lambda: any(p.stat().st_size > 0 for p in tmp_path.glob(".answers.jsonl.*.tmp")), process,
                 "a partly written temp file")
        process.send_signal(stop)
        stderr = process.communicate(timeout=60)[1]
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == 128 + stop, stderr
    assert f"qa: stopped by {signal.Signals(stop).name}" in stderr and "Traceback" not in stderr
    assert out.read_bytes() == OLD and temp_files(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [".jsonl", ".csv", ".md"])
def test_full_disk_removes_the_temp_file_and_exits_1(cli_env, tmp_path, fmt, full_disk):
    """Before: close() raised again inside the clean-up, so the temp file was never removed."""
    questions = tmp_path / "q.txt"
    questions.write_text("".join(f"{Q1} Case {i}.\n" for i in range(600)), encoding="utf-8")
    out = tmp_path / f"answers{fmt}"
    out.write_bytes(OLD)
    process = start_batch(cli_env, str(questions), "--out", str(out), preexec=full_disk(100 * 1024))
    stderr = process.communicate(timeout=300)[1]
    assert process.returncode == 1, stderr
    assert f"qa: error: cannot write answers to {out}: File too large" in stderr and "Traceback" not in stderr
    assert out.read_bytes() == OLD and temp_files(tmp_path) == []


@pytest.mark.slow
def test_resume_continues_a_killed_run_without_answering_twice(engine, cli_env, tmp_path):
    """Kill -9 a --resume run mid-file (maybe mid-line), run it again: every id once, in input order."""
    questions = tmp_path / "q.jsonl"
    rows = [{"id": f"q{i}", "question": f"{Q1} Case {i}."} for i in range(2500)]
    rows[7]["id"] = rows[8]["id"] = "twice"  # duplicate ids are matched by count
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    process = start_batch(cli_env, str(questions), "--out", str(out), "--resume")
    try:
        wait_for(lambda: out.exists() and out.stat().st_size > 200_000, process, "the first answers")
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    first = out.read_bytes()
    whole = first.count(b"\n")
    assert 0 < whole < len(rows)
    again = subprocess.run([sys.executable, "-m", "qa", "batch", str(questions), "--out", str(out), "--resume"],
                           env=cli_env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{whole} already in the answers file" in again.stderr, again.stderr
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["id"] for e in entries] == [r["id"] for r in rows]
    assert all("answer" in e and "error" not in e for e in entries)
    assert out.read_bytes().startswith(first[: first.rfind(b"\n") + 1])
    done = subprocess.run([sys.executable, "-m", "qa", "batch", str(questions), "--out", str(out), "--resume"],
                          env=cli_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and f"{len(rows)} already in the answers file" in done.stderr
    assert "read 2500 questions: 0 answered" in done.stderr


def test_resume_refuses_other_formats_and_foreign_files(engine, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{Q1}\n", encoding="utf-8")
    with pytest.raises(BatchError, match="--resume appends to a .jsonl answers file"):
        answer_file(engine, questions, tmp_path / "a.csv", resume=True)
    foreign = tmp_path / "notes.jsonl"
    foreign.write_text("my notes\n", encoding="utf-8")
    with pytest.raises(BatchError, match="line 1 is not an answer entry"):
        answer_file(engine, questions, foreign, resume=True)
    assert foreign.read_text(encoding="utf-8") == "my notes\n"


def test_resume_in_process_appends_only_the_missing_rows(engine, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{Q1}\nWho wrote the article?\nWhat did the G20 meeting warn about?\n", encoding="utf-8")
    out = tmp_path / "a.jsonl"
    full = answer_file(engine, questions, out)
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text(lines[0] + lines[1][:40], encoding="utf-8")  # one whole entry and a torn one
    summary = answer_file(engine, questions, out, resume=True)
    assert (summary.read, summary.skipped, summary.answered + summary.abstained) == (3, 1, 2)
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == ["1", "2", "3"]
    assert full.read == 3


def test_jsonl_row_with_a_repeated_key_is_an_error_row(engine, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "Who wrote the article?", "question": "What did the G20 warn about?"}\n'
                         '{"id": "a", "id": "b", "question": "Who wrote the article?"}\n'
                         '{"question": "Who wrote the article?", "meta": {"k": 1, "k": 2}}\n'
                         '{"question": "Who wrote the article?"}\n', encoding="utf-8")
    rows = list(open_questions(questions).rows())
    assert rows[0].error == 'line 1: the JSON object repeats the key "question"; write each key once'
    assert rows[1].error == 'line 2: the JSON object repeats the key "id"; write each key once'
    assert rows[2].error == 'line 3: the JSON object repeats the key "k"; write each key once'
    assert rows[3].error is None
    out = tmp_path / "a.jsonl"
    summary = answer_file(engine, questions, out)
    assert (summary.errors, summary.answered) == (3, 1)
