"""VBounce checks: is this bounce about mail that really left through our own relays?

Virus and spam "bounces" (backscatter) quote a message we never sent. When the user lists
the relays their outgoing mail passes (`welcomelist_bounce_relays`), a bounce that quotes a
Received header naming one of them is genuine. SpamAssassin 4.0.1 looks for such a header in
the rendered body first and then in the raw body, where folded Received headers are joined.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spamkiln.runtime.context import MessageContext

__all__ = ["EVALS", "check_welcomelist_bounce_relays", "have_any_bounce_relays"]

_SETTING = "welcomelist_bounce_relays"
_QUOTED_RECEIVED = re.compile(rb"^[> ]*Received:", re.I)
_HOST_BETWEEN_SPACES = re.compile(rb" (\S+\.\S+) ")
_HOST_BETWEEN_BLANKS = re.compile(rb"\s(\S+\.\S+)\s", re.S)
_RECEIVED_ANYWHERE = re.compile(rb"Received:", re.I)
_LINE = re.compile(rb"^(.*)$", re.M)
_GLOB_PROTECT = re.compile(r"[\x00\\(]")
_GLOB_ESCAPE = re.compile(r"([^*?_a-zA-Z0-9])")
_GLOB_STARS = re.compile(r"\*+")


def _relay_globs(ctx: MessageContext) -> tuple[str, ...]:
    return tuple(ctx.config.strings(_SETTING))


@lru_cache(maxsize=16)
def _relay_matcher(globs: tuple[str, ...]) -> tuple[frozenset[bytes], re.Pattern[bytes] | None]:
    """Exact names plus one pattern for the globs (`*` any string, `?` one character)."""
    exact = frozenset(g.lower().encode("utf-8", "surrogateescape") for g in globs)
    patterns = []
    for glob in globs:
        text = _GLOB_PROTECT.sub("_", glob.lower())
        text = _GLOB_ESCAPE.sub(r"\\\1", text).replace("?", ".")
        patterns.append(_GLOB_STARS.sub(".*", text))
    if not patterns:
        return exact, None
    joined = "|".join(f"(?:{p})" for p in patterns)
    return exact, re.compile(f"^(?:{joined})\\n?\\Z".encode("utf-8", "surrogateescape"), re.S)


def _is_our_relay(host: bytes, globs: tuple[str, ...]) -> bool:
    exact, pattern = _relay_matcher(globs)
    host = host.lower()
    return host in exact or (pattern is not None and pattern.match(host) is not None)


def have_any_bounce_relays(ctx: MessageContext, *_: str) -> bool:
    """__HAVE_BOUNCE_RELAYS: the user told us which relays their own mail leaves through."""
    return bool(_relay_globs(ctx))


def check_welcomelist_bounce_relays(ctx: MessageContext, *_: str) -> bool:
    """__MY_SERVERS_FOUND: a quoted Received header names one of our outgoing relays."""
    globs = _relay_globs(ctx)
    if not globs:
        return False
    for line in ctx.body_lines:
        if _QUOTED_RECEIVED.match(line):
            for m in _HOST_BETWEEN_SPACES.finditer(line):
                if _is_our_relay(m.group(1), globs):
                    return True
    raw = ctx.msg.pristine_body
    if not _RECEIVED_ANYWHERE.search(raw):
        return False
    found_received = False
    header = b""
    for m in _LINE.finditer(raw):
        line = m.group(1)
        if not found_received:
            if not _QUOTED_RECEIVED.match(line):
                continue
            found_received = True
        # A folded header continues on lines starting with white space (bug 5912).
        header = header + line if line[:1].isspace() else line
        if not _QUOTED_RECEIVED.match(header):
            continue
        for host in _HOST_BETWEEN_BLANKS.finditer(header):
            if _is_our_relay(host.group(1), globs):
                return True
    return False


EVALS = {
    "check_welcomelist_bounce_relays": check_welcomelist_bounce_relays,
    "check_whitelist_bounce_relays": check_welcomelist_bounce_relays,
    "have_any_bounce_relays": have_any_bounce_relays,
}
