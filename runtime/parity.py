"""Compare spamkiln's results with SpamAssassin's (golden) message by message.

Three figures, each over the messages both files have: the verdict (spam or not), the exact set
of rules hit, and the one-decimal score. The rules behind most disagreements are listed with
their false hits and misses, which is where parity work starts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ParityReport", "compare", "format_report", "read_jsonl"]


def read_jsonl(path: Path) -> dict[str, dict]:
    rows = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                row = json.loads(line)
                rows[row["path"]] = row
    return rows


@dataclass
class ParityReport:
    compared: int = 0
    missing: int = 0  # golden messages absent from the results (or errored)
    verdicts: int = 0
    rule_sets: int = 0
    scores: int = 0
    false_hits: Counter[str] = field(default_factory=Counter)  # we hit, SA did not
    misses: Counter[str] = field(default_factory=Counter)  # SA hit, we did not

    def percent(self, count: int) -> float:
        return 100.0 * count / self.compared if self.compared else 0.0


def compare(golden: Mapping[str, dict], results: Mapping[str, dict]) -> ParityReport:
    report = ParityReport()
    for path, expected in golden.items():
        got = results.get(path)
        if got is None or "error" in got:
            report.missing += 1
            continue
        report.compared += 1
        report.verdicts += expected["spam"] == got["spam"]
        report.scores += abs(float(expected["score"]) - float(got["score"])) < 0.05
        want, have = set(expected["rules"]), set(got["rules"])
        report.rule_sets += want == have
        report.false_hits.update(have - want)
        report.misses.update(want - have)
    return report


def format_report(report: ParityReport, top: int = 20) -> str:
    lines = [
        f"messages compared: {report.compared} (missing from results: {report.missing})",
        f"verdict agreement:   {report.verdicts:>5} ({report.percent(report.verdicts):.2f}%)",
        f"exact rule sets:     {report.rule_sets:>5} ({report.percent(report.rule_sets):.2f}%)",
        f"score agreement:     {report.scores:>5} ({report.percent(report.scores):.2f}%)",
        f"rules with the most disagreements (top {top}):",
        f"  {'rule':<32} {'total':>6} {'false hits':>10} {'misses':>7}",
    ]
    totals = report.false_hits + report.misses
    for name, total in _top(totals, top):
        lines.append(
            f"  {name:<32} {total:>6} {report.false_hits[name]:>10} {report.misses[name]:>7}"
        )
    return "\n".join(lines)


def _top(counts: Counter[str], n: int) -> Iterable[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
