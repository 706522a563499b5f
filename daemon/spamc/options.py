"""spamc's command line: every option of the C spamc 4.0.1, parsed the way its own getopt does.

That parser is not GNU getopt, and scripts depend on its quirks, so they are kept:

* a short option is the *second character* of its word; the rest of the word is ignored
  (`-cE` is `-c`), and its argument is always the *next word*, which may not start with `-`;
* long options need their full name; the value comes after `=` or in the next word;
* the first word that is not an option (or `-`, or `--`) ends parsing; later words are ignored;
* `-e`/`--pipe-to` takes every remaining word as the command and skips the checks that
  normally run after parsing;
* value errors such as `-L bogus` are logged and parsing goes on (exit 64 at the end), while
  unknown options print the usage text and stop at once.

Everything is bytes, as in the C client: the user name and host names go on the wire unchanged.
"""

from __future__ import annotations

from spamkiln.daemon.spamc.ccompat import atoi
from spamkiln.daemon.spamc.exitcodes import EX_OK, EX_USAGE
from spamkiln.daemon.spamc.log import Log, write_stderr

# The largest -s the C client accepts: 256 MiB (SPAMC_MAX_MESSAGE_LEN).
MAX_MESSAGE_SIZE = 256 * 1024 * 1024
# Default -s: 500 KiB (the help text's "500k").
DEFAULT_MAX_SIZE = 500 * 1024
DEFAULT_PORT = 783
DEFAULT_TIMEOUT = 600

# Letters the C client's option string knows ("-BcrR46d:e:fyp:n:t:s:u:L:C:xXzSHU:ElhVKF:0:1:2");
# the ones in _SHORT_WITH_ARG take the next word as their argument. -0/-1/-2 are accepted and do
# nothing: in C they stand for long-only options that a letter cannot actually reach.
_SHORT_FLAGS = frozenset(b"BcrR46fyxXzSHElhVK2")
_SHORT_WITH_ARG = frozenset(b"depntsuLCUF01")

_NO_ARG, _REQUIRED, _OPTIONAL = 0, 1, 2
# long name -> (key, argument kind); the key is the short letter where one exists.
_LONG_OPTIONS: dict[bytes, tuple[str, int]] = {
    b"dest": ("d", _REQUIRED),
    b"randomize": ("H", _NO_ARG),
    b"port": ("p", _REQUIRED),
    b"ssl": ("S", _OPTIONAL),
    b"ssl-cert": ("ssl-cert", _REQUIRED),
    b"ssl-key": ("ssl-key", _REQUIRED),
    b"ssl-ca-file": ("ssl-ca-file", _REQUIRED),
    b"ssl-ca-path": ("ssl-ca-path", _REQUIRED),
    b"socket": ("U", _REQUIRED),
    b"config": ("F", _REQUIRED),
    b"timeout": ("t", _REQUIRED),
    b"connect-timeout": ("n", _REQUIRED),
    b"connect-retries": ("connect-retries", _REQUIRED),
    b"retry-sleep": ("retry-sleep", _REQUIRED),
    b"filter-retries": ("filter-retries", _REQUIRED),
    b"filter-retry-sleep": ("filter-retry-sleep", _REQUIRED),
    b"max-size": ("s", _REQUIRED),
    b"username": ("u", _REQUIRED),
    b"learntype": ("L", _REQUIRED),
    b"reporttype": ("C", _REQUIRED),
    b"bsmtp": ("B", _NO_ARG),
    b"check": ("c", _NO_ARG),
    b"tests": ("y", _NO_ARG),
    b"full-spam": ("r", _NO_ARG),
    b"full": ("R", _NO_ARG),
    b"headers": ("headers", _NO_ARG),
    b"exitcode": ("E", _NO_ARG),
    b"no-safe-fallback": ("x", _NO_ARG),
    b"unavailable-tempfail": ("X", _NO_ARG),
    b"log-to-stderr": ("l", _NO_ARG),
    b"pipe-to": ("e", _REQUIRED),
    b"help": ("h", _NO_ARG),
    b"version": ("V", _NO_ARG),
    b"compress": ("z", _NO_ARG),
}

LEARN_TYPES = (b"spam", b"ham", b"forget")
REPORT_TYPES = (b"report", b"revoke")

