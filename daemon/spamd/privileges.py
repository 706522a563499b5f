"""`-u`/`-g`: the identity children scan as.

The master stays root (it owns the sockets, forks and writes the pid file); every child drops
to the target user for good right after the fork, before it touches a client. Started as root
without `-u`, spamd would setuid per request and fall back to `nobody`; spamkiln has no
per-user setuid, so its children simply run as `--default-user` (nobody): a scan never runs as
root either way. `-u root` is refused at start-up — spamd accepts it and then re-forks dying
children ten times a second.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass

from .errors import UsageError

__all__ = ["Identity", "drop_privileges", "resolve_identity"]


@dataclass(frozen=True)
class Identity:
    name: str
    uid: int
    gid: int
    home: str


def resolve_identity(
    username: str | None, groupname: str | None, default_user: str = "nobody"
) -> Identity | None:
    """Who children become; None when no switch is needed (not root, no -u)."""
    is_root = os.geteuid() == 0
    if username is None and not is_root:
        return None
    name = username if username is not None else default_user
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise UsageError(
            f"spamd: unable to determine home directory for user '{name}'", exit_status=1
        ) from None
    if entry.pw_uid == 0:
        raise UsageError(
            "spamd: cannot run as nonexistent user or root with -u option", exit_status=1
        )
    gid = entry.pw_gid
    if groupname is not None:
        try:
            gid = grp.getgrnam(groupname).gr_gid
        except KeyError:
            raise UsageError(f"spamd: unknown group '{groupname}'", exit_status=1) from None
    if not is_root:
        if entry.pw_uid != os.geteuid():
            raise UsageError(
                f"spamd: -u {name} needs root (running as uid {os.geteuid()})", exit_status=1
            )
        return None
    return Identity(entry.pw_name, entry.pw_uid, gid, entry.pw_dir)


def drop_privileges(identity: Identity | None) -> None:
    """In the child: give up root for good (real, effective and saved ids, and groups)."""
    if identity is None:
        return
    os.setgroups([])
    os.initgroups(identity.name, identity.gid)
    os.setresgid(identity.gid, identity.gid, identity.gid)
    os.setresuid(identity.uid, identity.uid, identity.uid)
    if os.getuid() != identity.uid or os.geteuid() != identity.uid:
        raise OSError(f"setuid to {identity.name} did not take effect")
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise OSError("root privileges could be regained after dropping them")
    os.environ["HOME"] = identity.home
