"""One spamc run: options, stdin, spamd, output, exit status -- and the safe fallback.

The fallback is the point of spamc: an MTA pipes every message through it and must get a
usable message back whatever happens. After any failure once the options are parsed, the run
ends the way the C spamc 4.0.1 ends it (checked against that binary mode by mode):

* `-L`/`-K`: nothing is printed; the exit status is the error (98 for an oversized `-L`).
* `-c`, `-r`, `-R`: `0/0\\n`; `-y`: a lone `\\n`.
* otherwise the original message, byte for byte, plus anything still unread on stdin --
  unless `-x` was given and the message was not simply too big: then nothing.
* exit 0, except with `-x` (the error status, 69 turned into 75 by `-x -X`); "too big" is 0
  even with `-x`.

`-e cmd` behaves as in C: the *original* process execs the command (so the MTA waits for it
and sees its exit status) and a forked child feeds it.
"""

from __future__ import annotations

import errno
import os
import sys

from spamkiln.daemon.spamc import client, transport
from spamkiln.daemon.spamc.config import DEFAULT_CONFIG_FILE, ConfigError, combine_args
from spamkiln.daemon.spamc.exitcodes import (
    EX_CONFIG,
    EX_ISSPAM,
    EX_NOTSPAM,
    EX_OK,
    EX_OSERR,
    EX_TEMPFAIL,
    EX_TOOBIG,
    EX_UNAVAILABLE,
    SpamcError,
)
from spamkiln.daemon.spamc.log import Log, write_stderr
from spamkiln.daemon.spamc.message import NONE, Message, dump, read_message, render, write_all
from spamkiln.daemon.spamc.options import Options, StopRun, parse_args

_TELL_TEXT = {
    (True, True): b"Message successfully un/learned\n",
    (True, False): b"Message was already un/learned\n",
    (False, True): b"Message successfully reported/revoked\n",
    (False, False): b"Unable to report/revoke message\n",
}


class _Run:
    """State of one run once the options are known."""

    __slots__ = ("deferred", "forked_child", "log", "opts", "out_fd", "stdin_fd", "stdout_fd")

    def __init__(self, opts: Options, log: Log, stdin_fd: int, stdout_fd: int) -> None:
        self.opts = opts
        self.log = log
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self.out_fd: int | None = None
        self.forked_child = False
        # Text the C client prints with printf(): it sits in stdio's buffer and reaches stdout
        # only when the process exits, after everything written with write(2).
        self.deferred = b""

    # ------------------------------------------------------------------ output

    def output_fd(self) -> int:
        """stdout, or with -e the write end of a pipe whose reader is the exec'd command."""
        if self.out_fd is not None:
            return self.out_fd
        if self.opts.exec_argv is None:
            self.out_fd = self.stdout_fd
            return self.out_fd
        read_end, write_end = os.pipe()
        if os.fork() == 0:  # the child feeds the pipe and carries on as spamc
            os.close(read_end)
            self.forked_child = True
            self.out_fd = write_end
            return write_end
        os.close(write_end)
        os.dup2(read_end, 0)
        os.close(read_end)
        argv = self.opts.exec_argv
        try:
            os.execv(argv[0], argv)
        except OSError as exc:
            code = exc.errno or 0
        except ValueError:  # Python refuses an empty program name; execv("") gives ENOENT
            code = errno.ENOENT
        self.log(b"exec failed: %s" % os.strerror(code).encode())
        self.flush_deferred()
        os._exit(EX_OSERR)

    def flush_deferred(self) -> None:
        if self.deferred:
            try:  # noqa: SIM105  (contextlib would cost start-up time)
                write_all(self.stdout_fd, self.deferred)
            except OSError:
                pass
            self.deferred = b""

    # ------------------------------------------------------------------ the run

    def execute(self) -> int:
        opts = self.opts
        username = opts.username
        if username is None:
            username = self._login_name()
            if username is None and not opts.check:
                return EX_OSERR
        message = Message()
        try:
            hosts = transport.resolve(opts, self.log)
            if not opts.ping:  # a ping never reads stdin
                status, message = read_message(self.stdin_fd, opts.max_size, opts.bsmtp, self.log)
                if status != EX_OK:
                    return self.fail(status, message)
            if opts.learn or opts.report_msg:
                done = client.tell(hosts, opts, username, message, self.log)
                self.output_fd()
                self.deferred += _TELL_TEXT[(opts.learn, done)]
                return EX_OK
            result = client.scan(hosts, opts, username, message, self.log)
        except SpamcError as exc:
            return self.fail(exc.code, message)
        return self.succeed(result, message)

    def _login_name(self) -> bytes | None:
        """The effective user's login name; on failure the C client prints "0/0" (via stdio,
        so at exit) for -c and goes on without a User header, or stops with EX_OSERR."""
        import pwd

        try:
            return os.fsencode(pwd.getpwuid(os.geteuid()).pw_name)
        except KeyError:
            write_stderr(b"getpwuid() failed: Success\n")
            if self.opts.check:
                self.deferred += b"0/0\n"
            return None

    def succeed(self, result: client.ScanResult, message: Message) -> int:
        opts = self.opts
        if opts.check or opts.ping:
            if result.is_spam not in (EX_ISSPAM, EX_NOTSPAM):
                self.log(b"oops! SPAMC_CHECK_ONLY is_spam: %d" % result.is_spam)
                return self.fail(EX_OK, message)
            data = result.out
        elif message.kind == NONE:
            self.log(b"Cannot write this message, it's MESSAGE_NONE!")
            return self.fail(EX_OK, message)
        else:
            data = render(message, result.out)
        try:
            write_all(self.output_fd(), data)
        except OSError:
            return self.fail(EX_OK, message)
        if result.is_spam != EX_TOOBIG and (opts.check or opts.use_exit_code):
            return result.is_spam
        return EX_OK

    def fail(self, code: int, message: Message) -> int:
        """The C client's FAIL path: placeholder or original message, and the exit status."""
        opts = self.opts
        if opts.learn or opts.ping:
            self.output_fd()
            return code
        passthrough = code == EX_TOOBIG or opts.safe_fallback
        if opts.check or opts.report or opts.report_ifspam or opts.symbols:
            placeholder = b"0/0\n" if (opts.check or opts.report or opts.report_ifspam) else b"\n"
            try:  # noqa: SIM105  (contextlib would cost start-up time)
                write_all(self.output_fd(), placeholder)
            except OSError:
                pass
        elif passthrough:
            dump(self.stdin_fd, self.output_fd(), message)
        status = EX_OK if passthrough else code
        if opts.unavail_tempfail and status == EX_UNAVAILABLE:
            status = EX_TEMPFAIL
        return status


def run(
    argv: list[bytes],
    stdin_fd: int = 0,
    stdout_fd: int = 1,
    default_config: bytes = DEFAULT_CONFIG_FILE,
) -> int:
    """Run spamc with argv (argv[0] is the program name); returns the exit status (0-255)."""
    log = Log()
    try:
        words = combine_args(argv, default_config)
    except ConfigError as exc:
        exc.report()
        return EX_CONFIG
    try:
        opts = parse_args(words, log)
    except StopRun as stop:
        return stop.code
    state = _Run(opts, log, stdin_fd, stdout_fd)
    status = state.execute() & 0xFF
    state.flush_deferred()
    if state.forked_child:
        # Our parent became the -e command; nobody waits for this exit status.
        os._exit(status)
    return status


def main() -> None:
    """Console entry point (`spamkiln-spamc`); the arguments are handled as the bytes the C
    client would have received."""
    sys.exit(run([os.fsencode(word) for word in sys.argv]))
