"""Load, query and disk at 10^3..10^5+ sentences in minutes: real text, random vectors, the real model for questions.

Embedding 100,000 sentences takes an hour on a 2-core machine, so this benchmark builds indexes of real
sentences (documents from ``--source``, split and chunked as ``qa index`` does) whose stored vectors are
random unit vectors of the real shapes (one vector per sentence, one token vector per word piece, the
word windows ``qa index`` would embed). What it measures does not depend on the vectors' values:

- ``bytes/sentence`` on disk, and peak memory of writing the index;
- ``load``: ``Engine`` construction from the saved index (``load_index`` + retriever + question reader),
  the model already loaded: the cold start a server pays;
- ``ask``: warm ``Engine.ask`` p50 against the bare ``model.encode`` of the same questions, alternated.

Run from the project root:

    python bench/scale_synthetic.py --source /usr/share/doc/python3.11/html --sizes 1000,10000,100000
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(OMP_WAIT_POLICY="PASSIVE", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")

import numpy as np  # noqa: E402

QUESTIONS = ["How do I open a file for appending?", "what does zip do with iterables of different lengths",
             "How do I sort a list in reverse order?", "What is a generator expression?",
             "Which module parses command-line options?", "what is the walrus operator",
             "What did the 2015 agreement bar?", "Who wrote the article?"]


def synthetic_data(docs, sentences, dim: int, tokenizer, rng):
    """IndexData of ``sentences`` with random unit vectors of the shapes ``qa index`` would store."""
    from qa.building import _concat
    from qa.chunking import make_chunks
    from qa.config import ChunkSettings
    from qa.embedding import BASIS_SENTENCES, IndexVectors, TokenBasis, word_windows
    from qa.index import IndexData, make_faiss_index
    from qa.lexical import BM25, terms
    from qa.structure import page_profiles

    def unit(n, dtype):
        m = rng.standard_normal((n, dim), dtype=np.float32)
        return (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(dtype)

    basis = TokenBasis.fit(unit(2000, np.float32), sentences=BASIS_SENTENCES)
    token_counts = [len(ids) for ids in tokenizer([s.text for s in sentences], truncation=True, max_length=256)["input_ids"]]
    window_counts = [len(word_windows(s.text)) for s in sentences]
    parts = []
    for first in range(0, len(sentences), 20000):
        tc, wc = token_counts[first : first + 20000], window_counts[first : first + 20000]
        parts.append(IndexVectors(unit(len(tc), np.float32), basis.compact(unit(sum(tc), np.float32)),
                                  np.concatenate([[0], np.cumsum(tc)]).astype(np.int64),
                                  unit(sum(wc), np.float16), np.concatenate([[0], np.cumsum(wc)]).astype(np.int64)))
    vectors = _concat(parts, dim, basis)
    chunks = make_chunks(docs, sentences, ChunkSettings())
    return IndexData({"synthetic": True}, docs, sentences, chunks, vectors, BM25.build([terms(s.text) for s in sentences]),
                     make_faiss_index(vectors.vectors), {"synthetic": True},
                     sources={d.id: {"path": d.id, "size": 0, "mtime_ns": 0, "sha256": "0"} for d in docs},
                     profiles=page_profiles(sentences, docs), basis=basis)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--source", type=Path, default=Path("/usr/share/doc/python3.11/html"))
    parser.add_argument("--sizes", default="1000,10000,100000", help="sentence counts (default: 1000,10000,100000)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from qa.chunking import Sentence, split_document
    from qa.corpus import load_corpus
    from qa.embedding import Embedder
    from qa.engine import Engine
    from qa.index import load_index, save_index

    sizes = sorted(int(x) for x in args.sizes.split(","))
    docs = load_corpus(ROOT / "corpus") + load_corpus(args.source)
    sentences_all, used_docs = [], []
    for doc in docs:                      # the article first, then pages until the largest size is reached
        if len(sentences_all) >= sizes[-1]:
            break
        sentences_all += split_document(doc, first_id=len(sentences_all))
        used_docs.append(doc)
    while len(sentences_all) < sizes[-1]:   # repeat pages under new ids to reach the largest size
        doc = docs[1 + len(used_docs) % (len(docs) - 1)]
        doc = type(doc)(f"copy-{len(used_docs)}/{doc.id}", doc.title, doc.text, doc.paragraphs)
        sentences_all += split_document(doc, first_id=len(sentences_all))
        used_docs.append(doc)
    embedder = Embedder()
    model = embedder.model
    rng = np.random.default_rng(0)
    results = []
    for size in sizes:
        keep_docs, count = [], 0
        by_doc = {}
        for s in sentences_all:
            by_doc[s.doc] = by_doc.get(s.doc, 0) + 1
        for doc in used_docs:                 # whole documents until the size is reached
            if count >= size:
                break
            keep_docs.append(doc)
            count += by_doc.get(doc.id, 0)
        keep_ids = {d.id for d in keep_docs}
        keep = [s for s in sentences_all if s.doc in keep_ids]
        keep = [Sentence(i, s.doc, s.paragraph, s.index, s.start, s.end, s.text) for i, s in enumerate(keep)]
        data = synthetic_data(keep_docs, keep, embedder.dimension, model.tokenizer, rng)
        folder = Path(tempfile.mkdtemp(prefix=f"qa-synth-{size}-"))
        build = save_index(data, folder)
        disk = sum(p.stat().st_size for p in build.iterdir())
        del data
        started = time.perf_counter()
        loaded = load_index(folder, {"synthetic": True})
        engine = Engine(loaded.documents, loaded, embedder, index_dir=folder)
        load_seconds = time.perf_counter() - started
        ours, bare = [], []
        for _ in range(5):
            for q in QUESTIONS:
                t0 = time.perf_counter(); model.encode([q]); bare.append(time.perf_counter() - t0)
                t0 = time.perf_counter(); engine.ask(q); ours.append(time.perf_counter() - t0)
        row = {"sentences": len(keep), "documents": len(keep_docs), "bytes_per_sentence": round(disk / len(keep)),
               "disk_mb": round(disk / 2**20), "load_seconds": round(load_seconds, 2),
               "ask_p50_ms": round(1000 * statistics.median(ours), 1),
               "encode_p50_ms": round(1000 * statistics.median(bare), 1),
               "ask_over_encode": round(statistics.median(ours) / statistics.median(bare), 2),
               "peak_mb_so_far": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        print(json.dumps(row), flush=True)
        results.append(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
