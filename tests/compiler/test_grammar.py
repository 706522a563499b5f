"""Each directive and header form parses into the node it should (table-driven)."""

from __future__ import annotations

import pytest

from spamkiln.compiler import ir
from spamkiln.compiler.errors import CompileError
from spamkiln.compiler.ir import Source
from spamkiln.compiler.lexer import Line, lex_text
from spamkiln.compiler.parser import parse_line


def parse(text: str) -> ir.LineNode:
    (line,) = list(lex_text(text, "t.cf"))
    return parse_line(line)


S = Source("t.cf", 1)

GOOD = [
    ("header A Subject =~ /foo/i", ir.HeaderRegex("A", "Subject", False, "/foo/i", None, S)),
    ("header A From:addr !~ /x/", ir.HeaderRegex("A", "From:addr", True, "/x/", None, S)),
    (
        "header A From:addr:host =~ /x/",
        ir.HeaderRegex("A", "From:addr:host", False, "/x/", None, S),
    ),
    (
        "header A Subject:raw =~ m{a b}",
        ir.HeaderRegex("A", "Subject:raw", False, "m{a b}", None, S),
    ),
    (
        "header A X-Foo =~ /^$/ [if-unset: none here]",
        ir.HeaderRegex("A", "X-Foo", False, "/^$/", "none here", S),
    ),
    ("header A ALL =~ /\\nX-Bad:/m", ir.HeaderRegex("A", "ALL", False, "/\\nX-Bad:/m", None, S)),
    ("header A exists:List-Id", ir.HeaderExists("A", "List-Id", S)),
    ("header A exists:X-Foo:", ir.HeaderExists("A", "X-Foo", S)),
    ("header A eval:check_foo()", ir.HeaderEval("A", ir.EvalCall("check_foo", ()), S)),
    (
        "header A eval:check_rbl('set', 'zen.example.')",
        ir.HeaderEval("A", ir.EvalCall("check_rbl", ("set", "zen.example."), True), S),
    ),
    ("header A rbleval:check_x(1)", ir.HeaderEval("A", ir.EvalCall("check_x", ("1",), True), S)),
    ("body A /free money/i", ir.SimpleRule("body", "A", "/free money/i", None, S)),
    (
        "body A eval:check_x('1', \"a,b\", 2.5, 10.0.0.1)",
        ir.SimpleRule(
            "body", "A", None, ir.EvalCall("check_x", ("1", "a,b", "2.5", "10.0.0.1")), S
        ),
    ),
    ("rawbody A m!<script!i", ir.SimpleRule("rawbody", "A", "m!<script!i", None, S)),
    ("full A /^Received:/m", ir.SimpleRule("full", "A", "/^Received:/m", None, S)),
    (
        "full A eval:check_razor2()",
        ir.SimpleRule("full", "A", None, ir.EvalCall("check_razor2", ()), S),
    ),
    ("uri A m{^https?://x}", ir.SimpleRule("uri", "A", "m{^https?://x}", None, S)),
    (
        "mimeheader A Content-Type =~ /zip/",
        ir.MimeHeaderRegex("A", "Content-Type", False, False, "/zip/", None, S),
    ),
    (
        "mimeheader A Content-Type:raw !~ /x/ [if-unset: y]",
        ir.MimeHeaderRegex("A", "Content-Type", True, True, "/x/", "y", S),
    ),
    ("score A 1.5", ir.Score("A", (1.5,), False, S)),
    ("score A 0 1 -2.5 3", ir.Score("A", (0.0, 1.0, -2.5, 3.0), False, S)),
    ("score A (0.5)", ir.Score("A", (0.5,), True, S)),
    (
        "describe A Some text: with $ and 'quotes'",
        ir.Describe("A", "Some text: with $ and 'quotes'", S),
    ),
    ("tflags A multiple maxhits=3", ir.Tflags("A", ("multiple", "maxhits=3"), S)),
    ("priority A -100", ir.Priority("A", -100, S)),
    (
        "ifplugin Mail::SpamAssassin::Plugin::Bayes",
        ir.IfPlugin("Mail::SpamAssassin::Plugin::Bayes", S),
    ),
    ("else", ir.Else(None, S)),
    ("endif", ir.Endif(None, S)),
    ("required_score 5.0", ir.Setting("required_score", "5.0", S)),
    ("Report-Safe 1", ir.Setting("report_safe", "1", S)),  # key normalised
    ("clear_headers", ir.Setting("clear_headers", "", S)),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[t for t, _ in GOOD])
def test_parses(text: str, expected: ir.LineNode) -> None:
    assert parse(text) == expected


