"""Parse one logical line with the Lark grammar (`sa.lark`) into a typed line node.

The grammar is loaded once; lark's LALR parser runs the `ToIR` transformer while it parses, so
no parse tree is built. Lark's `UnexpectedInput` never leaves this module: it becomes a
`CompileError` that names the line and says in words what was expected.
"""

from __future__ import annotations

import re

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from . import ir
from .errors import CompileError
from .ir import Source
from .lexer import Line
from .meta import contains

__all__ = ["parse_line"]

# The rule-defining keywords whose lines get a specific message when the grammar rejects them.
_RULE_KEYWORDS = {"header", "body", "rawbody", "full", "uri", "mimeheader", "meta"}
_IF_UNSET = re.compile(r"\s+\[if-unset:\s+(.+)\]\s*$")
_RBL_FUNCTION = re.compile(r"check_(?:rbl|dns)")
_RULENAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]{0,127}")

# Friendly messages for what lark reports, keyed by directive (lark's GRAMMAR_ERRORS idea).
_EXPECTATIONS: dict[str, str] = {
    "score": "bad score line: expected a rule name and 1 or 4 numbers (optionally in parentheses)",
    "priority": "bad priority line: expected a rule name and an integer",
    "describe": "bad describe line: expected a rule name",
    "tflags": "bad tflags line: expected a rule name",
    "header": "bad header rule: expected NAME eval:f(...), NAME exists:Header, or "
    "NAME Header[:mod] =~ /regex/",
    "body": "bad body rule: expected NAME /regex/ or NAME eval:f(...)",
    "rawbody": "bad rawbody rule: expected NAME /regex/ or NAME eval:f(...)",
    "full": "bad full rule: expected NAME /regex/ or NAME eval:f(...)",
    "uri": "bad uri rule: expected NAME /regex/",
    "mimeheader": "bad mimeheader rule: expected NAME Header[:raw] =~ /regex/",
    "meta": "bad meta rule: expected NAME and an expression of rule names, numbers and operators",
    "if": "unparseable if expression",
    "ifplugin": "bad ifplugin line: expected a plugin package name",
}


def _str(tok: Token | str) -> str:
    return str(tok)


class ToIR(Transformer):
    """Builds frozen IR nodes; `src` is set by `parse_line` before each parse."""

    src: Source = Source("<none>", 0)

    # ---- rules ---------------------------------------------------------------------------
    def header_line(self, kids: list) -> ir.LineNode:
        name, body = kids
        kind, payload = body
        if kind == "eval":
            return ir.HeaderEval(_str(name), payload, self.src)
        if kind == "exists":
            return ir.HeaderExists(_str(name), payload.rstrip(":"), self.src)
        spec, op, pattern = payload
        pattern, if_unset = _split_if_unset(pattern)
        return ir.HeaderRegex(_str(name), spec, op == "!~", pattern, if_unset, self.src)

    def header_eval(self, kids: list) -> tuple[str, ir.EvalCall]:
        return ("eval", kids[0])

    def header_exists(self, kids: list) -> tuple[str, str]:
        return ("exists", _str(kids[1]))

    def header_regex(self, kids: list) -> tuple[str, tuple[str, str, str]]:
        spec, op, pattern = kids
        return ("regex", (_str(spec), _str(op), _str(pattern)))

    def rule_kind(self, kids: list) -> str:
        return _str(kids[0]).lower()

    def rule_line(self, kids: list) -> ir.SimpleRule:
        kind, name, body = kids
        if isinstance(body, ir.EvalCall):
            return ir.SimpleRule(kind, _str(name), None, body, self.src)
        return ir.SimpleRule(kind, _str(name), _str(body).strip(), None, self.src)

    def mimeheader_line(self, kids: list) -> ir.MimeHeaderRegex:
        name, spec, op, pattern = kids
        header, _, mod = _str(spec).partition(":")
        pattern, if_unset = _split_if_unset(_str(pattern))
        return ir.MimeHeaderRegex(
            _str(name), header, mod == "raw", op == "!~", pattern, if_unset, self.src
        )

    def eval_call(self, kids: list) -> ir.EvalCall:
        prefix, func, *args = kids
        values = tuple(_unquote(_str(a)) for a in args if a is not None)
        rbl = _str(prefix) == "rbleval:" or bool(_RBL_FUNCTION.match(_str(func)))
        return ir.EvalCall(_str(func), values, rbl)

    def meta_line(self, kids: list) -> ir.MetaDef:
        name = _str(kids[0])
        expr = kids[1] if len(kids) > 1 else None
        if isinstance(expr, _Empty):
            expr = None
        return ir.MetaDef(name, expr, "", self.src)

    # ---- attributes ----------------------------------------------------------------------
    def score_line(self, kids: list) -> ir.Score:
        name, *values = kids
        relative = any(kind == "relative" for kind, _ in values)
        return ir.Score(_str(name), tuple(v for _, v in values), relative, self.src)

    def absolute(self, kids: list) -> tuple[str, float]:
        return ("absolute", float(kids[0]))

    def relative(self, kids: list) -> tuple[str, float]:
        return ("relative", float(kids[0]))

    def describe_line(self, kids: list) -> ir.Describe:
        return ir.Describe(_str(kids[0]), _str(kids[1]) if len(kids) > 1 else "", self.src)

    def tflags_line(self, kids: list) -> ir.Tflags:
        flags = tuple(_str(kids[1]).split()) if len(kids) > 1 else ()
        return ir.Tflags(_str(kids[0]), flags, self.src)

    def priority_line(self, kids: list) -> ir.Priority:
        return ir.Priority(_str(kids[0]), int(kids[1]), self.src)

    # ---- conditionals --------------------------------------------------------------------
    def if_line(self, kids: list) -> ir.If:
        return ir.If(kids[0], "", self.src)

    def ifplugin_line(self, kids: list) -> ir.IfPlugin:
        return ir.IfPlugin(_str(kids[0]), self.src)

    def else_line(self, kids: list) -> ir.Else:
        return ir.Else(_str(kids[0]) if kids else None, self.src)

    def endif_line(self, kids: list) -> ir.Endif:
        return ir.Endif(_str(kids[0]) if kids else None, self.src)

    def setting(self, kids: list) -> ir.Setting:
        return ir.Setting(_str(kids[0]), _str(kids[1]) if len(kids) > 1 else "", self.src)

    # ---- expressions ---------------------------------------------------------------------
    def rule_ref(self, kids: list) -> ir.RuleRef:
        return ir.RuleRef(_str(kids[0]))

    def number(self, kids: list) -> ir.Number:
        return ir.Number(float(kids[0]))

    def rules_matching(self, kids: list) -> ir.RulesMatching:
        return ir.RulesMatching(_str(kids[0]))

    def empty(self, _kids: list) -> _Empty:
        return _Empty()

    def not_(self, kids: list) -> ir.Not:
        return ir.Not(kids[0])

    def neg(self, kids: list) -> ir.Neg:
        return ir.Neg(kids[0])

    def and_(self, kids: list) -> ir.And:
        return ir.And(kids[0], kids[1])

    def or_(self, kids: list) -> ir.Or:
        return ir.Or(kids[0], kids[1])

    def xor(self, kids: list) -> ir.Xor:
        return ir.Xor(kids[0], kids[1])

    def compare(self, kids: list) -> ir.Compare:
        return ir.Compare(_str(kids[1]), kids[0], kids[2])

    def arith(self, kids: list) -> ir.Arith:
        return ir.Arith(_str(kids[1]), kids[0], kids[2])

    def ternary(self, kids: list) -> ir.Ternary:
        return ir.Ternary(kids[0], kids[1], kids[2])

    def plugin_loaded(self, kids: list) -> ir.PluginTest:
        return ir.PluginTest("plugin", _str(kids[0]))

    def can_call(self, kids: list) -> ir.PluginTest:
        return ir.PluginTest("can", _str(kids[0]))

    def has_function(self, kids: list) -> ir.PluginTest:
        return ir.PluginTest("has", _str(kids[0]))

    def cond_word(self, kids: list) -> ir.CondWord:
        return ir.CondWord(_str(kids[0]))  # type: ignore[arg-type]


