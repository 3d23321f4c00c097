"""The package's shape: imports within ``rag/`` go one way (issue 13: no circular import, not
even one hidden in a function body)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def _imports(path: Path, package: str, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports at run time (anywhere in it, but not under
    ``if TYPE_CHECKING:``, which only type checkers read)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
               for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & modules
            found |= submodules or {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == package}
    return found & modules


def _cycle(package: str) -> list[str] | None:
    folder = ROOT / package
    names = {p: package if p.stem == "__init__" else f"{package}.{p.stem}" for p in folder.glob("*.py")}
    modules = set(names.values())
    graph = {name: _imports(path, package, modules) - {name} for path, name in names.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep, path + [dep])):
                return found
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name, [name])):
            return found
    return None


def test_rag_has_no_circular_import() -> None:
    assert _cycle("rag") is None, " -> ".join(_cycle("rag") or [])


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch) -> None:
    """The check above can fail: a lazy import back (what ``Assistant.open`` once did) is found."""
    import tests.test_layout as layout

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import make\n")
    (package / "b.py").write_text("def make():\n    from pkg.a import thing\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import x\n")
    monkeypatch.setattr(layout, "ROOT", tmp_path)
    assert layout._cycle("pkg") == ["pkg.a", "pkg.b", "pkg.a"]
    (package / "b.py").write_text("from pkg import c\n")
    assert layout._cycle("pkg") is None
