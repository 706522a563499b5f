"""Run a compiled ruleset on one message: regex sets, evals, metas, score.

The order follows SpamAssassin's `Plugin::Check` where it is observable: rules that define
capture tags run first, metas run after every rule they read, and a rule that fails (an eval
that raises, a regex past its time budget) is a miss with a log line, never a failed scan.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .compiled import EvalRule, ExistsRule, MetaRule, RegexRule, Ruleset
from .config import Config
from .context import MessageContext
from .evals.registry import EVAL_FUNCTIONS
from .prepare import EvalFunction, PreparedRuleset, PreparedSet
from .user_prefs import UserPreferences

__all__ = ["ScanResult", "Scanner", "format_score"]

log = logging.getLogger(__name__)

# tflags maxhits / multiple defaults (rules.md section 9): without `multiple` one match is a hit.
_UNLIMITED = 1 << 30


@dataclass
class ScanResult:
    score: float  # rounded to 3 decimals, as SpamAssassin rounds it
    required: float
    hits: dict[str, float]  # every rule hit (sub-rules included) -> its value
    scores: dict[str, float]  # score of each scoring rule that hit
    context: MessageContext
    ruleset: Ruleset
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        return self.context.config

    def describe(self, name: str) -> str:
        """A rule's description, as reports print it."""
        rule = self.ruleset.rules.get(name)
        text = rule.info.describe if rule is not None else None
        return text if text else "No description available."

    @property
    def is_spam(self) -> bool:
        return self.score >= self.required

    @property
    def rules(self) -> list[str]:
        """Scoring rules hit (no __ sub-rules), sorted: spamd's SYMBOLS list."""
        return sorted(n for n in self.hits if not n.startswith("__"))

    @property
    def subrules(self) -> list[str]:
        return sorted(n for n in self.hits if n.startswith("__"))


def format_score(score: float, required: float, is_spam: bool) -> str:
    """spamd's one-decimal score: a ham never shows as reaching the threshold."""
    text = _one_decimal(score)
    if not is_spam and round(score, 1) >= round(required, 1):
        text = _one_decimal(required - 0.1)
    return text


def _one_decimal(value: float) -> str:
    return f"{value:.1f}"


class _Hits(dict):
    """Meta access: a rule that did not hit reads as 0."""

    def __missing__(self, key: str) -> float:
        return 0


