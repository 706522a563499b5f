"""`sa-compile --stats`: the ruleset counted the way ../shared/spec/ruleset-inventory.md counts it.

Types follow SpamAssassin's internal classes (a mimeheader or uri_detail rule is a body eval, a
`check_rbl*`/`check_dns*` header eval is an rbl-eval, reuse/askdns are empty), so the figures can
be compared line by line with the inventory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .ir import Rule
from .plan import Plan

__all__ = ["RulesetStats", "collect", "format_stats"]

_ORDER = (
    "meta",
    "header",
    "body",
    "body eval",
    "uri",
    "header eval",
    "header rbl-eval",
    "rawbody",
    "empty",
    "full eval",
    "rawbody eval",
    "full",
)


@dataclass
class RulesetStats:
    by_type: Counter[str] = field(default_factory=Counter)
    total: int = 0
    sub_rules: int = 0
    testing_rules: int = 0
    active_set0: int = 0
    active_set0_sub: int = 0
    patterns: int = 0
    fallback: Counter[str] = field(default_factory=Counter)  # reason -> patterns
    re2_sets: int = 0


def sa_type(rule: Rule) -> str:
    if rule.type == "mimeheader":
        return "body eval"
    if rule.call is not None:
        if rule.target == "header" and rule.call.rbl:
            return "header rbl-eval"
        return f"{rule.target} eval"
    return rule.type


def active_in_set0(rule: Rule) -> bool:
    """Run by SpamAssassin in score set 0: non-zero score; evals also need no net/learn flag."""
    if not rule.scores or rule.scores[0] == 0:
        return False
    if rule.call is not None or rule.type == "mimeheader":
        return not ({"net", "learn"} & set(rule.tflags))
    return rule.type != "empty"


def collect(plan: Plan) -> RulesetStats:
    stats = RulesetStats(re2_sets=len(plan.sets))
    for pr in plan.rules:
        rule = pr.rule
        stats.total += 1
        stats.by_type[sa_type(rule)] += 1
        stats.sub_rules += rule.name.startswith("__")
        stats.testing_rules += rule.name.startswith("T_")
        if active_in_set0(rule):
            stats.active_set0 += 1
            stats.active_set0_sub += rule.name.startswith("__")
        if pr.regex is not None:
            stats.patterns += 1
            if pr.regex.fallback_reason:
                stats.fallback[pr.regex.fallback_reason] += 1
    return stats


def format_stats(stats: RulesetStats) -> str:
    lines = [
        f"rules: {stats.total} ({stats.sub_rules} __ sub-rules, "
        f"{stats.testing_rules} T_ testing rules)"
    ]
    for name in _ORDER:
        lines.append(f"  {name:<16} {stats.by_type.get(name, 0):>5}")
    for name, count in sorted(stats.by_type.items()):
        if name not in _ORDER:
            lines.append(f"  {name:<16} {count:>5}")
    lines.append(
        f"active in score set 0: {stats.active_set0} "
        f"({stats.active_set0 - stats.active_set0_sub} scoring + "
        f"{stats.active_set0_sub} sub-rules)"
    )
    rejected = sum(stats.fallback.values())
    lines.append(f"regex rules: {stats.patterns}; RE2 sets: {stats.re2_sets}")
    lines.append(f"  run by RE2: {stats.patterns - rejected}")
    lines.append(f"  RE2 prefilter + `regex` fallback: {rejected}")
    for reason, count in stats.fallback.most_common():
        lines.append(f"    {reason:<30} {count:>5}")
    return "\n".join(lines)
