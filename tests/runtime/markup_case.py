"""A small ruleset and pinned environment shared by the rewrite and template tests.

The expected bytes in test_rewrite.py and test_templates.py were produced once by SpamAssassin
4.0.1 (`spamassassin -L -t -C DIR` with DIR holding the Check plugin's loadplugin line, the
plugin lines of conftest.PRE and exactly the RULES text below), with SpamAssassin's host name,
date and MIME boundary then replaced by the pinned values of `env()`. Rules hit at most one per
pass (mimeheader, header, body, uri, rawbody, full, meta) in the messages whose report is
compared, because SpamAssassin orders rules of one pass by Perl's randomised hash order.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from spamkiln.compiler.pipeline import compile_files, write_module
from spamkiln.runtime.config import Config
from spamkiln.runtime.loader import load_ruleset
from spamkiln.runtime.scan import Scanner, ScanResult
from spamkiln.runtime.templates import MarkupEnv

from .conftest import PRE

RULES = r"""
required_score 5
use_bayes 0
bayes_auto_learn 0
util_rb_tld invalid test org
clear_headers
add_header all Checker-Version SpamAssassin _VERSION_ (_SUBVERSION_) on _HOSTNAME_
add_header spam Flag _YESNOCAPS_
add_header all Level _STARS(*)_
add_header all Status "_YESNO_, score=_SCORE_ required=_REQD_ tests=_TESTS_ {STATUS_TAIL}"
report_hostname filter.example.test
report_contact postmaster@example.test
clear_report_template
report Mail filter on _HOSTNAME_ says this mail is_YESNO(, not)_ spam.
report Questions: _CONTACTADDRESS_
report
report Preview:  _PREVIEW_
report
report Score _SCORE_ of _REQD_ (_SCORE(00)_, stars _STARS(+)_)
report Tests: _TESTSSCORES(, )_
report " pts rule"
report _SUMMARY_
clear_unsafe_report_template
unsafe_report The original was not plain text; open it with care.

mimeheader SK_CT_PLAIN   Content-Type =~ /text\/plain/i
describe SK_CT_PLAIN     Has a plain text part
score    SK_CT_PLAIN     -0.5
header   SK_SUBJ_MONEY   Subject =~ /money/i
describe SK_SUBJ_MONEY   Subject talks about money
score    SK_SUBJ_MONEY   3.0
body     SK_BODY_WINNER  /\bwinner\b/i
describe SK_BODY_WINNER  Body announces a winner, {WINNER_TAIL}
score    SK_BODY_WINNER  2.5
rawbody  SK_RAW_CLICK    /click here/i
score    SK_RAW_CLICK    1.2
uri      SK_URI_INVALID  /example\.invalid/
describe SK_URI_INVALID  Links to example.invalid
score    SK_URI_INVALID  0.9
full     SK_FULL_ZZZ     /zzzzz/
describe SK_FULL_ZZZ     Sleepy message
score    SK_FULL_ZZZ     12
meta     SK_META_BOTH    SK_SUBJ_MONEY && SK_BODY_WINNER
describe SK_META_BOTH    Money subject and a winner
score    SK_META_BOTH    0.001
header   __SK_HAS_LONG   Subject =~ /longlist/
meta     SK_LONG_RULE_NAME_NUMBER_ONE_AAAA    __SK_HAS_LONG
meta     SK_LONG_RULE_NAME_NUMBER_TWO_BBBB    __SK_HAS_LONG
meta     SK_LONG_RULE_NAME_NUMBER_THREE_CCC   __SK_HAS_LONG
meta     SK_LONG_RULE_NAME_NUMBER_FOUR_DDDD   __SK_HAS_LONG
meta     SK_LONG_RULE_NAME_NUMBER_FIVE_EEEE   __SK_HAS_LONG
meta     SK_LONG_RULE_NAME_NUMBER_SIX_FFFFF   __SK_HAS_LONG
score    SK_LONG_RULE_NAME_NUMBER_ONE_AAAA    0.1
score    SK_LONG_RULE_NAME_NUMBER_TWO_BBBB    0.1
score    SK_LONG_RULE_NAME_NUMBER_THREE_CCC   0.1
score    SK_LONG_RULE_NAME_NUMBER_FOUR_DDDD   0.1
score    SK_LONG_RULE_NAME_NUMBER_FIVE_EEEE   0.1
score    SK_LONG_RULE_NAME_NUMBER_SIX_FFFFF   0.1
""".format(  # two lines longer than this file's width
    STATUS_TAIL="autolearn=_AUTOLEARN_ version=_VERSION_",
    WINNER_TAIL="with a description long enough that the report has to wrap it",
)

HOSTNAME = "mx.example.test"
NOW = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 +0000
BOUNDARY_SEED = 7


def env() -> MarkupEnv:
    """A fresh pinned environment (its random generator restarts every time)."""
    return MarkupEnv(
        hostname=HOSTNAME,
        now=NOW,
        remote_hostname="localhost",
        remote_addr="127.0.0.1",
        rng=random.Random(BOUNDARY_SEED),
    )


class MarkupScanner:
    """Scan with the shared ruleset, optionally with settings overridden (like user prefs)."""

    def __init__(self, build: Path) -> None:
        self.ruleset = load_ruleset(build)
        self._plain = Scanner(self.ruleset)

    def scan(self, raw: bytes, settings: Mapping[str, object] | None = None) -> ScanResult:
        if not settings:
            return self._plain.scan(raw)
        config = Config(with_case_lines(self.ruleset.settings, settings))
        return Scanner(self.ruleset, config=config).scan(raw)


def with_case_lines(compiled: Mapping[str, object], case: Mapping[str, object]) -> dict:
    """The settings SpamAssassin had for a case: RULES, then the case's lines after them.

    A case writes its header lines as `add_header` and `remove_header` lists, which replace
    RULES' headers (its lines began with `clear_headers`); a `report_safe 0` among them came
    last, so the Report header it implies goes after them. sa-compile writes all of it as one
    ordered `header_edits` list, which is what the runtime reads.
    """
    out = {**compiled, **case}
    edits = list(compiled.get("header_edits") or ())  # type: ignore[call-overload]
    if "add_header" in case or "remove_header" in case:
        adds = case.get("add_header") or ()
        removes = case.get("remove_header") or ()
        edits = [["add", *a] for a in adds] + [["remove", *r] for r in removes]  # type: ignore
    if case.get("report_safe") == 0 and not any(e[2].lower() == "report" for e in edits):
        edits.append(["add", "spam", "Report", "_REPORT_"])
    out["header_edits"] = edits
    return out


def build_markup_scanner(folder: Path) -> MarkupScanner:
    """Compile RULES (with conftest.PRE's plugins) into `folder` and load it."""
    (folder / "00.pre").write_text(PRE + "\n")
    (folder / "10.cf").write_text(RULES)
    result = compile_files([folder / "00.pre", folder / "10.cf"])
    assert not result.diagnostics.errors, [str(d) for d in result.diagnostics.errors]
    return MarkupScanner(write_module(result, folder / "build"))


@contextmanager
def local_time_in_utc() -> Iterator[None]:
    """Dates render in local time, as in SpamAssassin: pin the zone for the duration."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