USAGE = b"""\
Usage: spamc [options] [-e command [args]] < message

Sends one message to spamd and prints the result. Options:
  -d, --dest host[,host2]   spamd host(s); several hosts fail over  [localhost]
  -H, --randomize           start at a random host of the -d list
  -p, --port port           spamd's TCP port  [783]
  -U, --socket path         talk to spamd over a UNIX socket instead of TCP
  -4 / -6                   use only IPv4 / only IPv6 addresses
  -S, --ssl                 use TLS to talk to spamd
  --ssl-cert file           client certificate (needs --ssl-key)
  --ssl-key file            client private key (PEM)
  --ssl-ca-file file        verify spamd's certificate against this CA file
  --ssl-ca-path dir         verify spamd's certificate against this CA directory
  -F, --config path         read options from this file first
                            [/etc/spamassassin/spamc.conf; only "-F path" is honoured]
  -t, --timeout seconds     idle timeout for each read from spamd  [600; 0 = none]
  -n, --connect-timeout s   timeout for each connection attempt  [the -t value]
  --connect-retries n       connection rounds before giving up  [3]
  --retry-sleep seconds     pause between connection rounds  [1]
  --filter-retries n        attempts when spamd does not answer  [1]
  --filter-retry-sleep s    pause between those attempts  [0]
  -s, --max-size bytes      larger messages are passed through unscanned  [512000]
  -u, --username name       user whose preferences spamd applies  [current user]
  -L, --learntype type      teach spamd's Bayes: spam, ham or forget
  -C, --reporttype type     report or revoke the message to shared databases
  -B, --bsmtp               input is one BSMTP transaction
  -c, --check               print only "score/threshold"; exit 1 for spam
  -y, --tests               print only the names of the rules that hit
  -r, --full-spam           print the report, for spam only
  -R, --full                print "score/threshold" and the report
  --headers                 rewrite only the headers, keep the original body
  -E, --exitcode            filter normally; exit 1 for spam
  -x, --no-safe-fallback    on errors exit with an error code instead of passing
                            the message through unchanged
  -X, --unavailable-tempfail
                            with -x given before it: exit 75 instead of 69
                            when spamd cannot be reached
  -l, --log-to-stderr       log to stderr instead of syslog
  -e, --pipe-to cmd [args]  feed the output to cmd (must be the last option)
  -K                        ping spamd
  -z, --compress            compress the message with zlib
  -f                        accepted for compatibility; does nothing
  -h, --help                print this text
  -V, --version             print the version

"""


def version_text() -> bytes:
    """What -V prints. The first line is the C client's, for scripts that parse it."""
    import ssl  # only for -V: it is slow to import

    return (
        b"SpamAssassin Client version 4.0.1\n"
        b"  compiled with SSL support (" + ssl.OPENSSL_VERSION.encode() + b")\n"
        b"  (spamkiln spamc, a Python implementation)\n"
    )


class StopRun(Exception):
    """Parsing decided the run is over (help, version, usage error) with this exit status."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Options:
    """The settings of one run, with the C client's defaults and its raw numbers.

    Numbers keep the C conventions that the transport interprets later: `connect_retries` 0 and
    `retry_sleep` < 0 mean "default", `connect_timeout` 0 means none.
    """

    __slots__ = (
        "bsmtp",
        "check",
        "connect_retries",
        "connect_timeout",
        "dest",
        "exec_argv",
        "family",
        "filter_retries",
        "filter_retry_sleep",
        "headers",
        "learn",
        "learn_type",
        "log_to_stderr",
        "max_size",
        "ping",
        "port",
        "randomize",
        "report",
        "report_ifspam",
        "report_msg",
        "report_type",
        "retry_sleep",
        "safe_fallback",
        "socket_path",
        "ssl_ca_file",
        "ssl_ca_path",
        "ssl_cert",
        "ssl_key",
        "symbols",
        "timeout",
        "transport",
        "unavail_tempfail",
        "use_exit_code",
        "use_ssl",
        "username",
        "zlib",
    )

    def __init__(self) -> None:
        self.transport = "localhost"  # "localhost" | "tcp" | "unix": the last of -d/-U wins
        self.dest: bytes | None = None
        self.socket_path: bytes | None = None
        self.port = DEFAULT_PORT
        self.family = 0  # 0 = any, 4 = -4, 6 = -6 (the last one given wins)
        self.randomize = False
        self.use_ssl = False
        self.ssl_cert: bytes | None = None
        self.ssl_key: bytes | None = None
        self.ssl_ca_file: bytes | None = None
        self.ssl_ca_path: bytes | None = None
        self.timeout = DEFAULT_TIMEOUT
        self.connect_timeout = 0
        self.connect_retries = 0
        self.retry_sleep = -1
        self.filter_retries = 0
        self.filter_retry_sleep = 0
        self.max_size = DEFAULT_MAX_SIZE
        self.username: bytes | None = None
        self.learn = False
        self.learn_type: bytes | None = None
        self.report_msg = False
        self.report_type: bytes | None = None
        self.bsmtp = False
        self.check = False
        self.symbols = False
        self.report_ifspam = False
        self.report = False
        self.headers = False
        self.ping = False
        self.use_exit_code = False
        self.safe_fallback = True
        self.unavail_tempfail = False
        self.log_to_stderr = False
        self.exec_argv: list[bytes] | None = None
        self.zlib = False

    @property
    def command(self) -> bytes:
        """The SPAMC command for a scan, in the C client's order of precedence."""
        if self.check:
            return b"CHECK"
        if self.report_ifspam:
            return b"REPORT_IFSPAM"
        if self.report:
            return b"REPORT"
        if self.symbols:
            return b"SYMBOLS"
        if self.ping:
            return b"PING"
        if self.headers:
            return b"HEADERS"
        return b"PROCESS"


