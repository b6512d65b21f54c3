"""Web benchmark: start-up to HTTP 200, GET /api/ask latency against the engine's own ask, and a concurrent load.

Run from the project root (about 1.5 minutes; uses the project's corpus/ and index/):

    python bench/bench_web.py
    python bench/bench_web.py --clients 20 --duration 30 --starts 3 --json /tmp/bench-web.json

Targets (README): start-up under 15 s with an existing index; GET /api/ask median at most
2x the engine's ask median measured in the same run; 20 clients for 30 s with no errors.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time

from common import ENV, QUESTIONS, ROOT, api_load, finish, free_port

logger = logging.getLogger("bench_web")


def start_app(port: int, timeout: float = 120.0) -> tuple[subprocess.Popen, float]:
    """Start ``python app.py --port PORT``; return the process and seconds until ``GET /`` answered 200."""
    import httpx

    env = {**os.environ, **ENV}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"app.py did not answer 200 on {url} within {timeout:g} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def load_questions(limit: int) -> list[str]:
    with open(QUESTIONS, encoding="utf-8") as lines:
        return [json.loads(line)["question"] for line in lines if line.strip()][:limit]


def latency_pair(base: str, questions: list[str], rounds: int) -> dict:
    """Median engine.ask (in this process) and GET /api/ask (the server) times over the same questions.

    The two are timed in alternating blocks (engine, API, engine, API...) with a pause between,
    not call by call: on two cores the idle side's BLAS threads would otherwise still be
    spinning while the other side runs, slowing whichever goes second. ``engine.ask`` is
    called from a worker thread, as the web server calls it; the main thread's median is
    reported too (it can be far slower on a busy machine: torch's intra-op threads).
    """
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from qa import Engine

    engine = Engine.load()
    engine_ms, main_ms, api_ms = [], [], []

    def timed(question: str) -> float:
        t = time.perf_counter()
        engine.ask(question)
        return (time.perf_counter() - t) * 1000

    with httpx.Client(base_url=base, timeout=30) as client, ThreadPoolExecutor(1) as worker:
        for question in questions[:5]:  # warm both
            worker.submit(engine.ask, question).result()
            client.get("/api/ask", params={"q": question}).raise_for_status()
        for _ in range(rounds):
            time.sleep(0.5)
            for question in questions:
                engine_ms.append(worker.submit(timed, question).result())
            time.sleep(0.5)
            for question in questions[:10]:
                main_ms.append(timed(question))
            time.sleep(0.5)
            for question in questions:
                t = time.perf_counter()
                client.get("/api/ask", params={"q": question}).raise_for_status()
                api_ms.append((time.perf_counter() - t) * 1000)
    engine_median, api_median = statistics.median(engine_ms), statistics.median(api_ms)
    return {"calls": len(api_ms), "engine_ask_median_ms": round(engine_median, 1),
            "engine_ask_main_thread_median_ms": round(statistics.median(main_ms), 1),
            "api_get_median_ms": round(api_median, 1), "ratio": round(api_median / engine_median, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the web app (see the module docstring).")
    parser.add_argument("--starts", type=int, default=3, help="timed start-ups after one warm-up (default: 3)")
    parser.add_argument("--questions", type=int, default=30, help="questions from the eval set (default: 30)")
    parser.add_argument("--rounds", type=int, default=2, help="latency rounds over the questions (default: 2)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default: 20)")
    parser.add_argument("--duration", type=float, default=30.0, help="load test seconds (default: 30)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    args = parser.parse_args(argv)
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    logging.basicConfig(level=logging.WARNING)
    questions = load_questions(args.questions)
    results: dict = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()}

    port = free_port()
    process, first = start_app(port)  # warm-up: builds the index if it is missing or stale
    stop(process)
    starts = []
    for _ in range(args.starts):
        process, seconds = start_app(port)
        starts.append(round(seconds, 2))
        stop(process)
    results["startup_s"] = {"first": round(first, 2), "runs": starts, "median": round(statistics.median(starts), 2),
                            "max": max(starts)}
    print(f"start-up to HTTP 200: runs {starts} s, median {results['startup_s']['median']} s "
          f"(first, possibly building: {first:.2f} s)", flush=True)

    process, _ = start_app(port)
    base = f"http://127.0.0.1:{port}/"
    try:
        results["latency"] = latency_pair(base, questions, args.rounds)
        latency = results["latency"]
        print(f"engine.ask median {latency['engine_ask_median_ms']} ms (worker thread; main thread "
              f"{latency['engine_ask_main_thread_median_ms']} ms), GET /api/ask median "
              f"{latency['api_get_median_ms']} ms -> ratio {latency['ratio']} over {latency['calls']} calls",
              flush=True)
        results["load"] = api_load(base, questions, args.clients, args.duration)
        load = results["load"]
        print(f"{load['clients']} clients for {load['seconds']} s: {load['ok']} ok, {load['errors']} errors "
              f"{load['error_kinds'] or ''}, {load['per_second']} req/s, p50 {load['p50_ms']} ms, "
              f"p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms, max {load['max_ms']} ms", flush=True)
    finally:
        stop(process)

    met = {"startup under 15 s": results["startup_s"]["max"] < 15,
           "API median <= 2x engine": results["latency"]["ratio"] <= 2.0,
           "no errors under load": results["load"]["errors"] == 0}
    return finish(results, met, args.json)


if __name__ == "__main__":
    sys.exit(main())
