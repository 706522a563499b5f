"""`spamkiln-spamd`: start-up in spamd's order, then hand over to the arbiter.

1. options and logging; 2. option checks (users, TLS files, -A) before anything is bound;
3. listening sockets, as the starting user (root: ports < 1024); 4. the ruleset, once, in the
master; 5. `-d`; 6. the start line, the pid file, the `server pid` line — only now is the
launcher released, so a pid file on disk means spamd answers; 7. the children.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from spamkiln.runtime.errors import SpamkilnError

from .access import AllowedClients
from .arbiter import Arbiter, PoolLimits
from .commands import Commands, CommandSettings
from .daemonize import daemonize, remove_pidfile, write_pidfile
from .errors import UsageError
from .listeners import absolute_path, bind_all, close_all, parse_listen_specs
from .logging import LogTarget, get_logger, parse_target, setup_logging
from .options import SA_VERSION, VERSION, Options, parse_options
from .privileges import resolve_identity
from .scanning import load_scanner
from .sqlprefs import SqlPrefsError, SqlPrefsSource
from .tls import server_context
from .userconf import UserConfig
from .worker import WorkerConfig

__all__ = ["main", "run"]


def _build_commands(options: Options, ruleset_dir: Path, log: object, *, fresh: bool) -> Commands:
    info = log.info  # type: ignore[attr-defined]
    dbg = log.debug  # type: ignore[attr-defined]
    users = UserConfig(
        user_config=options.user_config,
        virtual_config_dir=options.virtual_config_dir,
        running_with_u=options.username is not None,
        paranoid=options.paranoid,
        create_prefs=options.create_prefs,
        info=info,
        dbg=dbg,
    )
    settings = CommandSettings(
        allow_tell=options.allow_tell,
        max_message_size=options.max_message_size,
        timing=options.timing,
    )
    scanner = load_scanner(ruleset_dir, fresh=fresh)
    if options.sql_config:
        try:
            users.sql = SqlPrefsSource.from_config(scanner.config)
        except SqlPrefsError as exc:
            raise UsageError(f"spamd: --sql-config: {exc}") from None
    commands = Commands(scanner, settings, users, log)
    commands.preload()
    return commands


def run(argv: Sequence[str] | None = None) -> int:
    """The whole daemon; returns the process exit status."""
    try:
        options = parse_options(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return exc.exit_status
    start_dir = os.getcwd()
    try:
        target = parse_target(options.syslog, options.syslog_socket, start_dir)
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return exc.exit_status
    if target.kind == "syslog" and not os.path.exists("/dev/log"):
        target = LogTarget("stderr")  # spamd falls back to stderr when syslog is unusable
    handler = setup_logging(target, debug=options.debug, timestamp_fmt=options.log_timestamp_fmt)
    log = get_logger()
    for warning in options.warnings:
        log.warning(warning)

    listeners = []
    pidfile = absolute_path(options.pidfile) if options.pidfile else None
    try:
        identity = resolve_identity(options.username, options.groupname, options.default_user)
        allowed = AllowedClients.parse(options.allowed_ips)
        tls = None
        if options.ssl:
            tls = server_context(
                options.server_cert,
                options.server_key,
                verify=options.ssl_verify,
                ca_file=options.ssl_ca_file,
                ca_path=options.ssl_ca_path,
            )
        entries = [e if not e.startswith("/") else absolute_path(e) for e in options.listen or []]
        socketpath = absolute_path(options.socketpath) if options.socketpath else None
        groups = parse_listen_specs(
            entries,
            socketpath,
            port=options.port,
            ssl=options.ssl,
            ssl_port=options.ssl_port,
            ipv4_only=options.ipv4_only,
            ipv6_only=options.ipv6_only,
        )
        ruleset_dir = Path(absolute_path(str(options.ruleset_dir)))
        listeners = bind_all(
            groups,
            socketowner=options.socketowner,
            socketgroup=options.socketgroup,
            socketmode=options.socketmode,
            warn=log.warning,
        )
        commands = _build_commands(options, ruleset_dir, log, fresh=False)
    except (UsageError, SpamkilnError, OSError) as exc:
        close_all(listeners)
        status = exc.exit_status if isinstance(exc, UsageError) else 1
        message = str(exc) if isinstance(exc, UsageError) else f"spamd: cannot start: {exc}"
        log.error(message)
        if target.kind != "stderr":
            sys.stderr.write(message + "\n")
        return status

    ready = daemonize() if options.daemonize else (lambda: None)
    started_on = ", ".join(listener.describe() for listener in listeners)
    log.info(
        f"spamd: server started on {started_on} (running version {SA_VERSION}, spamkiln {VERSION})"
    )
    if pidfile:
        write_pidfile(pidfile)
    log.info(f"spamd: server pid: {os.getpid()}")
    ready()

    arbiter = Arbiter(
        listeners=listeners,
        commands=commands,
        reload_commands=lambda: _build_commands(options, ruleset_dir, log, fresh=True),
        worker_config=WorkerConfig(
            options.timeout_tcp, options.timeout_child, options.max_conn_per_child, allowed, tls
        ),
        limits=PoolLimits(
            options.max_children, options.min_children, options.min_spare, options.max_spare
        ),
        identity=identity,
        log=log,
        log_handler=handler,
        pidfile=pidfile,
        graceful_timeout=options.graceful_timeout,
    )
    try:
        return arbiter.run()
    finally:
        remove_pidfile(pidfile, arbiter.pid)
        close_all(listeners)


def main() -> None:
    sys.exit(run())
