"""Start the web chat on the article: ``python app.py`` (chat at /, API at /api/ask, embed at /embed).

Exit codes: 0 stopped normally; 1 the corpus, model or index could not be loaded or the
port is taken; 2 bad usage.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
import threading
import time

logger = logging.getLogger("qa.app")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_parser() -> argparse.ArgumentParser:
    """The ``python app.py`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python app.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the chat on the article, its JSON API and the wiki embed view.\n"
                    "The index is loaded, or built first if it is missing or stale.",
        epilog=textwrap.dedent("""\
            examples:
              python app.py
              python app.py --port 8080 --allow-origin https://wiki.example.org
              QA_TOKEN=s3cret python app.py --host 0.0.0.0 --base-url https://qa.example.org/
              python app.py --host 0.0.0.0 --allow-host qa.internal --allow-host 10.0.0.5

            environment:
              QA_TOKEN            shared token for the pages and the API (off when unset)
              QA_ALLOWED_ORIGINS  comma-separated sites that may frame the app and call the API (CORS)
              QA_BASE_URL         public URL used in the citation links of API answers
              QA_ALLOWED_HOSTS    comma-separated host names the app answers for besides 127.0.0.1,
                                  localhost and the base URL's host (other Host headers get 400)
              QA_CORPUS_DIR, QA_INDEX_DIR, QA_MODEL  as for python -m qa

            exit codes: 0 stopped, 1 failed to load or to listen, 2 bad usage"""))
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=7860, help="port to listen on (default: 7860)")
    parser.add_argument("-c", "--corpus", metavar="DIR",
                        help="folder of .txt/.md/.html documents, sub-folders included (env QA_CORPUS_DIR; "
                             "default: the project's corpus/)")
    parser.add_argument("-i", "--index", metavar="DIR",
                        help="index folder (env QA_INDEX_DIR; default: the project's index/)")
    parser.add_argument("-m", "--model", metavar="NAME_OR_PATH",
                        help="sentence-transformers model name or folder (env QA_MODEL; default: all-MiniLM-L6-v2)")
    parser.add_argument("-a", "--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a site that may embed the app and call the API from a browser, e.g. "
                             "https://wiki.example.org; repeat for more (added to QA_ALLOWED_ORIGINS; "
                             "default: same origin only)")
    parser.add_argument("-b", "--base-url", metavar="URL",
                        help="public URL of the app for citation links (env QA_BASE_URL; default: from each request)")
    parser.add_argument("-H", "--allow-host", action="append", default=[], metavar="NAME",
                        help="a host name the app answers for (the Host header of its URL), e.g. qa.internal; "
                             "repeat for more (added to QA_ALLOWED_HOSTS; default: 127.0.0.1, localhost, ::1, "
                             "the base URL's host and --host when it is one address)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests and what is done on stderr")
    return parser


def _setup(verbose: bool) -> None:
    from qa.config import configure_environment

    configure_environment()   # offline, no telemetry, passive OpenMP threads: before torch or Gradio load
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="app: %(message)s",
                        stream=sys.stderr)
    for noisy in ("sentence_transformers", "transformers", "faiss", "httpx", "huggingface_hub", "gradio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


def _bind_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound right now (e.g. "Address already in use"), or None."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load the engine, serve until interrupted; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be from 1 to 65535, got {args.port}")
    _setup(args.verbose)
    started = time.perf_counter()

    from qa.web import WebSettings

    try:
        own = [] if args.host in ("0.0.0.0", "::", "") else [args.host]
        settings = WebSettings.from_env(allowed_origins=args.allow_origin, base_url=args.base_url,
                                        allowed_hosts=[*own, *args.allow_host])
    except ValueError as exc:
        parser.error(str(exc))
    if args.host not in LOOPBACK and not settings.token:
        print(f"app: warning: listening on {args.host} without a token; anyone who can reach it may use it "
              f"(set QA_TOKEN to require one)", file=sys.stderr)

    problem = _bind_problem(args.host, args.port)  # say so now, not after loading the model
    if problem:
        print(f"app: error: cannot listen on {args.host}:{args.port} ({problem}); choose another --port or --host",
              file=sys.stderr)
        return EXIT_FAILED

    from qa.corpus import CorpusError
    from qa.embedding import ModelError
    from qa.engine import Engine

    try:
        engine = Engine.load(corpus=args.corpus, index=args.index, model=args.model)
    except (CorpusError, ModelError) as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return EXIT_FAILED

    import uvicorn

    from qa.web import create_app, server_config

    app = create_app(engine, settings)
    server = uvicorn.Server(server_config(app, host=args.host, port=args.port,
                                         log_level="info" if args.verbose else "warning",
                                         access_log=args.verbose, timeout_graceful_shutdown=5))

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            host = f"[{args.host}]" if ":" in args.host else args.host
            url = f"http://{host}:{args.port}/"
            stats = engine.stats()
            print(f"Serving {stats['documents']} document(s), {stats['chunks']} chunks with {stats['model']} "
                  f"(ready in {time.perf_counter() - started:.1f} s)\n"
                  f"  chat:    {url}\n  article: {url}article\n  embed:   {url}embed\n"
                  f"  API:     {url}api/ask?q=...   health: {url}healthz\n"
                  f"Press Ctrl+C to stop.", flush=True)

    threading.Thread(target=announce, name="announce", daemon=True).start()
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):  # uvicorn exits the process when it cannot bind
        pass
    if not server.started:
        print(f"app: error: could not listen on {args.host}:{args.port} (is the port taken?)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
