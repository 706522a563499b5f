"""The generated module: deterministic, importable, traceable, and safe against hostile rules."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spamkiln.runtime import compiled as rt

from .conftest import RuleCompiler

SAMPLE = """\
header   SUBJ_CAPS   Subject =~ /^[A-Z ]+$/
describe SUBJ_CAPS   Subject in capitals
score    SUBJ_CAPS   1.5
body     __MONEY     /\\bmoney\\b/i
tflags   __MONEY     multiple maxhits=3
meta     CAPS_MONEY  SUBJ_CAPS && __MONEY > 1
score    CAPS_MONEY  0.5 0.6 0.7 0.8
header   HAS_LIST    exists:List-Id
header   NO_TO       eval:check_for_missing_to_header()
"""


def test_deterministic_output(rc: RuleCompiler) -> None:
    first = rc.result(SAMPLE).source
    second = rc.result(SAMPLE).source
    assert first == second


LITERAL_RULES = """\
body     ALT_WORDS   /\\b(?:cheap|discount|free|bargain)\\s+(?:pills|meds|drugs|tabs)\\b/i
body     VARIANTS    /v[i1!]a[gq]ra|c[i1]al[i1]s|le?v[i1]tra/i
uri      SHORT_LINK  /^https?:\\/\\/(?:bit\\.ly|t\\.co|goo\\.gl|tinyurl\\.com)\\//i
"""


def test_same_module_whatever_the_hash_seed(tmp_path: Path) -> None:
    """Literal sets are built in Python sets; the module must not depend on their order."""
    rules = tmp_path / "t.cf"
    rules.write_text(SAMPLE + LITERAL_RULES)
    script = (
        "import sys; from pathlib import Path;"
        "from spamkiln.compiler.pipeline import compile_files;"
        "sys.stdout.write(compile_files([Path(sys.argv[1])]).source)"
    )
    sources = [
        subprocess.run(
            [sys.executable, "-c", script, str(rules)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        for seed in ("1", "2", "3")
    ]
    assert "literals=" in sources[0]
    assert sources[0] == sources[1] == sources[2]


def test_literals_reach_the_runtime(rc: RuleCompiler) -> None:
    rules = rc.module(SAMPLE + LITERAL_RULES).RULESET.rules
    assert rules["__MONEY"].literals == (b"money",)
    assert rules["SUBJ_CAPS"].literals == ()  # nothing every match must contain
    assert rules["VARIANTS"].literals == (
        b"c1al1s",
        b"c1alis",
        b"cial1s",
        b"cialis",
        b"v!agra",
        b"v!aqra",
        b"v1agra",
        b"v1aqra",
        b"v1tra",
        b"viagra",
        b"viaqra",
        b"vitra",  # le?v[i1]tra: the optional e breaks the run
    )
    assert rules["ALT_WORDS"].literals == (b"bargain", b"cheap", b"discount", b"free")
    assert rules["SHORT_LINK"].literals == (
        b"://bit.ly/",
        b"://goo.gl/",
        b"://t.co/",
        b"://tinyurl.com/",
    )


def test_modules_without_literals_still_load() -> None:
    """A module compiled before literals existed passes no literals= argument."""
    builder = rt.RulesetBuilder(compiler="old", sources=())
    builder.re2_set(0, "body")
    builder.regex(
        "OLD",
        "body",
        re2_set=0,
        set_pattern=b"x",
        exact_engine="re2",
        exact_pattern=b"x",
        score=(1.0, 1.0, 1.0, 1.0),
        src="old.cf:1",
    )
    rule = builder.finish().rules["OLD"]
    assert isinstance(rule, rt.RegexRule) and rule.literals == ()


def test_module_imports_only_the_runtime(rc: RuleCompiler) -> None:
    tree = ast.parse(rc.result(SAMPLE).source)
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [(i.module, [a.name for a in i.names]) for i in imports] == [
        ("spamkiln.runtime", ["compiled"])
    ]


def test_rules_and_attributes(rc: RuleCompiler) -> None:
    ruleset = rc.module(SAMPLE).RULESET
    caps = ruleset.rules["SUBJ_CAPS"]
    assert isinstance(caps, rt.RegexRule)
    assert caps.info.scores == (1.5, 1.5, 1.5, 1.5)
    assert caps.info.describe == "Subject in capitals"
    assert caps.header == "Subject"
    money = ruleset.rules["__MONEY"]
    assert money.info.tflags == ("multiple", "maxhits=3")
    assert money.info.flag_value("maxhits") == "3"
    assert money.info.scores == (1.0, 1.0, 1.0, 1.0)  # the default score
    meta = ruleset.rules["CAPS_MONEY"]
    assert isinstance(meta, rt.MetaRule)
    assert meta.deps == ("SUBJ_CAPS", "__MONEY")
    assert meta.info.scores == (0.5, 0.6, 0.7, 0.8)
    assert isinstance(ruleset.rules["HAS_LIST"], rt.ExistsRule)
    evaluated = ruleset.rules["NO_TO"]
    assert isinstance(evaluated, rt.EvalRule)
    assert evaluated.function == "check_for_missing_to_header"


def test_src_points_at_the_defining_line(rc: RuleCompiler) -> None:
    ruleset = rc.module(SAMPLE).RULESET
    for name, rule in ruleset.rules.items():
        path, line = rule.info.src.rsplit(":", 1)
        text = Path(path).read_text().splitlines()[int(line) - 1]
        assert name in text.split()[1], (name, text)


def test_comment_before_each_rule(rc: RuleCompiler) -> None:
    source = rc.result(SAMPLE).source
    assert "t.cf:1  header SUBJ_CAPS Subject =~ /^[A-Z ]+$/" in source
    assert "def meta_CAPS_MONEY(h: rt.Hits) -> float:" in source


class Values(dict):
    def __missing__(self, key: str) -> float:
        return 0


META_CASES = [
    ("A && B", {"A": 1, "B": 3}, 3),  # && yields the last value, as in Perl
    ("A && B", {"B": 3}, 0),
    ("A || B", {"B": 2}, 2),
    ("!A", {}, True),
    ("!A + !B", {}, 2),
    ("A + B * 2 > 4", {"A": 1, "B": 2}, True),
    ("(A + B) * 1.5", {"A": 1, "B": 1}, 3.0),
    ("A - 2", {"A": 1}, -1),
    ("A / B", {"A": 1}, 0),  # no crash on a zero divisor
    ("A ^ B", {"A": 1, "B": 1}, 0),
    ("A ? B : 7", {}, 7),
]


@pytest.mark.parametrize(("expr", "values", "expected"), META_CASES, ids=[c[0] for c in META_CASES])
def test_meta_semantics(rc: RuleCompiler, expr: str, values: dict, expected: float) -> None:
    text = "body A /a/\nbody B /b/\n" + f"meta M {expr}\n"
    meta = rc.module(text).RULESET.rules["M"]
    assert meta.fn(Values(values)) == expected


def test_rules_matching_expands_to_a_sum(rc: RuleCompiler) -> None:
    text = "body T_X1 /a/\nbody T_X2 /b/\nscore T_X3 1\nmeta M rules_matching(T_X*) > 1\n"
    meta = rc.module(text).RULESET.rules["M"]
    assert meta.deps == ("T_X1", "T_X2", "T_X3")


def test_hostile_rule_file_runs_no_code(rc: RuleCompiler, tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    evil = f'__import__("os").system("touch {canary}")'
    evil_rx = evil.replace("(", "\\(").replace(")", "\\)")  # a valid regex with the payload
    text = (
        f'body __import__ m{{"""{evil_rx}"""\\\\}}\n'
        f"describe __import__ \"\"\" ''' {evil} \\\n"
        f"header EVIL_HDR Subject =~ m{{'''\"\\);{evil_rx};\\('}} [if-unset: \"\"\"{evil}]\n"
        f"describe EVIL_HDR \\r\\n{evil} \x0c \x0b \r {evil}\n"
        f"body EVIL_EVAL eval:check_x('{evil}')\n"
        f"meta EVIL_META __import__ && EVIL_HDR\n"
        f'add_header all Evil "{evil}"\n'
        f'report {evil} """\n'
    )
    module = rc.module(text)
    assert not canary.exists()
    rules = module.RULESET.rules
    assert rules["__import__"].info.describe == f"\"\"\" ''' {evil} \\"
    assert rules["EVIL_HDR"].if_unset == f'"""{evil}'
    assert rules["EVIL_EVAL"].args == (evil,)
    assert rules["EVIL_META"].deps == ("__import__", "EVIL_HDR")
    assert module.RULESET.settings["header_edits"] == [["add", "all", "Evil", evil]]
    source = rc.result(text).source
    tree = ast.parse(source)
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert "__import__" not in calls
    for node in ast.walk(tree):  # the payload only ever appears inside string literals
        if isinstance(node, ast.Name):
            assert node.id in {"rt", "R", "h", "RULESET", "float"} or node.id.startswith("meta_"), (
                node.id
            )
    assert "\r" not in source and "\x0c" not in source and "\x0b" not in source
    assert not canary.exists()
