"""The floor plan, read from the code: every import (module level or inside a function) of every module
in theory/, numerics/ and verify/, walked with `ast`.

- Floors: theory → nothing of ours above it; numerics → theory; verify → numerics, theory. No module of
  theory/ or numerics/ imports verify/, none of theory/ imports numerics/.
- No import circle between modules, except those declared below: plugin registries within one folder.
- The checkers are shown to fail on a hand-made upward import and a hand-made circle.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {"theory": 0, "numerics": 1, "verify": 2}
#: circles by design, each within one folder (a registry and the plugins it imports to register them)
ALLOWED_CYCLES: list[set[str]] = [
    # the sweep kinds registry imports the built-in kind on first use; the kind registers itself with it
    {"verify.sweep.kinds", "verify.sweep.train_kind"},
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for floor in FLOORS for p in (ROOT / floor).rglob("*.py")}


def imports(name: str, path: Path, known) -> set[str]:
    """The project modules `name` imports (relative imports resolved; `from pkg import mod` counts as mod)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package[: len(package) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # `import numerics.models.base` → the deepest known module
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(name, path, mods) for name, path in mods.items()}


def upward(g) -> list[str]:
    floor = lambda m: FLOORS[m.split(".")[0]]  # noqa: E731
    return sorted(f"{a} → {b}" for a, deps in g.items() for b in deps if floor(b) > floor(a))


def cycles(g) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def _allowed(comp: set[str]) -> bool:
    """A declared circle, all of it in one folder."""
    return any(comp <= allowed for allowed in ALLOWED_CYCLES) and len({m.rsplit(".", 1)[0] for m in comp}) == 1


def test_no_upward_imports():
    assert upward(graph()) == []


def test_no_import_cycles_but_declared_registries():
    bad = [sorted(c) for c in cycles(graph()) if not _allowed(c)]
    assert bad == []


def test_every_package_folder_is_walked():
    g = graph()
    for name in ("verify.cli", "verify.cli.train", "theory.spiked.chains", "numerics.spiked.dynamics",
                 "numerics.nets.train", "verify.nets.analysis", "verify.properties.engine", "verify.report.build"):
        assert name in g, name
    assert "numerics.nets.train" in g["verify.cli.train_nets"]  # function-level imports are seen


def test_checkers_catch_an_upward_import_and_a_circle():
    g = {"theory.a": {"numerics.b"}, "numerics.b": {"verify.c"}, "verify.c": {"theory.a"}}
    assert upward(g) == ["numerics.b → verify.c", "theory.a → numerics.b"]
    assert cycles(g) == [{"theory.a", "numerics.b", "verify.c"}]
    assert not _allowed({"verify.report.build", "verify.spiked.report"})
