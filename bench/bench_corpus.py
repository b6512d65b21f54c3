"""Benchmark corpus loading: seconds, documents, skipped files and peak memory for a folder of pages.

Run: python bench/bench_corpus.py [FOLDER]   (default: the .html pages of Debian's python3-doc,
/usr/share/doc/python3.11/html, copied with their sub-folders as the scale benchmark does;
`apt-get install -y python3-doc` puts them there)
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from qa.corpus import load_corpus  # noqa: E402  (after the path is set)

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")


def html_copy(source: Path, target: Path) -> int:
    """Copy the ``.html`` pages of ``source`` (with their sub-folders) to ``target``; the number copied."""
    count = 0
    for page in source.rglob("*.html"):
        dest = target / page.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, dest)
        count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="a corpus folder, read as it is. "
                        "Defaults to the .html pages of /usr/share/doc/python3.11/html")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            if not PYTHON_DOCS.is_dir():
                print(f"{PYTHON_DOCS} not found: apt-get install -y python3-doc, or pass a FOLDER", file=sys.stderr)
                return 1
            folder = Path(tmp)
            print(f"{html_copy(PYTHON_DOCS, folder)} pages copied from {PYTHON_DOCS}")
        skipped = []
        start = time.perf_counter()
        cpu = time.process_time()
        docs = load_corpus(folder, skipped)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    paragraphs = sum(len(doc.paragraphs) for doc in docs)
    chars = sum(len(doc.text) for doc in docs)
    print(f"{len(docs)} documents, {len(skipped)} skipped, {paragraphs:,} paragraphs, {chars:,} characters: "
          f"{seconds:.1f} s ({cpu:.1f} s CPU), peak memory {peak_mb:.0f} MB")
    for item in skipped:
        print(f"  skipped {item.path}: {item.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
