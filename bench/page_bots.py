"""Benchmark a page's bot (questions scoped with ``doc=``) in a corpus of several documents.

Run: python bench/page_bots.py CORPUS INDEX [--doc ID ...] [--quality]
     (e.g. the corpus and index that ``python bench/scale.py`` leaves in its work folder)

For each page: how long embedding it again takes (``Engine.warm``: its token vectors in a basis of its own, and its
word windows encoded when the index pooled them), the memory it holds, the first scoped question's time on a page not yet embedded, and the
warm scoped ``ask`` p50 against the bare encode of the same question (one run, alternating, medians). Pages:
those named with ``--doc``, else the article plus the Python documentation pages at the 50th and 90th percentile
of word windows.

``--quality`` also scores the page sets in ``bench/page-sets/`` (questions about one Python documentation page
each, written blind from the page's text, every item naming its page in ``docs``) three ways: the page indexed
alone (in a temporary folder), scoped to it in INDEX with the corpus's vectors, and scoped with page vectors; and,
when the article is in the corpus, the article's evaluation sets (``tests/eval/``) scoped to it, both ways, and all
of them together unscoped, scoped and alone, the questions about a part of the page (its headline, summary,
conclusion, authors) counted apart from the questions about what it says.
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
PAGE_SETS = ROOT / "bench" / "page-sets"
#: Question topics about a part of the page (:data:`qa.structure.TOPIC_RULES`) rather than what it says.
PAGE_PARTS = {"title", "deck", "conclusion", "byline", "bio"}
QUESTIONS = ["What did the 2015 agreement bar?", "How do I open a file for appending?",
             "What is the main point of this page?", "who wrote this"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example:\n  python bench/page_bots.py /tmp/scale/corpus /tmp/scale/index")
    parser.add_argument("corpus", type=Path, help="the corpus folder the index was built from")
    parser.add_argument("index", type=Path, help="its index (several documents)")
    parser.add_argument("--doc", action="append", default=[], help="a page to measure; repeat for several")
    parser.add_argument("--quality", action="store_true", help="also score the page sets of bench/page-sets/")
    args = parser.parse_args()

    from qa import Engine
    from qa.embedding import word_windows

    engine = Engine.load(corpus=args.corpus, index=args.index)
    retriever = engine.retriever
    if retriever.pages is None:
        print("this index holds one document: its bot uses the index as it is; nothing to measure")
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
    if args.quality:
        quality(engine, args.corpus)
    return 0


def quality(engine, corpus: Path) -> None:
    """Answer correct / rank 1 / near-topic refused on each page set: alone, scoped with corpus vectors, scoped."""
    import shutil
    import tempfile
    from types import SimpleNamespace

    from qa import Engine
    from qa.evaluation import evaluate, load_eval_set

    def scores(ask_many, items) -> str:
        m = evaluate(SimpleNamespace(ask_many=ask_many), items)["metrics"]   # evaluate() only calls ask_many
        return " / ".join("-" if m[k] is None else f"{m[k] * 100:.1f}"
                          for k in ("answer_correct", "rank1", "near_topic_abstained"))

    pages = engine.retriever.pages
    print("\n| page set (answer correct / rank 1 / near-topic refused, %) | page alone | scoped, corpus vectors | "
          "scoped, page vectors |")
    print("|---|---|---|---|")
    for path in sorted(PAGE_SETS.glob("*.jsonl")):
        items = load_eval_set(path)
        doc = items[0].docs[0]
        if doc not in engine.documents:
            print(f"| {path.stem} ({len(items)}) | {doc} is not in this corpus | | |")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            alone_corpus = Path(tmp) / "corpus" / doc
            alone_corpus.parent.mkdir(parents=True)
            shutil.copy(corpus / doc, alone_corpus)
            alone = Engine.load(corpus=Path(tmp) / "corpus", index=Path(tmp) / "index")
            row = [scores(alone.ask_many, items)]
        scoped = lambda q, h=None, top_k=None: engine.ask_many(q, h, top_k=top_k, docs=[doc] * len(q))  # noqa: E731
        engine.retriever.pages = None
        row.append(scores(scoped, items))
        engine.retriever.pages = pages
        row.append(scores(scoped, items))
        print(f"| {path.stem} ({len(items)}) | " + " | ".join(row) + " |")
    if ARTICLE not in engine.documents:
        return
    article = lambda q, h=None, top_k=None: engine.ask_many(q, h, top_k=top_k, docs=[ARTICLE] * len(q))  # noqa: E731
    print(f"\n| {ARTICLE}: set (answer correct / rank 1 / near-topic refused, %) | scoped, corpus vectors | "
          "scoped, page vectors |")
    print("|---|---|---|")
    for path in sorted((ROOT / "tests" / "eval").glob("*.jsonl")):
        items = load_eval_set(path)
        engine.retriever.pages = None
        row = [scores(article, items)]
        engine.retriever.pages = pages
        row.append(scores(article, items))
        print(f"| {path.stem} | " + " | ".join(row) + " |")
    article_split(engine, corpus, article)


def article_split(engine, corpus: Path, scoped) -> None:
    """Right answers to the article's sets, all together: indexed alone, unscoped among the corpus, and ``scoped``
    to it; questions about a part of the page (unscoped, "the headline" can mean any of the pages) apart."""
    import shutil
    import tempfile

    from qa import Engine
    from qa.evaluation import ABSTAIN_KINDS, load_eval_set

    items = [item for path in sorted((ROOT / "tests" / "eval").glob("*.jsonl")) for item in load_eval_set(path)]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "corpus").mkdir()
        shutil.copy(corpus / ARTICLE, Path(tmp) / "corpus" / ARTICLE)
        alone = Engine.load(corpus=Path(tmp) / "corpus", index=Path(tmp) / "index")
        ways = {"article alone": alone.ask_many, "unscoped": engine.ask_many, "scoped": scoped}
        answers = {way: ask([i.question for i in items], [i.history for i in items]) for way, ask in ways.items()}
        group = [item.kind if item.kind in ABSTAIN_KINDS else
                 "about a page part" if alone.analyze(item.question, item.history).topics & PAGE_PARTS
                 else "about content"
                 for item in items]
    print(f"\n| {ARTICLE}, all {len(items)} questions of tests/eval (right answers; refusals for off/near-topic) | "
          + " | ".join(ways) + " |")
    print("|---|" + "---|" * len(ways))
    for kind in ("about content", "about a page part", *ABSTAIN_KINDS):
        rows = [n for n, g in enumerate(group) if g == kind]
        counts = [sum(not answers[way][n].answerable if kind in ABSTAIN_KINDS else
                      any(g in answers[way][n].answer for g in items[n].gold) for n in rows) for way in ways]
        print(f"| {kind} ({len(rows)}) | " + " | ".join(str(c) for c in counts) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
