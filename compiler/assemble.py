"""Fold the lines in effect into a `Ruleset`, with SpamAssassin's override semantics.

A later definition of a name replaces the earlier one (even with another rule type), a failed
redefinition keeps the old rule, attributes (score, describe, tflags, priority) are stored apart
from definitions, and defaults are assigned only once everything has been read
(`Conf::Parser::fix_tests`).
"""

from __future__ import annotations

import re

from spamkiln.runtime.settings_builder import SettingsBuilder

from . import ir
from .errors import CompileError, Diagnostics
from .ir import Rule, Ruleset, Source
from .patterns import plan_pattern
from .preprocess import Preprocessed
from .regex import RegexError

__all__ = ["assemble"]

_HEADER_MODIFIERS = {"raw", "addr", "name", "host", "domain", "ip", "revip", "first", "last"}
_EXISTS_NAME = re.compile(r"[\w.-]+:?")
_RULE_DEFINING_SETTINGS = {"reuse", "askdns", "uri_detail"}
_PLUGIN_OF_RULE_DIRECTIVE = {
    "mimeheader": "Mail::SpamAssassin::Plugin::MIMEHeader",
    "askdns": "Mail::SpamAssassin::Plugin::AskDNS",
    "uri_detail": "Mail::SpamAssassin::Plugin::URIDetail",
}
# T_ rules default to 0.01 and everything else to 1.0 (rules.md section 4).
_DEFAULT_SCORE = 1.0
_DEFAULT_TESTING_SCORE = 0.01


def assemble(pre: Preprocessed, diags: Diagnostics) -> Ruleset:
    ruleset = Ruleset(
        plugins=list(pre.env.loaded_order),
        files=list(pre.files),
        skipped_names=set(pre.skipped_names),
    )
    settings = SettingsBuilder(diags)
    folder = _Folder(ruleset, settings, diags, pre.env.loaded)
    for node in pre.nodes:
        try:
            folder.fold(node)
        except CompileError as exc:
            diags.add(exc)
    ruleset.settings = settings.values
    _assign_defaults(ruleset)
    return ruleset


class _Folder:
    def __init__(
        self, ruleset: Ruleset, settings: SettingsBuilder, diags: Diagnostics, loaded: set[str]
    ) -> None:
        self.rs, self.settings, self.diags, self.loaded = ruleset, settings, diags, loaded

    def fold(self, node: ir.LineNode) -> None:
        match node:
            case ir.HeaderRegex():
                self._header_regex(node)
            case ir.HeaderExists(name, header, src):
                if not _EXISTS_NAME.fullmatch(header):
                    raise CompileError(src, f"invalid header name in exists: {header!r}")
                self._define(
                    Rule(name, "header", "header", src, _text(node), header=header, exists=True)
                )
            case ir.HeaderEval(name, call, src):
                self._define(Rule(name, "eval", "header", src, _text(node), call=call))
            case ir.SimpleRule(kind, name, pattern, call, src):
                if call is not None:
                    if kind == "uri":
                        raise CompileError(src, "uri rules cannot be eval rules")
                    self._define(Rule(name, "eval", kind, src, _text(node), call=call))
                else:
                    self._check_pattern(pattern or "", src)
                    self._define(Rule(name, kind, kind, src, _text(node), pattern=pattern))
            case ir.MimeHeaderRegex():
                self._require_plugin("mimeheader", node.src)
                self._check_pattern(node.pattern, node.src)
                self._define(
                    Rule(
                        node.name,
                        "mimeheader",
                        "mimeheader",
                        node.src,
                        _text(node),
                        pattern=node.pattern,
                        header=node.header + (":raw" if node.raw else ""),
                        negate=node.negate,
                        if_unset=node.if_unset,
                    )
                )
            case ir.MetaDef(name, expr, text, src):
                self._define(Rule(name, "meta", "none", src, f"meta {name} {text}", expr=expr))
            case ir.Score():
                self._score(node)
            case ir.Describe(name, text, _):
                self.rs.describes[name] = text
            case ir.Tflags(name, flags, src):
                if not flags:
                    raise CompileError(src, f"tflags {name} needs at least one flag")
                self.rs.tflags[name] = flags
            case ir.Priority(name, value, _):
                self.rs.priorities[name] = value
            case ir.Setting():
                self._setting(node)

    # ---- rules ---------------------------------------------------------------------------
    def _define(self, rule: Rule) -> None:
        self.rs.rules.pop(rule.name, None)  # keep definition order: a redefinition moves down
        self.rs.rules[rule.name] = rule

    def _header_regex(self, node: ir.HeaderRegex) -> None:
        _header, *mods = node.spec.rstrip(":").split(":")
        bad = [m for m in mods if m not in _HEADER_MODIFIERS]
        if bad:
            raise CompileError(node.src, f"unknown header modifier :{bad[0]} in {node.spec!r}")
        self._check_pattern(node.pattern, node.src)
        self._define(
            Rule(
                node.name,
                "header",
                "header",
                node.src,
                _text(node),
                pattern=node.pattern,
                header=node.spec.rstrip(":"),
                negate=node.negate,
                if_unset=node.if_unset,
            )
        )

    def _check_pattern(self, pattern: str, src: Source) -> None:
        try:
            plan_pattern(pattern)
        except RegexError as exc:
            raise CompileError(src, f"bad regex {pattern!r}: {exc}") from None

    def _require_plugin(self, directive: str, src: Source) -> None:
        plugin = _PLUGIN_OF_RULE_DIRECTIVE.get(directive)
        if plugin and plugin not in self.loaded:
            raise CompileError(src, f"unknown directive {directive!r} ({plugin} is not loaded)")

    def _score(self, node: ir.Score) -> None:
        values = node.values * 4 if len(node.values) == 1 else node.values
        if node.relative:
            old = self.rs.scores.get(node.name)
            if old is None:
                raise CompileError(node.src, f"relative score for {node.name} without a score")
            values = tuple(a + b for a, b in zip(old, values, strict=True))
        self.rs.scores[node.name] = values  # type: ignore[assignment]

    # ---- settings and rule-like directives -----------------------------------------------
    def _setting(self, node: ir.Setting) -> None:
        key = node.key
        if key in _RULE_DEFINING_SETTINGS:
            self._require_plugin(key, node.src)
            self._empty_rule(node)
            return
        if key == "redirector_pattern":
            self._check_pattern(node.value, node.src)
        if key in ("include", "require_version", "if", "ifplugin", "else", "endif"):
            return  # handled by the preprocessor
        if not self.settings.apply(node, self.loaded):
            self.diags.error(node.src, f"unknown directive {key!r}: {node.key} {node.value}")

    def _empty_rule(self, node: ir.Setting) -> None:
        name = node.value.split()[0] if node.value else ""
        if not re.fullmatch(r"[_a-zA-Z][_a-zA-Z0-9]{0,99}", name):
            raise CompileError(node.src, f"{node.key}: invalid rule name {name!r}")
        if node.key == "reuse" and name in self.rs.rules:
            return
        if node.key == "uri_detail":
            args = _uri_detail_args(node.value.split(None, 1)[1:2], node.src)
            self._define(
                Rule(
                    name,
                    "eval",
                    "body",
                    node.src,
                    f"uri_detail {node.value}",
                    call=ir.EvalCall("check_uri_detail", args),
                )
            )
            return
        self._define(Rule(name, "empty", "none", node.src, f"{node.key} {node.value}"))