class _ArgScanner:
    """spamc's own getopt_long: yields (key, argument) pairs; prints its errors itself."""

    __slots__ = ("index", "words")

    def __init__(self, words: list[bytes]) -> None:
        self.words = words
        self.index = 1

    def _error(self, text: bytes) -> tuple[str, None]:
        write_stderr(text + b"\n")
        return "?", None

    def next(self) -> tuple[str, bytes | None] | None:
        words = self.words
        if self.index >= len(words):
            return None
        word = words[self.index]
        if not word.startswith(b"-") or word in (b"-", b"--"):
            return None
        if word[1:2] != b"-":
            return self._short(word)
        return self._long(word)

    def _short(self, word: bytes) -> tuple[str, bytes | None]:
        where = self.index
        self.index += 1
        letter = word[1]
        if letter == 0x3A:  # ':'
            return self._error(b"Error in argument %d, char 2: : in flags" % where)
        if letter in _SHORT_FLAGS:
            return chr(letter), None
        if letter not in _SHORT_WITH_ARG:
            return self._error(
                b"Error in argument %d, char 2: option not found %c" % (where, letter)
            )
        if self.index >= len(self.words) or self.words[self.index].startswith(b"-"):
            return self._error(
                b"Error in argument %d, char 2: argument required for option %c" % (where, letter)
            )
        value = self.words[self.index]
        self.index += 1
        return chr(letter), value

    def _long(self, word: bytes) -> tuple[str, bytes | None]:
        self.index += 1
        if word[2:3] == b":":
            # The C parser reports the position *after* the word here.
            return self._error(b"Error in argument %d : : in flags" % self.index)
        name, equals, inline = word[2:].partition(b"=")
        spec = _LONG_OPTIONS.get(name)
        if spec is None:
            return self._error(
                b"Error in argument %d : option not found %s" % (self.index - 1, word)
            )
        key, kind = spec
        value = inline if equals else None
        next_is_value = self.index < len(self.words) and not self.words[self.index].startswith(b"-")
        if kind == _REQUIRED:
            if value is None:
                if not next_is_value:
                    return self._error(
                        b"Error in argument %d : argument required for option %s"
                        % (self.index - 1, word)
                    )
                value = self.words[self.index]
                self.index += 1
        elif kind == _OPTIONAL:
            if value is None and next_is_value:
                value = self.words[self.index]
                self.index += 1
        else:
            value = None
        return key, value


def _print_usage() -> None:
    """The version lines, then the option summary, on stdout (as the C client prints them)."""
    import os

    try:  # noqa: SIM105  (contextlib would cost start-up time)
        os.write(1, version_text() + b"\n" + USAGE)
    except OSError:
        pass


def parse_args(words: list[bytes], log: Log) -> Options:
    """Parse argv-style words (words[0] is the program name) into Options.

    Raises StopRun with the exit status when the run ends here: 0 after -h/-V, 64 for usage
    errors. `log.to_stderr` follows -l as soon as it is seen, like the C client.
    """
    opts = Options()
    status = EX_OK
    scanner = _ArgScanner(words)
    while (item := scanner.next()) is not None:
        key, value = item
        if key == "?":
            log(b"invalid usage")
            _print_usage()
            raise StopRun(EX_USAGE)
        if key == "h":
            _print_usage()
            raise StopRun(status)
        if key == "V":
            import os

            try:  # noqa: SIM105  (contextlib would cost start-up time)
                os.write(1, version_text())
            except OSError:
                pass
            raise StopRun(EX_OK)
        if key == "e":
            assert value is not None
            opts.exec_argv = words[scanner.index - 1 :]
            return opts  # the C client returns here: no checks below
        status = _apply(opts, key, value, log) or status
    return _check(opts, log, status)


