"""spamd's command line, declared once as a table of settings.

Each `Setting` names its attribute, its flags (SpamAssassin 4.0.1's, so an init script or a
systemd `OPTIONS=` line written for Debian's spamd works unchanged), its type, a validator,
its default and a description that doubles as `--help` text. Perl's Getopt::Long rules that
scripts rely on are kept where argparse can: long options may be abbreviated, short ones may be
bundled (`-dl`), `--no` negates the booleans that were negatable, and an unknown option prints
`Unknown option: NAME` and exits 64 (EX_USAGE), as spamd does.

Options that change what spamd does but that spamkiln cannot honour (SQL/LDAP preferences,
extra config lines) stop the start-up with a message instead of being silently ignored: a
drop-in that quietly scans with different settings is worse than one that refuses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from .errors import EX_OK, EX_USAGE, UsageError

__all__ = ["SETTINGS", "Options", "Setting", "build_parser", "parse_options", "usage_text"]

VERSION = "0.1.0"
SA_VERSION = "4.0.1"
# Default certificate paths of SpamAssassin's --ssl (spamd.md section 2.1).
DEFAULT_SERVER_KEY = "/etc/spamassassin/certs/server-key.pem"
DEFAULT_SERVER_CERT = "/etc/spamassassin/certs/server-cert.pem"
# Ours: SpamAssassin has no limit and keeps every byte in memory. 64 MiB is far above any
# spamc -s in real use (its default is 500 KiB) and bounds a child's memory, zlib included.
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024


def _int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        message = f'Value "{text}" invalid for option (number expected)'
        raise argparse.ArgumentTypeError(message) from None


def _octal_mode(text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--socketmode {text!r} is not an octal mode") from None
    if not 0 <= mode <= 0o7777:
        raise argparse.ArgumentTypeError(f"--socketmode {text!r} is out of range")
    return mode


@dataclass(frozen=True)
class Setting:
    """One option: what it is called, how it parses, and why it exists."""

    name: str
    flags: tuple[str, ...]
    help: str
    default: Any = None
    kind: str = "value"  # value | flag | append | optional | negatable | refused | removed
    type: Callable[[str], Any] = str
    const: Any = None
    metavar: str | None = None
    negations: tuple[str, ...] = ()  # extra flags that store False (Perl's `name!`)


SETTINGS: tuple[Setting, ...] = (
    # --- listening -----------------------------------------------------------------------
    Setting(
        "listen",
        ("-i", "--listen", "--listen-ip", "--ip-address"),
        "listen on [ssl:][host][:port] or a UNIX socket path (repeatable; default "
        "localhost = 127.0.0.1 and ::1)",
        default=None,
        kind="append_optional",
        const="",
        metavar="ADDR",
    ),
    Setting(
        "port",
        ("-p", "--port"),
        "port for -i entries that give none (default 783)",
        default=None,
        metavar="PORT",
    ),
    Setting(
        "socketpath",
        ("--socketpath",),
        "also listen on this UNIX socket (old form of -i)",
        metavar="PATH",
    ),
    Setting("socketowner", ("--socketowner",), "owner of the UNIX socket file", metavar="USER"),
    Setting("socketgroup", ("--socketgroup",), "group of the UNIX socket file", metavar="GROUP"),
    Setting(
        "socketmode",
        ("--socketmode",),
        "mode of the UNIX socket file (octal, 0666)",
        default=0o666,
        type=_octal_mode,
        metavar="MODE",
    ),
    Setting(
        "ipv4_only",
        ("-4", "--ipv4only", "--ipv4-only", "--ipv4"),
        "IPv4 listeners only",
        default=False,
        kind="flag",
    ),
    Setting("ipv6_only", ("-6",), "IPv6 listeners only", default=False, kind="flag"),
    Setting(
        "allowed_ips",
        ("-A", "--allowed-ips"),
        "comma list of client addresses/networks allowed over TCP (default 127.0.0.1,::1)",
        default=None,
        kind="append",
        metavar="LIST",
    ),
    Setting("ssl", ("--ssl",), "every TCP listener speaks TLS", default=False, kind="flag"),
    Setting(
        "ssl_port",
        ("--ssl-port",),
        "TLS on every TCP listener, default port for them",
        metavar="PORT",
    ),
    Setting(
        "server_key",
        ("--server-key",),
        "TLS private key (PEM)",
        default=DEFAULT_SERVER_KEY,
        metavar="FILE",
    ),
    Setting(
        "server_cert",
        ("--server-cert",),
        "TLS certificate chain (PEM)",
        default=DEFAULT_SERVER_CERT,
        metavar="FILE",
    ),
    Setting(
        "ssl_verify",
        ("--ssl-verify",),
        "require a verified client certificate",
        default=False,
        kind="flag",
    ),
    Setting("ssl_ca_file", ("--ssl-ca-file",), "CA file for client certificates", metavar="FILE"),
    Setting(
        "ssl_ca_path", ("--ssl-ca-path",), "CA directory for client certificates", metavar="DIR"
    ),
    # --- processes and limits ------------------------------------------------------------
    Setting(
        "max_children",
        ("-m", "--max-children"),
        "most children (values < 1 mean 5)",
        default=5,
        type=_int,
        metavar="N",
    ),
    Setting(
        "min_children",
        ("--min-children",),
        "fewest children the scaler keeps",
        default=1,
        type=_int,
        metavar="N",
    ),
    Setting(
        "min_spare",
        ("--min-spare",),
        "fork when fewer children are idle",
        default=1,
        type=_int,
        metavar="N",
    ),
    Setting(
        "max_spare",
        ("--max-spare",),
        "stop idle children above this",
        default=2,
        type=_int,
        metavar="N",
    ),
    Setting(
        "max_conn_per_child",
        ("--max-conn-per-child",),
        "a child exits after serving this many connections",
        default=200,
        type=_int,
        metavar="N",
    ),
    Setting(
        "round_robin",
        ("--round-robin",),
        "accepted for compatibility; children always accept for themselves",
        default=False,
        kind="negatable",
    ),
    Setting(
        "timeout_tcp",
        ("-T", "--timeout-tcp"),
        "seconds to wait for the request line (0 = no limit)",
        default=30,
        type=_int,
        metavar="SECS",
    ),
    Setting(
        "timeout_child",
        ("-t", "--timeout-child"),
        "seconds for headers, body, scan and reply (0 = no limit)",
        default=300,
        type=_int,
        metavar="SECS",
    ),
    Setting(
        "graceful_timeout",
        ("--graceful-timeout",),
        "spamkiln: seconds TERM lets busy children finish before they are killed",
        default=30,
        type=_int,
        metavar="SECS",
    ),
    Setting(
        "max_message_size",
        ("--max-message-size",),
        "spamkiln: refuse messages (also after zlib inflation) larger than this many bytes",
        default=DEFAULT_MAX_MESSAGE_SIZE,
        type=_int,
        metavar="BYTES",
    ),
    Setting(
        "daemonize",
        ("-d", "--daemonize"),
        "detach and run in the background",
        default=False,
        kind="negatable",
    ),
    Setting("pidfile", ("-r", "--pidfile"), "write the master's pid here", metavar="FILE"),
    # --- users ---------------------------------------------------------------------------
    Setting("username", ("-u", "--username"), "children run as this user", metavar="USER"),
    Setting("groupname", ("-g", "--groupname"), "children run with this group", metavar="GROUP"),
    Setting(
        "user_config",
        ("--user-config",),
        "read per-user preferences (default on)",
        default=True,
        kind="negatable",
        negations=("-x", "--nouser-config"),
    ),
    Setting(
        "create_prefs",
        ("-c", "--create-prefs"),
        "accepted; spamkiln never writes into users' home directories",
        default=False,
        kind="negatable",
    ),
    Setting(
        "default_user",
        ("-U", "--default-user"),
        "user the children run as when started as root without -u (default nobody)",
        default="nobody",
        metavar="USER",
    ),
    Setting(
        "paranoid",
        ("-P", "--paranoid"),
        "drop the request when its user is unknown",
        default=False,
        kind="negatable",
    ),
    Setting(
        "virtual_config_dir",
        ("--virtual-config-dir",),
        "per-user preference directory pattern (%u %l %d %x %%)",
        metavar="PATTERN",
    ),
    Setting(
        "helper_home_dir",
        ("-H", "--helper-home-dir"),
        "accepted; spamkiln runs no helper programs",
        kind="optional",
        const="",
        metavar="DIR",
    ),
    Setting(
        "allow_tell",
        ("-l", "--allow-tell"),
        "accept TELL (learning) requests",
        default=False,
        kind="flag",
    ),
    # --- scanning and logging ------------------------------------------------------------
    Setting(
        "ruleset",
        ("--ruleset",),
        "spamkiln: directory of the compiled ruleset (sa-compile -o DIR)",
        metavar="DIR",
    ),
    Setting(
        "local",
        ("-L", "--local"),
        "local tests only (spamkiln never runs network tests)",
        default=False,
        kind="negatable",
    ),
    Setting(
        "syslog",
        ("-s", "--syslog"),
        "log target: a syslog facility, stderr, file, null or a file path (default mail)",
        default="mail",
        metavar="TARGET",
    ),
    Setting(
        "syslog_socket", ("--syslog-socket",), "syslog transport; none means stderr", metavar="TYPE"
    ),
    Setting(
        "log_timestamp_fmt",
        ("--log-timestamp-fmt",),
        "strftime format of log timestamps (empty = none)",
        kind="optional",
        const="",
        metavar="FMT",
    ),
    Setting(
        "debug", ("-D", "--debug"), "debug logging", kind="optional", const="all", metavar="AREAS"
    ),
    Setting(
        "timing", ("--timing",), "log a timing line per scanned message", default=False, kind="flag"
    ),
    Setting(
        "version", ("-V", "--version"), "print the version and exit", default=False, kind="flag"
    ),
    Setting("help", ("-h", "--help"), "print this help and exit", default=False, kind="flag"),
    # --- SpamAssassin options spamkiln cannot honour --------------------------------------
    Setting(
        "configpath",
        ("-C", "--configpath"),
        "compile the rules with sa-compile and pass --ruleset instead",
        kind="refused",
    ),
    Setting(
        "siteconfigpath",
        ("--siteconfigpath",),
        "compile the site config with sa-compile and pass --ruleset instead",
        kind="refused",
    ),
    Setting("cf", ("--cf",), "add the line to a rule file and recompile", kind="refused"),
    Setting("pre", ("--pre",), "add the line to a .pre file and recompile", kind="refused"),
    Setting(
        "sql_config",
        ("-q", "--sql-config"),
        "per-user preferences from SQL (user_scores_dsn: DBI:SQLite or DBI:Pg); needs -u",
        kind="flag",
    ),
    Setting(
        "setuid_with_sql",
        ("-Q", "--setuid-with-sql"),
        "SQL user preferences are not supported",
        kind="refused_flag",
    ),
    Setting(
        "ldap_config",
        ("--ldap-config",),
        "LDAP user preferences are not supported",
        kind="refused_flag",
    ),
    Setting(
        "setuid_with_ldap",
        ("--setuid-with-ldap",),
        "LDAP user preferences are not supported",
        kind="refused_flag",
    ),
    Setting(
        "vpopmail", ("-v", "--vpopmail"), "vpopmail lookups are not supported", kind="refused_flag"
    ),
    Setting("add_from", ("-F", "--add-from"), "removed from spamd in 2.3", kind="removed"),
    Setting(
        "stop_at_threshold",
        ("-S", "--stop-at-threshold"),
        "removed from spamd in 2.4; ignored with a warning",
        kind="deprecated",
    ),
)


@dataclass
class Options:
    """The parsed, normalised command line; attribute names are the settings' names."""

    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    # ---- derived values that several modules need --------------------------------------
    @property
    def initial_children(self) -> int:
        """spamd's start count: min(max-children, max-spare), at least min-children."""
        return max(self.min_children, min(self.max_children, self.max_spare))

    @property
    def ruleset_dir(self) -> Path:
        if self.ruleset:
            return Path(self.ruleset)
        from spamkiln.runtime.loader import default_ruleset_dir

        return default_ruleset_dir()


