"""Our own rules-src/ ruleset works end to end on the sample messages, beside upstream's."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamkiln.compiler.pipeline import compile_files, write_module
from spamkiln.compiler.sources import default_inputs
from spamkiln.runtime.loader import load_ruleset
from spamkiln.runtime.scan import Scanner

MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


@pytest.fixture(scope="module")
def scanner(tmp_path_factory: pytest.TempPathFactory) -> Scanner:
    result = compile_files(default_inputs())
    assert result.diagnostics.errors == []
    return Scanner(load_ruleset(write_module(result, tmp_path_factory.mktemp("default"))))


def test_spam_sample_hits_our_rules_and_upstream_ones(scanner: Scanner) -> None:
    result = scanner.scan((MAIL / "spam-html.eml").read_bytes())
    assert {"SK_FREE_MONEY", "SK_URI_NUMERIC_HOST"} <= set(result.rules)  # ours
    assert "HTML_MESSAGE" in result.rules  # upstream's
    assert result.is_spam


def test_ham_samples_stay_ham(scanner: Scanner) -> None:
    for name in ("ham-plain.eml", "ham-multipart.eml"):
        result = scanner.scan((MAIL / name).read_bytes())
        assert not result.is_spam, (name, result.rules)
        assert not [r for r in result.rules if r.startswith("SK_")]
