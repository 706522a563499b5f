"""The scanner: every rule type, tflags, metas and scoring on hand-made messages."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spamkiln.runtime.scan import format_score

from .conftest import ScannerFactory, message

BASIC = message(
    "From: Joe <joe123456@example.com>\nTo: you@example.org\nSubject: Money $$$ now\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <a@b>\nContent-Type: text/plain",
    "Hello, wire the funds now.\nFree money free money free money.\n"
    "Visit http://192.0.2.7/x and unsubscribe here.\n",
)

RULES = """
header SUBJ_DOLLARS Subject =~ /\\${3}/
score  SUBJ_DOLLARS 1.5
header FROM_DIGITS From:addr =~ /^joe\\d+\\@/
score  FROM_DIGITS 0.5
header NO_XMAILER X-Mailer !~ /./
score  NO_XMAILER 0.25
header HAS_LIST exists:List-Id
header TO_UNSET Cc =~ /^none$/ [if-unset: none]
body   WIRE /\\bwire the funds\\b/i
body   __FREE /free money/i
tflags __FREE multiple maxhits=2
body   SUBJ_IN_BODY /^Money/
body   SUBJ_SKIPPED /^Money/
tflags SUBJ_SKIPPED nosubject
rawbody RAW_UNSUB /unsubscribe/
full   FULL_DATE /^Date: Mon/m
uri    URI_IP m{^https?://\\d+\\.\\d+\\.\\d+\\.\\d+/}
meta   TWO_FREE __FREE >= 2 && !HAS_LIST
score  TWO_FREE 2.0
meta   ZERO_META WIRE && 0
header DISABLED Subject =~ /Money/
score  DISABLED 0
meta   USES_DISABLED DISABLED || WIRE
"""


@pytest.fixture
def result(make_scanner: ScannerFactory):
    return make_scanner(RULES).scan(BASIC)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("SUBJ_DOLLARS", 1),
        ("FROM_DIGITS", 1),
        ("NO_XMAILER", 1),  # a !~ rule hits on an absent header
        ("HAS_LIST", None),
        ("TO_UNSET", 1),  # if-unset text stands in for the absent header
        ("WIRE", 1),
        ("__FREE", 2),  # multiple, capped by maxhits
        ("SUBJ_IN_BODY", 1),  # the Subject is the first body line
        ("SUBJ_SKIPPED", None),  # nosubject
        ("RAW_UNSUB", 1),
        ("FULL_DATE", 1),
        ("URI_IP", 1),
        ("TWO_FREE", 1),
        ("ZERO_META", None),
        ("DISABLED", None),  # score 0: never runs
        ("USES_DISABLED", 1),  # a zero-scored non-meta reads as 0
    ],
)
def test_rule_hits(result, rule: str, expected: float | None) -> None:
    assert result.hits.get(rule) == expected


def test_sub_rules_do_not_score(result) -> None:
    assert "__FREE" not in result.rules
    assert "__FREE" in result.subrules
    assert "__FREE" not in result.scores


def test_score_is_the_sum_of_set0_scores(result) -> None:
    expected = sum(result.scores.values())
    assert result.score == round(expected, 3)
    assert result.scores["SUBJ_DOLLARS"] == 1.5
    assert result.scores["WIRE"] == 1.0  # default score
    assert result.is_spam == (result.score >= 5.0)


def test_meta_reading_a_zero_scored_meta_never_hits(make_scanner: ScannerFactory) -> None:
    rules = "body A /Hello/\nmeta Z A\nscore Z 0\nmeta M !Z\nmeta N Z || A\n"
    hits = make_scanner(rules).scan(message("Subject: x", "Hello.\n")).hits
    assert "A" in hits and "M" not in hits and "N" not in hits


def test_score_sets(make_scanner: ScannerFactory) -> None:
    rules = "body A /Hello/\nscore A 1 2 3 4\n"
    for score_set, expected in ((0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0)):
        scanner = make_scanner(rules, score_set=score_set)
        assert scanner.scan(message("Subject: x")).score == expected


def test_net_eval_skipped_without_network(make_scanner: ScannerFactory) -> None:
    rules = "header NOTO eval:check_for_missing_to_header()\ntflags NOTO net\n"
    assert "NOTO" not in make_scanner(rules).scan(message("Subject: x")).hits


def test_failing_eval_is_a_miss_not_a_crash(make_scanner: ScannerFactory) -> None:
    def boom(ctx: object, *args: str) -> bool:
        raise RuntimeError("bad eval")

    scanner = make_scanner("body E eval:boom()\nbody A /Hello/\n", evals={"boom": boom})
    result = scanner.scan(message("Subject: x"))
    assert "E" not in result.hits and "A" in result.hits


def test_mimeheader_parts_and_negation(make_scanner: ScannerFactory) -> None:
    raw = message(
        'Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
        "--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/octet-stream; "
        'name="x.exe"\n\nMZ\n--b--\n',
    )
    rules = (
        'mimeheader EXE Content-Type =~ /name="?[^"]*\\.exe/i\n'
        "mimeheader NEG Content-Type !~ /nothing/\n"
        "mimeheader FIRST_ONLY Content-Type =~ /octet/\ntflags FIRST_ONLY range=1-2\n"
    )
    hits = make_scanner(rules).scan(raw).hits
    assert hits.get("EXE") == 1
    assert hits.get("NEG") == 1  # SpamAssassin's quirk: negated mimeheader rules always hit
    assert "FIRST_ONLY" not in hits


def test_malformed_messages_never_crash(make_scanner: ScannerFactory) -> None:
    scanner = make_scanner(RULES)
    for raw in (
        b"",
        b"\x00\xff" * 1000,
        b"Subject: x\n\n" + b"a" * 2_000_000,
        b"Content-Type: multipart/mixed; boundary=x\n\n--x\n" * 50,
    ):
        result = scanner.scan(raw)
        assert result.score == round(sum(result.scores.values()), 3)


@pytest.mark.parametrize(
    ("score", "required", "spam", "text"),
    [
        (9.44, 5.0, True, "9.4"),
        (0.0, 5.0, False, "0.0"),
        (-0.04, 5.0, False, "-0.0"),
        (4.96, 5.0, False, "4.9"),  # a ham never shows as reaching the threshold
        (5.0, 5.0, True, "5.0"),
    ],
)
def test_format_score(score: float, required: float, spam: bool, text: str) -> None:
    assert format_score(score, required, spam) == text


def _scrub(ctx, *args: str) -> bool:
    """A header eval that edits the body array in place, as SpamAssassin's FreeMail does."""
    ctx.body_lines[:] = [line.replace(b"secret", b"") for line in ctx.body_lines]
    return False


def test_header_evals_run_before_body_rules_of_the_same_priority(
    make_scanner: ScannerFactory,
) -> None:
    rules = "header SCRUB eval:scrub()\nbody SECRET /secret/\n"
    scanner = make_scanner(rules, evals={"scrub": _scrub})
    assert "SECRET" not in scanner.scan(message("Subject: x", "a secret\n")).hits


def test_priorities_order_the_phases(make_scanner: ScannerFactory) -> None:
    rules = (
        "header SCRUB eval:scrub()\nbody SECRET /secret/\npriority SECRET -5\n"
        # a meta pulls its dependency down to its own, lower priority
        "body __EARLY /secret/\nmeta EARLY_META __EARLY\npriority EARLY_META -10\n"
    )
    hits = make_scanner(rules, evals={"scrub": _scrub}).scan(message("Subject: x", "secret\n")).hits
    assert hits.get("SECRET") == 1
    assert hits.get("EARLY_META") == 1


def test_trusted_networks_setting_moves_the_trust_boundary(make_scanner: ScannerFactory) -> None:
    raw = message(
        "Received: from relay.example.net (relay.example.net [198.51.100.9])\n"
        "\tby mx.example.org (Postfix) with ESMTP id AB12\n"
        "\tfor <a@example.org>; Mon, 3 Jun 2024 09:15:02 +0000\nSubject: x",
    )
    rules = "header ALL_TRUSTED eval:check_all_trusted()\n"
    assert "ALL_TRUSTED" not in make_scanner(rules).scan(raw).hits
    trusted = make_scanner(rules + "trusted_networks 198.51.100.0/24\n").scan(raw)
    assert trusted.hits.get("ALL_TRUSTED") == 1
    assert trusted.context.relays.trusted[0].ip == "198.51.100.9"


def test_time_limit_stops_the_scan_but_keeps_results(make_scanner: ScannerFactory) -> None:
    scanner = make_scanner("body A /Hello/\nheader B Subject =~ /x/\ntime_limit 0\n")
    result = scanner.scan(message("Subject: x"))
    assert result.context.timed_out
    assert result.score == round(sum(result.scores.values()), 3)


_SCANNER_CACHE: dict[str, object] = {}


@given(
    raw=st.binary(max_size=3000)
    | st.builds(
        lambda head, body: head + b"\n\n" + body,
        st.binary(max_size=500).map(lambda b: b"Content-Type: multipart/mixed; boundary=q\n" + b),
        st.lists(
            st.sampled_from(
                [
                    b"--q\n",
                    b"--q--\n",
                    b"Content-Type: text/html\n\n",
                    b"<b>x</b>\n",
                    b"=?utf-8?b?w6k=?=\n",
                    b"\x00\xff\n",
                ]
            ),
            max_size=40,
        ).map(b"".join),
    )
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_scan_never_raises(make_scanner: ScannerFactory, raw: bytes) -> None:
    if "s" not in _SCANNER_CACHE:
        _SCANNER_CACHE["s"] = make_scanner(RULES)
    result = _SCANNER_CACHE["s"].scan(raw)  # type: ignore[attr-defined]
    assert result.score == round(sum(result.scores.values()), 3)
