"""Load, query and disk at 10^3..10^5 sentences in minutes: real text, random vectors, the real model for questions.

Embedding 100,000 sentences takes an hour on a 2-core machine, so this benchmark builds indexes of real
documents (the article, then pages from ``--source``) with the project's own build (``qa.building.build``:
splitting, chunking, BM25, page profiles, token basis, compaction, window mode, FAISS index of distinct
texts, ``save_index``), whose only stand-in is the model: :class:`RandomModel` answers each text with random
unit vectors of the real shapes (one sentence vector, one token vector per word piece the real tokenizer
makes, the windows ``window_mode("auto", n)`` asks for: encoded word windows up to 20,000 sentences, token
spans pooled above). What is stored (arrays, dtypes, counts, files) is therefore what a real build of the
same documents stores; only the vectors' values differ. What it measures does not depend on those values:

- ``bytes/sentence`` on disk;
- ``load``: ``load_index`` + ``Engine`` construction (retriever, question reader) from the saved index,
  the model already loaded: the cold start a server pays;
- ``ask``: warm ``Engine.ask`` p50 against the bare ``model.encode`` of the same questions, alternated
  (the real model embeds the questions);
- ``peak_mb_so_far``: the process's peak resident memory so far (sizes run in ascending order, so it is
  the peak of the largest size run yet: model, build, save, load and asks); ``rss_mb``: resident memory
  after the asks, the build freed.

Run from the project root (one JSON row per size on stdout):

    python bench/scale_synthetic.py --source /usr/share/doc/python3.11/html --sizes 1000,10000,100000
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(OMP_WAIT_POLICY="PASSIVE", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")

import numpy as np  # noqa: E402

from qa.embedding import Embedder  # noqa: E402

QUESTIONS = ["How do I open a file for appending?", "what does zip do with iterables of different lengths",
             "How do I sort a list in reverse order?", "What is a generator expression?",
             "Which module parses command-line options?", "what is the walrus operator",
             "What did the 2015 agreement bar?", "Who wrote the article?"]


class RandomModel:
    """Stands in for a ``SentenceTransformer`` in a build: the real tokenizer (so token counts, truncation
    included, are the real ones), random unit vectors for everything the model would compute."""

    def __init__(self, model, seed: int = 0) -> None:
        self.tokenizer = model.tokenizer
        self.max_seq_length = model.max_seq_length
        self.dimension = int(model.get_embedding_dimension())
        self.rng = np.random.default_rng(seed)

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def _unit(self, n: int) -> np.ndarray:
        rows = self.rng.standard_normal((n, self.dimension), dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def encode(self, texts, batch_size=32, output_value="sentence_embedding", convert_to_numpy=True,
               normalize_embeddings=False, show_progress_bar=False, **_):
        """As ``SentenceTransformer.encode``: ``(n, d)`` vectors, or with ``output_value=None`` one dict per
        text of torch tensors (sentence vector, token vectors and attention mask of the text's real length)."""
        texts = list(texts)
        if output_value is not None:
            return self._unit(len(texts))
        import torch

        lengths = [len(ids) for ids in self.tokenizer(texts, truncation=True, max_length=self.max_seq_length,
                                                      add_special_tokens=True)["input_ids"]]
        tokens, sentences = self._unit(sum(lengths)), self._unit(len(texts))
        out, at = [], 0
        for i, n in enumerate(lengths):
            out.append({"sentence_embedding": torch.from_numpy(sentences[i]),
                        "token_embeddings": torch.from_numpy(tokens[at : at + n]),
                        "attention_mask": torch.ones(n, dtype=torch.int64)})
            at += n
        return out


class RandomEmbedder(Embedder):
    """An :class:`qa.embedding.Embedder` whose model is a :class:`RandomModel` over ``real``'s tokenizer, so
    ``encode_for_index`` (and so the build) runs the project's own code on random vectors."""

    def __init__(self, real: Embedder) -> None:
        super().__init__(real.name, real.batch_size)
        self._real = real

    def _load(self):
        return RandomModel(self._real.model)


def synthetic_build(docs, embedder: Embedder, chunking=None):
    """``(data, build_key)``: ``docs`` built by ``qa.building.build`` as ``Engine.load`` builds them, with
    :class:`RandomEmbedder` vectors in place of ``embedder``'s. ``chunking`` defaults to ``ChunkSettings()``
    (windows ``"auto"``)."""
    from qa.building import build
    from qa.chunking import splitter_kind
    from qa.config import ChunkSettings
    from qa.corpus import document_hash
    from qa.index import FORMAT_VERSION

    chunking = chunking or ChunkSettings()
    build_key = {"format": FORMAT_VERSION, "model": embedder.name, "chunking": dataclasses.asdict(chunking),
                 "splitter": splitter_kind(), "vectors": "random (bench/scale_synthetic.py)"}
    sources = {d.id: {"path": d.id, "size": len(d.text), "mtime_ns": 0, "sha256": document_hash(d)} for d in docs}
    data, _ = build(docs, sources, RandomEmbedder(embedder), chunking, build_key)
    return data, build_key


def rss_mb() -> int:
    """Resident memory now (MiB), from ``/proc/self/status``; 0 where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return 0


def pick_documents(docs, counts: dict[str, int], size: int) -> list:
    """Whole documents, in order, until ``size`` sentences are reached (at least one); pages (never the first,
    the article) repeated under new ids when ``docs`` run out."""
    if len(docs) < 2 and sum(counts.values()) < size:
        raise SystemExit(f"--source has too few pages for {size} sentences")
    chosen, total = [], 0
    while not chosen or total < size:
        n = len(chosen)
        original = docs[n] if n < len(docs) else docs[1 + (n - 1) % (len(docs) - 1)]
        chosen.append(original if n < len(docs) else dataclasses.replace(original, id=f"copy-{n}/{original.id}"))
        total += counts[original.id]
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--source", type=Path, default=Path("/usr/share/doc/python3.11/html"),
                        help="folder of pages added after the article, in path order (default: Debian's python3-doc)")
    parser.add_argument("--suffixes", default=".html", help="page suffixes taken from --source (default: .html, "
                        "as bench/scale.py; the folder also holds each page's reST source)")
    parser.add_argument("--sizes", default="1000,10000,100000", help="sentence counts (default: 1000,10000,100000)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of the questions per size (default: 5)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    args = parser.parse_args()

    from qa.chunking import split_document
    from qa.corpus import CorpusError, load_corpus, load_document
    from qa.engine import Engine
    from qa.index import load_index, save_index

    sizes = sorted(int(x) for x in args.sizes.split(","))
    suffixes = tuple(x.strip().lower() for x in args.suffixes.split(","))
    pages = sorted(p for p in args.source.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    docs, counts = [], {}
    for path, doc in itertools.chain(((None, d) for d in load_corpus(ROOT / "corpus")), ((p, None) for p in pages)):
        if sum(counts.values()) >= sizes[-1]:   # read and split only as far as the largest size needs
            break
        if doc is None:
            try:
                doc = load_document(path, str(path.relative_to(args.source)))
            except CorpusError:
                continue
            if not doc.paragraphs:              # as a corpus folder skips it (an index or contents page)
                continue
        docs.append(doc)
        counts[doc.id] = len(split_document(doc))
    embedder = Embedder()
    model = embedder.model
    model.encode(["warm up"])
    results = []
    for size in [0, *sizes]:   # 0: the first document alone, not reported: one-time costs (imports) fall in no row
        keep_docs = pick_documents(docs, counts, size)
        started = time.perf_counter()
        data, build_key = synthetic_build(keep_docs, embedder)
        build_seconds = time.perf_counter() - started
        n, windows = len(data.sentences), data.manifest["windows"]
        tokens, window_rows = data.manifest["counts"]["tokens"], data.manifest["counts"]["windows"]
        folder = Path(tempfile.mkdtemp(prefix=f"qa-synth-{size}-"))
        try:
            saved = save_index(data, folder)
            disk = sum(p.stat().st_size for p in saved.iterdir())
            graph = (saved / "sentences.faiss").exists()
            del data
            gc.collect()
            started = time.perf_counter()
            loaded = load_index(folder, build_key)
            engine = Engine(loaded.documents, loaded, embedder, index_dir=folder)
            load_seconds = time.perf_counter() - started
            ours, bare = [], []
            for _ in range(args.repeats):
                for q in QUESTIONS:
                    t0 = time.perf_counter(); model.encode([q]); bare.append(time.perf_counter() - t0)
                    t0 = time.perf_counter(); engine.ask(q); ours.append(time.perf_counter() - t0)
            row = {"sentences": n, "documents": len(keep_docs), "windows": windows,
                   "faiss": "hnsw" if graph else "flat", "token_rows": tokens, "window_rows": window_rows,
                   "bytes_per_sentence": round(disk / n), "disk_mb": round(disk / 2**20, 1),
                   "build_seconds": round(build_seconds, 1), "load_seconds": round(load_seconds, 2),
                   "ask_p50_ms": round(1000 * statistics.median(ours), 1),
                   "encode_p50_ms": round(1000 * statistics.median(bare), 1),
                   "ask_over_encode": round(statistics.median(ours) / statistics.median(bare), 2),
                   "rss_mb": rss_mb(),
                   "peak_mb_so_far": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
            del engine, loaded
            gc.collect()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if size:
            print(json.dumps(row), flush=True)
            results.append(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
