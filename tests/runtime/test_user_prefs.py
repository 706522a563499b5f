"""A user's preferences over the global configuration (spamd's user_prefs)."""

from __future__ import annotations

import copy

import pytest

from spamkiln.runtime.user_prefs import parse_user_prefs

from .conftest import ScannerFactory, message

WLBL = "loadplugin Mail::SpamAssassin::Plugin::WLBLEval\n"
RULES = (
    WLBL
    + """
required_score 5
header   SUBJ_CASH   Subject =~ /cash/i
score    SUBJ_CASH   3.0
body     BODY_PRIZE  /prize/
score    BODY_PRIZE  2.5
header   __FROM_EX   From =~ /example\\.org/
meta     CASH_FROM_EX  SUBJ_CASH && __FROM_EX
score    CASH_FROM_EX  1.0
header   OFF_RULE    Subject =~ /cash/
score    OFF_RULE    0
header   USER_IN_WELCOMELIST From =~ /x/
"""
)
SPAM = message("From: a@example.org\nSubject: cash now", "win a prize\n")


@pytest.fixture
def scanner(make_scanner: ScannerFactory):
    rules = RULES.replace(
        "header   USER_IN_WELCOMELIST From =~ /x/\n",
        "header   USER_IN_WELCOMELIST eval:check_from_in_welcomelist()\n"
        "score    USER_IN_WELCOMELIST -100\n",
    )
    return make_scanner(rules)


def prefs_for(scanner, text: str):
    return parse_user_prefs(text, scanner.ruleset.settings, scanner.ruleset.plugins)


def test_without_prefs(scanner) -> None:
    result = scanner.scan(SPAM)
    assert set(result.rules) == {"SUBJ_CASH", "BODY_PRIZE", "CASH_FROM_EX"}
    assert (result.score, result.required) == (6.5, 5.0)


def test_required_score_and_scores(scanner) -> None:
    prefs = prefs_for(scanner, "required_score 9\nscore BODY_PRIZE 4.5\n")
    assert prefs.refused == [] and prefs.applied == 2
    result = scanner.scan(SPAM, prefs=prefs)
    assert (result.score, result.required, result.is_spam) == (8.5, 9.0, False)
    assert scanner.scan(SPAM).score == 6.5  # the global configuration is untouched


def test_a_zero_score_is_no_hit_even_for_metas(scanner) -> None:
    result = scanner.scan(SPAM, prefs=prefs_for(scanner, "score SUBJ_CASH 0\n"))
    assert set(result.rules) == {"BODY_PRIZE"}  # CASH_FROM_EX no longer sees SUBJ_CASH


def test_four_scores_pick_the_score_set(scanner) -> None:
    result = scanner.scan(SPAM, prefs=prefs_for(scanner, "score BODY_PRIZE 1 2 3 4\n"))
    assert result.scores["BODY_PRIZE"] == 1.0  # score set 0: no network tests, no Bayes


def test_a_rule_off_globally_stays_off(scanner) -> None:
    result = scanner.scan(SPAM, prefs=prefs_for(scanner, "score OFF_RULE 5\n"))
    assert "OFF_RULE" not in result.rules


def test_welcomelist_from_appends_to_the_global_list(scanner) -> None:
    prefs = prefs_for(scanner, "welcomelist_from *@example.org\n")
    result = scanner.scan(SPAM, prefs=prefs)
    assert "USER_IN_WELCOMELIST" in result.rules and not result.is_spam
    assert "USER_IN_WELCOMELIST" not in scanner.scan(SPAM).rules


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("header MY_RULE Subject =~ /x/", "rules are not read from user_prefs"),
        ("allow_user_rules 1", "privileged setting"),
        ("user_scores_dsn DBI:x", "admin setting"),
        ("no_such_setting 1", "unknown setting"),
        ("required_score lots", "not a number"),
        ("score BODY_PRIZE high", "expected NAME and 1 or 4 numbers"),
        ("welcomelist_subject hello", "needs a plugin not loaded"),
    ],
)
def test_refused_lines_say_why(scanner, line: str, reason: str) -> None:
    prefs = prefs_for(scanner, f"# mine\n{line}\nrequired_score 7\n")
    assert len(prefs.refused) == 1 and prefs.refused[0].startswith("line 2: ")
    assert reason in prefs.refused[0]
    assert prefs.applied == 1 and scanner.scan(SPAM, prefs=prefs).required == 7.0


def test_ifplugin_blocks(scanner) -> None:
    prefs = prefs_for(
        scanner,
        "ifplugin Mail::SpamAssassin::Plugin::WLBLEval\nrequired_score 6\nelse\n"
        "required_score 1\nendif\nifplugin NoSuchPlugin\nrequired_score 2\nendif\n"
        "if (version > 3)\nrequired_score 3\nendif\n",
    )
    assert prefs.settings["required_score"] == 6.0
    assert prefs.refused == ["line 9: `if` is not evaluated in user_prefs; block skipped"]


def test_header_lines_edit_the_global_lists(scanner) -> None:
    before = copy.deepcopy(scanner.ruleset.settings)
    prefs = prefs_for(scanner, "clear_headers\nadd_header all Mine yes\nreport_safe 0\n")
    assert prefs.settings["header_edits"] == [
        ["add", "all", "Mine", "yes"],
        ["add", "spam", "Report", "_REPORT_"],
    ]
    assert scanner.ruleset.settings == before  # a copy was edited, never the global settings


def test_garbage_never_raises(scanner) -> None:
    prefs = prefs_for(scanner, "\x00\xff score\n=\nscore\nadd_header\nendif\nelse\n" * 50)
    assert prefs.applied == 0
    scanner.scan(SPAM, prefs=prefs)


def test_a_users_config_shares_what_the_global_one_built(scanner) -> None:
    scanner.scan(SPAM)  # builds the global TLD tables and network sets
    prefs = prefs_for(scanner, "required_score 7\n")
    config = prefs.config_over(scanner.config)
    assert config is prefs.config_over(scanner.config)
    assert config.registry is scanner.config.registry
    assert config.required_score == 7.0 and scanner.config.required_score == 5.0
    other = scanner.config.overlay({**scanner.ruleset.settings, "util_rb_tld": ["example"]})
    assert other.registry is not scanner.config.registry  # built anew from other settings
