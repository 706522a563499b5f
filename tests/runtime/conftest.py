"""Runtime test helpers: compile a small rule text and build a Scanner on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamkiln.compiler.pipeline import compile_files, write_module
from spamkiln.runtime.loader import load_ruleset
from spamkiln.runtime.scan import Scanner

# Plugins the hand-made rule texts of these tests rely on.
PRE = "\n".join(
    f"loadplugin Mail::SpamAssassin::Plugin::{name}"
    for name in ("HeaderEval", "BodyEval", "MIMEHeader", "RelayEval", "ReplaceTags")
)


class ScannerFactory:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.count = 0

    def __call__(self, rules: str, **kw: object) -> Scanner:
        self.count += 1
        folder = self.tmp / f"rules{self.count}"
        folder.mkdir()
        (folder / "00.pre").write_text(PRE + "\n")
        (folder / "10.cf").write_text(rules)
        result = compile_files([folder / "00.pre", folder / "10.cf"])
        assert not result.diagnostics.errors, [str(d) for d in result.diagnostics.errors]
        out = write_module(result, folder / "build")
        return Scanner(load_ruleset(out), **kw)  # type: ignore[arg-type]


@pytest.fixture
def make_scanner(tmp_path: Path) -> ScannerFactory:
    return ScannerFactory(tmp_path)


def message(headers: str, body: str = "Hello.\n") -> bytes:
    return (headers.strip("\n") + "\n\n" + body).encode("utf-8")
