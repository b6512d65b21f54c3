"""The index on disk: manifest, atomic builds, stale and corrupt indexes rebuilt with one clear line."""
import json
import logging
import shutil

import numpy as np
import pytest

from qa import Engine
from qa.index import FILES, POINTER, IndexCorrupt, IndexStale, load_index, make_faiss_index


def _build_dir(index_dir):
    return index_dir / (index_dir / POINTER).read_text().strip()


@pytest.fixture()
def fresh_index(engine, tmp_path):
    """A private copy of the session index to damage."""
    target = tmp_path / "index"
    shutil.copytree(engine.index_dir, target)
    return target


def test_manifest_records_what_it_was_built_from(engine):
    manifest = json.loads((_build_dir(engine.index_dir) / "manifest.json").read_text())
    key = manifest["build_key"]
    assert key["model"] == "all-MiniLM-L6-v2"
    assert key["chunking"] == {"max_sentences": 2, "overlap": 1, "windows": "auto"}
    assert manifest["windows"] == "encoded"   # "auto" encodes the windows of a small corpus
    assert set(manifest["files"]) == set(FILES)
    source = manifest["documents"]["us-china-cyber-relations.txt"]
    assert len(source["sha256"]) == 64 and source["size"] > 0 and source["mtime_ns"] > 0
    assert manifest["profiles"]["us-china-cyber-relations.txt"]["bios"] == 2
    assert "faiss" in manifest["versions"]


def test_reload_uses_saved_index_without_rebuilding(engine, corpus_dir, caplog):
    before = _build_dir(engine.index_dir).name
    with caplog.at_level(logging.INFO, logger="qa"):
        again = Engine.load(corpus=corpus_dir, index=engine.index_dir)
    assert _build_dir(engine.index_dir).name == before
    assert "rebuilding" not in caplog.text
    assert again.ask("Who wrote the article?").citations[0].text == engine.ask("Who wrote the article?").citations[0].text


@pytest.mark.parametrize("damage", ["truncate_vectors", "garbage_documents", "delete_tokens", "garbage_pointer"])
@pytest.mark.slow
def test_corrupt_index_is_rebuilt_with_one_line(engine, corpus_dir, fresh_index, damage, caplog):
    build = _build_dir(fresh_index)
    if damage == "truncate_vectors":
        data = (build / "vectors.npy").read_bytes()
        (build / "vectors.npy").write_bytes(data[: len(data) // 2])
    elif damage == "garbage_documents":
        (build / "documents.json").write_text("{not json")
    elif damage == "delete_tokens":
        (build / "tokens.npy").unlink()
    else:
        (fresh_index / POINTER).write_text("build-that-does-not-exist")
    with caplog.at_level(logging.WARNING, logger="qa"):
        rebuilt = Engine.load(corpus=corpus_dir, index=fresh_index)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "rebuilding" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
    assert rebuilt.ask("Who wrote the article?").answerable
    load_index(fresh_index, rebuilt.data.build_key)  # the rebuilt index is valid on disk


@pytest.mark.slow
def test_changed_corpus_makes_index_stale(engine, tmp_path, fresh_index):
    corpus = tmp_path / "corpus"
    shutil.copytree(engine.corpus_dir, corpus)
    article = next(corpus.iterdir())
    article.write_text(article.read_text() + "\n\nA new closing paragraph about cyber norms.\n")
    rebuilt = Engine.load(corpus=corpus, index=fresh_index)
    assert any("cyber norms" in s.text for s in rebuilt.data.sentences)
    assert rebuilt.build_report is not None and rebuilt.build_report.embedded_documents == 1
    again = Engine.load(corpus=corpus, index=fresh_index)       # now current: nothing is rebuilt
    assert again.build_report is None


def test_other_model_in_manifest_is_stale(engine, fresh_index):
    with pytest.raises(IndexStale, match="model changed"):
        load_index(fresh_index, dict(engine.data.build_key, model="another-model"))


def test_an_index_of_the_previous_format_is_stale_not_corrupt(engine, fresh_index):
    build = _build_dir(fresh_index)   # format 2 had no page profiles
    (build / "profiles.json").unlink()
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["build_key"]["format"] = 2
    (build / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexStale, match=r"format changed \(2 -> 6\)"):
        load_index(fresh_index, engine.data.build_key)


def test_a_missing_profiles_file_of_a_current_index_is_corrupt(engine, fresh_index):
    (_build_dir(fresh_index) / "profiles.json").unlink()
    with pytest.raises(IndexCorrupt, match="profiles.json is missing"):
        load_index(fresh_index, engine.data.build_key)


def test_truncated_file_is_reported_as_corrupt(engine, fresh_index):
    build = _build_dir(fresh_index)
    (build / "documents.json").write_bytes((build / "documents.json").read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="documents.json is truncated or altered"):
        load_index(fresh_index, engine.data.build_key)


def test_read_only_index_folder_serves_from_memory(engine, corpus_dir, tmp_path, caplog):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if _can_write(folder):
            pytest.skip("running as a user that ignores permissions")
        with caplog.at_level(logging.WARNING, logger="qa"):
            ro = Engine.load(corpus=corpus_dir, index=folder)
        assert "serving it from memory only" in caplog.text
        assert ro.ask("Who wrote the article?").citations
    finally:
        folder.chmod(0o700)


def _can_write(folder):
    try:
        (folder / ".probe").write_text("x")
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


def test_faiss_matches_numpy_brute_force():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[:3] + 0.1
    sims, ids = make_faiss_index(vectors).search(query, 5)
    brute = query @ vectors.T
    for row in range(3):
        assert list(ids[row]) == list(np.argsort(-brute[row])[:5])
        assert np.allclose(sims[row], np.sort(brute[row])[::-1][:5], atol=1e-5)
