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
