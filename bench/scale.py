"""Scale benchmark: the article among the Python documentation, built, updated, loaded and asked.

Run from the project root (Debian's ``python3-doc`` gives the pages: ``apt-get install -y python3-doc``):

    python bench/scale.py                          # the article + every page of the Python docs
    python bench/scale.py --pages 40               # the article + the first 40 pages (sorted by path)
    python bench/scale.py --pages 40 --windows encoded --json /tmp/scale.json

What it measures, each part in its own process so peak memory is that part's (``ru_maxrss``):

- ``build``: ``python -m qa index`` on a fresh index: seconds, sentences per second, peak memory,
  bytes on disk per sentence; and the bare ``model.encode`` rate (batch 64) on a sample of the same
  sentences, in the same run, so the ratio holds however busy the machine is;
- ``update``: one page's text changed, ``python -m qa index`` again: seconds, as a share of the build;
- ``load``: ``Engine.load`` of the saved index after the model is loaded (the cold start a server pays);
- ``query``: warm ``ask`` against the bare encode of the same questions, alternated, medians;
- ``quality``: the article's evaluation sets and ``bench/python-questions.jsonl`` on the combined corpus
  (``python -m qa eval``), beside the article alone.

Targets (issue "A team wiki's worth of pages"): build >= 70% of the bare encode rate, peak <= 2 GB at
100,000 sentences, <= 4 KB on disk per sentence, update <= 5% of the build, ask p50 <= 2x the bare
encode, load <= 5 s at 100,000 sentences; article quality within 2 points of the article alone.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = Path("/usr/share/doc/python3.11/html")
ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
       "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
QUESTIONS = ["What did the 2015 agreement bar?", "Who wrote the article?", "How do I open a file for appending?",
             "what does zip do with iterables of different lengths", "Why did the agreement fall short?",
             "How do I sort a list in reverse order?", "What is a generator expression?",
             "Which module parses command-line options?", "What are the risks of cyber theft for banks?",
             "what is the walrus operator"]


def make_corpus(target: Path, pages: int | None, source: Path, suffixes: tuple[str, ...] = (".html",)) -> int:
    """Copy the article and the first ``pages`` pages with ``suffixes`` of ``source`` (sub-folders kept) into ``target``."""
    target.mkdir(parents=True)
    for article in (ROOT / "corpus").iterdir():
        if article.is_file():
            shutil.copy2(article, target / article.name)
    chosen = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    chosen = chosen[:pages] if pages is not None else chosen
    for page in chosen:
        rel = page.relative_to(source)
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(page, target / rel)
    return len(chosen)


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python; it prints one JSON object last. Adds the child's peak memory (MB)."""
    wrapper = (code + "\nimport resource, json as _j\n"
               "print(_j.dumps({**RESULT, 'peak_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))")
    done = subprocess.run([sys.executable, "-c", wrapper, *args], env=ENV, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"benchmark part failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


BUILD = """
import sys, time
from pathlib import Path
from qa import Engine
from qa.config import ChunkSettings
corpus, index, windows, full = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "full"
from qa.embedding import Embedder
Embedder().model   # the model load is not the build
started = time.perf_counter()
engine = Engine.load(corpus=corpus, index=index, chunking=ChunkSettings(windows=windows), rebuild=True, full=full)
seconds = time.perf_counter() - started
report = engine.build_report
build = Path(index) / (Path(index) / "CURRENT").read_text().strip()
files = {p.name: p.stat().st_size for p in build.iterdir()}
import json as _json
RESULT = {"seconds": round(seconds, 2), "documents": report.documents, "sentences": report.sentences,
          "windows": _json.loads((build / "manifest.json").read_text())["windows"],
          "embedded_sentences": report.embedded_sentences, "embedded_documents": report.embedded_documents,
          "skipped": len(report.skipped), "bytes": sum(files.values()), "files": files}
"""

BARE = """
import sys, json, random, time
from pathlib import Path
from qa.index import load_index
from qa.embedding import Embedder
index, sample = Path(sys.argv[1]), int(sys.argv[2])
manifest = json.loads((index / (index / "CURRENT").read_text().strip() / "manifest.json").read_text())
data = load_index(index, manifest["build_key"])
texts = [s.text for s in data.sentences]
random.Random(0).shuffle(texts)
texts = texts[:sample]
model = Embedder().model
model.encode(texts[:64], batch_size=64)
started = time.perf_counter()
model.encode(texts, batch_size=64)
seconds = time.perf_counter() - started
RESULT = {"sentences": len(texts), "seconds": round(seconds, 2), "per_second": round(len(texts) / seconds, 1)}
"""

LOAD_AND_ASK = """
import sys, json, statistics, time
from qa import Engine
from qa.embedding import Embedder
from qa.config import ChunkSettings
corpus, index, windows = sys.argv[1], sys.argv[2], sys.argv[3]
questions = json.loads(sys.argv[4])
embedder = Embedder()
embedder.model
started = time.perf_counter()
engine = Engine.load(corpus=corpus, index=index, chunking=ChunkSettings(windows=windows))
load_seconds = time.perf_counter() - started
assert engine.build_report is None, "the index was rebuilt at load"
model = engine.embedder.model
ours, bare = [], []
for round_ in range(5):
    for q in questions:
        t0 = time.perf_counter(); model.encode([q]); bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); engine.ask(q); ours.append(time.perf_counter() - t0)
answers = {q: {"answerable": a.answerable, "doc": a.citations[0].doc if a.citations else None,
               "title": a.citations[0].title if a.citations and hasattr(a.citations[0], "title") else None,
               "answer": a.answer[:160]} for q, a in ((q, engine.ask(q)) for q in questions)}
RESULT = {"load_seconds": round(load_seconds, 2), "ask_p50_ms": round(1000 * statistics.median(ours), 1),
          "encode_p50_ms": round(1000 * statistics.median(bare), 1),
          "ask_over_encode": round(statistics.median(ours) / statistics.median(bare), 2), "answers": answers}
"""


def change_one_page(corpus: Path) -> str:
    """Add a sentence to the first paragraph of one page in the middle of the corpus (by path); return its path."""
    pages = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".html", ".htm", ".txt", ".md"))
    page = pages[len(pages) // 2]
    text = page.read_text(encoding="utf-8", errors="replace")
    addition = " This sentence was added by the scale benchmark to change one page."
    marker = "</p>" if page.suffix in (".html", ".htm") else "\n\n"
    start = max(text.find('role="main"'), 0)               # a paragraph of the main text, not the navigation
    at = text.find(marker, start)
    page.write_text(text[:at] + addition + text[at:] if at >= 0 else text + addition, encoding="utf-8")
    return str(page.relative_to(corpus))


def evaluate(corpus: Path, index: Path, sets: list[Path]) -> dict:
    args = [sys.executable, "-m", "qa", "eval", "--json", "--corpus", str(corpus), "--index", str(index)]
    for s in sets:
        args += ["--set", str(s)]
    done = subprocess.run(args, env=ENV, capture_output=True, text=True, cwd=ROOT)
    if done.returncode not in (0, 1):
        raise SystemExit(f"eval failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--pages", type=int, default=None, help="Python docs pages to add (default: all)")
    parser.add_argument("--source", type=Path, default=DOCS, help=f"folder of pages (default: {DOCS})")
    parser.add_argument("--suffixes", default=".html", help="page file endings, comma-separated (default: .html)")
    parser.add_argument("--windows", choices=("auto", "encoded", "pooled"), default="auto",
                        help="how window vectors are made (default: auto, i.e. encoded up to 20,000 sentences, "
                             "pooled above)")
    parser.add_argument("--sample", type=int, default=3000, help="sentences for the bare encode rate (default: 3000)")
    parser.add_argument("--no-quality", action="store_true", help="skip the evaluation sets")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    if not args.source.is_dir():
        parser.error(f"{args.source} not found: apt-get install -y python3-doc, or pass --source DIR")
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-scale-"))
    corpus, index = work / "corpus", work / "index"
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(index, ignore_errors=True)
    pages = make_corpus(corpus, args.pages, args.source, tuple(x.strip().lower() for x in args.suffixes.split(",")))
    results: dict = {"pages": pages, "windows": args.windows}
    print(f"corpus: the article + {pages} pages in {corpus}", flush=True)

    build = run_child(BUILD, str(corpus), str(index), args.windows, "full")
    bare = run_child(BARE, str(index), str(args.sample))
    build["per_second"] = round(build["sentences"] / build["seconds"], 1)
    build["share_of_bare_encode"] = round(build["per_second"] / bare["per_second"], 2)
    build["bytes_per_sentence"] = round(build["bytes"] / max(build["sentences"], 1))
    results.update(build=build, bare_encode=bare)
    print(f"build: {build['sentences']:,} sentences in {build['seconds']} s = {build['per_second']}/s "
          f"({build['share_of_bare_encode']:.0%} of bare encode {bare['per_second']}/s), peak {build['peak_mb']} MB, "
          f"{build['bytes_per_sentence']} bytes/sentence, windows {build['windows']}", flush=True)

    changed = change_one_page(corpus)
    update = run_child(BUILD, str(corpus), str(index), args.windows, "incremental")
    update["share_of_build"] = round(update["seconds"] / build["seconds"], 3)
    update["changed"] = changed
    results["update"] = update
    print(f"update ({changed}): {update['seconds']} s = {update['share_of_build']:.1%} of the build, "
          f"{update['embedded_sentences']} sentences embedded", flush=True)

    query = run_child(LOAD_AND_ASK, str(corpus), str(index), args.windows, json.dumps(QUESTIONS))
    results["query"] = query
    print(f"load: {query['load_seconds']} s; ask p50 {query['ask_p50_ms']} ms vs encode {query['encode_p50_ms']} ms "
          f"= {query['ask_over_encode']}x; peak {query['peak_mb']} MB", flush=True)

    if not args.no_quality:
        sets = sorted((ROOT / "tests" / "eval").glob("*.jsonl")) + sorted((ROOT / "bench").glob("*questions.jsonl"))
        results["quality"] = evaluate(corpus, index, sets)
        print(json.dumps({name: {k: v for k, v in m.items() if k in ("answer_correct", "rank1", "off_topic_abstained",
                                                                   "near_topic_abstained")}
                          for name, m in ((n, v["metrics"]) for n, v in results["quality"]["sets"].items())},
                         indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
