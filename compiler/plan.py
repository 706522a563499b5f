"""Decide everything about each rule before any code is written.

For every rule: which builder call makes it, its regex plan (RE2 or the `regex` fallback, and the
RE2 set it joins), its meta code, and the checks that need the whole ruleset (meta operands,
cycles, eval functions spamkiln lacks). The template only prints what this pass decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from . import ir, meta
from .errors import Diagnostics
from .ir import Rule, Ruleset
from .patterns import plan_pattern
from .regex import RegexError, RegexPlan

__all__ = ["Plan", "PlannedRule", "SetView", "make_plan"]

# Rules whose regex names a capture group run first, so later rules can use the tag (SA 4.0).
_CAPTURE_PRIORITY = -10000
_HEADER_TARGETS = ("header", "mimeheader")


@dataclass(frozen=True, slots=True)
class SetView:
    id: int
    target: str
    header: str | None


@dataclass(slots=True)
class PlannedRule:
    rule: Rule
    builder: str  # RulesetBuilder method
    builder_args: list[tuple[str, object]] = field(default_factory=list)
    meta_code: str = ""
    regex: RegexPlan | None = None


@dataclass(slots=True)
class Plan:
    rules: list[PlannedRule]
    sets: list[SetView]
    settings: dict[str, object]
    plugins: list[str]
    sources: list[tuple[str, str]]
    missing_evals: list[str]
    ruleset: Ruleset


def make_plan(
    rs: Ruleset, diags: Diagnostics, available_evals: Iterable[str] | None = None
) -> Plan:
    available = set(available_evals) if available_evals is not None else None
    score_names = set(rs.rules) | set(rs.scores)
    set_ids: dict[tuple[str, str | None, str | None], int] = {}
    planned: list[PlannedRule] = []
    meta_graph: dict[str, tuple[str, ...]] = {}
    missing: dict[str, list[str]] = {}

    for name, rule in rs.rules.items():
        if rule.type == "meta":
            if rule.expr is not None and meta.contains(rule.expr, ir.RulesMatching):
                # only then: it sorts every rule name, and a compile has ~900 metas
                rule.expr = meta.expand_rules_matching(rule.expr, score_names, name)
            meta_graph[name] = meta.dependencies(rule.expr)

    cyclic = meta.find_cycles(meta_graph)
    for name in sorted(cyclic):
        diags.error(rs.rules[name].src, f"meta {name} depends on itself (cycle); it never hits")

    for name, rule in rs.rules.items():
        pr = PlannedRule(rule, "empty")
        if rule.type == "meta":
            deps = meta_graph[name]
            for dep in deps:
                if dep in rs.rules or dep in rs.scores:
                    continue
                if dep in rs.skipped_names:
                    diags.warning(
                        rule.src,
                        f"meta {name} names {dep}, defined only in a "
                        "disabled if/ifplugin block; it counts as 0",
                    )
                else:
                    diags.error(rule.src, f"meta {name} names an unknown rule {dep}")
            pr.builder = "meta"
            pr.meta_code = "0" if name in cyclic else meta.to_python(rule.expr)
            pr.builder_args = [("deps", deps)]
        elif rule.call is not None:
            pr.builder = "eval"
            pr.builder_args = [
                ("target", rule.target),
                ("function", rule.call.function),
                ("args", rule.call.args),
            ]
            if rule.call.rbl:
                pr.builder_args.append(("rbl", True))
            if available is not None and rule.call.function not in available:
                missing.setdefault(rule.call.function, []).append(name)
        elif rule.exists:
            pr.builder = "exists"
            pr.builder_args = [("header", rule.header)]
        elif rule.pattern is not None:
            try:
                rx = plan_pattern(rule.pattern)
            except RegexError as exc:  # assemble checked it; ReplaceTags may still break it
                diags.error(rule.src, f"bad regex {rule.pattern!r}: {exc}")
                continue
            pr.regex = rx
            key = (
                rule.target,
                rule.header if rule.target in _HEADER_TARGETS else None,
                rule.if_unset,
            )
            set_id = set_ids.setdefault(key, len(set_ids))
            pr.builder = "regex"
            pr.builder_args = [
                ("target", rule.target),
                ("re2_set", set_id),
                ("set_pattern", rx.set_pattern),
                ("exact_engine", rx.exact_engine),
                ("exact_pattern", rx.exact_pattern),
            ]
            if rx.literals:
                pr.builder_args.append(("literals", rx.literals))
            if rule.header is not None:
                pr.builder_args.append(("header", rule.header))
            if rule.negate:
                pr.builder_args.append(("negate", True))
            if rule.if_unset is not None:
                pr.builder_args.append(("if_unset", rule.if_unset))
            if rx.named_groups:
                pr.builder_args.append(("named_groups", rx.named_groups))
                if name not in rs.priorities:
                    rule.priority = _CAPTURE_PRIORITY
            if rx.tag_refs:
                pr.builder_args.append(("tag_refs", rx.tag_refs))
        planned.append(pr)

    for function, names in sorted(missing.items()):
        for name in names:
            diags.warning(
                rs.rules[name].src,
                f"eval function {function} is not implemented by spamkiln; rule {name} never hits",
            )

    settings = dict(rs.settings)
    redirectors = []
    for text in settings.pop("redirector_pattern", []):  # type: ignore[union-attr]
        try:
            rx = plan_pattern(str(text))
        except RegexError:  # reported when the line was read
            continue
        redirectors.append([rx.exact_engine, rx.exact_pattern])
    if redirectors:
        settings["redirector_pattern"] = redirectors

    sets = [SetView(i, target, header) for (target, header, _), i in set_ids.items()]
    return Plan(planned, sets, settings, rs.plugins, rs.files, sorted(missing), rs)