# `key op /re/` triples of a uri_detail line (Plugin::URIDetail): a pattern runs to the next
# triple or the end of the line, so patterns may contain spaces.
_URI_DETAIL_TRIPLE = re.compile(r"(\w+)\s+([=!]~)\s+(.+?)(?=\s+\w+\s+[=!]~\s|\s*$)")
_URI_DETAIL_KEYS = {"raw", "type", "cleaned", "text", "domain", "host"}


def _uri_detail_args(rest: list[str], src: Source) -> tuple[str, ...]:
    """Flatten each criterion to (key, op, engine, exact pattern as Latin-1 text).

    The regexes are translated here, at compile time, so the runtime only compiles the exact
    pattern it is given (eval arguments are strings: bytes travel as Latin-1).
    """
    text = rest[0].strip() if rest else ""
    args: list[str] = []
    position = 0
    for m in _URI_DETAIL_TRIPLE.finditer(text):
        if text[position : m.start()].strip():
            break
        key, op, pattern = m.groups()
        if key not in _URI_DETAIL_KEYS:
            raise CompileError(src, f"uri_detail: unknown key {key!r}")
        try:
            planned = plan_pattern(pattern)
        except RegexError as exc:
            raise CompileError(src, f"uri_detail: bad regex {pattern!r}: {exc}") from None
        args += [key, op, planned.exact_engine, planned.exact_pattern.decode("latin-1")]
        position = m.end()
    if not args or text[position:].strip():
        raise CompileError(src, f"uri_detail: expected KEY =~ /re/ ... got {text!r}")
    return tuple(args)


def _text(node: ir.LineNode) -> str:
    """The defining line, reconstructed for the generated comment."""
    match node:
        case ir.HeaderRegex(name, spec, negate, pattern, if_unset, _):
            tail = f" [if-unset: {if_unset}]" if if_unset is not None else ""
            return f"header {name} {spec} {'!~' if negate else '=~'} {pattern}{tail}"
        case ir.HeaderExists(name, header, _):
            return f"header {name} exists:{header}"
        case ir.HeaderEval(name, call, _):
            return f"header {name} {call}"
        case ir.SimpleRule(kind, name, pattern, call, _):
            return f"{kind} {name} {pattern if call is None else call}"
        case ir.MimeHeaderRegex(name, header, raw, negate, pattern, _, _):
            return (
                f"mimeheader {name} {header}{':raw' if raw else ''} "
                f"{'!~' if negate else '=~'} {pattern}"
            )
    return repr(node)  # pragma: no cover


def _assign_defaults(rs: Ruleset) -> None:
    """Scores, describes, tflags and priorities as SpamAssassin fixes them after parsing."""
    for name, rule in rs.rules.items():
        rule.tflags = rs.tflags.get(name, ())
        rule.describe = rs.describes.get(name)
        scores = rs.scores.get(name)
        if scores is None:
            base = _DEFAULT_TESTING_SCORE if name.startswith("T_") else _DEFAULT_SCORE
            if "nice" in rule.tflags:
                base = -base
            scores = (base, base, base, base)
            rs.scores[name] = scores
        rule.scores = scores
        priority = rs.priorities.get(name)
        if priority is None:
            priority = -100 if "net" in rule.tflags else 0
        rule.priority = priority
