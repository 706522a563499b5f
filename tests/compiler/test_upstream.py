"""The whole upstream ruleset (Debian's spamassassin 4.0.1) compiles, with the inventory counts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from spamkiln.compiler.pipeline import compile_files, write_module
from spamkiln.compiler.sources import UPSTREAM_DIR, default_inputs, spamassassin_inputs
from spamkiln.compiler.stats import collect

# ../shared/spec/ruleset-inventory.md: counts after conditionals, Debian's config.
INVENTORY = {
    "meta": 921,
    "header": 769,
    "body": 622,
    "body eval": 206,
    "uri": 144,
    "header eval": 104,
    "header rbl-eval": 66,
    "rawbody": 58,
    "empty": 32,
    "full eval": 13,
    "rawbody eval": 7,
    "full": 4,
}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory):
    assert UPSTREAM_DIR.is_dir(), "Debian's spamassassin package must be installed (make test)"
    # The golden config adds zz_golden.cf (two Bayes settings) to Debian's stock files.
    golden = tmp_path_factory.mktemp("golden") / "zz_golden.cf"
    golden.write_text("use_bayes 0\nbayes_auto_learn 0\n")
    return compile_files([*spamassassin_inputs(), golden])


def test_zero_errors(upstream) -> None:
    assert [str(d) for d in upstream.diagnostics.errors] == []


def test_counts_match_the_inventory(upstream) -> None:
    stats = collect(upstream.plan)
    assert stats.total == 2946
    assert dict(stats.by_type) == INVENTORY
    assert stats.sub_rules == 1705
    assert stats.testing_rules == 103
    assert stats.active_set0 == 2583


def test_regex_fallback_count(upstream) -> None:
    stats = collect(upstream.plan)
    # The inventory's 235 rejections count every pattern (also redirector_pattern and askdns
    # filters, 1610 in all); rules alone are 1521, so the rule figure is at most 235.
    assert 150 <= sum(stats.fallback.values()) <= 235


def test_generated_module_imports(upstream, tmp_path: Path) -> None:
    path = write_module(upstream, tmp_path)
    spec = importlib.util.spec_from_file_location("upstream_rules", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert len(module.RULESET.rules) == 2946
    assert module.RULESET.settings["required_score"] == 5.0


def test_default_ruleset_includes_our_rules() -> None:
    result = compile_files(default_inputs())
    assert [str(d) for d in result.diagnostics.errors] == []
    assert "SK_FREE_MONEY" in result.plan.ruleset.rules
    rule = result.plan.ruleset.rules["SK_FREE_MONEY"]
    assert "<SK_FREE>" not in (rule.pattern or "")
