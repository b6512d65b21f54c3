"""Load and soak benchmark of the web app: API clients, chat sessions through the Gradio queue, memory soak.

Run from the project root; everything stays on 127.0.0.1 and every loop is bounded in count and time:

    python bench/bench_load.py                   # full run, about 30 minutes
    python bench/bench_load.py --quick           # smoke run, about 2 minutes
    python bench/bench_load.py --parts api,chat --json /tmp/load.json

Parts (each against ``python app.py`` started as a subprocess on a free port, with a temporary
copy of the project's index):

- ``api``: ``--clients`` (50) threads calling ``GET /api/ask`` back to back for ``--duration`` (60) s.
- ``chat``: ``--sessions`` (10) browser-style chat sessions at once through the Gradio queue (the
  page's own ``/chat`` event via gradio_client, the conversation carried from turn to turn and
  restarted every ``--turns`` turns) for ``--chat-duration`` (60) s.
- ``soak``: a fresh server; ``--warmup`` (1,000) requests, its RSS (``VmRSS`` in
  ``/proc/PID/status``), then on to ``--requests`` (100,000) in all with ``--soak-clients`` (8)
  clients, RSS sampled along the way. If the warm-up rate says the total would take longer than
  ``--soak-budget`` (1,500 s), the soak stops when the budget is spent and says how far it got.

Targets (issue "Reliability and security"): zero errors in ``api`` and ``chat``; RSS after the
soak within 50 MB of RSS after the warm-up. Exit code 0 when all are met, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ENV, QUESTIONS, ROOT, Tally, api_load, finish, free_port, run_clients, summary

FOLLOW_UPS = ("Why did it fall short?", "Who signed it?", "What happened next?", "And what about China?")


def load_questions() -> list[str]:
    with open(QUESTIONS, encoding="utf-8") as lines:
        return [json.loads(line)["question"] for line in lines if line.strip()]


def rss_mb(pid: int) -> dict:
    """``VmRSS`` (now) and ``VmHWM`` (peak) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}


