"""Batch parser fuzzing: random bytes, broken UTF-8, odd CSV and JSONL, huge and empty files never crash.

The readers get hypothesis-generated files in-process (fast, no engine); the real command line
(``python -m qa batch``) gets the worst hand-made files, each once. The contract under test:
exit 0 when the file could be read (bad rows become error entries in their place), exit 2 with
one ``qa: error: ...`` line when it cannot be read at all, and never a traceback.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.batch import BatchInputError, answer_file, open_questions

Q1 = "What did the 2015 agreement bar?"
EMPTY_LINES = 100_000
BIG_LINE = "y" * 10_000_000  # 10 MB, longer than the 1,000,000-character line limit
SUFFIXES = (".txt", ".csv", ".jsonl")

#: Pieces that stress each format: quotes, separators, line ends, BOMs, NULs, JSON tokens, a CSV header.
PIECES = st.sampled_from(['"', '""', ",", "\n", "\r", "\r\n", "\ufeff", "\x00", "#", "{", "}", "[", "]", ":",
                          "null", "1e999", '"question"', '{"question": "x"}', "question,id,history\n", "||", " "])
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                               st.sampled_from(["question", "id", "history", "x"]) | st.text(max_size=5), inner,
                               max_size=4), max_leaves=12)
FILES = st.one_of(
    st.binary(max_size=3000),                                            # random bytes
    st.lists(st.text(max_size=30) | PIECES, max_size=60).map("".join)
    .map(lambda text: text.encode("utf-8", "surrogatepass")),           # odd text; lone surrogates = bad UTF-8
    st.lists(JSON_VALUES, max_size=20)
    .map(lambda values: "\n".join(json.dumps(v) for v in values).encode("utf-8", "surrogatepass")),
    st.tuples(st.text(min_size=1, max_size=40), st.integers(0, 3))      # valid text cut inside a character
    .map(lambda t: (t[0] + "é€😀").encode("utf-8")[:-1 - t[1] % 3]),
)


def read_all(path: Path) -> list:
    """``open_questions`` then ``rows()``: the rows, or the BatchInputError the contract allows."""
    try:
        source = open_questions(path)
        rows = list(source.rows())
    except BatchInputError as exc:
        assert "accepted: UTF-8 .txt" in str(exc), exc
        return []
    assert source.count == len(rows)
    for row in rows:
        assert isinstance(row.question, str) and isinstance(row.id, str) and isinstance(row.history, list)
        assert row.error is None or row.error.startswith(row.where), row.error
    return rows


@settings(max_examples=250, deadline=None)
@given(content=FILES, suffix=st.sampled_from(SUFFIXES))
def test_readers_accept_or_refuse_cleanly(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"questions{suffix}"
        path.write_bytes(content)
        read_all(path)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=FILES, suffix=st.sampled_from(SUFFIXES))
def test_answering_fuzzed_files_writes_one_entry_per_row(engine, content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / f"q{suffix}", Path(folder) / "a.jsonl"
        path.write_bytes(content)
        try:
            summary = answer_file(engine, path, out)
        except BatchInputError:
            assert not out.exists()
            return
        entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert len(entries) == summary.read
        assert sum("error" in e for e in entries) == summary.errors


# -- hand-made hostile files, read in-process ---------------------------------------------------

@pytest.mark.parametrize("cut", [1, 2, 3])
def test_truncated_utf8_is_refused_naming_the_line(tmp_path, cut):
    for suffix in SUFFIXES:
        path = tmp_path / f"q{suffix}"
        text = "question\n" if suffix == ".csv" else ""
        path.write_bytes((text + f"{Q1}\nWho wrote it? 😀").encode("utf-8")[:-cut])
        with pytest.raises(BatchInputError, match=r"is not UTF-8 text \(byte 0xf0 around line \d\)"):
            open_questions(path)


def test_csv_with_mismatched_quotes_gives_rows_and_error_rows(engine, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(f'question,id\n"{Q1}",1\nab"c"d,"2\n"x, y\n{Q1},3\n"never closed, {Q1}\n\n\n',
                    encoding="utf-8")
    out = tmp_path / "a.jsonl"
    summary = answer_file(engine, path, out)
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary.read == len(entries) == 4
    assert entries[0]["question"] == Q1 and entries[0]["citations"]
    # a quote opened mid-row runs over the line end and the row comes out with a field too many
    assert entries[1]["error"] == "line 3 (row 2): 3 fields but the header has 2"
    assert entries[2]["id"] == "3" and entries[2]["citations"]
    # a quote never closed swallows the rest of the file into one field: still one row, answered
    assert entries[3]["question"].startswith(f"never closed, {Q1}") and entries[3]["citations"]


def test_csv_field_over_the_csv_module_limit_is_one_bad_row(engine, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('question\n"' + "z " * 100_000 + f'"\n{Q1}\n', encoding="utf-8")  # 200 KB in one quoted field
    out = tmp_path / "a.jsonl"
    answer_file(engine, path, out)
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert entries[0]["error"] == "line 2 (row 1): cannot parse the CSV row (field larger than field limit (131072))"
    assert entries[1]["question"] == Q1 and entries[1]["citations"] and len(entries) == 2


@pytest.mark.parametrize("line, kind", [("42", "a number"), ("-1.5e3", "a number"), ("[1, 2]", "a list"),
                                        ("[]", "a list"), ("null", "null"), ('"just a string"', "a string"),
                                        ("true", "true/false")])
def test_jsonl_non_object_lines_are_error_rows(tmp_path, line, kind):
    path = tmp_path / "q.jsonl"
    path.write_text(f'{{"question": "{Q1}"}}\n{line}\n', encoding="utf-8")
    rows = read_all(path)
    assert rows[1].error == f'line 2: expected a JSON object with "question", got {kind}'


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_hundred_thousand_empty_lines_read_as_no_questions(tmp_path, suffix):
    path = tmp_path / f"q{suffix}"
    path.write_text(("question" if suffix == ".csv" else "") + "\n" * EMPTY_LINES, encoding="utf-8")
    assert read_all(path) == []


# -- the real command line ------------------------------------------------------------------------

def _cli(cli_env: dict, questions: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", "batch", str(questions), "--out", str(out)], env=cli_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_cli_on_hostile_files_exits_0_or_2_without_a_traceback(engine, cli_env, tmp_path):
    good = json.dumps({"question": Q1})
    files = {  # name: (content, exit code, rows in the answers)
        "random.txt": (bytes(range(256))[::-1] * 300, 2, None),
        "cut.jsonl": (f"{good}\n{good[:-3]}😀".encode()[:-2], 2, None),
        "cut.csv": (f"question\n{Q1}\né".encode()[:-1], 2, None),
        "nothing.txt": (b"\n" * EMPTY_LINES, 0, 0),
        "odd.jsonl": ("\n".join([good, "42", "[1, 2]", "null", '"a string"', "true", "{broken", "\n" * EMPTY_LINES,
                                 json.dumps({"question": BIG_LINE}), good]).encode("utf-8"), 0, 9),
        "quotes.csv": (f'question\n{Q1}\n"never closed, {Q1}\n'.encode() + b"\n" * EMPTY_LINES, 0, 2),
    }
    runs = {}
    for name, (content, _, _) in files.items():
        (tmp_path / name).write_bytes(content)
        runs[name] = _cli(cli_env, tmp_path / name, tmp_path / f"{name}.out.jsonl")
    for name, process in runs.items():
        _, stderr = process.communicate(timeout=180)
        stderr = stderr.decode("utf-8", "replace")
        _, code, rows = files[name]
        assert process.returncode == code, f"{name}: {stderr}"
        assert "Traceback" not in stderr, f"{name}: {stderr}"
        out = tmp_path / f"{name}.out.jsonl"
        if code == 2:
            assert stderr.startswith("qa: error: ") and "not UTF-8" in stderr and stderr.count("\n") == 1, stderr
            assert not out.exists()
        else:
            entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
            assert len(entries) == rows, name
            assert f"read {rows} question" in stderr
