"""Per-user preferences from SQL (spamd -q): SpamAssassin's `user_scores_dsn` and its query.

The admin settings come from the compiled global configuration: `user_scores_dsn`
(`DBI:SQLite:dbname=PATH`, or `DBI:Pg:dbname=NAME;host=HOST;port=PORT`), the optional
`user_scores_sql_username` / `user_scores_sql_password`, and `user_scores_sql_custom_query`.
The default query reads `preference, value` from table `userpref` for the user **or**
`@GLOBAL`, ordered by username, so the user's rows come after (and win over) the global ones.
A custom query may name `_TABLE_`, `_USERNAME_`, `_MAILBOX_` and `_DOMAIN_`; SpamAssassin
quotes the values into the text, here they become bound parameters, which is the same for
the database and cannot be turned into an injection by a crafted `User:` header.

Each lookup opens its own connection, as SpamAssassin's does: a child never holds a broken one.
Any failure is a `SqlPrefsError`, which spamd answers with 69 (SpamAssassin 4.0.1's fallback
setting never takes effect, so it fails the same way).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from spamkiln.runtime.config import Config
from spamkiln.runtime.errors import SpamkilnError

__all__ = ["SqlPrefsError", "SqlPrefsSource"]

TABLE = "userpref"
DEFAULT_QUERY = (
    "SELECT preference, value FROM _TABLE_ WHERE username = _USERNAME_ "
    "OR username = '@GLOBAL' ORDER BY username ASC"
)
_TOKENS = re.compile(r"_(USERNAME|MAILBOX|DOMAIN)_")
_DSN = re.compile(r"dbi:(\w+):(.*)", re.I | re.S)
# Seconds a lookup may wait for the database before the request fails with 69.
CONNECT_TIMEOUT = 10


class SqlPrefsError(SpamkilnError):
    """The preferences could not be read (bad DSN, unreachable database, failed query)."""


@dataclass(frozen=True)
class SqlPrefsSource:
    driver: str  # "SQLite" or "Pg"
    params: dict[str, str]  # the DSN's key=value pairs
    username: str | None
    password: str | None
    query: str

    @classmethod
    def from_config(cls, config: Config) -> SqlPrefsSource:
        """The source the global configuration describes; SqlPrefsError when it cannot work."""
        dsn = str(config.get("user_scores_dsn") or "")
        m = _DSN.fullmatch(dsn.strip())
        if not m:
            raise SqlPrefsError(f"user_scores_dsn is not a DBI:driver:... DSN: {dsn!r}")
        driver = {"sqlite": "SQLite", "pg": "Pg"}.get(m.group(1).lower())
        if driver is None:
            raise SqlPrefsError(
                f"user_scores_dsn: driver {m.group(1)!r} is not supported (SQLite and Pg are)"
            )
        params = {}
        for part in m.group(2).split(";"):
            key, sep, value = part.partition("=")
            if sep:
                params[key.strip().lower()] = value.strip()
        if driver == "SQLite" and not (params.get("dbname") or params.get("database")):
            raise SqlPrefsError("user_scores_dsn: DBI:SQLite needs dbname=PATH")
        if driver == "Pg":
            _load_psycopg()  # now, in the master: its children may not be able to read the files
        query = str(config.get("user_scores_sql_custom_query") or DEFAULT_QUERY)
        return cls(
            driver,
            params,
            _text_or_none(config.get("user_scores_sql_username")),
            _text_or_none(config.get("user_scores_sql_password")),
            query,
        )

    def fetch(self, user: str) -> str:
        """The user's (and @GLOBAL's) rows as `preference value` lines, in the query's order."""
        sql, values = self._bind(user)
        try:
            rows = _DRIVERS[self.driver](self, sql, values)
        except SqlPrefsError:
            raise
        except Exception as exc:  # every driver error means the same to the client: 69
            raise SqlPrefsError(f"{type(exc).__name__}: {exc}") from None
        return "".join(f"{pref} {value}\n" for pref, value in rows if pref is not None)

    def _bind(self, user: str) -> tuple[str, list[str]]:
        """The query with its tokens as placeholders (`?` or `%s`), and the values for them."""
        mailbox, _, domain = user.rpartition("@") if "@" in user else (user, "", "")
        value_of = {"USERNAME": user, "MAILBOX": mailbox, "DOMAIN": domain}
        marker = "?" if self.driver == "SQLite" else "%s"
        values: list[str] = []

        def bind(m: re.Match[str]) -> str:
            values.append(value_of[m.group(1)])
            return marker

        text = self.query.replace("_TABLE_", TABLE)
        if self.driver == "Pg":
            text = text.replace("%", "%%")  # a literal % in the query, not a placeholder
        return _TOKENS.sub(bind, text), values


def _text_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _sqlite_rows(source: SqlPrefsSource, sql: str, values: Sequence[str]) -> list[tuple]:
    path = source.params.get("dbname") or source.params.get("database") or ""
    uri = "file:" + path.replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT)) as db:
        return list(db.execute(sql, list(values)))


def _load_psycopg():  # -> the psycopg module
    """Import psycopg and what it imports on first use. Only spamds configured for PostgreSQL
    pay for it, and they pay in the master, before the fork and the switch to the -u user, who
    may not be able to read the Python installation's files."""
    try:
        import psycopg
        import psycopg.pq
        import psycopg.types.string
    except ImportError as exc:
        raise SqlPrefsError(f"DBI:Pg needs the psycopg package: {exc}") from None
    psycopg.pq.version()  # loads libpq now
    return psycopg


def _pg_rows(source: SqlPrefsSource, sql: str, values: Sequence[str]) -> list[tuple]:
    psycopg = _load_psycopg()
    keys = {"dbname": "dbname", "database": "dbname", "host": "host", "port": "port"}
    kwargs: dict[str, object] = {keys[k]: v for k, v in source.params.items() if k in keys and v}
    if source.username is not None:
        kwargs["user"] = source.username
    if source.password is not None:
        kwargs["password"] = source.password
    with psycopg.connect(connect_timeout=CONNECT_TIMEOUT, autocommit=True, **kwargs) as db:
        return list(db.execute(sql, list(values)))  # type: ignore[call-overload]


_DRIVERS: dict[str, Callable[[SqlPrefsSource, str, Sequence[str]], list[tuple]]] = {
    "SQLite": _sqlite_rows,
    "Pg": _pg_rows,
}
