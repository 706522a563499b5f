"""The `User:` header: which preferences apply, read without ever leaving the user's folder.

This module finds and reads the file; what its lines mean is the runtime's business
(`runtime.user_prefs`: user-level settings and `score` lines over the global configuration,
rules and admin settings refused, as SpamAssassin's parse_scores_only does).

Paths are opened one component at a time with `O_NOFOLLOW` from the user's home (or the
`--virtual-config-dir` base), so a symlink or a `..` planted by a user, or sent in a `User:`
header, cannot make spamd read a file outside that folder. spamd itself would follow both.
Nothing is ever created or written (`-c` is accepted and ignored).
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .sqlprefs import SqlPrefsSource

__all__ = ["UnknownUser", "UserConfig", "UserPrefs", "safe_component", "virtual_dir_parts"]

PREFS_FILE = "user_prefs"
# Ours: a user_prefs file is a few lines; refuse to read a huge one into every request.
MAX_PREFS_BYTES = 256 * 1024
# spamd's --virtual-config-dir sanitising: every other character becomes `_`.
_UNSAFE_NAME_CHARS = re.compile(r"[^-A-Za-z0-9+_.,@=]")


class UnknownUser(Exception):
    """--paranoid: an unknown user ends the request without a reply (spamd dies for it)."""


@dataclass(frozen=True)
class UserPrefs:
    """A user's preferences file as read: its text (empty: none) and where it came from."""

    text: str = ""
    source: str = ""


def safe_component(text: str) -> bool:
    """A single path component that cannot climb or descend: no `/`, NUL, `.` or `..`."""
    return bool(text) and text not in (".", "..") and "/" not in text and "\0" not in text


def _open_confined(base: str, parts: Sequence[str]) -> bytes | None:
    """Read base/parts[0]/.../parts[-1], refusing symlinks and `..` after the base."""
    if not parts or not all(safe_component(p) for p in parts):
        return None
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fds: list[int] = []
    try:
        fds.append(os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        for part in parts[:-1]:
            fds.append(os.open(part, flags_dir, dir_fd=fds[-1]))
        fd = os.open(
            parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fds[-1]
        )
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_PREFS_BYTES:
            return None
        return os.read(fd, MAX_PREFS_BYTES + 1)[:MAX_PREFS_BYTES]
    except OSError as exc:
        if exc.errno not in (
            errno.ENOENT,
            errno.ENOTDIR,
            errno.ELOOP,
            errno.EACCES,
            errno.EPERM,
            errno.ENAMETOOLONG,
        ):
            raise
        return None
    finally:
        for fd in reversed(fds):
            with contextlib.suppress(OSError):
                os.close(fd)


def virtual_dir_parts(
    pattern: str, username: str, prefs_exists: Callable[[str, list[str]], bool]
) -> tuple[str, list[str]] | None:
    """Expand --virtual-config-dir into (fixed base, per-user components).

    The user's part may not be `.`/`..` nor contain `/` (spamd's sanitising keeps dots, so
    `User: ..` would climb out of the base there). None when the expansion is unsafe.
    """
    safe = _UNSAFE_NAME_CHARS.sub("_", username)
    local, domain = "", ""
    if "@" in safe:
        local, domain = safe.rsplit("@", 1)
    first = pattern.find("%")
    if first < 0:
        return pattern, []
    slash = pattern.rfind("/", 0, first)
    base = pattern[: slash + 1] if slash >= 0 else "."
    template = pattern[slash + 1 :]

    def expand(value_for_x: str) -> list[str]:
        out = template.replace("%%", "\0")
        out = out.replace("%x", value_for_x).replace("%u", safe)
        out = out.replace("%l", local).replace("%d", domain).replace("\0", "%")
        return [p for p in out.split("/") if p != ""]

    if "%x" in template:
        parts = expand(safe)
        if not (all(safe_component(p) for p in parts) and prefs_exists(base, parts)):
            parts = expand(domain)
    else:
        parts = expand(safe)
    if not parts or not all(safe_component(p) for p in parts):
        return None
    return base, parts


class UserConfig:
    """Per-request user handling, configured once from the command line."""

    def __init__(
        self,
        *,
        user_config: bool,
        virtual_config_dir: str | None,
        running_with_u: bool,
        paranoid: bool,
        create_prefs: bool,
        info: Callable[[str], None],
        dbg: Callable[[str], None],
    ) -> None:
        self.user_config = user_config
        self.virtual_config_dir = virtual_config_dir
        self.running_with_u = running_with_u
        self.paranoid = paranoid
        self.create_prefs = create_prefs
        self.sql: SqlPrefsSource | None = None  # set with -q, once the ruleset is loaded
        self.info, self.dbg = info, dbg

    def add_sql(self, prefs: UserPrefs, username: str | None) -> UserPrefs:
        """With -q: the user's SQL rows after their file's lines (no `User:` reads `nobody`'s).
        Raises SqlPrefsError, which the request answers with 69."""
        if self.sql is None:
            return prefs
        name = username or "nobody"
        rows = self.sql.fetch(name)
        self.dbg(f"spamd: read {rows.count(chr(10))} SQL preference rows for {name}")
        source = f"{prefs.source} + SQL" if prefs.source else f"SQL ({name})"
        return UserPrefs(prefs.text + "\n" + rows if prefs.text else rows, source)

    def lookup(self, username: str) -> UserPrefs:
        if self.user_config:
            return self._home_prefs(username)
        if self.virtual_config_dir:
            return self._virtual_prefs(username)
        return UserPrefs()  # -x alone: the name is only logged

    def _home_prefs(self, username: str) -> UserPrefs:
        try:
            entry = pwd.getpwnam(username) if safe_component(username) else None
        except (KeyError, UnicodeEncodeError, ValueError):
            entry = None
        if entry is None:
            where = "userdir" if self.running_with_u else "getpwnam"
            message = f"spamd: handle_user ({where}) unable to find user: '{username}'"
            if self.paranoid:
                raise UnknownUser(message)
            self.info(message)
            return UserPrefs()
        source = os.path.join(entry.pw_dir, ".spamassassin", PREFS_FILE)
        data = _open_confined(entry.pw_dir, [".spamassassin", PREFS_FILE])
        if data is None:
            if self.create_prefs:
                self.dbg(
                    f"spamd: not creating default_prefs: {source} (spamkiln never writes "
                    "into home directories)"
                )
            return UserPrefs()
        return self._apply(username, data, source)

    def _virtual_prefs(self, username: str) -> UserPrefs:
        assert self.virtual_config_dir is not None
        expanded = virtual_dir_parts(
            self.virtual_config_dir,
            username,
            lambda base, parts: _open_confined(base, [*parts, PREFS_FILE]) is not None,
        )
        if expanded is None:
            self.info(f"spamd: unsafe virtual config dir for {username}: using defaults")
            return UserPrefs()
        base, parts = expanded
        source = os.path.join(base, *parts, PREFS_FILE)
        self.info(f"spamd: using default config for {username}: {source}")
        data = _open_confined(base, [*parts, PREFS_FILE])
        return self._apply(username, data, source) if data is not None else UserPrefs()

    def _apply(self, username: str, data: bytes, source: str) -> UserPrefs:
        self.dbg(f"spamd: read {len(data)} bytes of per-user config for {username}: {source}")
        return UserPrefs(data.decode("utf-8", "surrogateescape"), source)
