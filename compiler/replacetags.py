"""ReplaceTags: expand `<TAG>` placeholders in the patterns of rules named by `replace_rules`.

Done once at compile time, after every line is read, as SpamAssassin's plugin does at the end of
parsing (rules.md section 13): pre/post/inter markers first, then up to six passes of textual
replacement. A tag without a definition stays literal.
"""

from __future__ import annotations

import re

from .errors import Diagnostics
from .ir import Ruleset
from .patterns import plan_pattern
from .regex import RegexError

__all__ = ["apply_replace_tags"]

_MARKER = {kind: re.compile(rf"<{kind}\s+([^>]+)>") for kind in ("pre", "post", "inter")}
_TAG = re.compile(r"<([^<>]+)>")
_SPLIT = re.compile(r"(<[^<>]+>)")
_MAX_PASSES = 6  # SpamAssassin stops after six rounds of nested tags
_EXPANDABLE = {"header", "body", "rawbody", "uri", "full"}


def apply_replace_tags(rs: Ruleset, diags: Diagnostics) -> None:
    settings = rs.settings
    names: list[str] = []
    for value in settings.pop("replace_rules", []):  # type: ignore[union-attr]
        names.extend(str(value).split())
    tags: dict[str, str] = dict(settings.get("replace_tag", {}))  # type: ignore[arg-type]
    pres: dict[str, str] = dict(settings.get("replace_pre", {}))  # type: ignore[arg-type]
    posts: dict[str, str] = dict(settings.get("replace_post", {}))  # type: ignore[arg-type]
    inters: dict[str, str] = dict(settings.get("replace_inter", {}))  # type: ignore[arg-type]
    for name in names:
        rule = rs.rules.get(name)
        if rule is None or rule.pattern is None or rule.type not in _EXPANDABLE:
            continue
        expanded = expand(rule.pattern, tags, pres, posts, inters)
        if expanded == rule.pattern:
            continue
        try:
            plan_pattern(expanded)
        except RegexError as exc:
            diags.warning(
                rule.src,
                f"{name}: ReplaceTags result does not compile ({exc}); "
                "keeping the pattern unreplaced",
            )
            continue
        rule.pattern = expanded


def expand(
    pattern: str,
    tags: dict[str, str],
    pres: dict[str, str],
    posts: dict[str, str],
    inters: dict[str, str],
) -> str:
    chosen: dict[str, str | None] = {}
    for kind, rx in _MARKER.items():
        m = rx.search(pattern)
        chosen[kind] = m.group(1).strip() if m else None
        if m:
            pattern = pattern[: m.start()] + pattern[m.end() :]
    pre = pres.get(chosen["pre"] or "", "") if chosen["pre"] else ""
    post = posts.get(chosen["post"] or "", "") if chosen["post"] else ""
    inter = inters.get(chosen["inter"] or "", "") if chosen["inter"] else ""
    if pre or post or inter:
        pieces = _SPLIT.split(pattern)
        while pieces and pieces[-1] == "":  # Perl's split drops trailing empty fields
            pieces.pop()
        out = []
        for i, piece in enumerate(pieces):
            if _TAG.fullmatch(piece):
                out.append(f"{pre}{piece}{post}")
            elif piece == "" and 0 < i < len(pieces) - 1:
                out.append(inter)
            else:
                out.append(piece)
        pattern = "".join(out)
    for _ in range(_MAX_PASSES):
        replaced = _TAG.sub(lambda m: tags.get(m.group(1), m.group(0)), pattern)
        if replaced == pattern:
            break
        pattern = replaced
        if not _TAG.search(pattern):
            break
    return pattern
