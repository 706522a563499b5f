"""Settings whose syntax SpamAssassin 4.0.1 parses its own way (observed, not the spec's type)."""

from __future__ import annotations

from .conftest import RuleCompiler

SUBJECT_PLUGIN = "loadplugin Mail::SpamAssassin::Plugin::WelcomeListSubject\n"
WLBL_PLUGIN = "loadplugin Mail::SpamAssassin::Plugin::WLBLEval\n"


def test_a_subject_glob_is_the_whole_line(rc: RuleCompiler) -> None:
    settings = rc.module(
        SUBJECT_PLUGIN + "welcomelist_subject Weekly Report *\n"
        "whitelist_subject weekly report *\n"  # the old name, the same entry
        "blocklist_subject Free  Money\n"
    ).RULESET.settings
    assert settings["welcomelist_subject"] == ["weekly report *"]
    assert settings["blocklist_subject"] == ["free  money"]


def test_an_empty_subject_glob_is_an_error(rc: RuleCompiler) -> None:
    assert any(
        "welcomelist_subject needs a value" in m
        for m in rc.messages(SUBJECT_PLUGIN + "welcomelist_subject\n")
    )


def test_the_last_uri_host_line_wins(rc: RuleCompiler) -> None:
    settings = rc.module(
        WLBL_PLUGIN + "enlist_uri_host (L) a.example b.example\n"
        "enlist_uri_host (L) !a.example\n"
        "enlist_uri_host (L) A.example !b.example\n"
        "blocklist_uri_host c.example\n"
        "enlist_uri_host (BLOCK) !c.example\n"
    ).RULESET.settings
    assert settings["enlist_uri_host"] == {
        "L": ["a.example", "!b.example"],
        "BLOCK": ["!c.example"],
    }


def test_header_edits_keep_file_order(rc: RuleCompiler) -> None:
    """add_header, remove_header and report_safe 0 act on the header lists as they stand."""
    settings = rc.module(
        "add_header spam Foo x\n"
        "report_safe 0\n"  # Report goes here, between Foo and Bar (observed with spamassassin)
        "add_header spam Bar y\n"
        "remove_header all Foo\n"
        "add_header all Foo z\n"
        "report_safe 0\n"  # Report is listed already: nothing more
    ).RULESET.settings
    assert settings["report_safe"] == 0
    assert settings["header_edits"] == [
        ["add", "spam", "Foo", "x"],
        ["add", "spam", "Report", "_REPORT_"],
        ["add", "spam", "Bar", "y"],
        ["remove", "all", "Foo"],
        ["add", "all", "Foo", "z"],
    ]


def test_clear_headers_drops_the_edits_before_it(rc: RuleCompiler) -> None:
    settings = rc.module(
        "add_header all Foo x\nreport_safe 0\nclear_headers\nadd_header ham Bar y\n"
    ).RULESET.settings
    assert settings["header_edits"] == [["add", "ham", "Bar", "y"]]


def test_report_safe_takes_0_1_or_2(rc: RuleCompiler) -> None:
    assert any("report_safe: expected 0, 1 or 2" in m for m in rc.messages("report_safe 3\n"))