class _Parser(argparse.ArgumentParser):
    """argparse that fails the way spamd does: one line, the usage, exit 64."""

    def error(self, message: str) -> NoReturn:
        if "unrecognized arguments:" in message:
            bad = message.split(":", 1)[1].split()[0].lstrip("-")
            message = f"Unknown option: {bad.split('=', 1)[0]}"
        sys.stderr.write(f"{message}\n{usage_text()}")
        raise SystemExit(EX_USAGE)


class _StoreFalse(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kw)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, False)


def _negated(flags: Sequence[str]) -> list[str]:
    return [f"--no{f[2:]}" for f in flags if f.startswith("--")] + [
        f"--no-{f[2:]}" for f in flags if f.startswith("--")
    ]


def build_parser() -> argparse.ArgumentParser:
    """One argparse parser generated from SETTINGS (no hand-written add_argument calls)."""
    parser = _Parser(prog="spamd", add_help=False, allow_abbrev=True)
    for s in SETTINGS:
        common: dict[str, Any] = {"dest": s.name, "help": s.help}
        if s.kind in ("flag", "refused_flag"):
            parser.add_argument(*s.flags, action="store_true", **common)
        elif s.kind == "negatable":
            parser.add_argument(*s.flags, action="store_true", **common)
            negations = list(dict.fromkeys([*s.negations, *_negated(s.flags)]))
            parser.add_argument(*negations, action=_StoreFalse, dest=s.name, help=argparse.SUPPRESS)
        elif s.kind == "append":
            parser.add_argument(*s.flags, action="append", metavar=s.metavar, **common)
        elif s.kind == "append_optional":
            parser.add_argument(
                *s.flags, action="append", nargs="?", const=s.const, metavar=s.metavar, **common
            )
        elif s.kind == "optional":
            parser.add_argument(*s.flags, nargs="?", const=s.const, metavar=s.metavar, **common)
        elif s.kind in ("refused", "removed"):
            parser.add_argument(*s.flags, action="append", nargs="?", const="", **common)
        elif s.kind == "deprecated":
            parser.add_argument(*s.flags, action="store_true", **common)
        else:
            parser.add_argument(*s.flags, type=s.type, metavar=s.metavar, **common)
    parser.set_defaults(**{s.name: s.default for s in SETTINGS})
    return parser


