"""Turn a rule file into logical lines, the way SpamAssassin's `Conf::Parser` lexes them.

Comment removal and `\\#` un-escaping happen here, before the grammar sees a line, because they
apply to every directive alike (a `#` inside a regex must be written `\\#`). The `lang XX`
prefix is also resolved here: it selects lines by the locale, not by syntax.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from spamkiln.runtime.settings_builder import split_keyword, uncommented

from .ir import Source

__all__ = ["Line", "current_locale", "file_digest", "lex_text", "read_text"]

_LANG = re.compile(r"lang\s+(\S+)\s+(.*)", re.I | re.S)


@dataclass(frozen=True, slots=True)
class Line:
    """One non-empty configuration line: its normalised keyword and the rest."""

    src: Source
    key: str  # lower-cased, `-` turned into `_`
    value: str  # the rest of the line, stripped ("" when there is none)

    @property
    def text(self) -> str:
        return f"{self.key} {self.value}" if self.value else self.key


def current_locale() -> str:
    """The locale SpamAssassin would pick for `lang` lines (en_US when unset, C or POSIX)."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if var == "LANGUAGE":
            value = value.split(":")[0]
        if value:
            value = re.sub(r"[.@].*", "", value)
            return "en_US" if value in ("C", "POSIX") else value
    return "en_US"


def read_text(path: Path) -> str:
    """Rule files are bytes; keep every byte round-trippable (surrogateescape) for regexes."""
    return path.read_bytes().decode("utf-8", "surrogateescape")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lex_text(text: str, filename: str, locale: str = "en_US") -> Iterator[Line]:
    """Yield the logical lines of one file; `lang` lines for another locale are dropped."""
    for number, raw in enumerate(text.split("\n"), 1):
        raw = uncommented(raw)
        if not raw:
            continue
        lang = _LANG.fullmatch(raw)
        if lang:
            if not re.match(re.escape(lang.group(1)), locale, re.I):
                continue
            raw = lang.group(2).strip()
        key, value = split_keyword(raw)
        yield Line(Source(filename, number), key, value)
