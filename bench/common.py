"""Helpers shared by the web benchmarks: loopback ports, percentiles, client threads, the offline environment."""
from __future__ import annotations

import itertools
import json
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from qa.config import PROCESS_ENVIRONMENT  # noqa: E402  (after the path is set)

QUESTIONS = ROOT / "tests" / "eval" / "questions.jsonl"
#: Environment for servers started by a benchmark: nothing may call out to the internet (see
#: :func:`qa.config.configure_environment`).
ENV = dict(PROCESS_ENVIRONMENT)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(latencies_ms: list[float], failures: dict[str, int], seconds: float) -> dict:
    """Counts, rate and latency percentiles of a load run."""
    return {"ok": len(latencies_ms), "errors": sum(failures.values()), "error_kinds": dict(failures),
            "seconds": round(seconds, 1), "per_second": round(len(latencies_ms) / seconds, 1) if seconds else 0.0,
            "p50_ms": round(percentile(latencies_ms, 0.50), 1), "p95_ms": round(percentile(latencies_ms, 0.95), 1),
            "p99_ms": round(percentile(latencies_ms, 0.99), 1), "max_ms": round(max(latencies_ms, default=0.0), 1)}


class Tally:
    """What client threads of a load run report: latencies of the calls that worked, counts of the kinds that failed."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, problem: str | None, elapsed_ms: float = 0.0) -> None:
        """One call: a failure of kind ``problem``, or (None) a success that took ``elapsed_ms``."""
        with self._lock:
            if problem:
                self.failures[problem] = self.failures.get(problem, 0) + 1
            else:
                self.latencies.append(elapsed_ms)


def run_clients(tally: Tally, loop, count: int, duration: float) -> dict:
    """Run ``loop(number)`` in ``count`` threads (each waited for at most ``duration`` + 120 s); the summary."""
    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 120)
    return summary(tally.latencies, tally.failures, time.perf_counter() - started)


def finish(results: dict, met: dict[str, bool], json_path: str | None) -> int:
    """Print which targets were met, write ``results`` to ``json_path`` if given; exit code 0 when all were met."""
    results["targets_met"] = met
    print("targets: " + ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in met.items()))
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(met.values()) else 1


def api_load(url: str, questions: list[str], clients: int, duration: float) -> dict:
    """``clients`` threads calling GET /api/ask back to back for ``duration`` seconds."""
    import httpx

    tally = Tally()
    stop_at = time.perf_counter() + duration

    def client_loop(number: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in itertools.count(number, clients):
                if time.perf_counter() >= stop_at:
                    return
                t = time.perf_counter()
                try:
                    response = client.get("/api/ask", params={"q": questions[i % len(questions)]})
                    problem = None if response.status_code == 200 and response.json()["citations"] \
                        else f"HTTP {response.status_code}"
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    problem = type(exc).__name__
                tally.record(problem, (time.perf_counter() - t) * 1000)

    return {"clients": clients, **run_clients(tally, client_loop, clients, duration)}