class Server:
    """``python app.py --port P --index TMP`` as a subprocess, with its log in the temporary folder."""

    def __init__(self, workdir: Path, timeout: float = 240.0) -> None:
        import httpx

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        index = workdir / f"index-{self.port}"
        if (ROOT / "index").is_dir() and not index.exists():
            shutil.copytree(ROOT / "index", index)  # a stale or missing copy is rebuilt by the app itself
        self.log = open(workdir / f"app-{self.port}.log", "wb")  # noqa: SIM115 - closed by stop()
        started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(self.port),
                                         "--index", str(index)], cwd=ROOT, env={**os.environ, **ENV},
                                        stdout=self.log, stderr=subprocess.STDOUT)
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url + "healthz", timeout=2).status_code == 200:
                    self.startup_s = round(time.perf_counter() - started, 1)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"app.py did not answer on {self.url} within {timeout:g} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def chat_load(url: str, questions: list[str], sessions: int, duration: float, turns: int) -> dict:
    """``sessions`` gradio_client sessions chatting through the queue (``/chat``) for ``duration`` seconds."""
    from gradio_client import Client

    tally = Tally()
    stop_at = time.perf_counter() + duration
    turns_done = [0] * sessions

    def session(number: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001 - counted, not raised: the benchmark reports it
            tally.record(f"connect {type(exc).__name__}")
            return
        history: list = []
        for turn in range(10_000):
            if time.perf_counter() >= stop_at:
                return
            if turn % turns == 0:
                history = []
            question = questions[(number * 7 + turn) % len(questions)] if not history or turn % 3 \
                else FOLLOW_UPS[turn % len(FOLLOW_UPS)]
            t = time.perf_counter()
            try:
                box, history = client.predict(question, history, api_name="/chat")
                problem = None if box == "" and "qa-card" in str(history[-1]["content"]) else "reply without citations"
            except Exception as exc:  # noqa: BLE001 - any failure is an error of the run
                problem, history = type(exc).__name__, []
            turns_done[number] += 1   # each session writes only its own slot
            tally.record(problem, (time.perf_counter() - t) * 1000)

    return {"sessions": sessions, "turns_per_session": turns_done,
            **run_clients(tally, session, sessions, duration)}


def soak(workdir: Path, questions: list[str], total: int, warmup: int, clients: int, budget: float) -> dict:
    """A fresh server: ``warmup`` requests, RSS, then on to ``total`` (or until ``budget`` seconds), RSS again."""
    import httpx

    server = Server(workdir)
    pid = server.process.pid
    counter = [0]  # next request number, shared by the clients
    lock = threading.Lock()
    latencies: list[float] = []
    failures: dict[str, int] = {}
    samples: list[dict] = []

    def run(until: int, deadline: float) -> None:
        def client_loop() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                while time.perf_counter() < deadline:
                    with lock:
                        i = counter[0]
                        if i >= until:
                            return
                        counter[0] += 1
                    question = questions[i % len(questions)]
                    t = time.perf_counter()
                    try:
                        if i % 10 == 9:  # every tenth: a follow-up with history, by POST
                            response = client.post("/api/ask", json={"question": FOLLOW_UPS[i % 4],
                                                                     "history": [question], "top_k": 4})
                        else:  # half of the questions are new text each time (no cache can hide a leak)
                            response = client.get("/api/ask", params={"q": f"{question} (#{i})" if i % 2 else question})
                        problem = None if response.status_code == 200 else f"HTTP {response.status_code}"
                    except httpx.HTTPError as exc:
                        problem = type(exc).__name__
                    elapsed = (time.perf_counter() - t) * 1000
                    with lock:
                        if problem:
                            failures[problem] = failures.get(problem, 0) + 1
                        else:
                            latencies.append(elapsed)
                        done = len(latencies) + sum(failures.values())
                        if done % sample_every == 0:
                            samples.append({"requests": done, **rss_mb(pid)})

        threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.perf_counter()) + 120)

    sample_every = max(1000, total // 20)
    try:
        start_rss = rss_mb(pid)
        started = time.perf_counter()
        run(warmup, started + budget)
        warm_seconds = time.perf_counter() - started
        after_warmup = rss_mb(pid)
        rate = warmup / warm_seconds
        estimate = (total - warmup) / rate
        finish_by = started + budget
        print(f"  soak warm-up: {warmup:,} requests in {warm_seconds:.1f} s ({rate:.0f}/s), RSS "
              f"{after_warmup['rss_mb']} MB; the rest ({total - warmup:,}) should take {estimate / 60:.1f} min"
              + (f", over the {budget / 60:.0f} min budget: stopping when it is spent"
                 if estimate > budget - warm_seconds else ""), flush=True)
        run(total, finish_by)
        seconds = time.perf_counter() - started
        final = rss_mb(pid)
    finally:
        server.stop()
    done = len(latencies) + sum(failures.values())
    return {"requested": total, "done": done, "completed_all": done >= total, "clients": clients,
            "startup_rss_mb": start_rss["rss_mb"], "after_warmup": {"requests": warmup, **after_warmup},
            "final": {"requests": done, **final}, "growth_mb": round(final["rss_mb"] - after_warmup["rss_mb"], 1),
            "warmup_per_second": round(rate, 1), "samples": samples,
            **summary(latencies, failures, seconds)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load and soak benchmark of the web app (see the module docstring).")
    parser.add_argument("--parts", default="api,chat,soak", help="comma-separated: api, chat, soak (default: all)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (about 2 minutes)")
    parser.add_argument("--clients", type=int, default=50, help="API clients at once (default: 50)")
    parser.add_argument("--duration", type=float, default=60.0, help="API load seconds (default: 60)")
    parser.add_argument("--sessions", type=int, default=10, help="chat sessions at once (default: 10)")
    parser.add_argument("--chat-duration", type=float, default=60.0, help="chat load seconds (default: 60)")
    parser.add_argument("--turns", type=int, default=5, help="turns per conversation before a new one (default: 5)")
    parser.add_argument("--requests", type=int, default=100_000, help="soak requests in all (default: 100,000)")
    parser.add_argument("--warmup", type=int, default=1000, help="soak requests before the first RSS (default: 1,000)")
    parser.add_argument("--soak-clients", type=int, default=8, help="soak clients at once (default: 8)")
    parser.add_argument("--soak-budget", type=float, default=1500.0, help="longest soak in seconds (default: 1,500)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.duration, args.sessions, args.chat_duration = 10, 10.0, 3, 10.0
        args.requests, args.warmup, args.soak_budget = 3000, 500, 120.0
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    unknown = parts - {"api", "chat", "soak"}
    if unknown:
        parser.error(f"--parts takes api, chat and soak; got {', '.join(sorted(unknown))}")
    os.environ.update(ENV)
    questions = load_questions()
    results: dict = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg(), "args": vars(args)}
    met: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="qa-bench-load-") as folder:
        workdir = Path(folder)
        if parts & {"api", "chat"}:
            server = Server(workdir)
            results["startup_s"] = server.startup_s
            try:
                if "api" in parts:
                    results["api"] = api = api_load(server.url, questions, args.clients, args.duration)
                    print(f"api: {api['clients']} clients for {api['seconds']} s: {api['ok']:,} ok, {api['errors']} "
                          f"errors {api['error_kinds'] or ''}, {api['per_second']}/s, p50 {api['p50_ms']} ms, "
                          f"p95 {api['p95_ms']} ms, p99 {api['p99_ms']} ms, max {api['max_ms']} ms", flush=True)
                    met["api: no errors"] = api["errors"] == 0 and api["ok"] > 0
                if "chat" in parts:
                    results["chat"] = chat = chat_load(server.url, questions, args.sessions, args.chat_duration,
                                                       args.turns)
                    print(f"chat: {chat['sessions']} sessions for {chat['seconds']} s: {chat['ok']:,} turns ok, "
                          f"{chat['errors']} errors {chat['error_kinds'] or ''}, {chat['per_second']}/s, p50 "
                          f"{chat['p50_ms']} ms, p95 {chat['p95_ms']} ms, p99 {chat['p99_ms']} ms, max "
                          f"{chat['max_ms']} ms", flush=True)
                    met["chat: no errors"] = chat["errors"] == 0 and chat["ok"] > 0
                results["server_rss_after_load"] = rss_mb(server.process.pid)
            finally:
                server.stop()
        if "soak" in parts:
            results["soak"] = s = soak(workdir, questions, args.requests, args.warmup, args.soak_clients,
                                       args.soak_budget)
            print(f"soak: {s['done']:,} of {s['requested']:,} requests in {s['seconds']} s ({s['per_second']}/s), "
                  f"{s['errors']} errors; RSS {s['after_warmup']['rss_mb']} MB after "
                  f"{s['after_warmup']['requests']:,}, "
                  f"{s['final']['rss_mb']} MB after {s['final']['requests']:,} (growth {s['growth_mb']} MB, peak "
                  f"{s['final']['peak_mb']} MB); p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms", flush=True)
            met["soak: RSS growth <= 50 MB"] = s["growth_mb"] <= 50
            met["soak: no errors"] = s["errors"] == 0
    return finish(results, met, args.json)


if __name__ == "__main__":
    sys.exit(main())
