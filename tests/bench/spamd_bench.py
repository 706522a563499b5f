"""spamd against spamd: our daemon and Debian's, same settings, same messages, same machine.

`bench_spamd(messages, ruleset_dir)` starts each daemon with 2 children (`-m 2 --min-children
2 --max-spare 2`, local tests only, no user config, log to a file), warms it up, then drives it
with SYMBOLS requests at concurrency 2, 4 and 8 from client threads, and reports messages per
second, p50/p99 latency, and each child's private and shared memory from
/proc/PID/smaps_rollup after the load. Loopback only; every wait is bounded.

    python -m tests.bench.spamd_bench [N_MESSAGES]
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .sa_peer import free_port, spamc_request, symbols_request

__all__ = ["bench_spamd", "format_spamd_table"]

DEBIAN_SPAMD = "/usr/sbin/spamd"
CHILDREN = 2
CONCURRENCY = (2, 4, 8)
START_TIMEOUT = 90.0
WARM_UP = 10


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent and fields[0] != "Z":
                    found.append(int(entry.name))
    return sorted(found)


def _smaps(pid: int) -> dict[str, float]:
    """Private/shared/PSS/RSS of one process, in MiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0])
    mib = 1024.0
    return {
        "private_mib": round(
            (values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)) / mib, 1
        ),
        "shared_mib": round(
            (values.get("Shared_Clean", 0) + values.get("Shared_Dirty", 0)) / mib, 1
        ),
        "pss_mib": round(values.get("Pss", 0) / mib, 1),
        "rss_mib": round(values.get("Rss", 0) / mib, 1),
    }


@contextlib.contextmanager
def _daemon(cmd: Sequence[str], port: int, workdir: Path) -> Iterator[int]:
    """Run a spamd command in its own session; yields the master's pid once it answers."""
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=workdir,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited with {proc.returncode} during start-up")
            with contextlib.suppress(OSError):
                if b"PONG" in spamc_request(port, b"PING SPAMC/1.5\r\n\r\n", timeout=2):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not answer within {START_TIMEOUT} s")
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while len(_children(proc.pid)) < CHILDREN and time.monotonic() < deadline:
            time.sleep(0.1)
        yield proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _drive(port: int, messages: Sequence[bytes], concurrency: int) -> dict[str, float]:
    work: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    for message in messages:
        work.put(symbols_request(message))
    for _ in range(concurrency):
        work.put(None)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        while (request := work.get()) is not None:
            started = time.perf_counter()
            try:
                reply = spamc_request(port, request)
            except OSError as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if not reply.startswith(b"SPAMD/1.1 0 EX_OK"):
                    errors.append(reply[:80].decode(errors="replace"))
                latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    return {
        "msgs_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else 0.0,
        "p99_ms": round(1000 * p99, 1),
        "errors": len(errors),
    }


def _measure(
    cmd: Sequence[str], port: int, messages: Sequence[bytes], workdir: Path
) -> dict[str, object]:
    with _daemon(cmd, port, workdir) as pid:
        for message in messages[:WARM_UP]:
            spamc_request(port, symbols_request(message))
        runs = {str(c): _drive(port, messages, c) for c in CONCURRENCY}
        children = _children(pid)
        memory = [_smaps(child) for child in children]
        master = _smaps(pid)
    return {"concurrency": runs, "children_memory": memory, "master_memory": master}


def bench_spamd(
    messages: Sequence[bytes], ruleset_dir: Path | str, include_spamassassin: bool = True
) -> dict[str, object]:
    """Both daemons with the same settings and messages; results as a JSON-able dict."""
    workdir = Path(tempfile.mkdtemp(prefix="spamd-bench-"))
    workdir.chmod(0o755)
    results: dict[str, object] = {"messages": len(messages), "children": CHILDREN}
    try:
        common = [
            "-L",
            "-x",
            "-m",
            str(CHILDREN),
            "--min-children",
            str(CHILDREN),
            "--max-spare",
            str(CHILDREN),
        ]
        port = free_port()
        ours = [
            sys.executable,
            "-m",
            "spamkiln.daemon.spamd",
            "--ruleset",
            str(ruleset_dir),
            "-i",
            f"127.0.0.1:{port}",
            "-s",
            str(workdir / "ours.log"),
            *common,
        ]
        results["spamkiln"] = _measure(ours, port, messages, workdir)
        if include_spamassassin and Path(DEBIAN_SPAMD).exists() and shutil.which("perl"):
            port = free_port()
            theirs = [
                DEBIAN_SPAMD,
                "-i",
                f"127.0.0.1:{port}",
                "-s",
                str(workdir / "sa.log"),
                "-r",
                str(workdir / "sa.pid"),
                *common,
            ]
            if os.geteuid() == 0:
                theirs += ["-u", "nobody"]
            results["spamassassin"] = _measure(theirs, port, messages, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def format_spamd_table(results: dict[str, object]) -> str:
    lines = [
        f"spamd, {results['children']} children, {results['messages']} SYMBOLS requests per run",
        "| daemon | concurrency | msgs/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("spamkiln", "spamassassin"):
        data = results.get(name)
        if not isinstance(data, dict):
            continue
        for conc, run in data["concurrency"].items():
            lines.append(
                f"| {name} | {conc} | {run['msgs_per_s']} | {run['p50_ms']} | "
                f"{run['p99_ms']} | {run['errors']} |"
            )
    lines += [
        "",
        "| daemon | process | private MiB | shared MiB | PSS MiB | RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("spamkiln", "spamassassin"):
        data = results.get(name)
        if not isinstance(data, dict):
            continue
        rows = [("master", data["master_memory"])] + [
            (f"child {i + 1}", m) for i, m in enumerate(data["children_memory"])
        ]
        for label, m in rows:
            lines.append(
                f"| {name} | {label} | {m['private_mib']} | {m['shared_mib']} | "
                f"{m['pss_mib']} | {m['rss_mib']} |"
            )
    return "\n".join(lines)


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    shared = Path(os.environ.get("SPAMKILN_SHARED", root.parent / "shared"))
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    files = sorted(
        p for p in (shared / "corpus").rglob("*") if p.is_file() and p.name != "README.md"
    )
    step = max(1, len(files) // count)
    messages = [p.read_bytes() for p in files[::step][:count]]
    ruleset = Path(os.environ.get("SPAMKILN_RULESET", root / "build" / "golden"))
    results = bench_spamd(messages, ruleset)
    print(format_spamd_table(results))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