class _Empty:
    """`()` in a meta: only valid as the whole expression."""


def _unquote(arg: str) -> str:
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        return arg[1:-1]
    return arg


def _split_if_unset(pattern: str) -> tuple[str, str | None]:
    m = _IF_UNSET.search(pattern)
    if not m:
        return pattern.strip(), None
    return pattern[: m.start()].strip(), m.group(1)


_TRANSFORMER = ToIR()
_PARSER = Lark.open(
    "sa.lark",
    rel_to=__file__,
    parser="lalr",
    propagate_positions=False,
    transformer=_TRANSFORMER,
    maybe_placeholders=False,
)


def parse_line(line: Line) -> ir.LineNode:
    """Parse one lexed line; raises CompileError with a readable message."""
    _TRANSFORMER.src = line.src
    try:
        node = _PARSER.parse(line.text)
    except (UnexpectedInput, UnexpectedEOF, UnexpectedCharacters) as exc:
        raise CompileError(line.src, _explain(line, exc)) from None
    except VisitError as exc:  # a transformer callback failed: report, don't crash
        raise CompileError(line.src, f"cannot parse line: {exc.orig_exc}") from None
    if isinstance(node, ir.MetaDef):
        if node.expr is not None and contains(node.expr, _Empty):
            raise CompileError(
                line.src, f"bad meta rule: empty () inside the expression of {node.name}"
            )
        expression = line.value.split(None, 1)[1] if " " in line.value.strip() else ""
        node = ir.MetaDef(node.name, node.expr, expression.strip(), node.src)
    elif isinstance(node, ir.If):
        node = ir.If(node.expr, " ".join(line.value.split()), node.src)
    _check_names(node)
    return node


def _check_names(node: ir.LineNode) -> None:
    name = getattr(node, "name", None)
    if name is None or isinstance(node, ir.Setting):
        return
    if not _RULENAME.fullmatch(name) or len(name) > 100:
        raise CompileError(node.src, f"invalid rule name {name!r}")


def _explain(line: Line, exc: UnexpectedInput) -> str:
    base = _EXPECTATIONS.get(line.key)
    where = f" (at column {exc.column - len(line.key) - 1})" if getattr(exc, "column", 0) else ""
    if base:
        return f"{base}{where}: {line.text!r}"
    if line.key in _RULE_KEYWORDS:
        return f"bad {line.key} line{where}: {line.text!r}"
    return f"cannot parse line{where}: {line.text!r}"
