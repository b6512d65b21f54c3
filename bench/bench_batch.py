"""Benchmark ``python -m qa batch``: throughput against bare ``model.encode``, and peak memory for a large file.

Run from the project root (nothing is written to the project; the index is built in a temp folder
unless ``--index`` is given):

    python bench/bench_batch.py                  # 1,000 questions x 3 runs, then 100,000 for memory
    python bench/bench_batch.py --big 0          # throughput only

Throughput: the same N distinct questions are embedded with
``engine.embedder.model.encode(questions, batch_size=64)`` and answered with
``qa.batch.answer_file`` to a .jsonl file, alternately, median of ``--runs``.
Machine load matters: when other processes share the cores, torch's OpenMP threads spin and
throughput can drop 5x; ``OMP_WAIT_POLICY=PASSIVE`` avoids that (both sides of the ratio alike).
Memory: a child process loads the engine, resets its peak-RSS counter (``/proc/self/clear_refs``),
answers the big file, and reports ``VmHWM`` against ``VmRSS`` right after loading.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from qa.config import configure_environment  # noqa: E402  (after the path is set)

configure_environment()   # offline, quiet, OpenMP threads that do not spin

TEMPLATES = (
    "What does the article say about {}?",
    "How is {} related to {}?",
    "Why does the author mention {} and {}?",
    "Who is responsible for {} according to the article?",
    "When did {} affect {}?",
    "What role does {} play in {}?",
)


def make_questions(text: str, n: int, seed: int = 0) -> list[str]:
    """``n`` distinct questions from templates filled with words of ``text``."""
    words = sorted(set(re.findall(r"[A-Za-z][A-Za-z-]{3,}", text)))
    rng = random.Random(seed)
    questions: dict[str, None] = {}
    while len(questions) < n:
        template = rng.choice(TEMPLATES)
        questions[template.format(*(rng.choice(words) for _ in range(template.count("{}"))))] = None
    return list(questions)


def memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def load_engine(args: argparse.Namespace):
    from qa import Engine

    return Engine.load(corpus=args.corpus, index=args.index)


def child(args: argparse.Namespace) -> None:
    """Memory run: load, reset the peak counter, answer ``args.child``, print one JSON line."""
    from qa.batch import answer_file

    engine = load_engine(args)
    rss_load = memory_kb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
        reset = True
    except OSError:
        reset = False
    out = Path(args.child).with_suffix(".answers.jsonl")
    summary = answer_file(engine, args.child, out)
    print(json.dumps({"rss_after_load_mb": rss_load / 1024, "peak_mb": memory_kb("VmHWM") / 1024,
                      "peak_reset": reset, "read": summary.read, "seconds": summary.seconds,
                      "per_second": summary.per_second, "out_mb": out.stat().st_size / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--questions", type=int, default=1000, help="questions for the throughput runs")
    parser.add_argument("-r", "--runs", type=int, default=3, help="runs of each method (median)")
    parser.add_argument("-b", "--big", type=int, default=100_000, help="questions for the memory run (0 skips it)")
    parser.add_argument("-c", "--corpus", default=None, help="corpus folder (default: the project's)")
    parser.add_argument("-i", "--index", default=None, help="index folder (default: a temp folder)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as work:
        args.index = args.index or str(Path(work) / "index")
        if args.child:
            return child(args)
        run(args, Path(work))


def run(args: argparse.Namespace, work: Path) -> None:
    from qa.batch import CHUNK_SIZE, answer_file

    started = time.perf_counter()
    engine = load_engine(args)
    print(f"engine loaded in {time.perf_counter() - started:.1f} s "
          f"({engine.stats()['chunks']} chunks, model {engine.stats()['model']}); cpus: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    text = " ".join(doc.text for doc in engine.docs)
    questions = make_questions(text, args.questions)
    path = work / "questions.txt"
    path.write_text("\n".join(questions) + "\n", encoding="utf-8")
    model = engine.embedder.model
    model.encode(questions[:64], batch_size=64)  # warm up
    encode_s, engine_s, batch_s = [], [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        model.encode(questions, batch_size=64)
        encode_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        for start in range(0, len(questions), CHUNK_SIZE):
            engine.ask_many(questions[start:start + CHUNK_SIZE])
        engine_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        summary = answer_file(engine, path, work / "answers.jsonl")
        batch_s.append(time.perf_counter() - t)
    few = questions[:50]
    t = time.perf_counter()
    for q in few:
        engine.ask(q)
    one_by_one = len(few) / (time.perf_counter() - t)
    encode_qps = len(questions) / statistics.median(encode_s)
    batch_qps = len(questions) / statistics.median(batch_s)
    engine_qps = len(questions) / statistics.median(engine_s)
    rows = [("model.encode (bare, batch 64)", f"{encode_qps:,.0f} q/s", f"median of {args.runs}: "
             + ", ".join(f"{s:.2f}" for s in encode_s) + " s"),
            (f"engine.ask_many (chunks of {CHUNK_SIZE})", f"{engine_qps:,.0f} q/s", f"median of {args.runs}: "
             + ", ".join(f"{s:.2f}" for s in engine_s) + " s; the ceiling for batch"),
            ("answer_file -> .jsonl", f"{batch_qps:,.0f} q/s", f"median of {args.runs}: "
             + ", ".join(f"{s:.2f}" for s in batch_s) + " s"),
            ("answer_file / encode", f"{batch_qps / encode_qps:.0%}", "target >= 80%"),
            ("answer_file / ask_many", f"{batch_qps / engine_qps:.0%}", "cost of reading and writing"),
            ("engine.ask one by one (50)", f"{one_by_one:,.0f} q/s", "for comparison"),
            ("last batch", summary.line(), "")]
    if args.big:
        big = work / "big.txt"
        with open(big, "w", encoding="utf-8") as f:
            for q in make_questions(text, args.big, seed=1):
                f.write(q + "\n")
        command = [sys.executable, __file__, "--child", str(big), "--index", args.index]
        if args.corpus:
            command += ["--corpus", args.corpus]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        m = json.loads(result.stdout.strip().splitlines()[-1])
        rows += [(f"memory, {m['read']:,} questions", f"+{m['peak_mb'] - m['rss_after_load_mb']:.0f} MB",
                  f"peak {m['peak_mb']:.0f} MB vs {m['rss_after_load_mb']:.0f} MB after load"
                  + ("" if m["peak_reset"] else " (peak includes loading)") + "; target <= +300 MB"),
                 (f"throughput, {m['read']:,} questions", f"{m['per_second']:,.0f} q/s",
                  f"{m['seconds']:.1f} s, {m['out_mb']:.0f} MB of JSON Lines")]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  {'result':>12}  notes")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>12}  {note}" if name != "last batch" else f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