def _apply(opts: Options, key: str, value: bytes | None, log: Log) -> int:
    """Apply one option; returns EX_USAGE for a value error (parsing continues), else 0."""
    arg = value if value is not None else b""
    if key == "l":
        opts.log_to_stderr = log.to_stderr = True
    elif key in _FLAG_KEYS:
        setattr(opts, _FLAG_KEYS[key], True)
    elif key == "d":
        opts.transport, opts.dest = "tcp", arg
    elif key == "U":
        opts.transport, opts.socket_path = "unix", arg
    elif key == "p":
        opts.port = atoi(arg) & 0xFFFF  # stored in an unsigned short
    elif key == "4" or key == "6":
        opts.family = int(key)
    elif key == "x":
        opts.safe_fallback = False
    elif key == "X":
        if opts.safe_fallback:
            log(b"This option is only valid if -x is set first")
        else:
            opts.unavail_tempfail = True
    elif key == "S":
        opts.use_ssl = True
        if value is not None:
            log(b"Explicit specification of an SSL/TLS version no longer supported.")
            return EX_USAGE
    elif key == "s":
        opts.max_size = atoi(arg)
    elif key == "t":
        opts.timeout = atoi(arg)
        if opts.connect_timeout == 0:  # -t doubles as the connect timeout unless -n set one
            opts.connect_timeout = opts.timeout
    elif key == "n":
        opts.connect_timeout = atoi(arg)
    elif key == "u":
        opts.username = arg
    elif key == "L":
        opts.learn = True
        if arg not in LEARN_TYPES:
            log(b"Please specify a legal learn type")
            return EX_USAGE
        opts.learn_type = arg
    elif key == "C":
        opts.report_msg = True
        if arg not in REPORT_TYPES:
            log(b"Please specify a legal report type")
            return EX_USAGE
        opts.report_type = arg
    elif key in _NUMBER_KEYS:
        setattr(opts, _NUMBER_KEYS[key], atoi(arg))
    elif key in _PATH_KEYS:
        setattr(opts, _PATH_KEYS[key], arg)
    # "f", "F", "0", "1", "2": accepted, nothing to do (-F was handled before parsing).
    return 0


_FLAG_KEYS = {
    "B": "bsmtp",
    "c": "check",
    "y": "symbols",
    "r": "report_ifspam",
    "R": "report",
    "headers": "headers",
    "K": "ping",
    "E": "use_exit_code",
    "H": "randomize",
    "z": "zlib",
}
_NUMBER_KEYS = {
    "connect-retries": "connect_retries",
    "retry-sleep": "retry_sleep",
    "filter-retries": "filter_retries",
    "filter-retry-sleep": "filter_retry_sleep",
}
_PATH_KEYS = {
    "ssl-cert": "ssl_cert",
    "ssl-key": "ssl_key",
    "ssl-ca-file": "ssl_ca_file",
    "ssl-ca-path": "ssl_ca_path",
}
# What -L cannot be combined with, in the order the C client complains.
_LEARN_EXCLUDES = (
    ("check", b"Learning excludes check only"),
    ("ping", b"Learning excludes ping"),
    ("report_ifspam", b"Learning excludes report if spam"),
    ("report", b"Learning excludes report"),
    ("symbols", b"Learning excludes symbols"),
    ("report_msg", b"Learning excludes reporting to collaborative filtering databases"),
)


def _check(opts: Options, log: Log, status: int) -> Options:
    """The checks the C client runs once all options are read."""
    if opts.max_size > MAX_MESSAGE_SIZE:
        log(b"-s parameter is beyond max of %d" % MAX_MESSAGE_SIZE)
        status = EX_USAGE
    if opts.learn:
        for attribute, message in _LEARN_EXCLUDES:
            if getattr(opts, attribute):
                log(message)
                status = EX_USAGE
    if (opts.ssl_cert is None) != (opts.ssl_key is None):
        log(b"--ssl-cert and --ssl-key must be used together")
        status = EX_USAGE
    if status != EX_OK:
        raise StopRun(status)
    return opts
