"""The house rules, checked: which files may import which libraries, and that the package's names are
what its type-checking imports say they are."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import ocr

from .conftest import ROOT

ENGINE_LIBRARIES = {"tesserocr", "pytesseract", "rapidocr", "onnxruntime"}
APP_FORBIDDEN = {"cv2", "subprocess", "tesserocr", "pytesseract", "rapidocr", "onnxruntime", "ocr.engines"}


def imports(path: Path) -> set[str]:
    """Every module a Python file imports, by its full dotted name (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, [*parts, base]))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def reaches(names: set[str], forbidden: set[str]) -> set[str]:
    return {n for n in names for f in forbidden if n == f or n.startswith(f + ".")}


def test_only_the_engine_door_imports_the_engines():
    outside = {str(p.relative_to(ROOT)): reaches(imports(p), ENGINE_LIBRARIES)
               for p in [*python_files("ocr", "scripts"), ROOT / "app.py"]
               if "engines" not in p.relative_to(ROOT).parts}
    assert not {k: v for k, v in outside.items() if v}


def test_the_engine_room_never_imports_streamlit():
    bad = {str(p.relative_to(ROOT)) for p in python_files("ocr") if reaches(imports(p), {"streamlit"})}
    assert not bad


def test_the_app_reaches_no_engine_image_library_or_process():
    app_files = [ROOT / "app.py"] + [p for folder in ("pages", "workbench") if (ROOT / folder).is_dir()
                                     for p in python_files(folder)]
    bad = {str(p.relative_to(ROOT)): reaches(imports(p), APP_FORBIDDEN) for p in app_files}
    assert not {k: v for k, v in bad.items() if v}


def test_the_type_checking_imports_name_the_real_modules_and_every_export():
    tree = ast.parse((ROOT / "ocr" / "__init__.py").read_text(encoding="utf-8"))
    [block] = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    named = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1
        module = importlib.import_module(f"ocr.{node.module}")
        for alias in node.names:
            assert hasattr(module, alias.name), f"ocr.{node.module} has no {alias.name}"
            named[alias.name] = node.module
    assert named == ocr._EXPORTS


@pytest.mark.parametrize("name", ocr.__all__)
def test_every_public_name_loads(name):
    assert getattr(ocr, name) is not None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(*packages: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, at any depth of its code (in a function, under
    TYPE_CHECKING: an import anywhere is a dependency). ``from . import x`` names the module x, not
    the package."""
    files = {module_name(p): p for p in python_files(*packages) if "pages" not in p.relative_to(ROOT).parts}
    graph = {}
    for name, path in files.items():
        named = imports(path)
        graph[name] = {m for m in named if m in files and m != name
                       and not any(other.startswith(m + ".") and other in files for other in named)}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", ["ocr", "workbench"])
def test_no_modules_import_each_other(package):
    assert circles(import_graph(package)) == []
