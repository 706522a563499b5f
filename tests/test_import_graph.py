"""The data flows one way: compiler -> build/ -> runtime <- daemon."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(folder: Path) -> set[tuple[str, str]]:
    found = set()
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update((str(path), alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                found.add((str(path), _absolute(path, node)))
    return found


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    """`from ..x import y` inside runtime/evals/a.py is spamkiln.runtime.x."""
    if not node.level:
        return node.module or ""
    package = ["spamkiln", *path.relative_to(ROOT).parent.parts]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("runtime", ("spamkiln.compiler", "spamkiln.daemon", "compiler", "daemon")),
        ("daemon", ("spamkiln.compiler", "compiler")),
    ],
)
def test_no_backward_imports(folder: str, forbidden: tuple[str, ...]) -> None:
    bad = sorted(
        (path, module)
        for path, module in imported_modules(ROOT / folder)
        if module.startswith(forbidden)
    )
    assert bad == []


def test_runtime_knows_nothing_about_sockets() -> None:
    modules = {m for _, m in imported_modules(ROOT / "runtime")}
    assert not modules & {"socket", "socketserver", "selectors", "ssl", "asyncio"}
