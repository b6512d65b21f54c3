"""The package layout: every module imports alone, imports flow one way (no circle), no private name crosses modules."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qa"
#: Front ends: nothing in the engine core may import them.
FRONT_ENDS = ("qa.cli", "qa.batch", "qa.web", "qa.exit_codes", "qa.__main__")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names (``from ..answer import X`` inside ``qa.web.schema``)."""
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> list[tuple[str, list[str]]]:
    """``(imported module, names)`` for every import in ``module``, at any depth (in functions and
    ``TYPE_CHECKING`` blocks too: a lazy import is still an arrow)."""
    found = []
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.split(".")[0] == "qa"]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, node)
            if target.split(".")[0] != "qa":
                continue
            names = [alias.name for alias in node.names]
            submodules = [f"{target}.{name}" for name in names if f"{target}.{name}" in MODULES]
            found.append((target, [n for n in names if f"{target}.{n}" not in MODULES]))
            found += [(sub, []) for sub in submodules]
    return found


def graph() -> dict[str, set[str]]:
    """module -> the qa modules it imports (``from ..batch import x`` runs ``qa/batch/__init__.py``: an arrow
    to the package ``qa.batch``, which has arrows to the modules it re-exports)."""
    edges: dict[str, set[str]] = {}
    for module in MODULES:
        edges[module] = {target for target, _ in imports_of(module) if target in MODULES and target != module}
    return edges


def test_the_import_graph_has_no_cycle():
    edges = graph()
    # A module inside a package is imported after its package's __init__ has started: ``from . import x``
    # there names a sibling, not a way back up.
    for module in edges:
        edges[module] = {t for t in edges[module] if not module.startswith(t + ".")}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_no_private_name_is_imported_from_another_module():
    crossing = [f"{module} imports {name} from {target}"
                for module in MODULES for target, names in imports_of(module)
                for name in names if name.startswith("_") and not name.startswith("__")]
    assert not crossing, crossing


def test_the_engine_core_never_imports_a_front_end():
    upward = [f"{module} -> {target}" for module, targets in graph().items()
              if not module.startswith(FRONT_ENDS) and module != "qa"
              for target in targets if target.startswith(FRONT_ENDS)]
    assert not upward, upward


def test_batch_does_not_import_the_cli_and_the_ui_does_not_import_the_routes():
    edges = graph()
    assert not any(t == "qa.cli" for m in MODULES if m.startswith("qa.batch") for t in edges[m])
    assert "qa.web.routes" not in edges["qa.web.ui"] and "qa.web" not in edges["qa.web.ui"]


def fresh_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_every_module_imports_alone_in_a_fresh_interpreter():
    # One interpreter per module would take a minute (Gradio and FastAPI alone take seconds); each module is
    # imported in a child process that forks from one that has imported nothing of qa, so each starts fresh.
    code = (
        "import importlib, os, sys\n"
        f"modules = {sorted(set(MODULES) - {'qa.__main__'})!r}\n"  # __main__ runs the command line
        "failed = []\n"
        "for name in modules:\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except BaseException as exc:\n"
        "            print(f'{name}: {type(exc).__name__}: {exc}', flush=True)\n"
        "            os._exit(1)\n"
        "        os._exit(0)\n"
        "    if os.waitpid(pid, 0)[1] != 0:\n"
        "        failed.append(name)\n"
        "print('FAILED', failed)\n")
    result = fresh_python(code)
    assert result.returncode == 0, result.stderr
    assert "FAILED []" in result.stdout, result.stdout + result.stderr


def test_importing_qa_and_the_cli_help_load_no_torch_or_numpy():
    code = ("import sys, contextlib, io\nimport qa\nfrom qa.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))")
    result = fresh_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
