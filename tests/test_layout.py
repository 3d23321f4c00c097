"""The package's shape: imports within ``rag/`` go one way (issue 13: no circular import, not
even one hidden in a function body)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


PACKAGES = ("index", "rag", "evals", "ui", "training")
#: The packages each one may import: index <- rag <- (evals, ui), and the trainer on top.
MAY_IMPORT = {"index": set(), "rag": {"index"}, "evals": {"index", "rag"}, "ui": {"index", "rag"},
              "training": {"index", "rag", "evals"}}


def _imported(path: Path) -> set[str]:
    """Every module name ``path`` imports at run time (anywhere in it, but not under ``if
    TYPE_CHECKING:``, which only type checkers read); ``from a import b`` gives ``a`` and ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
               for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph (each name, then the one it leads back to), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
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


def _cycle(package: str) -> list[str] | None:
    """A cycle among the modules of ``package`` (its top level)."""
    folder = ROOT / package
    names = {p: package if p.stem == "__init__" else f"{package}.{p.stem}" for p in folder.glob("*.py")}
    modules = set(names.values())
    graph = {}
    for path, name in names.items():
        imported = _imported(path)
        # "from pkg.a import b" names the module pkg.a.b if there is one, else pkg.a
        graph[name] = {m for m in imported & modules
                       if not any(other.startswith(m + ".") for other in imported & modules)} - {name}
    return _find_cycle(graph)


def _package_imports(packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    """Which of ``packages`` each one imports (its modules', subpackages included)."""
    return {package: {name.split(".")[0] for path in (ROOT / package).rglob("*.py") for name in _imported(path)}
            & set(packages) - {package} for package in packages}


def _package_cycle(packages: tuple[str, ...] = PACKAGES) -> list[str] | None:
    """A cycle among the project's packages (each package's modules, subpackages included)."""
    return _find_cycle(_package_imports(packages))


def test_rag_has_no_circular_import() -> None:
    assert _cycle("rag") is None, " -> ".join(_cycle("rag") or [])


def test_the_packages_import_each_other_one_way() -> None:
    """index <- rag <- (evals, ui): the command line finds the commands of evals and ui through
    entry points (rag/cli.py), so rag imports neither (issue 20.5); training sits on top of them
    (it may import index, rag and evals) and nothing imports it (issue 31.5)."""
    assert _package_cycle() is None, " -> ".join(_package_cycle() or [])
    wrong = {package: sorted(imported - MAY_IMPORT[package])
             for package, imported in _package_imports().items() if imported - MAY_IMPORT[package]}
    assert not wrong, f"imports against the layers (package: what it may not import): {wrong}"


def test_the_package_cycle_finder_finds_one(tmp_path, monkeypatch) -> None:
    """What rag/cli.py once did: ``rag eval``'s body imported evals, which imports rag."""
    import tests.test_layout as layout

    for package, source in {"low": "import os\n", "top": "from low import x\n",
                            "user": "def run():\n    from top.core import go\n"}.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "core.py").write_text(source)
    monkeypatch.setattr(layout, "ROOT", tmp_path)
    assert layout._package_cycle(("low", "top", "user")) is None
    (tmp_path / "top" / "cli.py").write_text("def command():\n    from user.core import run\n")
    assert layout._package_cycle(("low", "top", "user")) == ["top", "user", "top"]


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
