"""Turn a compiled ruleset into what the scanner runs, once per process and score set.

Which rules run in a score set is decided here, with SpamAssassin's rules: a rule whose score
in the set is 0 never runs; an eval rule also needs its function and no `net` (without network
tests) or `learn` (without Bayes) flag; a meta that reads a zero-scored meta never hits. The
RE2 sets are built here too, so a message pays only for matching.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .compiled import EmptyRule, EvalRule, ExistsRule, MetaRule, RegexRule, Rule, Ruleset
from .matcher import CompiledPattern, TargetMatcher

__all__ = ["EvalFunction", "PreparedRuleset", "PreparedSet", "score_set_for"]

log = logging.getLogger(__name__)

EvalFunction = Callable[..., object]
NET_BIT, BAYES_BIT = 1, 2  # score set = net tests (1) + Bayes (2)


def score_set_for(network: bool, bayes: bool) -> int:
    return (NET_BIT if network else 0) | (BAYES_BIT if bayes else 0)


@dataclass(slots=True)
class PreparedSet:
    """The regex rules of one target text, behind one (sharded) RE2 set."""

    id: int
    target: str
    header: str | None
    if_unset: str | None
    rules: list[RegexRule]  # in matcher index order
    matcher: TargetMatcher
    producers: bool = False  # some rule here defines a capture tag: run before the others


@dataclass
class PreparedRuleset:
    ruleset: Ruleset
    score_set: int
    sets: list[PreparedSet]
    exists: list[ExistsRule]
    evals: list[tuple[EvalRule, EvalFunction]]
    metas: list[MetaRule]  # dependency order
    never: frozenset[str]  # active by score but can never hit (missing eval, dead meta)
    scores: dict[str, float]  # score in this set, for every rule that runs

    @classmethod
    def build(
        cls,
        ruleset: Ruleset,
        score_set: int,
        evals: Mapping[str, EvalFunction],
    ) -> PreparedRuleset:
        runs: dict[str, Rule] = {}
        never: set[str] = set()
        for name, rule in ruleset.rules.items():
            score = rule.info.scores[score_set]
            if score == 0 or isinstance(rule, EmptyRule):
                continue
            if isinstance(rule, EvalRule):
                flags = rule.info.tflags
                if ("net" in flags and not score_set & NET_BIT) or (
                    "learn" in flags and not score_set & BAYES_BIT
                ):
                    continue
                if rule.rbl and not score_set & NET_BIT:
                    continue
                if rule.function not in evals:
                    never.add(name)
                    continue
            runs[name] = rule

        metas = [r for r in runs.values() if isinstance(r, MetaRule)]
        for meta in metas:  # SpamAssassin never readies a zero-scored meta: dependents never hit
            for dep in meta.deps:
                dep_rule = ruleset.rules.get(dep)
                if isinstance(dep_rule, MetaRule) and dep not in runs:
                    never.add(meta.info.name)
        ordered = _meta_order([m for m in metas if m.info.name not in never])

        sets: dict[int, list[RegexRule]] = {}
        for rule in runs.values():
            if isinstance(rule, RegexRule):
                sets.setdefault(rule.re2_set, []).append(rule)
        prepared_sets = []
        for set_id, rules in sorted(sets.items()):
            target, header = ruleset.re2_sets[set_id]
            matcher = TargetMatcher(
                [
                    CompiledPattern(
                        r.info.name, r.set_pattern, r.exact_engine, r.exact_pattern, r.literals
                    )
                    for r in rules
                ]
            )
            prepared_sets.append(
                PreparedSet(
                    set_id,
                    target,
                    header,
                    rules[0].if_unset,
                    rules,
                    matcher,
                    any(r.named_groups for r in rules),
                )
            )
        prepared_sets.sort(key=lambda s: not s.producers)

        return cls(
            ruleset=ruleset,
            score_set=score_set,
            sets=prepared_sets,
            exists=[r for r in runs.values() if isinstance(r, ExistsRule)],
            evals=[(r, evals[r.function]) for r in runs.values() if isinstance(r, EvalRule)],
            metas=ordered,
            never=frozenset(never),
            scores={name: rule.info.scores[score_set] for name, rule in runs.items()},
        )


def _meta_order(metas: list[MetaRule]) -> list[MetaRule]:
    """Kahn's algorithm over meta-on-meta edges; a meta whose deps never resolve is dropped."""
    by_name = {m.info.name: m for m in metas}
    waiting = {m.info.name: {d for d in m.deps if d in by_name} for m in metas}
    dependents: dict[str, list[str]] = {}
    for name, deps in waiting.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(name)
    ready = [name for name, deps in waiting.items() if not deps]
    order: list[MetaRule] = []
    while ready:
        name = ready.pop(0)
        order.append(by_name[name])
        for child in dependents.get(name, ()):
            waiting[child].discard(name)
            if not waiting[child]:
                ready.append(child)
    if len(order) != len(metas):
        stuck = sorted(set(by_name) - {m.info.name for m in order})
        log.warning("meta rules with circular dependencies never hit: %s", ", ".join(stuck))
    return order
