"""The master: keeps the pool of children alive, scales it, reloads and stops it.

Shaped like gunicorn's arbiter: signal handlers only queue the signal (the wake-up fd makes
select() return); the main loop dispatches each one to `handle_<name>`, reads the children's
busy/idle reports, kills children whose heartbeat went stale, and tops the pool back up. Dead
children are reaped with `waitpid(-1, WNOHANG)`. A child that exits with the boot-failure
status (it could not drop privileges) halts the master instead of being re-forked forever.

The pool follows spamd's scaler (spamd.md section 3.3): start with min(max-children,
max-spare) but at least min-children; after every state report fork one child when fewer
than --min-spare are idle (up to --max-children), and stop the idle child with the highest pid
when more than --max-spare are idle (down to --min-children). Unlike spamd, the listening
sockets stay open through HUP: the new ruleset is imported in the master, new children are
forked from it, and the old ones finish their current request and exit, so no connection is
refused during a reload.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import queue
import random
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from .commands import Commands
from .daemonize import remove_pidfile
from .errors import HaltServer
from .listeners import Listener, close_all
from .privileges import Identity, drop_privileges
from .scanning import release_old_objects
from .worker import STATE_BUSY, STATE_IDLE, Heartbeat, Worker, WorkerConfig

__all__ = ["Arbiter", "PoolLimits", "describe_status"]

# Exit status of a child that could not start (gunicorn calls it WORKER_BOOT_ERROR).
WORKER_BOOT_ERROR = 3
# Main-loop tick: how often stale heartbeats and the pool size are checked without events.
TICK = 1.0
# A child that dies this soon after its fork is crashing at start: slow the re-forking down.
CRASH_WINDOW = 1.0
# Slack on top of the request deadlines before a silent busy child is presumed hung.
STALE_GRACE = 30.0


class _Stop(Exception):
    def __init__(self, signame: str, graceful: bool) -> None:
        super().__init__(signame)
        self.signame, self.graceful = signame, graceful


@dataclass(frozen=True)
class PoolLimits:
    max_children: int
    min_children: int
    min_spare: int
    max_spare: int

    @property
    def initial(self) -> int:
        return max(self.min_children, min(self.max_children, self.max_spare))


@dataclass
class _Child:
    pid: int
    state_fd: int
    heartbeat: Heartbeat
    generation: int
    born: float
    state: str = "S"  # S starting, I idle, B busy, K killed by us


def describe_status(status: int) -> str:
    """spamd's words for a child's wait status: `exit 0`, `interrupted, signal 2 (0002)`."""
    if os.WIFEXITED(status):
        return f"exit {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        word = {1: "HANGUP", 2: "interrupted", 6: "ABORTED", 9: "KILLED", 15: "TERMINATED"}.get(
            number, "DIED"
        )
        return f"{word}, signal {number} ({number:04x})"
    if os.WIFSTOPPED(status):
        return f"stopped, signal {os.WSTOPSIG(status)}"
    return f"status {status}"


class Arbiter:
    SIGNALS = (
        signal.SIGHUP,
        signal.SIGINT,
        signal.SIGQUIT,
        signal.SIGTERM,
        signal.SIGCHLD,
        signal.SIGUSR1,
        signal.SIGUSR2,
    )

    def __init__(
        self,
        *,
        listeners: list[Listener],
        commands: Commands,
        reload_commands: Callable[[], Commands],
        worker_config: WorkerConfig,
        limits: PoolLimits,
        identity: Identity | None,
        log: Any,
        log_handler: Any,
        pidfile: str | None,
        graceful_timeout: float,
    ) -> None:
        self.listeners = listeners
        self.commands = commands
        self.reload_commands = reload_commands
        self.worker_config = worker_config
        self.limits = limits
        self.identity = identity
        self.log = log
        self.log_handler = log_handler
        self.pidfile = pidfile
        self.graceful_timeout = graceful_timeout
        self.pid = os.getpid()
        self.children: dict[int, _Child] = {}
        self.generation = 0
        self._sigq: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._wake_r, self._wake_w):
            os.set_blocking(fd, False)
        self._respawn_after = 0.0
        timeouts = worker_config.timeout_tcp, worker_config.timeout_child
        self._stale_after = (sum(timeouts) + STALE_GRACE) if all(timeouts) else None

    # ---- signals: the handler only queues ----------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._sigq.put_nowait(signum)

    def init_signals(self) -> None:
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        for signum in self.SIGNALS:
            signal.signal(signum, self._on_signal)

    def _drain_signals(self) -> list[int]:
        signals = []
        while True:
            try:
                signals.append(self._sigq.get_nowait())
            except queue.Empty:
                return signals

    # ---- main loop ---------------------------------------------------------------------------
    def run(self) -> int:
        """Serve until TERM/INT/QUIT; returns the exit status."""
        self.init_signals()
        try:
            self.spawn_missing()
            while True:
                self._wait_for_events(TICK)
                for signum in self._drain_signals():
                    name = signal.Signals(signum).name[3:].lower()
                    handler = getattr(self, "handle_" + name, None)
                    if handler is not None:
                        handler()
                self.kill_stale()
                self.spawn_missing()
        except _Stop as stop:
            self.stop(stop.signame, graceful=stop.graceful)
            return 0
        except HaltServer as halt:
            self.log.error(f"spamd: {halt.reason}; shutting down")
            self.stop("halt", graceful=False)
            return halt.exit_status

    def _wait_for_events(self, timeout: float) -> None:
        by_fd = {c.state_fd: c for c in self.children.values() if c.state_fd >= 0}
        try:
            ready, _, _ = select.select([self._wake_r, *by_fd], [], [], timeout)
        except InterruptedError:
            return
        for fd in ready:
            if fd == self._wake_r:
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
                continue
            child = by_fd[fd]
            try:
                data = os.read(fd, 512)
            except OSError:
                data = b""
            if not data:
                os.close(fd)
                child.state_fd = -1  # the child is exiting; SIGCHLD will follow
                continue
            for byte in data:
                state = bytes([byte])
                if child.state == "K":
                    continue
                if state in (STATE_IDLE, STATE_BUSY):
                    child.state = state.decode()
                    self.adapt()

    # ---- the scaler --------------------------------------------------------------------------
    def scoreboard(self) -> str:
        return "".join(self.children[pid].state for pid in sorted(self.children))

    def adapt(self) -> None:
        """spamd's adapt_num_children, once per state report (spamd.md section 3.3)."""
        self.log.info(f"prefork: child states: {self.scoreboard()}")
        live = [c for c in self.children.values() if c.state != "K"]
        idle = [c for c in live if c.state == "I"]
        limits = self.limits
        if len(idle) < limits.min_spare:
            if len(live) < limits.max_children:
                pid = self.spawn_child()
                self.log.info(
                    f"prefork: adjust: {len(idle)} idle children less than {limits.min_spare} "
                    f"minimum idle children.  Increasing spamd children: {pid} started."
                )
            else:
                self.log.info("prefork: server reached --max-children setting, consider raising it")
        elif len(idle) > limits.max_spare and len(live) > limits.min_children:
            victim = max(idle, key=lambda c: c.pid)
            self._terminate(victim)
            self.log.info(
                f"prefork: adjust: {len(idle)} idle children more than {limits.max_spare} "
                f"maximum idle children. Decreasing spamd children: {victim.pid} killed."
            )

    def spawn_missing(self) -> None:
        """Keep at least the initial number of current-generation children alive."""
        if time.monotonic() < self._respawn_after:
            return
        current = [
            c for c in self.children.values() if c.generation == self.generation and c.state != "K"
        ]
        for _ in range(self.limits.initial - len(current)):
            self.spawn_child()

    def kill_stale(self) -> None:
        if self._stale_after is None:
            return
        for child in list(self.children.values()):
            # Read twice: killing a healthy child costs its client the reply.
            if (
                child.state != "K"
                and child.heartbeat.age() > self._stale_after
                and child.heartbeat.age() > self._stale_after
            ):
                self.log.warning(
                    f"spamd: child [{child.pid}] silent for "
                    f"{child.heartbeat.age():.0f} s, killing it"
                )
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)
                child.state = "K"

    def _terminate(self, child: _Child) -> None:
        """Graceful: an idle child exits at once, a busy one after its current request."""
        child.state = "K"
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGTERM)

    # ---- forking -----------------------------------------------------------------------------
    def spawn_child(self) -> int:
        read_fd, write_fd = os.pipe()
        heartbeat = Heartbeat()
        gc.freeze()  # keep the collector off the pages the children share with us
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            self._run_child(write_fd, heartbeat)  # never returns
        os.close(write_fd)
        self.children[pid] = _Child(pid, read_fd, heartbeat, self.generation, time.monotonic())
        self.log.info(f"spamd: server successfully spawned child process, pid {pid}")
        return pid

    def _run_child(self, state_fd: int, heartbeat: Heartbeat) -> None:
        status = 1
        try:
            signal.set_wakeup_fd(-1)
            for signum in self.SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
            for child in self.children.values():
                if child.state_fd >= 0:
                    os.close(child.state_fd)
                child.heartbeat.close()
            random.seed()
            try:
                drop_privileges(self.identity)
            except OSError as exc:
                self.log.error(f"spamd: cannot switch to the -u user: {exc}")
                status = WORKER_BOOT_ERROR
                return
            worker = Worker(
                self.listeners,
                self.worker_config,
                self.commands,
                state_fd,
                heartbeat,
                self.pid,
                self.log,
                self.log_handler,
            )
            status = worker.run()
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:
            with contextlib.suppress(Exception):
                self.log.error("spamd: child died: " + traceback.format_exc().replace("\n", " | "))
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            os._exit(status)

    # ---- reaping -----------------------------------------------------------------------------
    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is None:
                continue
            if child.state_fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(child.state_fd)
            child.heartbeat.close()
            self.log.info(
                f"spamd: handled cleanup of child pid [{pid}] due to SIGCHLD: "
                f"{describe_status(status)}"
            )
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == WORKER_BOOT_ERROR:
                raise HaltServer("a child could not start (boot error)", exit_status=1)
            clean = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            if not clean and time.monotonic() - child.born < CRASH_WINDOW:
                self._respawn_after = time.monotonic() + CRASH_WINDOW

    # ---- signal handlers (called from the main loop) ---------------------------------------
    def handle_chld(self) -> None:
        self.reap()

    def handle_term(self) -> None:
        raise _Stop("SIGTERM", graceful=True)

    def handle_int(self) -> None:
        raise _Stop("SIGINT", graceful=False)

    def handle_quit(self) -> None:
        raise _Stop("SIGQUIT", graceful=False)

    def handle_hup(self) -> None:
        """Reload the ruleset in place; old children finish what they are doing."""
        self.log.info("spamd: server hit by SIGHUP, reloading the ruleset")
        self.log_handler.reopen()
        started = time.monotonic()
        try:
            commands = self.reload_commands()
        except Exception as exc:
            self.log.error(f"spamd: reload failed, keeping the running ruleset: {exc}")
            return
        self.commands = commands
        del commands
        release_old_objects()
        retiring = sum(1 for c in self.children.values() if c.state != "K")
        self._replace_children()
        self.log.info(
            f"spamd: ruleset reloaded in {time.monotonic() - started:.1f} seconds, "
            f"{retiring} old children retiring"
        )

    def handle_usr1(self) -> None:
        """Reopen the log (spamd's parent would die on USR1: a 4.0.1 bug).

        Children run unprivileged and could not open a root-owned log afresh, so they are
        replaced instead, gracefully, by children forked with the reopened file.
        """
        self.log_handler.reopen()
        self.log.info("spamd: log reopened on SIGUSR1, replacing children")
        self._replace_children()

    def _replace_children(self) -> None:
        self.generation += 1
        old = [c for c in self.children.values() if c.state != "K"]
        for _ in range(self.limits.initial):
            self.spawn_child()
        for child in old:
            self._terminate(child)

    def handle_usr2(self) -> None:
        self.log.warning("spamd: caught SIGUSR2 - dumping backtrace. most recent message: (none)")
        for line in traceback.format_stack():
            self.log.warning("spamd: " + line.rstrip().replace("\n", " | "))

    # ---- stopping ----------------------------------------------------------------------------
    def stop(self, signame: str, *, graceful: bool) -> None:
        if signame != "halt":
            self.log.info(f"spamd: server killed by {signame}, shutting down")
        close_all(self.listeners)
        remove_pidfile(self.pidfile, self.pid)
        sig = signal.SIGTERM if graceful else signal.SIGINT
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + (self.graceful_timeout if graceful else 2.0)
        while self.children and time.monotonic() < deadline:
            with contextlib.suppress(HaltServer):
                self.reap()
            if self.children:
                time.sleep(0.05)
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        while self.children:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except OSError as exc:
                if exc.errno != errno.EINTR:
                    break
                continue
            self.children.pop(pid, None)
        self.log_handler.flush_duplicates()