META = [
    ("A && B", ir.And(ir.RuleRef("A"), ir.RuleRef("B"))),
    ("A || B && C", ir.Or(ir.RuleRef("A"), ir.And(ir.RuleRef("B"), ir.RuleRef("C")))),
    ("!A && B", ir.And(ir.Not(ir.RuleRef("A")), ir.RuleRef("B"))),
    (
        "A + B * 2 > 1",
        ir.Compare(
            ">",
            ir.Arith("+", ir.RuleRef("A"), ir.Arith("*", ir.RuleRef("B"), ir.Number(2))),
            ir.Number(1),
        ),
    ),
    ("(A || B) && !(C)", ir.And(ir.Or(ir.RuleRef("A"), ir.RuleRef("B")), ir.Not(ir.RuleRef("C")))),
    ("A ? B : C", ir.Ternary(ir.RuleRef("A"), ir.RuleRef("B"), ir.RuleRef("C"))),
    ("A ^ B", ir.Xor(ir.RuleRef("A"), ir.RuleRef("B"))),
    (
        "A - 2 == -1",
        ir.Compare("==", ir.Arith("-", ir.RuleRef("A"), ir.Number(2)), ir.Neg(ir.Number(1))),
    ),
    ("rules_matching(T_FOO*)", ir.RulesMatching("T_FOO*")),
    (
        "A / 2 >= 0.5",
        ir.Compare(">=", ir.Arith("/", ir.RuleRef("A"), ir.Number(2)), ir.Number(0.5)),
    ),
]


@pytest.mark.parametrize(("text", "expected"), META, ids=[t for t, _ in META])
def test_meta_expressions(text: str, expected: ir.Expr) -> None:
    node = parse(f"meta M {text}")
    assert isinstance(node, ir.MetaDef)
    assert node.expr == expected
    assert node.text == text


IF = [
    ("if (version >= 3.004000)", ir.Compare(">=", ir.CondWord("version"), ir.Number(3.004))),
    (
        "if plugin(Mail::SpamAssassin::Plugin::Foo)",
        ir.PluginTest("plugin", "Mail::SpamAssassin::Plugin::Foo"),
    ),
    (
        "if !can(Mail::SpamAssassin::Conf::feature_x)",
        ir.Not(ir.PluginTest("can", "Mail::SpamAssassin::Conf::feature_x")),
    ),
    (
        "if has(A::b) && local_tests_only",
        ir.And(ir.PluginTest("has", "A::b"), ir.CondWord("local_tests_only")),
    ),
]


@pytest.mark.parametrize(("text", "expected"), IF, ids=[t for t, _ in IF])
def test_if_expressions(text: str, expected: ir.Expr) -> None:
    node = parse(text)
    assert isinstance(node, ir.If)
    assert node.expr == expected


BAD = [
    ("score A", "bad score line"),
    ("score A 1 2", "bad score line"),
    ("score A 1e3", "bad score line"),
    ("score A .5", "bad score line"),
    ("priority A high", "bad priority line"),
    ("header A", "bad header rule"),
    ("header A Subject ~~ /x/", "bad header rule"),
    ("header A From:ADDR =~ /x/", "bad header rule"),
    ("meta A B &&", "bad meta rule"),
    ("meta A B $ C", "bad meta rule"),
    ("meta A B::C", "bad meta rule"),
    ("meta A abs(B)", "bad meta rule"),
    ("meta A B && ()", "empty () inside the expression"),
    ("body A eval:check(x y)", "bad body rule"),
    ("if version >= ", "unparseable if expression"),
    ("if foo(Bar)", "unparseable if expression"),
    ("header 9A Subject =~ /x/", "bad header rule"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[t for t, _ in BAD])
def test_rejects_with_message(text: str, message: str) -> None:
    with pytest.raises(CompileError) as info:
        parse(text)
    assert message in str(info.value)
    assert str(info.value).startswith("t.cf:1: ")


def test_comments_and_escaped_hash() -> None:
    lines = list(lex_text("body A /a\\#b/ # comment\n  # only a comment\n\n", "t.cf"))
    assert lines == [Line(Source("t.cf", 1), "body", "A /a#b/")]


def test_lang_lines_follow_the_locale() -> None:
    text = "lang de describe A Deutsch\nlang en describe A English\n"
    assert [line.value for line in lex_text(text, "t.cf", "de_DE")] == ["A Deutsch"]
    assert [line.value for line in lex_text(text, "t.cf", "en_US")] == ["A English"]


def test_rule_name_length_limit() -> None:
    with pytest.raises(CompileError, match="invalid rule name"):
        parse("body " + "A" * 101 + " /x/")