def usage_text() -> str:
    """The short usage spamd prints after an option error and for --help."""
    lines = ["Usage: spamkiln-spamd [options]", "", "Options:"]
    for s in SETTINGS:
        if s.kind in ("refused", "refused_flag", "removed", "deprecated"):
            continue
        flags = ", ".join(s.flags)
        if s.metavar:
            flags += f" {s.metavar}" if s.kind != "optional" else f" [{s.metavar}]"
        lines.append(f"  {flags:<38} {s.help}")
    return "\n".join(lines) + "\n"


def version_text() -> str:
    import platform
    import ssl
    import zlib

    return (
        f"spamkiln spamd version {VERSION} (SpamAssassin Server {SA_VERSION} protocol)\n"
        f"  running on Python {platform.python_version()}\n"
        f"  with SSL support ({ssl.OPENSSL_VERSION})\n"
        f"  with zlib support (zlib {zlib.ZLIB_RUNTIME_VERSION})\n"
    )


def parse_options(argv: Sequence[str]) -> Options:
    """Parse and normalise; raises UsageError (exit 64) or SystemExit for -h/-V."""
    namespace = build_parser().parse_args(list(argv))
    values = vars(namespace)
    if values["help"]:
        sys.stdout.write(usage_text() + "\n" + version_text())
        raise SystemExit(EX_OK)
    if values["version"]:
        sys.stdout.write(version_text())
        raise SystemExit(EX_OK)
    options = Options(values, argv=list(argv))
    for s in SETTINGS:
        given = values[s.name]
        if s.kind in ("refused", "refused_flag") and given:
            raise UsageError(f"spamd: {s.flags[-1]} is not supported by spamkiln: {s.help}")
        if s.kind == "removed" and given:
            raise UsageError(
                f"spamd: the {s.flags[-1]} option has been removed from spamd, please remove "
                "from your commandline and re-run",
                exit_status=2,
            )
        if s.kind == "deprecated" and given:
            options.warnings.append(
                f"spamd: the {s.flags[0]} option has been deprecated and is no longer "
                "supported, ignoring"
            )
    _normalise(options)
    return options


