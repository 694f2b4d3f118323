"""The package's structure, held by behaviour on the code itself (its import graph, read with
``ast``), not by regular expressions over single lines:

* no import cycle between the package's modules, function-level imports included;
* no private name (``_x``) imported from another module (a private *module* such as a compiled
  kernel may be imported by its own subpackage);
* the exceptions live in :mod:`trialnb.errors` alone: no other module lists one in ``__all__``
  and every import of one, anywhere in the repository, comes from ``trialnb.errors``;
* the reported numbers come from the package's own engine: no module of ``trialnb`` imports
  lifelines (notebooks and tests show it beside the engine);
* ARCHITECTURE.md names every module of the package, and names none that does not exist.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "trialnb"


def _modules() -> dict[str, Path]:
    out = {}
    for q in PKG.rglob("*.py"):
        parts = q.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = q
    return out


MODULES = _modules()


def _resolve(cur: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = cur.split(".")
    base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports() -> list[tuple[str, str, str, int]]:
    """(importing module, imported module, imported name or '', line) for every import of a
    trialnb module inside trialnb, at any depth of the code."""
    out = []
    for cur, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = _resolve(cur, path, node)
                for a in node.names:
                    out.append((cur, mod, a.name, node.lineno))
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("trialnb"):
                        out.append((cur, a.name, "", node.lineno))
    return out


IMPORTS = _imports()


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for cur, mod, name, _ in IMPORTS:
        target = f"{mod}.{name}" if f"{mod}.{name}" in MODULES else (mod if mod in MODULES else None)
        # a module's own package __init__ runs before it anyway: not an edge of the graph
        if target and target != cur and not cur.startswith(target + "."):
            edges.setdefault(cur, set()).add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(MODULES):
        if v not in index:
            strong(v)
    return out


def test_the_graph_is_read() -> None:
    """The reader sees the package: the plan is imported by its consumers, the engine by the
    analysis layer (a reader that saw nothing would pass every test below)."""
    edges = _edges()
    assert len(MODULES) > 50
    assert "trialnb.plan" in edges["trialnb.interim"] and "trialnb.plan" in edges["trialnb.simulation.fixed"]
    assert any(t.startswith("trialnb.survival") for t in edges["trialnb.analysis.primary"])


def test_no_import_cycle_function_level_imports_included() -> None:
    assert _cycles(_edges()) == []


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    edges = {k: set(v) for k, v in _edges().items()}
    edges.setdefault("trialnb.plan", set()).add("trialnb.interim")
    assert any({"trialnb.plan", "trialnb.interim"} <= set(c) for c in _cycles(edges))


def test_no_private_name_imported_across_modules() -> None:
    bad = []
    for cur, mod, name, line in IMPORTS:
        if not name.startswith("_") or name.startswith("__") or mod == cur:
            continue
        if f"{mod}.{name}" in MODULES:  # a private module of a subpackage, imported by name
            if not cur.startswith(mod + ".") and cur != mod:
                bad.append(f"{cur}:{line} imports private module {mod}.{name}")
            continue
        if mod.rsplit(".", 1)[-1].startswith("_") and (cur.startswith(mod.rsplit(".", 1)[0] + ".")):
            continue  # names of a private module, used inside its own subpackage
        bad.append(f"{cur}:{line} imports the private name {name} from {mod}")
    assert bad == []


def _error_classes() -> set[str]:
    errors = importlib.import_module("trialnb.errors")
    return {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, Exception)
            and v.__module__ == "trialnb.errors"}


def test_exceptions_have_one_home() -> None:
    errs = _error_classes()
    assert {"DesignError", "TrialDataError", "SampleSizeError", "AllocationLogError"} <= errs
    listed = []
    for name in MODULES:
        if name == "trialnb.errors" or name.rsplit(".", 1)[-1].startswith("_"):
            continue
        mod = importlib.import_module(name)
        listed += [f"{name}: {e}" for e in set(getattr(mod, "__all__", ())) & errs]
    assert listed == [], "exceptions re-exported outside trialnb.errors"
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    wrong = []
    for f in files:
        tree = ast.parse((ROOT / f).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and not (node.module or "").endswith("errors"):
                wrong += [f"{f}:{node.lineno} {a.name} from {node.module}" for a in node.names if a.name in errs]
    assert wrong == [], "import exceptions from trialnb.errors"


def test_no_reported_number_comes_from_lifelines() -> None:
    users = sorted({cur for cur, mod, _, _ in IMPORTS if mod.split(".")[0] == "lifelines"})
    for cur, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "lifelines" for a in node.names):
                users.append(cur)
    assert users == []


def _named_in_architecture() -> set[str]:
    """Modules ARCHITECTURE.md names: full dotted names in backticks anywhere, and, in a table
    row whose room is a subpackage (`trialnb.survival`), its modules written `.cox`."""
    named: set[str] = set()
    for line in (ROOT / "ARCHITECTURE.md").read_text().splitlines():
        named |= set(re.findall(r"`(trialnb(?:\.\w+)*)`", line))
        room = re.match(r"\|\s*`(trialnb(?:\.\w+)*)`", line)
        if room:
            named |= {room.group(1) + rel for rel in re.findall(r"`(\.\w+)`", line)}
    return named


def test_architecture_md_names_every_module() -> None:
    named = _named_in_architecture()
    missing = sorted(m for m in MODULES if m not in named)
    assert missing == [], f"ARCHITECTURE.md does not name: {missing}"
    stale = sorted(n for n in named if n not in MODULES and not _is_attribute(n))
    assert stale == [], f"ARCHITECTURE.md names modules that do not exist: {stale}"


def _is_attribute(dotted: str) -> bool:
    """``trialnb.plan.PLAN``, ``trialnb.survival.fit_cox``: a name inside an existing module."""
    mod, _, attr = dotted.rpartition(".")
    if mod not in MODULES:
        return False
    return hasattr(importlib.import_module(mod), attr)
