"""bench/scale_synthetic.py stores what a real build stores, and runs: it measures the index format as it is."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "scale_synthetic.py"


def _bench():
    spec = importlib.util.spec_from_file_location("scale_synthetic", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _layout(data) -> dict:
    """Every stored array's dtype and shape, the offsets and tables themselves, and the manifest's counts."""
    v = data.vectors
    arrays = {"vectors": v.vectors.rows, "vector_scales": v.vectors.scales, "tokens": v.tokens,
              "windows": v.windows.rows, "window_scales": v.windows.scales, "basis": data.basis.to_array()}
    return {"arrays": {name: (np.asarray(a).dtype.str, np.asarray(a).shape) for name, a in arrays.items()},
            "token_offsets": np.asarray(v.token_offsets).tolist(), "window_offsets": np.asarray(v.window_offsets).tolist(),
            "sentences": [(s.doc, s.start, s.end) for s in data.sentences],
            "chunks": [c.sentence_ids for c in data.chunks], "faiss": (type(data.faiss_index).__name__, data.faiss_index.ntotal),
            "windows": data.manifest["windows"], "counts": data.manifest["counts"], "basis_sentences": data.basis.sentences}


@pytest.mark.parametrize("windows", ["auto", "pooled"])
def test_synthetic_build_stores_what_a_real_build_stores(engine, windows):
    from qa.building import build
    from qa.config import ChunkSettings

    bench = _bench()
    chunking = ChunkSettings(windows=windows)
    synthetic, key = bench.synthetic_build(engine.data.documents, engine.embedder, chunking)
    if windows == "auto":                     # the session's index is a real "auto" build of the same documents
        real = engine.data
    else:
        real, _ = build(engine.data.documents, {d.id: {"sha256": "x"} for d in engine.data.documents},
                        engine.embedder, chunking, key)
    assert _layout(synthetic) == _layout(real)
    assert synthetic.manifest["windows"] == ("encoded" if windows == "auto" else "pooled")
    assert not np.array_equal(np.asarray(synthetic.vectors.vectors.rows), np.asarray(real.vectors.vectors.rows))


@pytest.mark.slow
def test_script_reports_one_row_per_size():
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "600", "--repeats", "1"], capture_output=True,
                          text=True, env=env, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 1
    row = rows[0]
    assert row["sentences"] >= 600 and row["documents"] >= 2
    assert (row["windows"], row["faiss"]) == ("encoded", "flat")
    assert row["token_rows"] > 10 * row["sentences"] and row["window_rows"] > row["sentences"]
    assert 1000 < row["bytes_per_sentence"] < 20000
    assert 0 < row["load_seconds"] < 30
    assert row["ask_p50_ms"] > 0 and row["encode_p50_ms"] > 0 and row["ask_over_encode"] > 0
    assert row["peak_mb_so_far"] >= row["rss_mb"] > 0