def _normalise(o: Options) -> None:
    """spamd's own corrections of out-of-range numbers (spamd.md section 2.2), in its order."""
    v = o.values
    if v["max_children"] < 1:
        v["max_children"] = 5
    if v["max_conn_per_child"] < 1:
        v["max_conn_per_child"] = 200
    for name, default in (("timeout_tcp", 30), ("timeout_child", 300)):
        if v[name] < 0:
            v[name] = default
    if v["min_children"] < 1:
        v["min_children"] = 1
    if v["min_spare"] < 0:
        v["min_spare"] = 0
    if v["min_spare"] > v["max_children"]:
        v["min_spare"] = v["max_children"] - 1
    if v["max_spare"] < v["min_spare"]:
        v["max_spare"] = v["min_spare"] + 1
    if v["max_message_size"] < 1:
        raise UsageError("spamd: --max-message-size must be at least 1")
    if v["graceful_timeout"] < 0:
        v["graceful_timeout"] = 0
    if v["ipv4_only"] and v["ipv6_only"]:
        # Getopt::Long runs the handlers in order and the last one wins; argparse does not
        # keep the order, so refuse the contradiction instead of guessing.
        raise UsageError("spamd: -4 and -6 cannot be used together")
    if v["ssl_ca_file"] or v["ssl_ca_path"]:
        v["ssl_verify"] = True
    if v["ssl_verify"] or v["ssl_port"]:
        v["ssl"] = True
    if v["username"] is None and v["groupname"] is not None:
        raise UsageError("spamd: -g requires -u")
    if v["virtual_config_dir"] and not v["username"]:
        raise UsageError("spamd: --virtual-config-dir requires -u")
    if v["sql_config"] and not v["username"]:
        raise UsageError("spamd: --sql-config requires -u")
