"""PROCESS / HEADERS / REPORT / SYMBOLS output, byte for byte against SpamAssassin 4.0.1.

Each row is a hand-made message, the settings it is scanned with (spamd applies per-user
settings the same way) and what SpamAssassin printed for it (see markup_case.py for how the
expected bytes were made).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from spamkiln.runtime.rewrite import (
    report_bytes,
    report_text,
    rewrite_message,
    rewritten_headers,
    status_header,
    symbols_text,
)

from .markup_case import MarkupScanner, build_markup_scanner, env, local_time_in_utc
from .rewrite_expected import EXPECTED, EXPECTED_REPORT


@pytest.fixture(scope="module")
def markup(tmp_path_factory: pytest.TempPathFactory) -> MarkupScanner:
    return build_markup_scanner(Path(tmp_path_factory.mktemp("markup")))


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    with local_time_in_utc():
        yield


REWRITE_ALL = {"rewrite_header": {"Subject": "[SPAM _SCORE_]", "From": "SPAM(x)", "To": "TO-TAG"}}


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes
    symbols: str
    settings: dict = field(default_factory=dict)


HAM_LF = Case(
    "ham_lf_mbox_old_headers",
    b"From sender@example.org  Mon Jan  1 10:00:00 2024\n"
    b"Return-Path: <sender@example.org>\n"
    b"X-Spam-Status: Yes, score=99.0 required=5.0 tests=OLD\n"
    b"\tautolearn=no version=3.4.6\n"
    b"Received: from mail.example.org (mail.example.org [192.0.2.1])\n"
    b"\tby mx.example.test with ESMTP id 123\n"
    b"\tfor <you@example.test>; Mon, 1 Jan 2024 10:00:00 +0000\n"
    b"X-Spam-Prev-Subject: an earlier subject\n"
    b"From: Sender <sender@example.org>\n"
    b"To: you@example.test\n"
    b"Subject: lunch on friday\n"
    b"Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
    b"Message-ID: <ham-1@example.org>\n"
    b"x-spam-flag: YES\n"
    b"Content-Type: text/plain\n"
    b"\n"
    b"See you at noon.\n",
    "SK_CT_PLAIN",
)

SPAM_PLAIN_BODY = (
    b"Dear friend, you are a WINNER.\nClick here to claim: http://claim.example.invalid/now\n"
)
SPAM_PLAIN = Case(
    "spam_report_safe_1_plain",
    b"From: Winner Desk <desk@prizes.example.org>\n"
    b"To: you@example.test\n"
    b"Cc: friend@example.test\n"
    b"Subject: Money waiting\n"
    b"Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
    b"Message-ID: <spam-1@prizes.example.org>\n"
    b"Content-Type: text/plain; charset=us-ascii\n"
    b"\n" + SPAM_PLAIN_BODY,
    "SK_BODY_WINNER,SK_CT_PLAIN,SK_META_BOTH,SK_RAW_CLICK,SK_SUBJ_MONEY,SK_URI_INVALID",
)

SPAM_HTML = Case(
    "spam_report_safe_1_html_unsafe",
    b"From: desk@prizes.example.org\n"
    b"To: you@example.test\n"
    b"Subject: more money\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/html; charset=utf-8\n"
    b"\n"
    b"<html><body><p>You are a <b>winner</b>! zzzzz</p></body></html>\n",
    "SK_BODY_WINNER,SK_FULL_ZZZ,SK_META_BOTH,SK_SUBJ_MONEY",
)

CASES = [
    HAM_LF,
    Case(
        "ham_crlf",
        HAM_LF.raw.split(b"\n", 1)[1].replace(b"\n", b"\r\n"),
        "SK_CT_PLAIN",
    ),
    SPAM_PLAIN,
    SPAM_HTML,
    Case("spam_report_safe_2", SPAM_PLAIN.raw, SPAM_PLAIN.symbols, {"report_safe": 2.0}),
    Case(
        "spam_report_safe_0_rewrite_folded_subject",
        b"From: Winner Desk <desk@prizes.example.org>\n"
        b"To: you@example.test,\n"
        b"  other@example.test\n"
        b"Subject:   money\n"
        b"  for you\n"
        b"Content-Type: text/plain\n"
        b"\n" + SPAM_PLAIN_BODY,
        SPAM_PLAIN.symbols,
        {"report_safe": 0.0, **REWRITE_ALL},
    ),
    Case(
        "spam_report_safe_0_no_subject",
        b"From: desk@prizes.example.org\nTo: you@example.test\n\nA winner, zzzzz\n",
        "SK_BODY_WINNER,SK_FULL_ZZZ",
        {"report_safe": 0.0, **REWRITE_ALL},
    ),
    Case(
        "spam_report_safe_1_rewrite_no_subject",
        b"From: desk@prizes.example.org\n\nA winner, zzzzz\n",
        "SK_BODY_WINNER,SK_FULL_ZZZ",
        REWRITE_ALL,
    ),
    Case(
        "spam_crlf_report_safe_1",
        SPAM_PLAIN.raw.replace(b"\n", b"\r\n"),
        SPAM_PLAIN.symbols,
    ),
    Case(
        "crlf_no_body_no_final_newline_8bit_subject",
        b"Subject: caf\xc3\xa9 money\r\n"
        b"From: edge@example.invalid\r\n"
        b"To: you@example.invalid\r\n"
        b"Message-ID: <edge-1@example.invalid>",
        "SK_SUBJ_MONEY",
        {"report_safe": 0.0, "required_score": 2.0, **REWRITE_ALL},
    ),
    Case(
        "ham_long_tests_list",
        b"From: list@example.org\nSubject: longlist\n\nNothing to see.\n",
        "SK_LONG_RULE_NAME_NUMBER_FIVE_EEEE,SK_LONG_RULE_NAME_NUMBER_FOUR_DDDD,"
        "SK_LONG_RULE_NAME_NUMBER_ONE_AAAA,SK_LONG_RULE_NAME_NUMBER_SIX_FFFFF,"
        "SK_LONG_RULE_NAME_NUMBER_THREE_CCC,SK_LONG_RULE_NAME_NUMBER_TWO_BBBB",
    ),
    Case(
        "eight_bit_added_headers",
        b"From: a@example.org\n"
        b"Subject: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\n"
        b"X-Long: \xc3\xa4\xc3\xb6\xc3\xbc\xc3\xa4\xc3\xb6\xc3\xbc\xc3\xa4\xc3\xb6\xc3\xbc=?_ end\n"
        b"\n"
        b"Hallo.\n",
        "",
        {
            "add_header": [
                ["all", "Checker-Version", "SpamAssassin _VERSION_ (_SUBVERSION_) on _HOSTNAME_"],
                ["all", "Subj", "was: _HEADER(Subject)_"],
                ["all", "Long", "_HEADER(X-Long)_"],
                ["ham", "Status", "_YESNO_, score=_SCORE_ tests=_TESTS_"],
            ]
        },
    ),
    Case(
        "subjprefix_report_safe_0",
        SPAM_PLAIN.raw,
        SPAM_PLAIN.symbols,
        {
            "report_safe": 0.0,
            "rewrite_header": {"Subject": "[SPAM]", "From": "F"},
            "subjprefix": {
                "SK_SUBJ_MONEY": "[MONEY]",
                "SK_CT_PLAIN": "[PLAIN _SCORE_]",
                "SK_BODY_WINNER": "[WIN]",
            },
        },
    ),
    Case(
        "subjprefix_ham_subject_only",
        HAM_LF.raw,
        HAM_LF.symbols,
        {
            "rewrite_header": {"Subject": "[SPAM]", "From": "F"},
            "subjprefix": {"SK_CT_PLAIN": "[P]"},
        },
    ),
    Case(
        "header_list_edits_and_escapes",
        SPAM_PLAIN.raw,
        SPAM_PLAIN.symbols,
        {
            "add_header": [
                ["all", "Checker-Version", "SpamAssassin _VERSION_ (_SUBVERSION_) on _HOSTNAME_"],
                ["all", "Foo", "first"],
                ["spam", "Bar", "_SCORE(  )_|_STARS_|_REQD_"],
                ["all", "Esc", r"tab\there back\\slash \qgone"],
                ["all", "foo", "second, moved to the end"],
            ],
            "remove_header": [["ham", "Bar"], ["all", "Checker-Version"], ["ham", "Esc"]],
            "report_safe": 0.0,
        },
    ),
]

CASE_BY_NAME = {c.name: c for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_process_matches_spamassassin(markup: MarkupScanner, case: Case) -> None:
    result = markup.scan(case.raw, case.settings)
    assert symbols_text(result) == case.symbols  # the precondition: the same rules hit
    assert rewrite_message(result, env()) == EXPECTED[case.name]


@pytest.mark.parametrize("name", sorted(EXPECTED_REPORT))
def test_report_matches_spamassassin(markup: MarkupScanner, name: str) -> None:
    case = CASE_BY_NAME[name]
    result = markup.scan(case.raw, case.settings)
    assert report_bytes(result, env()) == EXPECTED_REPORT[name]
    assert report_text(result, env()).encode("utf-8", "surrogateescape") == EXPECTED_REPORT[name]


@pytest.mark.parametrize(
    ("name", "end"),
    [
        ("ham_lf_mbox_old_headers", b"Content-Type: text/plain\n\n"),
        ("ham_crlf", b"Content-Type: text/plain\r\n\r\n"),
        ("spam_report_safe_1_plain", b"Content-Type: multipart/mixed;"),
        ("crlf_no_body_no_final_newline_8bit_subject", b"X-Spam-Prev-To: you@example.invalid\r\n"),
    ],
)
def test_headers_is_process_cut_after_first_empty_line(
    markup: MarkupScanner, name: str, end: bytes
) -> None:
    case = CASE_BY_NAME[name]
    headers = rewritten_headers(markup.scan(case.raw, case.settings), env())
    whole = EXPECTED[name]
    assert whole.startswith(headers)
    if name.startswith("spam_report_safe"):  # the wrapper's header block ends after the type
        assert headers.endswith(b'"\n\n') and end in headers
    else:
        assert headers.endswith(end)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "ham_lf_mbox_old_headers",
            "No, score=-0.5 required=5.0 tests=SK_CT_PLAIN\n\tautolearn=disabled version=4.0.1",
        ),
        (
            "ham_long_tests_list",
            "No, score=0.6 required=5.0\n\ttests=SK_LONG_RULE_NAME_NUMBER_FIVE_EEEE,\n"
            "\tSK_LONG_RULE_NAME_NUMBER_FOUR_DDDD,SK_LONG_RULE_NAME_NUMBER_ONE_AAAA,\n"
            "\tSK_LONG_RULE_NAME_NUMBER_SIX_FFFFF,SK_LONG_RULE_NAME_NUMBER_THREE_CCC,\n"
            "\tSK_LONG_RULE_NAME_NUMBER_TWO_BBBB autolearn=disabled version=4.0.1",
        ),
    ],
)
def test_status_header_is_the_folded_x_spam_status(
    markup: MarkupScanner, name: str, expected: str
) -> None:
    case = CASE_BY_NAME[name]
    value = status_header(markup.scan(case.raw, case.settings), env())
    assert value == expected
    assert f"X-Spam-Status: {value}\n".encode() in EXPECTED[name]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\n",
        b"From nobody  Mon Jan  1 00:00:00 2024\n",
        b"\xff\xfe\x00garbage",
        b"Subject:\r\n",
    ],
    ids=["empty", "newline", "mbox-line-only", "binary", "crlf-empty-subject"],
)
@pytest.mark.parametrize("report_safe", [0.0, 1.0, 2.0])
def test_malformed_input_never_raises(
    markup: MarkupScanner, raw: bytes, report_safe: float
) -> None:
    settings = {"report_safe": report_safe, "required_score": -100.0, **REWRITE_ALL}
    result = markup.scan(raw, settings)
    assert result.is_spam
    out = rewrite_message(result, env())
    assert b"X-Spam-Flag: YES" in out
    assert rewritten_headers(result, env())
    assert report_text(result, env()).endswith("\n\n")


def test_a_bug_while_rewriting_returns_the_message_unchanged(
    markup: MarkupScanner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spamkiln.runtime import templates

    def broken(self: object, template: object) -> bytes:
        raise RuntimeError("simulated bug")

    result = markup.scan(SPAM_PLAIN.raw)
    monkeypatch.setattr(templates.TagExpander, "expand", broken)
    assert rewrite_message(result, env()) == SPAM_PLAIN.raw
    assert report_bytes(result, env()) == b"\n\n"
