"""A user's preferences (spamd's `user_prefs`): user-level settings over the global ones.

SpamAssassin reads a user's file with `Conf::parse_scores_only` onto a clone of the global
configuration and restores the clone after the message: *admin* settings are refused, and so are
*privileged* ones (rule definitions, tflags, priority ...) unless the global `allow_user_rules`
says otherwise (spamkiln never: a rule is compiled by sa-compile, not per request). Everything
else applies: `required_score`, `score`, welcome/block lists, `add_header`, `rewrite_header`,
`report_safe` ... Here the lines go through the same `SettingsBuilder` sa-compile uses, on a deep
copy of the compiled settings, so a list line appends to the global list and `clear_headers`
clears the global headers, as in SpamAssassin.

`score` lines become per-rule overrides: a rule whose score the user sets to 0 does not hit at
all (`PerMsgStatus::got_hit` ignores a zero-scored hit, so metas do not see it either), and a rule
the global configuration does not run stays off (its check was never compiled).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from .config import Config
from .directives import lookup
from .settings_builder import SettingsBuilder, split_keyword, uncommented

__all__ = ["UserPreferences", "parse_user_prefs"]

_RULE_KEYWORDS = frozenset(
    [
        "header",
        "body",
        "rawbody",
        "full",
        "uri",
        "meta",
        "mimeheader",
        "describe",
        "tflags",
        "priority",
        "test",
        "uri_detail",
    ]
)
_SCORE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass(frozen=True, slots=True)
class _Line:
    key: str
    value: str
    src: int  # line number


@dataclass(eq=False)
class UserPreferences:
    """What one user_prefs file changes; build once per file version, use for many scans."""

    settings: dict[str, object]
    scores: dict[str, tuple[float, ...]]  # rule -> one score, or one per score set
    applied: int = 0  # lines that took effect
    refused: list[str] = field(default_factory=list)  # "line N: why", for the log
    # (the global object, what was derived from it): made once, for the one scanner of a process
    _config: tuple[Config, Config] | None = field(default=None, repr=False)
    _scores: tuple[Mapping[str, float], Mapping[str, float]] | None = field(
        default=None, repr=False
    )

    def config_over(self, base: Config) -> Config:
        """The Config for these preferences, sharing what `base` (the global Config) built, so
        what evals build per configuration is built once per user, not per message."""
        if self._config is None or self._config[0] is not base:
            self._config = (base, base.overlay(self.settings))
        return self._config[1]

    def scores_over(self, base: Mapping[str, float], score_set: int) -> Mapping[str, float]:
        """`base` (the scores of the rules that run) with this user's `score` lines: only for
        rules in it, since a rule the global configuration does not run stays off."""
        if self._scores is None or self._scores[0] is not base:
            merged = dict(base)
            for name in self.scores.keys() & merged.keys():
                values = self.scores[name]
                merged[name] = values[0] if len(values) == 1 else values[score_set]
            self._scores = (base, merged)
        return self._scores[1]


class _Problems:
    def __init__(self) -> None:
        self.messages: list[tuple[int, str]] = []

    def error(self, src: object, message: str) -> None:
        self.messages.append((int(src), message))  # type: ignore[call-overload]


def parse_user_prefs(
    text: str, base: Mapping[str, object], loaded_plugins: Collection[str]
) -> UserPreferences:
    """Apply a user_prefs text to a copy of `base` (the compiled settings).

    `loaded_plugins` are the plugins the global configuration loaded (their settings only are
    known, as in SpamAssassin). Nothing here raises on bad input: a line that cannot be applied
    is listed in `refused` and skipped.
    """
    builder = SettingsBuilder(_Problems())  # type: ignore[arg-type]
    builder.values = copy.deepcopy(dict(base))
    prefs = UserPreferences(builder.values, {})
    plugins = set(loaded_plugins)
    for line in _lines(text, plugins, prefs.refused):
        if line.key == "score":
            _score(line, prefs)
            continue
        if line.key in _RULE_KEYWORDS:
            prefs.refused.append(f"line {line.src}: rules are not read from user_prefs")
            continue
        directive = lookup(line.key)
        if directive is None:
            prefs.refused.append(f"line {line.src}: unknown setting {line.key!r}")
            continue
        if directive.level != "user":
            prefs.refused.append(
                f"line {line.src}: {line.key} is an {directive.level} setting, not a user one"
                if directive.level == "admin"
                else f"line {line.src}: {line.key} is a privileged setting, not a user one"
            )
            continue
        problems: _Problems = builder.diags  # type: ignore[assignment]
        before = len(problems.messages)
        if not builder.apply(line, plugins):
            prefs.refused.append(f"line {line.src}: {line.key} needs a plugin not loaded")
        elif len(problems.messages) > before:
            prefs.refused.extend(f"line {n}: {m}" for n, m in problems.messages[before:])
        else:
            prefs.applied += 1
    return prefs


def _lines(text: str, plugins: set[str], refused: list[str]) -> list[_Line]:
    """The logical lines, with `ifplugin` blocks resolved; `if` expressions are not evaluated
    here (their block is skipped, and said so)."""
    out: list[_Line] = []
    active: list[bool] = []
    for number, raw in enumerate(text.split("\n"), 1):
        raw = uncommented(raw)
        if not raw:
            continue
        key, value = split_keyword(raw)
        if key == "ifplugin":
            name = value.removeprefix("Mail::SpamAssassin::Plugin::")
            active.append(bool(value) and (value in plugins or name in plugins))
        elif key == "if":
            refused.append(f"line {number}: `if` is not evaluated in user_prefs; block skipped")
            active.append(False)
        elif key == "else":
            if active:
                active[-1] = not active[-1]
        elif key == "endif":
            if active:
                active.pop()
        elif all(active):
            out.append(_Line(key, value, number))
    return out


def _score(line: _Line, prefs: UserPreferences) -> None:
    parts = line.value.split()
    if len(parts) not in (2, 5) or not all(_SCORE.fullmatch(p) for p in parts[1:]):
        prefs.refused.append(f"line {line.src}: score: expected NAME and 1 or 4 numbers")
        return
    prefs.scores[parts[0]] = tuple(float(p) for p in parts[1:])
    prefs.applied += 1
