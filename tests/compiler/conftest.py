"""Helpers for compiler tests: compile rule text from a temporary file and import the result."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from types import ModuleType

import pytest

from spamkiln.compiler.pipeline import CompileResult, compile_files, write_module

_counter = itertools.count()


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"compiled_rules_{next(_counter)}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RuleCompiler:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    def result(self, text: str, name: str = "t.cf", pre: str | None = None) -> CompileResult:
        paths = []
        if pre is not None:
            (self.tmp / "t.pre").write_text(pre)
            paths.append(self.tmp / "t.pre")
        path = self.tmp / name
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        paths.append(path)
        return compile_files(paths)

    def messages(self, text: str, **kw: str) -> list[str]:
        """Diagnostics as printed, with the temporary directory removed from paths."""
        return [
            str(d).replace(str(self.tmp) + "/", "")
            for d in self.result(text, **kw).diagnostics.items
        ]

    def module(self, text: str, **kw: str) -> ModuleType:
        result = self.result(text, **kw)
        assert not result.diagnostics.errors, [str(d) for d in result.diagnostics.errors]
        out = self.tmp / f"out{next(_counter)}"
        return load_module(write_module(result, out))


@pytest.fixture
def rc(tmp_path: Path) -> RuleCompiler:
    return RuleCompiler(tmp_path)
