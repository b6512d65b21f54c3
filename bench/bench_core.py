"""Benchmark the core: warm ask vs bare model.encode, index build time, `python -m qa --help` time.

Run: python bench/bench_core.py   (prints a Markdown table for the README)
Ratios are measured in one process and run, medians of many calls, so a busy machine
shifts both sides alike.
"""
from __future__ import annotations

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

QUESTIONS = [
    "What did the 2015 agreement bar?",
    "Who wrote the article?",
    "Why might Beijing be unable to rein in freelance hackers?",
    "What did the G20 meeting warn about?",
    "What is the population of Beijing?",
    "How tall is Mount Everest?",
]


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    from qa import Engine
    from qa.building import build
    from qa.config import ChunkSettings
    from qa.index import save_index

    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine.load(index=Path(tmp) / "index")
        model = engine.embedder.model
        for q in QUESTIONS:  # warm both paths
            engine.ask(q)
            model.encode([q])
        rows = []
        ratios = []
        for q in QUESTIONS:
            bare = median_ms(lambda: model.encode([q]), 60)
            ask = median_ms(lambda: engine.ask(q), 60)
            ratios.append(ask / bare)
            rows.append((q, bare, ask))
        build_times = []
        for _ in range(3):
            started = time.perf_counter()
            data, _ = build(engine.docs, engine.data.sources, engine.embedder, ChunkSettings(),
                            engine.data.build_key)          # a full build: no previous index to reuse
            save_index(data, Path(tmp) / "rebuild")
            build_times.append(time.perf_counter() - started)
    help_times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qa", "--help"], cwd=ROOT, capture_output=True, check=True)
        help_times.append(time.perf_counter() - started)

    print("| question | bare encode ms | ask ms | ratio |\n|---|---|---|---|")
    for q, bare, ask in rows:
        print(f"| {q} | {bare:.2f} | {ask:.2f} | {ask / bare:.2f} |")
    print(f"\nmedian ask/encode ratio: {statistics.median(ratios):.2f} (target <= 1.5)")
    print(f"index build after model load (median of 3): {statistics.median(build_times):.2f} s (target <= 2 s)")
    print(f"python -m qa --help (median of 5): {statistics.median(help_times):.2f} s (target <= 0.5 s)")


if __name__ == "__main__":
    main()
