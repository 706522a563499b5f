"""spamd -q: per-user preferences from SQL, with SQLite and with a real PostgreSQL server, and
the C spamc getting the same answers from our spamd as from Debian's reading the same table."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from spamkiln.compiler.pipeline import compile_files, write_module
from spamkiln.compiler.sources import spamassassin_inputs
from spamkiln.daemon.spamd.sqlprefs import SqlPrefsError, SqlPrefsSource
from spamkiln.runtime.config import Config

from ..postgres_server import PostgresServer, start_postgres
from .conftest import DebianSpamd, c_spamc, corpus_message, start_debian_spamd
from .spamd_harness import ROOT, OurSpamd, exchange, running_spamd, world_readable_dir

SPAM = corpus_message("spam-1")
SCHEMA = "CREATE TABLE userpref (username varchar(100), preference varchar(50), value varchar(255))"
ROWS = [
    ("@GLOBAL", "required_score", "4.0"),
    ("alice", "required_score", "2.5"),
    ("alice", "add_header", "all Sql alice"),
    ("bob", "welcomelist_from", "*"),
    ("dave", "header", "DAVE_RULE Subject =~ /./"),
    ("dave", "score", "DAVE_RULE 50"),
    ("@~example.org", "required_score", "7.5"),
    ("carol@example.org", "score", "NO_SUCH_RULE 1"),
]
CUSTOM = (
    "SELECT preference, value FROM _TABLE_ WHERE username = _USERNAME_ OR username = '@GLOBAL'"
    " OR username = '@~' || _DOMAIN_ ORDER BY username ASC"
)


def fill(db, marker: str) -> None:
    db.execute(SCHEMA)
    for row in ROWS:
        db.execute(f"INSERT INTO userpref VALUES ({marker}, {marker}, {marker})", row)


def source(dsn: str, query: str | None = None) -> SqlPrefsSource:
    settings: dict[str, object] = {"user_scores_dsn": dsn, "user_scores_sql_username": "postgres"}
    if query:
        settings["user_scores_sql_custom_query"] = query
    return SqlPrefsSource.from_config(Config(settings))


@pytest.fixture(scope="module")
def sqlite_db() -> Iterator[Path]:
    folder = world_readable_dir("spamd-sql-")  # spamd's children read it as nobody
    path = folder / "prefs.db"
    with sqlite3.connect(path) as db:
        fill(db, "?")
    path.chmod(0o644)
    try:
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        with server.connect() as db:
            fill(db, "%s")
        yield server
    finally:
        server.stop()


def pg_dsn(server: PostgresServer) -> str:
    return f"DBI:Pg:dbname={server.dbname};host={server.host};port={server.port}"


# --------------------------------------------------------------------------- the source


@pytest.mark.parametrize("engine", ["sqlite", "pg"])
def test_rows_in_spamassassins_order(
    engine: str, sqlite_db: Path, postgres: PostgresServer
) -> None:
    dsn = f"DBI:SQLite:dbname={sqlite_db}" if engine == "sqlite" else pg_dsn(postgres)
    prefs = source(dsn)
    assert prefs.fetch("alice") == (
        "required_score 4.0\nrequired_score 2.5\nadd_header all Sql alice\n"
    )  # @GLOBAL sorts first, so the user's own rows win
    assert prefs.fetch("nobody") == "required_score 4.0\n"
    assert prefs.fetch("x' OR '1'='1") == "required_score 4.0\n"  # a bound value, not SQL
    custom = source(dsn, CUSTOM)
    assert custom.fetch("carol@example.org") == (
        "required_score 4.0\nrequired_score 7.5\nscore NO_SUCH_RULE 1\n"
    )


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("", "not a DBI:driver"),
        ("DBI:mysql:database=x", "driver 'mysql' is not supported"),
        ("DBI:SQLite:", "needs dbname"),
    ],
)
def test_bad_dsn(dsn: str, message: str) -> None:
    with pytest.raises(SqlPrefsError, match=message):
        source(dsn)


def test_unreachable_databases_fail_the_lookup(tmp_path: Path, postgres: PostgresServer) -> None:
    with pytest.raises(SqlPrefsError):
        source(f"DBI:SQLite:dbname={tmp_path}/missing.db").fetch("alice")
    with pytest.raises(SqlPrefsError):
        source(f"DBI:Pg:dbname=nope;host=127.0.0.1;port={postgres.port}").fetch("alice")
    with pytest.raises(SqlPrefsError):
        source(f"DBI:SQLite:dbname={tmp_path}/x.db", "SELECT nothing FROM nowhere").fetch("a")


# --------------------------------------------------------------------------- spamd -q


def compiled_with(tmp: Path, lines: str) -> Path:
    extra = tmp / "zz_sql.cf"
    extra.write_text(lines)
    result = compile_files(
        [*spamassassin_inputs(), ROOT / "tests" / "fixtures" / "zz_golden.cf", extra]
    )
    assert not result.diagnostics.errors
    out = tmp / "ruleset"
    write_module(result, out)
    return out


SQL_ARGS = ["-q", "-x", "-u", "nobody", "-m", "1"]
# SpamAssassin's answer when the preferences cannot be read (spamd.md section 2.3)
UNAVAILABLE = b"SPAMD/1.0 69 Service Unavailable: Error fetching user preferences via SQL\r\n"


@pytest.fixture(scope="module")
def sqlite_servers(
    sqlite_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DebianSpamd, OurSpamd]]:
    dsn = f"user_scores_dsn DBI:SQLite:dbname={sqlite_db}"
    ruleset = compiled_with(tmp_path_factory.mktemp("sql-ruleset"), dsn + "\n")
    with tempfile.TemporaryDirectory(prefix="spamkiln-spamd-") as tmp:
        Path(tmp).chmod(0o755)
        theirs = start_debian_spamd(Path(tmp), [*SQL_ARGS, "--cf", dsn])
        try:
            with running_spamd(
                tmp_path_factory.mktemp("spamd-sql"), ruleset, ["-L", *SQL_ARGS]
            ) as ours:
                yield theirs, ours
        finally:
            theirs.stop()


def both(servers: tuple[DebianSpamd, OurSpamd], args: list[str]) -> bytes:
    theirs, ours = servers
    their_run = c_spamc(["-p", str(theirs.port), *args], SPAM)
    our_run = c_spamc(["-p", str(ours.port), *args], SPAM)
    assert (our_run.rc, our_run.out) == (their_run.rc, their_run.out), our_run.err
    return their_run.out


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (["-u", "alice"], b"/2.5\n"),  # the user's row after the global one
        (["-u", "nobody"], b"/4.0\n"),  # only @GLOBAL
        ([], b"/4.0\n"),  # no User header: nobody's preferences
        (["-u", "dave"], b"/4.0\n"),  # a rule line is refused, its score has no rule
    ],
)
def test_c_spamc_gets_the_same_from_both(sqlite_servers, user: list[str], expected: bytes) -> None:
    assert both(sqlite_servers, [*user, "-c"]).endswith(expected)
    both(sqlite_servers, [*user, "-y"])


def test_welcomelist_from_sql(sqlite_servers) -> None:
    assert b"USER_IN_WELCOMELIST" in both(sqlite_servers, ["-u", "bob", "-y"])


def test_postgres_with_both(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same table in PostgreSQL: our spamd and Debian's (DBD::Pg) answer alike."""
    lines = [f"user_scores_dsn {pg_dsn(postgres)}", "user_scores_sql_username postgres"]
    ruleset = compiled_with(tmp_path_factory.mktemp("pg-ruleset"), "\n".join(lines) + "\n")
    cf = [arg for line in lines for arg in ("--cf", line)]
    with tempfile.TemporaryDirectory(prefix="spamkiln-spamd-") as tmp:
        Path(tmp).chmod(0o755)
        theirs = start_debian_spamd(Path(tmp), [*SQL_ARGS, *cf])
        try:
            with running_spamd(
                tmp_path_factory.mktemp("spamd-pg"), ruleset, ["-L", *SQL_ARGS]
            ) as ours:
                servers = (theirs, ours)
                assert both(servers, ["-u", "alice", "-c"]).endswith(b"/2.5\n")
                assert b"USER_IN_WELCOMELIST" in both(servers, ["-u", "bob", "-y"])
                assert both(servers, ["-c"]).endswith(b"/4.0\n")
        finally:
            theirs.stop()


def test_a_failed_lookup_answers_69(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("sql-missing")
    ruleset = compiled_with(folder, f"user_scores_dsn DBI:SQLite:dbname={folder}/gone.db\n")
    with running_spamd(folder / "spamd", ruleset, ["-L", *SQL_ARGS]) as ours:
        reply = exchange(
            ("127.0.0.1", ours.port),
            b"CHECK SPAMC/1.5\r\nUser: alice\r\nContent-length: 5\r\n\r\nHi.\r\n",
        )
        assert reply == UNAVAILABLE
        assert "SQL user preferences for alice" in ours.log_text()
