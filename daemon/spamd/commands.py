"""What each SPAMC verb does once its request line has been read.

Verbs dispatch by name (`do_check`, `do_tell`, ...), the way aiosmtpd dispatches `smtp_HELO`.
The order of every step follows spamd's `check`/`dotell` because it is visible to clients and
log readers: headers (user handling while they are parsed), body, the "checking message" log
line, the Content-length check, the scan, the reply, then the verdict and `result:` lines.

Runs inside a child; the scanner was built once in the master before forking.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from spamkiln.runtime.scan import Scanner, ScanResult, format_score
from spamkiln.runtime.user_prefs import UserPreferences, parse_user_prefs

from . import loglines
from .errors import bad_header, unavailable
from .loglines import Peer
from .protocol import Body, ClientStream, Request, RequestHeaders, read_body, read_headers
from .responses import PONG, scan_response, spam_header, tell_response
from .sqlprefs import SqlPrefsError
from .userconf import UserConfig, UserPrefs

__all__ = ["CommandSettings", "Commands", "Exchange"]

REWRITE_MODULE = "spamkiln.runtime.rewrite"
# Parsed user_prefs kept per child, by file text. Each costs up to 0.5 MiB once its scans have
# built their per-configuration caches (the global TLD tables and network sets are shared), and
# a few ms to rebuild, so a handful of recent users is kept, not every user a child has seen.
MAX_CACHED_PREFS = 16


@dataclass(frozen=True)
class CommandSettings:
    allow_tell: bool = False
    max_message_size: int = 64 * 1024 * 1024
    timing: bool = False


@dataclass
class Exchange:
    """One connection's state while a verb runs."""

    stream: ClientStream
    peer: Peer
    started: float  # time.monotonic() at accept: spamd's "in N seconds" counts from there
    send: Callable[[bytes], None]
    user: str | None = None
    prefs: UserPrefs = field(default_factory=UserPrefs)
    reading_zlib: bool = False  # a timeout now is answered as spamd's zlib reader does
    last_msgid: str = "(none)"

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class Commands:
    """The verb handlers of one spamd; shared by every child (built before the fork)."""

    def __init__(
        self, scanner: Scanner, settings: CommandSettings, users: UserConfig, log: Any
    ) -> None:
        self.scanner = scanner
        self.settings = settings
        self.users = users
        self.log = log
        self._rewrite: ModuleType | None = None
        self._parsed_prefs: dict[str, UserPreferences] = {}
        # spamd refuses TELL when learning is possible but not enabled; spamkiln has no
        # learning storage yet, so with Bayes on it answers as a spamd without --allow-tell.
        self.learning_off = not scanner.config.flag("use_bayes")
        self.autolearn = (
            "disabled"
            if self.learning_off or not scanner.config.flag("bayes_auto_learn")
            else "unavailable"
        )

    def _preferences(self, prefs: UserPrefs) -> UserPreferences | None:
        """A user's file applied over the global settings; parsed once per text and child."""
        if not prefs.text:
            return None
        found = self._parsed_prefs.get(prefs.text)
        if found is None:
            ruleset = self.scanner.ruleset
            found = parse_user_prefs(prefs.text, ruleset.settings, ruleset.plugins)
            for problem in found.refused:
                self.log.info(f"spamd: not applied from {prefs.source}: {problem}")
            if len(self._parsed_prefs) >= MAX_CACHED_PREFS:
                self._parsed_prefs.clear()
            self._parsed_prefs[prefs.text] = found
        return found

    # ---- set-up done in the master -------------------------------------------------------
    def preload(self) -> None:
        """Import what the children need before they fork, so its pages are shared."""
        try:
            self._rewrite = importlib.import_module(REWRITE_MODULE)
        except ImportError as exc:
            self.log.warning(
                f"spamd: {REWRITE_MODULE} unavailable ({exc}): PROCESS, HEADERS "
                "and REPORT will fail until it is installed"
            )
            return
        # One rewrite of each kind now: its templates, caches and the host name lookup are
        # then shared by every child instead of being built in each.
        from .scanning import WARM_UP_MESSAGE

        result = self.scanner.scan(WARM_UP_MESSAGE)
        for verb in ("PROCESS", "HEADERS", "REPORT"):
            try:
                self._payload(verb, result, Peer("localhost", "127.0.0.1", "0"))
            except Exception as exc:  # a rewriter bug must not stop spamd from starting
                self.log.warning(f"spamd: warm-up {verb} failed: {exc!r}")

    def rewrite(self) -> ModuleType:
        if self._rewrite is None:
            self._rewrite = importlib.import_module(REWRITE_MODULE)
        return self._rewrite

    # ---- dispatch ------------------------------------------------------------------------
    def run(self, request: Request, exchange: Exchange) -> None:
        getattr(self, "do_" + request.verb.lower())(request, exchange)

    def do_check(self, request: Request, exchange: Exchange) -> None:
        self._scan(request, exchange)

    do_symbols = do_report = do_report_ifspam = do_process = do_headers = do_check

    def do_ping(self, request: Request, exchange: Exchange) -> None:
        if request.version >= 1.5:  # 1.5 clients send a (usually empty) header block
            read_headers(exchange.stream, on_user=self._user_handler(exchange))
        exchange.send(PONG)

    def do_skip(self, request: Request, exchange: Exchange) -> None:
        self.log.info(f"spamd: skipped large message in {exchange.elapsed:3.1f} seconds")
        if request.version >= 1.5:
            read_headers(exchange.stream, on_user=self._user_handler(exchange))

    def do_tell(self, request: Request, exchange: Exchange) -> None:
        headers = read_headers(exchange.stream, on_user=self._user_handler(exchange))
        if not self.settings.allow_tell or not self.learning_off:
            if self.settings.allow_tell:
                self.log.warning(
                    "spamd: TELL refused: the ruleset enables Bayes and spamkiln "
                    "has no learning storage yet"
                )
            raise unavailable("TELL commands are not enabled, set the --allow-tell switch.")
        if headers.set_local and headers.remove_local:
            raise bad_header(b"Unable to set local and remove local in the same operation.")
        if headers.set_remote and headers.remove_remote:
            raise bad_header(b"Unable to set remote and remove remote in the same operation.")
        body = self._read_body(exchange, headers)
        user = exchange.user or "(unknown)"
        exchange.last_msgid = loglines.message_ids(body.data).msgid
        mismatch = body.mismatch
        if mismatch is not None:
            raise mismatch
        # Bayes is off in this ruleset: spamd with use_bayes 0 learns nothing and says so.
        if headers.set_remote or headers.remove_remote:
            self.log.info("reporter: no reporting methods available, so couldn't report")
        exchange.send(tell_response([], []))
        self.log.info(
            loglines.tell_line([], [], user, os.geteuid(), exchange.elapsed, body.received)
        )

    # ---- the scanning verbs --------------------------------------------------------------
    def _user_handler(self, exchange: Exchange) -> Callable[[str], None]:
        def on_user(name: str) -> None:
            exchange.user = name
            exchange.prefs = self.users.lookup(name)

        return on_user

    def _read_body(self, exchange: Exchange, headers: RequestHeaders | None) -> Body:
        # Left set when a deadline interrupts the read: the worker words that timeout the way
        # spamd's zlib reader does.
        exchange.reading_zlib = headers is not None and headers.compress
        body = read_body(
            exchange.stream, headers, self.settings.max_message_size, warn=self.log.warning
        )
        exchange.reading_zlib = False
        return body

    def _scan(self, request: Request, exchange: Exchange) -> None:
        verb = request.verb
        headers = None
        if request.version > 1.0:
            headers = read_headers(exchange.stream, on_user=self._user_handler(exchange))
        body = self._read_body(exchange, headers)
        ids = loglines.message_ids(body.data)
        exchange.last_msgid = ids.msgid
        user = exchange.user or "(unknown)"
        uid = os.geteuid()
        self.log.info(loglines.checking_line(verb, ids, user, uid))
        mismatch = body.mismatch
        if mismatch is not None:
            raise mismatch
        try:
            exchange.prefs = self.users.add_sql(exchange.prefs, exchange.user)
        except SqlPrefsError as exc:
            self.log.error(f"spamd: SQL user preferences for {user}: {exc}")
            raise unavailable("Error fetching user preferences via SQL") from None
        scan_started = time.perf_counter()
        result = self.scanner.scan(body.data, prefs=self._preferences(exchange.prefs))
        scan_seconds = time.perf_counter() - scan_started
        is_spam = result.is_spam
        score = format_score(result.score, result.required, is_spam)
        threshold = f"{result.required:.1f}"
        payload = self._payload(verb, result, exchange.peer)
        exchange.send(
            scan_response(
                verb, request.version, spam_header(verb, is_spam, score, threshold), payload
            )
        )
        seconds = exchange.elapsed
        self.log.info(
            loglines.verdict_line(is_spam, score, threshold, user, uid, seconds, body.received)
        )
        self.log.info(
            loglines.result_line(
                is_spam=is_spam,
                score=result.score,
                tests=result.rules,
                seconds=seconds,
                size=body.received,
                user=user,
                uid=uid,
                threshold=threshold,
                peer=exchange.peer,
                ids=ids,
                autolearn=self.autolearn,
            )
        )
        if self.settings.timing:
            self.log.info(
                f"timing: total {seconds * 1000:.0f} ms - scan: {scan_seconds * 1000:.0f} ms"
            )

    def _payload(self, verb: str, result: ScanResult, peer: Peer | None) -> bytes:
        if verb == "CHECK":
            return b""
        if verb == "SYMBOLS":
            return ",".join(result.rules).encode("ascii", "replace")
        if verb == "REPORT_IFSPAM" and not result.is_spam:
            return b""
        rewrite = self.rewrite()
        if verb in ("REPORT", "REPORT_IFSPAM"):
            return str(rewrite.report_text(result)).encode("utf-8", "surrogateescape")
        # spamd hands the client's name and address to PROCESS and HEADERS markup only
        # (_REMOTEHOSTNAME_ / _REMOTEHOSTADDR_ in templates).
        env_type = getattr(rewrite, "MarkupEnv", None)
        env = None
        if env_type is not None and peer is not None:
            env = env_type(remote_hostname=peer.host, remote_addr=peer.address)
        if verb == "PROCESS":
            return bytes(rewrite.rewrite_message(result, env))
        return bytes(rewrite.rewritten_headers(result, env))  # HEADERS
