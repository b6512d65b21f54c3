"""Benchmark a page's bot (questions scoped with ``doc=``) on an index that pooled its windows.

Run: python bench/page_bots.py CORPUS INDEX [--doc ID ...]
     (e.g. the corpus and index that ``python bench/scale.py`` leaves in its work folder)

For each page: how long embedding it again takes (``Engine.warm``: its word windows encoded, its token vectors in
a basis of its own), the memory it holds, the first scoped question's time on a page not yet embedded, and the
warm scoped ``ask`` p50 against the bare encode of the same question (one run, alternating, medians). Pages:
those named with ``--doc``, else the article plus the Python documentation pages at the 50th and 90th percentile
of word windows.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from qa.config import configure_environment  # noqa: E402  (after the path is set)

configure_environment()   # offline, quiet, OpenMP threads that do not spin

ARTICLE = "us-china-cyber-relations.txt"
QUESTIONS = ["What did the 2015 agreement bar?", "How do I open a file for appending?",
             "What is the main point of this page?", "who wrote this"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example:\n  python bench/page_bots.py /tmp/scale/corpus /tmp/scale/index")
    parser.add_argument("corpus", type=Path, help="the corpus folder the index was built from")
    parser.add_argument("index", type=Path, help="an index with pooled windows (over 20,000 sentences)")
    parser.add_argument("--doc", action="append", default=[], help="a page to measure; repeat for several")
    args = parser.parse_args()

    from qa import Engine
    from qa.embedding import word_windows

    engine = Engine.load(corpus=args.corpus, index=args.index)
    retriever = engine.retriever
    if retriever.pages is None:
        print("this index encoded its windows: page bots use the index as it is; nothing to measure")
        return 1
    sentences = engine.data.sentences

    def windows_of(doc: str) -> int:
        number = retriever._doc_numbers[doc]
        return sum(len(word_windows(s.text)) for s in sentences[retriever._doc_start[number]:retriever._doc_end[number]])

    docs = args.doc
    if not docs:
        sized = sorted((windows_of(d), d) for d in engine.documents if d != ARTICLE)
        docs = ([ARTICLE] if ARTICLE in engine.documents else []) + \
            [sized[len(sized) // 2][1], sized[int(len(sized) * 0.9)][1]]
    model = engine.embedder.model
    for q in QUESTIONS:                                        # warm both paths
        engine.ask(q)
        model.encode([q])
    print(f"index: {len(sentences):,} sentences, {len(engine.documents):,} documents\n")
    print("| page | sentences | word windows | first scoped question (embeds the page) | page memory | "
          "warm scoped ask p50 / bare encode p50 |")
    print("|---|---|---|---|---|---|")
    for doc in docs:
        number = retriever._doc_numbers[doc]
        count = int(retriever._doc_end[number] - retriever._doc_start[number])
        started = time.perf_counter()
        engine.ask(QUESTIONS[0], doc=doc)
        first = time.perf_counter() - started
        page = retriever.pages.get(number)
        memory = f"{page.nbytes / 2**20:.1f} MB" if page else "not held (over the limit)"
        bare, ask = [], []
        for _ in range(15):
            for q in QUESTIONS:
                t = time.perf_counter(); model.encode([q]); bare.append(time.perf_counter() - t)
                t = time.perf_counter(); engine.ask(q, doc=doc); ask.append(time.perf_counter() - t)
        b, a = statistics.median(bare) * 1000, statistics.median(ask) * 1000
        print(f"| {doc} | {count:,} | {windows_of(doc):,} | {first:.2f} s | {memory} | "
              f"{a:.1f} ms / {b:.1f} ms = {a / b:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
