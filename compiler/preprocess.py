"""Walk the rule files in SpamAssassin's order and keep the lines that are in effect.

This pass owns everything that decides *whether* a line counts: `if`/`ifplugin`/`else`/`endif`
(a real stack, so nested blocks work), `include`, `require_version`, `loadplugin` and
`enable_compat`. Conditionals are reset at the end of every file, as SpamAssassin's
`file end` marker does, and an `if` text is evaluated once per compile (SpamAssassin caches it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import ir
from .environment import KNOWN_PLUGINS, SA_VERSION, Environment, canonical_plugin
from .errors import CompileError, Diagnostics
from .ir import Source
from .lexer import Line, current_locale, file_digest, lex_text, read_text
from .parser import parse_line

__all__ = ["Preprocessed", "evaluate_condition", "preprocess"]

_PACKAGE = re.compile(r"(\w+::){0,10}\w+")
_REQUIRE_OK = {f"{SA_VERSION:.6f}", "@@VERSION@@"}
# Directives whose first word names a rule: remembered even in skipped blocks, so a meta that
# names a rule of an unloaded plugin is told apart from a typo.
_NAMING_KEYS = {
    "header",
    "body",
    "rawbody",
    "full",
    "uri",
    "meta",
    "mimeheader",
    "score",
    "askdns",
    "reuse",
    "urirhssub",
    "urirhsbl",
    "uridnsbl",
    "uridnssub",
}


@dataclass
class Preprocessed:
    nodes: list[ir.LineNode] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (path, sha256), read order
    env: Environment = field(default_factory=Environment)
    skipped_names: set[str] = field(default_factory=set)  # rules named only in false branches


@dataclass
class _Frame:
    """One open conditional: the skip state to restore at its `endif`."""

    saved_skip: bool
    src: Source


class _FileWalker:
    def __init__(self, out: Preprocessed, diags: Diagnostics, locale: str) -> None:
        self.out, self.diags, self.locale = out, diags, locale
        self.seen: set[Path] = set()
        self.cond_cache: dict[str, bool] = {}

    def walk(self, path: Path, display: str) -> None:
        resolved = path.resolve()
        if resolved in self.seen:  # SpamAssassin reads each file at most once
            return
        self.seen.add(resolved)
        try:
            text = read_text(path)
        except OSError as exc:
            self.diags.error(Source(display, 0), f"cannot read file: {exc.strerror}")
            return
        self.out.files.append((display, file_digest(path)))
        stack: list[_Frame] = []
        skip = False
        for line in lex_text(text, display, self.locale):
            if line.key == "include":
                # The include closes this file's open blocks and reopens it unconditionally.
                self._close(stack)
                stack, skip = [], False
                self._include(path, line)
                continue
            if skip and line.key not in ("if", "ifplugin", "else", "endif"):
                if line.key in _NAMING_KEYS and line.value:
                    self.out.skipped_names.add(line.value.split()[0])
                continue
            if line.key == "require_version":
                if line.value not in _REQUIRE_OK:
                    self.diags.warning(
                        line.src,
                        f"require_version {line.value} does not match {SA_VERSION:.6f}; "
                        "rest of file skipped",
                    )
                    break
                continue
            try:
                node = parse_line(line)
            except CompileError as exc:
                # An unparseable `if` pushes no block, exactly as in SpamAssassin.
                self.diags.add(exc)
                continue
            if isinstance(node, (ir.If, ir.IfPlugin)):
                stack.append(_Frame(skip, node.src))
                if not skip and not self._condition(node):
                    skip = True
            elif isinstance(node, ir.Else):
                if node.extra:
                    self.diags.error(node.src, "else takes no argument")
                if not stack:
                    self.diags.error(node.src, "else without a matching if")
                elif not any(frame.saved_skip for frame in stack):
                    skip = not skip
            elif isinstance(node, ir.Endif):
                if node.extra:
                    self.diags.error(node.src, "endif takes no argument")
                if not stack:
                    self.diags.error(node.src, "endif without a matching if")
                else:
                    skip = stack.pop().saved_skip
            elif not skip:
                self._keep(node)
        self._close(stack)

    def _close(self, stack: list[_Frame]) -> None:
        for frame in stack:
            self.diags.error(frame.src, "if/ifplugin block not closed by endif")

    def _include(self, current: Path, line: Line) -> None:
        if not line.value:
            self.diags.error(line.src, "include needs a file name")
            return
        target = Path(line.value).expanduser()
        if not target.is_absolute():
            target = current.parent / target
        if not target.is_file():
            self.diags.error(line.src, f"include of a missing file: {line.value}")
            return
        self.walk(target, str(target))

    def _condition(self, node: ir.If | ir.IfPlugin) -> bool:
        key = f"ifplugin {node.package}" if isinstance(node, ir.IfPlugin) else f"if {node.text}"
        if key not in self.cond_cache:
            if isinstance(node, ir.IfPlugin):
                value = self.out.env.plugin_loaded(node.package)
            else:
                value = bool(evaluate_condition(node.expr, self.out.env))
            self.cond_cache[key] = value
        return self.cond_cache[key]

    def _keep(self, node: ir.LineNode) -> None:
        if isinstance(node, ir.Setting) and node.key in ("loadplugin", "tryplugin"):
            self._load_plugin(node)
        elif isinstance(node, ir.Setting) and node.key == "enable_compat":
            if not node.value:
                self.diags.error(node.src, "enable_compat needs a name")
            self.out.env.compat.add(node.value)
        self.out.nodes.append(node)

    def _load_plugin(self, node: ir.Setting) -> None:
        package = node.value.split()[0] if node.value else ""
        if not _PACKAGE.fullmatch(package):
            self.diags.error(node.src, f"invalid plugin name {package!r}")
            return
        package = canonical_plugin(package)
        if package not in KNOWN_PLUGINS:
            if node.key == "loadplugin":
                self.diags.error(node.src, f"cannot load unknown plugin {package}")
            return
        self.out.env.loaded.add(package)
        if package not in self.out.env.loaded_order:
            self.out.env.loaded_order.append(package)


def evaluate_condition(expr: ir.Expr, env: Environment) -> float:
    """Evaluate an `if` expression with Perl's truth values (1 and 0)."""
    match expr:
        case ir.Number(value):
            return value
        case ir.CondWord(word):
            return env.word(word)
        case ir.PluginTest("plugin", package):
            return 1.0 if env.plugin_loaded(package) else 0.0
        case ir.PluginTest(_, function):
            return 1.0 if env.function_exists(function) else 0.0
        case ir.Not(operand):
            return 0.0 if evaluate_condition(operand, env) else 1.0
        case ir.And(left, right):
            value = evaluate_condition(left, env)
            return evaluate_condition(right, env) if value else value
        case ir.Or(left, right):
            value = evaluate_condition(left, env)
            return value if value else evaluate_condition(right, env)
        case ir.Compare(op, left, right):
            a, b = evaluate_condition(left, env), evaluate_condition(right, env)
            result = {
                "<": a < b,
                "<=": a <= b,
                ">": a > b,
                ">=": a >= b,
                "==": a == b,
                "!=": a != b,
            }[op]
            return 1.0 if result else 0.0
        case ir.Arith(op, left, right):
            a, b = evaluate_condition(left, env), evaluate_condition(right, env)
            if op == "/":
                return a / b if b else 0.0
            return {"+": a + b, "-": a - b, "*": a * b}[op]
    raise TypeError(f"not an if expression: {expr!r}")  # pragma: no cover - grammar forbids it


def preprocess(
    paths: Iterable[Path], diags: Diagnostics, *, local_tests_only: bool = True
) -> Preprocessed:
    """Read `paths` in the given order; collect the lines in effect and every problem."""
    out = Preprocessed(env=Environment(local_tests_only=local_tests_only))
    walker = _FileWalker(out, diags, current_locale())
    for path in paths:
        walker.walk(path, str(path))
    return out
