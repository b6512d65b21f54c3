"""Faults: builds killed mid-write, a corpus that disappears, an index folder that cannot be written."""
import json
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from qa import Engine
from qa.corpus import CorpusError
from qa.index import POINTER, load_index

# Saves the index over and over; the test kills it at random moments.
SAVER = """
import json, sys
from pathlib import Path
from qa.index import load_index, save_index
index = Path(sys.argv[1])
data = load_index(index, json.loads(sys.argv[2]))
print("ready", flush=True)
while True:
    save_index(data, index)
"""


@pytest.mark.slow
def test_killed_saves_never_break_the_live_index(engine, corpus_dir, tmp_path, cli_env):
    index = tmp_path / "index"
    shutil.copytree(engine.index_dir, index)
    rng = random.Random(7)
    for attempt in range(8):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(index), json.dumps(engine.data.build_key)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=cli_env, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.005, 0.4))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        data = load_index(index, engine.data.build_key)  # raises if CURRENT points at a partial build
        assert len(data.chunks) == len(engine.data.chunks)
    reloaded = Engine.load(corpus=corpus_dir, index=index)
    assert reloaded.ask("Who wrote the article?").citations


@pytest.mark.slow
def test_leftover_temp_builds_are_cleaned_by_the_next_build(engine, corpus_dir, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(engine.index_dir, index)
    (index / ".tmp-build-junk").mkdir()
    (index / ".tmp-build-junk" / "vectors.npy").write_bytes(b"partial")
    replaced = (index / POINTER).read_text()
    Engine.load(corpus=corpus_dir, index=index, rebuild=True)
    assert not (index / ".tmp-build-junk").exists()
    live = (index / POINTER).read_text()
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("build-")) == sorted([replaced, live])
    Engine.load(corpus=corpus_dir, index=index, rebuild=True)  # the replaced build goes at the next build
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("build-")) == \
        sorted([live, (index / POINTER).read_text()])


@pytest.mark.slow
def test_corpus_deleted_while_running_keeps_answering(engine, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(engine.corpus_dir, corpus)
    live = Engine.load(corpus=corpus, index=tmp_path / "index")
    shutil.rmtree(corpus)
    assert live.ask("Who wrote the article?").answerable
    with pytest.raises(CorpusError, match="not found"):
        live.reload()
    assert live.ask("What did the G20 meeting warn about?").answerable


@pytest.mark.slow
def test_unwritable_index_location_serves_from_memory(engine, corpus_dir, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level("WARNING", logger="qa"):
        live = Engine.load(corpus=corpus_dir, index=blocker / "index")
    assert "serving it from memory only" in caplog.text
    assert live.ask("Who wrote the article?").citations


@pytest.mark.slow
def test_foreign_manifest_is_rebuilt_not_served(engine, corpus_dir, tmp_path, caplog):
    index = tmp_path / "index"
    shutil.copytree(engine.index_dir, index)
    build = index / (index / POINTER).read_text().strip()
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["build_key"]["model"] = "sentence-transformers/some-other-model"
    (build / "manifest.json").write_text(json.dumps(manifest))
    with caplog.at_level("WARNING", logger="qa"):
        live = Engine.load(corpus=corpus_dir, index=index)
    assert "model changed" in caplog.text and "rebuilding" in caplog.text
    assert live.data.build_key["model"] == "all-MiniLM-L6-v2"
    load_index(index, engine.data.build_key)