class Scanner:
    """A ruleset ready to scan; build once per process (spamd: before forking)."""

    def __init__(
        self,
        ruleset: Ruleset,
        *,
        score_set: int = 0,
        evals: Mapping[str, EvalFunction] | None = None,
        config: Config | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.config = config or Config(ruleset.settings)
        self.prepared = PreparedRuleset.build(
            ruleset, score_set, EVAL_FUNCTIONS if evals is None else evals
        )
        self._limits = {
            name: _limit(rule)
            for s in self.prepared.sets
            for name, rule in ((r.info.name, r) for r in s.rules)
        }
        self._texts: dict[str, Callable[[MessageContext, PreparedSet], list[bytes]]] = {
            "header": _header_texts,
            "body": lambda ctx, s: ctx.body_lines,
            "rawbody": lambda ctx, s: ctx.rawbody_chunks,
            "full": lambda ctx, s: [ctx.pristine],
            "uri": lambda ctx, s: ctx.uri_list,
        }
        self._steps = _plan_steps(self.prepared, _effective_priorities(ruleset))
        # time_limit (seconds, SpamAssassin's default 300) bounds one scan; regexes have their
        # own per-match budget in the matcher.
        self.time_limit = self.config.number("time_limit", 300.0)

    def scan(
        self, raw: bytes, *, timings: bool = False, prefs: UserPreferences | None = None
    ) -> ScanResult:
        """Scan one message; `prefs` are a user's preferences (spamd's User header)."""
        config = prefs.config_over(self.config) if prefs is not None else self.config
        scores = self._scores_for(prefs)
        ctx = MessageContext(raw, config)
        hits = _Hits()
        clock: dict[str, float] = defaultdict(float)
        mark = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal mark
            if timings:
                now = time.perf_counter()
                clock[stage] += now - mark
                mark = now

        if timings:  # make the per-stage profile honest: build the views up front
            ctx.msg  # noqa: B018
            lap("parse")
            ctx.body_lines  # noqa: B018
            ctx.rawbody_chunks  # noqa: B018
            ctx.uri_list  # noqa: B018
            ctx.relays  # noqa: B018
            lap("render")

        deadline = time.monotonic() + self.time_limit
        for step in self._steps:
            if time.monotonic() > deadline:  # SpamAssassin's time_limit: keep what has run
                log.warning(
                    "scan stopped after time_limit %.1fs; later rules not run", self.time_limit
                )
                ctx.timed_out = True
                break
            if isinstance(step, _SetStep):
                try:
                    if step.prepared.target == "mimeheader":
                        self._run_mimeheader(ctx, step.prepared, hits, step.only)
                    else:
                        self._run_set(ctx, step.prepared, hits, step.only)
                except Exception:  # a bug in one target must not cost the whole scan
                    log.exception(
                        "regex set %s (%s) failed", step.prepared.id, step.prepared.target
                    )
                lap("regex")
            elif isinstance(step, _ExistsStep):
                for rule in step.rules:
                    if ctx.header(rule.header) is not None:
                        hits[rule.info.name] = 1
                lap("regex")
            else:
                self._run_evals(ctx, step.evals, hits)
                lap("evals")

        if scores is not self.prepared.scores:  # a zero-scored hit is no hit (got_hit)
            for name in [n for n in hits if scores.get(n) == 0]:
                del hits[name]
        for meta in self.prepared.metas:
            try:
                value = meta.fn(hits)
            except Exception:
                log.exception("meta %s failed; counted as no hit", meta.info.name)
                continue
            if value and scores.get(meta.info.name) != 0:
                hits[meta.info.name] = value if value > 0 else 1
        lap("meta")

        scored = {n: scores[n] for n in hits if not n.startswith("__") and n in scores}
        total = round(sum(scored.values()), 3)
        ctx.hits = dict(hits)
        return ScanResult(
            score=total,
            required=config.required_score,
            hits=dict(hits),
            scores=scored,
            context=ctx,
            ruleset=self.ruleset,
            timings=dict(clock),
        )

    def _scores_for(self, prefs: UserPreferences | None) -> Mapping[str, float]:
        """The scores of the rules that run, with a user's `score` lines applied."""
        if prefs is None or not prefs.scores:
            return self.prepared.scores
        return prefs.scores_over(self.prepared.scores, self.prepared.score_set)

    @staticmethod
    def _run_evals(
        ctx: MessageContext, evals: list[tuple[EvalRule, EvalFunction]], hits: _Hits
    ) -> None:
        for rule, fn in evals:
            ctx.current_rule = rule.info.name
            try:
                if getattr(fn, "takes_target", False):  # e.g. image_to_text_ratio: body or raw
                    result = fn(ctx, *rule.args, target=rule.target)
                else:
                    result = fn(ctx, *rule.args)
            except Exception:
                log.exception(
                    "eval %s for rule %s failed; counted as no hit", rule.function, rule.info.name
                )
                continue
            if result:
                value = float(result) if isinstance(result, (int, float)) else 1.0
                hits[rule.info.name] = value if value > 0 else 1.0

    # ---- regex targets -----------------------------------------------------------------
    def _run_set(
        self, ctx: MessageContext, prepared: PreparedSet, hits: _Hits, only: frozenset[int]
    ) -> None:
        texts = self._texts[prepared.target](ctx, prepared)
        counts: dict[int, int] = {}
        matcher, rules = prepared.matcher, prepared.rules
        tags = ctx.tags or None
        for line_no, text in enumerate(texts):
            for index in matcher.candidates(text):
                if index not in only:
                    continue
                rule = rules[index]
                name = rule.info.name
                limit = self._limits[name]
                done = counts.get(index, 0)
                if done >= limit:
                    continue
                if line_no == 0 and prepared.target == "body" and "nosubject" in rule.info.tflags:
                    continue
                if limit - done == 1 and matcher.confirmed(index):
                    found = 1  # the pre-filter ran this very pattern on this text
                else:
                    found = matcher.count(index, text, limit - done, tags=tags)
                if found:
                    counts[index] = done + found
                    if rule.named_groups:
                        for tag, values in matcher.captures(index, text, limit, tags=tags).items():
                            ctx.tags.setdefault(tag, []).extend(values)
        for index in only:
            rule = rules[index]
            found = counts.get(index, 0)
            if rule.negate:
                if not found:
                    hits[rule.info.name] = 1
            elif found:
                hits[rule.info.name] = found if "multiple" in rule.info.tflags else 1

    def _run_mimeheader(
        self, ctx: MessageContext, prepared: PreparedSet, hits: _Hits, only: frozenset[int]
    ) -> None:
        for index in sorted(only):
            rule = prepared.rules[index]
            if rule.negate:  # SpamAssassin quirk: a negated mimeheader rule always hits
                hits[rule.info.name] = 1
                continue
            texts = list(_mime_texts(ctx, rule))
            limit = self._limits[rule.info.name]
            if "concat" in rule.info.tflags:
                texts = [b"".join(texts)]
            total = 0
            for text in texts:
                total += prepared.matcher.count(index, text, limit - total)
                if total >= limit:
                    break
            if total:
                hits[rule.info.name] = total if "multiple" in rule.info.tflags else 1


@dataclass(frozen=True, slots=True)
class _SetStep:
    prepared: PreparedSet
    only: frozenset[int]  # indices of the set's rules that run at this priority


@dataclass(frozen=True, slots=True)
class _ExistsStep:
    rules: tuple[ExistsRule, ...]


@dataclass(frozen=True, slots=True)
class _EvalStep:
    evals: list[tuple[EvalRule, EvalFunction]]


# Plugin::Check's order within one priority. mimeheader rules are body evals in SpamAssassin.
_PHASES: tuple[tuple[str, str], ...] = (
    ("set", "header"),
    ("exists", "header"),
    ("eval", "header"),
    ("set", "body"),
    ("set", "uri"),
    ("eval", "body"),
    ("set", "mimeheader"),
    ("set", "rawbody"),
    ("eval", "rawbody"),
    ("set", "full"),
    ("eval", "full"),
)


def _effective_priorities(ruleset: Ruleset) -> dict[str, int]:
    """Priorities after SpamAssassin's fix_priorities: a meta pulls its dependencies down to
    its own priority (a net dependency of a meta below -100 stops at -100).

    SpamAssassin does this before it gives `net` rules their default of -100, so the pulling
    works on the written priorities; a net rule nobody pulled keeps its -100 afterwards.
    """
    rules = ruleset.rules
    written = {
        name: 0 if rule.info.priority == -100 and "net" in rule.info.tflags else rule.info.priority
        for name, rule in rules.items()
    }
    pulled = dict(written)
    for meta in (r for r in rules.values() if isinstance(r, MetaRule)):
        stack = [meta.info.name]
        seen: set[str] = set()
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            level = pulled[name]
            for dep in getattr(rules.get(name), "deps", ()):
                dep_rule = rules.get(dep)
                if dep_rule is None:
                    continue
                target = -100 if "net" in dep_rule.info.tflags and level < -100 else level
                if target < pulled[dep]:
                    pulled[dep] = target
                stack.append(dep)
    return {
        name: pulled[name] if pulled[name] != written[name] else rule.info.priority
        for name, rule in rules.items()
    }


def _plan_steps(
    prepared: PreparedRuleset, priority: dict[str, int]
) -> list[_SetStep | _ExistsStep | _EvalStep]:
    levels = sorted({priority[n] for n in prepared.scores})
    steps: list[_SetStep | _ExistsStep | _EvalStep] = []
    for level in levels:
        for kind, target in _PHASES:
            if kind == "set":
                for pset in prepared.sets:
                    if pset.target != target:
                        continue
                    only = frozenset(
                        i for i, r in enumerate(pset.rules) if priority[r.info.name] == level
                    )
                    if only:
                        steps.append(_SetStep(pset, only))
            elif kind == "exists":
                rules = tuple(r for r in prepared.exists if priority[r.info.name] == level)
                if rules:
                    steps.append(_ExistsStep(rules))
            else:
                evals = [
                    (r, fn)
                    for r, fn in prepared.evals
                    if r.target == target and priority[r.info.name] == level
                ]
                if evals:
                    steps.append(_EvalStep(evals))
    return steps


def _limit(rule: RegexRule) -> int:
    if "multiple" not in rule.info.tflags:
        return 1
    maxhits = rule.info.flag_value("maxhits")
    if maxhits and maxhits.isdigit() and int(maxhits) > 0:
        return int(maxhits)
    return 1000 if rule.target == "mimeheader" else _UNLIMITED


def _header_texts(ctx: MessageContext, prepared: PreparedSet) -> list[bytes]:
    # An absent header is undef in Perl, and undef matches like the empty string.
    text = ctx.header(prepared.header or "", prepared.if_unset)
    return [text if text is not None else b""]


def _mime_texts(ctx: MessageContext, rule: RegexRule) -> Iterable[bytes]:
    header = rule.header or ""
    name, _, modifier = header.partition(":")
    raw = modifier == "raw"
    first, last = _part_range(rule)
    for part in ctx.mime_headers:
        if part.number < first or (last is not None and part.number > last):
            continue
        if name == "ALL":
            yield part.all(raw=raw)
            continue
        value = part.get(name, raw=raw)
        if value is None:
            value = (rule.if_unset or "").encode("utf-8", "surrogateescape")
        yield value


def _part_range(rule: RegexRule) -> tuple[int, int | None]:
    spec = rule.info.flag_value("range")
    if not spec:
        return 1, None
    low, sep, high = spec.partition("-")
    try:
        first = int(low) if low else 1
        last = int(high) if high else (None if sep else first)
    except ValueError:
        return 1, None
    return first, last
