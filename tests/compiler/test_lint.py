"""`sa-compile --lint`: every problem reported as file:line: message, all at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import RuleCompiler

ERRORS = [
    ("unknown directive", "frobnicate 1\n", "t.cf:1: unknown directive 'frobnicate'"),
    ("bad regex: no delimiters", "body A foo\n", "t.cf:1: bad regex 'foo'"),
    ("bad regex: unknown escape", "body A /\\y/\n", "t.cf:1: bad regex"),
    ("bad regex: bad modifier", "body A /x/e\n", "t.cf:1: bad regex"),
    ("unbalanced if", "if (version > 3)\nbody A /a/\n", "t.cf:1: if/ifplugin block not closed"),
    ("endif without if", "endif\n", "t.cf:1: endif without a matching if"),
    (
        "meta names an unknown rule",
        "meta M A && B\nbody A /a/\n",
        "t.cf:1: meta M names an unknown rule B",
    ),
    ("meta cycle", "meta M N\nmeta N M\n", "t.cf:1: meta M depends on itself"),
    ("bad score line", "score A 1 2\n", "t.cf:1: bad score line"),
    ("relative score without score", "score A (1)\n", "t.cf:1: relative score for A"),
    ("include of a missing file", "include nope.cf\n", "t.cf:1: include of a missing file"),
    ("bad numeric setting", "required_score lots\n", "t.cf:1: required_score: not a number"),
    ("bad header modifier", "header A From:bogus =~ /x/\n", "t.cf:1: unknown header modifier"),
    ("uri eval", "uri A eval:foo()\n", "t.cf:1: uri rules cannot be eval rules"),
    (
        "plugin directive without plugin",
        "mimeheader A Content-Type =~ /x/\n",
        "t.cf:1: unknown directive 'mimeheader'",
    ),
]


@pytest.mark.parametrize(("title", "text", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_each_error(rc: RuleCompiler, title: str, text: str, message: str) -> None:
    result = rc.result(text)
    printed = [str(d).replace(str(rc.tmp) + "/", "") for d in result.diagnostics.errors]
    assert any(p.startswith(message) for p in printed), printed


def test_warnings_do_not_count_as_errors(rc: RuleCompiler) -> None:
    result = rc.result("require_version 3.000000\n")
    assert result.diagnostics.errors == []
    assert len(result.diagnostics.warnings) == 1


def test_all_problems_reported_at_once(rc: RuleCompiler) -> None:
    text = "frob 1\nbody A foo\nscore B x\nmeta C D\n"
    lines = [m.split(":")[1] for m in rc.messages(text)]
    assert lines == ["1", "2", "3", "4"]


def test_failed_redefinition_keeps_the_old_rule(rc: RuleCompiler) -> None:
    result = rc.result("body A /ok/\nbody A /\\y/\n")
    assert result.plan.ruleset.rules["A"].pattern == "/ok/"


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spamkiln.compiler", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_cli_lint_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.cf"
    good.write_text("body A /a/\nscore A 1\n")
    bad = tmp_path / "bad.cf"
    bad.write_text("body A /a/\nfrob\nscore A 1 2\n")
    assert _cli("--lint", good, cwd=tmp_path).returncode == 0
    run = _cli("--lint", bad, cwd=tmp_path)
    assert run.returncode == 1
    assert f"{bad}:2: unknown directive" in run.stderr
    assert f"{bad}:3: bad score line" in run.stderr
    assert "Traceback" not in run.stderr


def test_cli_survives_garbage(tmp_path: Path) -> None:
    junk = tmp_path / "junk.cf"
    junk.write_bytes(bytes(range(256)) * 40 + b"\nheader \xff\xfe =~ /\x00/\n")
    run = _cli("--lint", junk, cwd=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr


def test_cli_missing_input(tmp_path: Path) -> None:
    run = _cli("--lint", tmp_path / "nope.cf", cwd=tmp_path)
    assert run.returncode == 2
    assert "no such file" in run.stderr


def test_build_prints_errors_and_counts_warnings(tmp_path: Path) -> None:
    rules = tmp_path / "r.cf"
    rules.write_text("frob 1\nrequire_version 3.000000\nbody A /a/\n")
    run = _cli("-o", tmp_path / "out", rules, cwd=tmp_path)
    assert run.returncode == 0
    assert f"{rules}:1: unknown directive" in run.stderr
    assert "require_version" not in run.stderr  # the warning is only counted
    assert "1 errors skipped, 1 warnings: see --lint" in run.stderr
    assert (tmp_path / "out" / "compiled_rules.py").is_file()
