"""`make bench`: spamkiln against SpamAssassin on this machine, in the same run, as ratios.

Measures (bounded in count and time; loopback only):
1. sa-compile of the upstream ruleset, and importing the generated module (fresh processes).
2. The RE2 pre-filter over body text per shard size (why the matcher shards as it does).
3. Scan throughput, one process after warm-up, next to SpamAssassin's spamd with one child
   driven sequentially with the same messages; plus spamkiln's per-stage profile.
Results print as a table and are written to build/bench.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from spamkiln.runtime.compiled import RegexRule
from spamkiln.runtime.loader import load_ruleset
from spamkiln.runtime.matcher import CompiledPattern, bench
from spamkiln.runtime.scan import Scanner

from .sa_peer import sa_spamd, spamc_request, symbols_request
from .spamd_bench import bench_spamd, format_spamd_table

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SPAMKILN_SHARED", ROOT.parent / "shared"))
OUT = ROOT / "build" / "bench"
SAMPLE = int(os.environ.get("BENCH_MESSAGES", "300"))
SPAMD_MESSAGES = int(os.environ.get("BENCH_SPAMD_MESSAGES", "200"))


def corpus_sample(n: int) -> list[bytes]:
    files = sorted(
        p for p in (SHARED / "corpus").rglob("*") if p.is_file() and p.name != "README.md"
    )
    step = max(1, len(files) // n)
    return [p.read_bytes() for p in files[::step][:n]]


def timed(cmd: list[str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, timeout=300)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_compile() -> dict:
    python = sys.executable
    compile_s = timed(
        [
            python,
            "-m",
            "spamkiln.compiler",
            "-q",
            "-o",
            str(OUT),
            "--no-own-rules",
            "--add",
            "tests/fixtures/zz_golden.cf",
        ]
    )
    base = timed([python, "-c", "import spamkiln.runtime.compiled"], runs=5)
    imp = timed(
        [
            python,
            "-c",
            f"from spamkiln.runtime.loader import load_ruleset; load_ruleset({str(OUT)!r})",
        ],
        runs=5,
    )
    return {
        "compile_s": round(compile_s, 2),
        "import_s": round(imp - base, 3),
        "import_total_s": round(imp, 3),
    }


def bench_sets(scanner: Scanner, messages: list[bytes]) -> dict:
    rules = [
        r for r in scanner.ruleset.rules.values() if isinstance(r, RegexRule) and r.target == "body"
    ]
    patterns = [
        CompiledPattern(r.info.name, r.set_pattern, r.exact_engine, r.exact_pattern, r.literals)
        for r in rules
    ]
    texts = []
    for raw in messages[:150]:
        texts.extend(scanner.scan(raw).context.body_lines)
    return bench(patterns, texts, shard_sizes=(32, 16, 8, 4))


def bench_scan(scanner: Scanner, messages: list[bytes]) -> dict:
    for raw in messages[:20]:  # warm-up: lazy DFA states, caches
        scanner.scan(raw)
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    for raw in messages:
        for stage, seconds in scanner.scan(raw, timings=True).timings.items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    elapsed = time.perf_counter() - t0
    return {
        "messages": len(messages),
        "seconds": round(elapsed, 2),
        "msgs_per_s": round(len(messages) / elapsed, 1),
        "stages_ms_per_msg": {k: round(1000 * v / len(messages), 2) for k, v in stages.items()},
    }


def bench_sa(messages: list[bytes]) -> dict:
    with sa_spamd(children=1) as port:
        for raw in messages[:5]:
            spamc_request(port, symbols_request(raw))
        t0 = time.perf_counter()
        for raw in messages:
            spamc_request(port, symbols_request(raw))
        elapsed = time.perf_counter() - t0
    return {
        "messages": len(messages),
        "seconds": round(elapsed, 2),
        "msgs_per_s": round(len(messages) / elapsed, 1),
    }


def bench_spamc_start(runs: int = 30) -> dict:
    """Start-to-exit time of `spamc -K` (ping) for the C client and ours.

    Both ping the same tiny PONG server, so the figure is the client's own start-up cost.
    """
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(b"SPAMD/1.5 0 PONG\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    out = {}
    try:
        for name, cmd in (
            ("c_spamc", ["/usr/bin/spamc"]),
            ("spamkiln_spamc", [str(Path(sys.executable).parent / "spamkiln-spamc")]),
        ):
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                subprocess.run(
                    [*cmd, "-K", "-d", "127.0.0.1", "-p", str(port)],
                    capture_output=True,
                    timeout=30,
                )
                times.append(time.perf_counter() - t0)
            out[name + "_ms"] = round(1000 * statistics.median(times), 1)
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    messages = corpus_sample(SAMPLE)
    results: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
    }
    results["compile"] = bench_compile()
    scanner = Scanner(load_ruleset(OUT))
    results["re2_body_sets"] = bench_sets(scanner, messages)
    results["scan"] = bench_scan(scanner, messages)
    results["spamassassin"] = bench_sa(messages)
    ours = results["scan"]["msgs_per_s"]  # type: ignore[index]
    theirs = results["spamassassin"]["msgs_per_s"]  # type: ignore[index]
    results["scan_ratio"] = round(ours / theirs, 2) if theirs else None
    results["spamd"] = bench_spamd(messages[:SPAMD_MESSAGES], OUT)
    results["spamc_start"] = bench_spamc_start()
    (OUT / "bench.json").write_text(json.dumps(results, indent=2))
    print(format_table(results))
    print(format_spamd_table(results["spamd"]))  # type: ignore[arg-type]


def format_table(r: dict) -> str:
    c, s, sa = r["compile"], r["scan"], r["spamassassin"]
    lines = [
        f"spamkiln bench {r['date']} on {r['machine']}",
        "| measure | spamkiln | SpamAssassin | ratio |",
        "|---|---|---|---|",
        f"| compile upstream ruleset | {c['compile_s']} s | - | target < 10 s |",
        f"| import compiled module | {c['import_s']} s | - | target < 1 s |",
        f"| scan, 1 process, msgs/s ({s['messages']} msgs) | {s['msgs_per_s']} | "
        f"{sa['msgs_per_s']} (spamd, 1 child) | {r['scan_ratio']}x |",
        "per-stage ms/msg: " + ", ".join(f"{k} {v}" for k, v in s["stages_ms_per_msg"].items()),
        f"spamc -K start-to-exit, median ms: C {r['spamc_start']['c_spamc_ms']}, "
        f"spamkiln {r['spamc_start']['spamkiln_spamc_ms']}",
        "RE2 body pre-filter MB/s by shard size: "
        + ", ".join(
            f"{size}: {run['prefilter_mb_s']}" for size, run in r["re2_body_sets"]["runs"].items()
        ),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
