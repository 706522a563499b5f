"""Conditionals, includes, require_version and plugin loading, as SpamAssassin applies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamkiln.compiler.environment import Environment
from spamkiln.compiler.errors import Diagnostics
from spamkiln.compiler.lexer import lex_text
from spamkiln.compiler.parser import parse_line
from spamkiln.compiler.preprocess import evaluate_condition, preprocess

BAYES = "Mail::SpamAssassin::Plugin::Bayes"


def names(tmp_path: Path, text: str, pre: str = "") -> tuple[list[str], list[str]]:
    files = []
    if pre:
        (tmp_path / "a.pre").write_text(pre)
        files.append(tmp_path / "a.pre")
    (tmp_path / "b.cf").write_text(text)
    files.append(tmp_path / "b.cf")
    diags = Diagnostics()
    out = preprocess(files, diags)
    kept = [getattr(n, "name", getattr(n, "key", "")) for n in out.nodes]
    return kept, [str(d).replace(str(tmp_path) + "/", "") for d in diags.items]


CASES = [
    ("if true branch", "if (version >= 4.000000)\nbody A /a/\nelse\nbody B /b/\nendif\n", ["A"]),
    ("if false branch", "if (version < 4.000000)\nbody A /a/\nelse\nbody B /b/\nendif\n", ["B"]),
    (
        "nested: inner else inside a false outer block stays skipped",
        "if (version < 3)\nif (version < 2)\nbody A /a/\nelse\nbody B /b/\nendif\nendif\n"
        "body C /c/\n",
        ["C"],
    ),
    (
        "nested: both true",
        "if (version > 3)\nif (version > 2)\nbody A /a/\nendif\nbody B /b/\nendif\n",
        ["A", "B"],
    ),
    ("ifplugin not loaded", f"ifplugin {BAYES}\nbody A /a/\nendif\nbody B /b/\n", ["B"]),
    ("if !plugin()", f"if !plugin({BAYES})\nbody A /a/\nendif\n", ["A"]),
    (
        "can() of a feature",
        "if can(Mail::SpamAssassin::Conf::feature_bug6558_free)\nbody A /a/\nendif\n",
        ["A"],
    ),
    (
        "can() of an unknown function",
        "if can(Mail::SpamAssassin::Conf::nope)\nbody A /a/\nendif\n",
        [],
    ),
    (
        "require_version skips the rest of the file",
        "body A /a/\nrequire_version 3.002000\nbody B /b/\n",
        ["A"],
    ),
    ("require_version placeholder is accepted", "require_version @@VERSION@@\nbody A /a/\n", ["A"]),
]


@pytest.mark.parametrize(("title", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_conditionals(tmp_path: Path, title: str, text: str, expected: list[str]) -> None:
    kept, _ = names(tmp_path, text)
    assert kept == expected


def test_loadplugin_in_pre_enables_ifplugin(tmp_path: Path) -> None:
    kept, diags = names(
        tmp_path, f"ifplugin {BAYES}\nbody A /a/\nendif\n", pre=f"loadplugin {BAYES}\n"
    )
    assert kept == ["loadplugin", "A"]
    assert diags == []


def test_dmarc_rename(tmp_path: Path) -> None:
    kept, _ = names(
        tmp_path,
        "ifplugin Mail::SpamAssassin::Plugin::Dmarc\nbody A /a/\nendif\n",
        pre="loadplugin Mail::SpamAssassin::Plugin::DMARC\n",
    )
    assert "A" in kept


def test_unknown_plugin_is_an_error_but_tryplugin_is_silent(tmp_path: Path) -> None:
    _, diags = names(tmp_path, "loadplugin Foo::Bar\ntryplugin Foo::Baz\n")
    assert diags == ["b.cf:1: cannot load unknown plugin Foo::Bar"]


def test_conditionals_do_not_leak_into_the_next_file(tmp_path: Path) -> None:
    kept, diags = names(tmp_path, "body B /b/\n", pre="if (version < 1)\n")
    assert kept == ["B"]
    assert diags == ["a.pre:1: if/ifplugin block not closed by endif"]


def test_unbalanced_else_and_endif(tmp_path: Path) -> None:
    _, diags = names(tmp_path, "else\nendif\nif (version > 1)\nendif extra\n")
    assert diags == [
        "b.cf:1: else without a matching if",
        "b.cf:2: endif without a matching if",
        "b.cf:4: endif takes no argument",
    ]


def test_include_relative_and_missing(tmp_path: Path) -> None:
    (tmp_path / "inc.cf").write_text("body I /i/\n")
    kept, diags = names(tmp_path, "include inc.cf\nbody B /b/\ninclude nope.cf\n")
    assert kept == ["I", "B"]
    assert diags == ["b.cf:3: include of a missing file: nope.cf"]


def test_each_file_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "inc.cf").write_text("body I /i/\n")
    kept, _ = names(tmp_path, "include inc.cf\ninclude inc.cf\n")
    assert kept == ["I"]


def test_condition_values_follow_perl() -> None:
    env = Environment()
    (line,) = list(lex_text("if (version >= 3.004) && !(version > 5) || 0", "t"))
    assert evaluate_condition(parse_line(line).expr, env) == 1.0
