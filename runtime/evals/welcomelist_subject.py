"""WelcomeListSubject checks: the user's Subject glob lists (SUBJECT_IN_WELCOMELIST/BLOCKLIST).

Unlike address lists, a subject glob is not anchored: `*free*` and `free` both hit any Subject
containing "free" (SpamAssassin 4.0.1 compiles each entry as a bare regex and searches the
lower-cased, decoded Subject with it).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spamkiln.runtime.addrlists import glob_pattern
from spamkiln.runtime.config import Config
from spamkiln.runtime.context import MessageContext

from ._per_config import per_config
from ._sa_get import get_scalar

__all__ = ["EVALS", "check_subject_in_blocklist", "check_subject_in_welcomelist"]


class _SubjectList:
    __slots__ = ("entries", "pattern")

    def __init__(self, entries: list[str]) -> None:
        self.entries = frozenset(e.lower().encode("utf-8", "surrogateescape") for e in entries)
        sources = sorted({glob_pattern(e, anchored=False) for e in self.entries})
        self.pattern = re.compile(b"|".join(sources)) if sources else None

    def matches(self, subject: bytes) -> bool:
        subject = subject.lower()
        if subject in self.entries:
            return True
        return self.pattern is not None and self.pattern.search(subject) is not None


def _subject_list(config: Config, name: str) -> _SubjectList:
    def build(c: Config) -> _SubjectList:
        entries = c.get(name)
        return _SubjectList([str(e) for e in entries] if isinstance(entries, (list, tuple)) else [])

    return per_config(config, f"subjectlist:{name}", build)


def _subject_in(ctx: MessageContext, name: str) -> bool:
    listed = _subject_list(ctx.config, name)
    if listed.pattern is None:
        return False
    subject = get_scalar(ctx, "Subject")
    return subject != b"" and listed.matches(subject)


def check_subject_in_welcomelist(ctx: MessageContext, *_args: str) -> bool:
    return _subject_in(ctx, "welcomelist_subject")


def check_subject_in_blocklist(ctx: MessageContext, *_args: str) -> bool:
    return _subject_in(ctx, "blocklist_subject")


EVALS: dict[str, Callable[..., object]] = {
    "check_subject_in_welcomelist": check_subject_in_welcomelist,
    "check_subject_in_whitelist": check_subject_in_welcomelist,
    "check_subject_in_blocklist": check_subject_in_blocklist,
    "check_subject_in_blacklist": check_subject_in_blocklist,
}
