"""Template tags, the line wrapper and header encoding, against SpamAssassin 4.0.1.

TAG_ROWS are SpamAssassin's values for each template on the messages of test_rewrite.py
(`add_header all T<n> TEMPLATE` with `fold_headers 0`, read back from the rewritten message).
WRAP_CASES, MIME_CASES and SCORE_CASES are the outputs of SpamAssassin's own `Util::wrap`,
`PerMsgStatus::mime_encode_header` and `Util::get_tag_value_for_score` for these inputs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from spamkiln.runtime.added_headers import (
    CHECKER_VERSION,
    header_lists,
    mime_encode_header,
    unescape_template,
)
from spamkiln.runtime.compiled import RulesetBuilder
from spamkiln.runtime.config import Config
from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.scan import ScanResult
from spamkiln.runtime.templates import MarkupEnv, TagExpander, perl_number, rfc822_date
from spamkiln.runtime.wrap import HEADER_BREAK, WHITESPACE_BREAK, perl_split, wrap

from .markup_case import NOW, MarkupScanner, build_markup_scanner, env, local_time_in_utc
from .test_rewrite import CASE_BY_NAME, HAM_LF, SPAM_PLAIN

MESSAGES = {
    "spam": SPAM_PLAIN,
    "ham": HAM_LF,
    "long": CASE_BY_NAME["ham_long_tests_list"],
    "nosubj": CASE_BY_NAME["spam_report_safe_0_no_subject"],
}

TAG_ROWS = [
    ("spam", "_YESNO_", b"Yes"),
    ("spam", "_YESNO(spam,ham)_", b"spam"),
    ("spam", "_YESNO(onlyspam)_", b"onlyspam"),
    ("spam", "_YESNO(,)_", b""),
    ("spam", "_YESNOCAPS_", b"YES"),
    ("spam", "_YESNOCAPS(s,h)_", b"S"),
    ("spam", "_SCORE_", b"7.1"),
    ("spam", "_SCORE(0)_", b"07.1"),
    ("spam", "_SCORE(00)_", b"007.1"),
    ("spam", "_SCORE(  )_", b"  7.1"),
    ("spam", "_SCORE(x)_", b"7.1"),
    ("spam", "_HITS_", b"7.1"),
    ("spam", "_REQD_", b"5.0"),
    ("spam", "_VERSION_", b"4.0.1"),
    ("spam", "_SUBVERSION_", b"2024-03-25"),
    ("spam", "_RULESVERSION_", b""),
    ("spam", "_HOSTNAME_", b"filter.example.test"),
    ("spam", "_REMOTEHOSTNAME_", b"localhost"),
    ("spam", "_REMOTEHOSTADDR_", b"127.0.0.1"),
    ("spam", "_CONTACTADDRESS_", b"postmaster@example.test"),
    ("spam", "_BAYES_", b"0.5"),
    ("spam", "_STARS_", b"*******"),
    ("spam", "_STARS(+)_", b"+++++++"),
    ("spam", "_STARS()_", b"*******"),
    ("spam", "_AUTOLEARN_", b"disabled"),
    ("spam", "_AUTOLEARNSCORE_", b"7.101"),
    (
        "spam",
        "_TESTS_",
        b"SK_BODY_WINNER,SK_CT_PLAIN,SK_META_BOTH,SK_RAW_CLICK,SK_SUBJ_MONEY,SK_URI_INVALID",
    ),
    (
        "spam",
        "_TESTS( )_",
        b"SK_BODY_WINNER SK_CT_PLAIN SK_META_BOTH SK_RAW_CLICK SK_SUBJ_MONEY SK_URI_INVALID",
    ),
    (
        "spam",
        "_TESTSSCORES_",
        (
            b"SK_BODY_WINNER=2.5,SK_CT_PLAIN=-0.5,SK_META_BOTH=0.001,SK_RAW_CLICK=1."
            b"2,SK_SUBJ_MONEY=3,SK_URI_INVALID=0.9"
        ),
    ),
    (
        "spam",
        "_TESTSSCORES(;)_",
        (
            b"SK_BODY_WINNER=2.5;SK_CT_PLAIN=-0.5;SK_META_BOTH=0.001;SK_RAW_CLICK=1."
            b"2;SK_SUBJ_MONEY=3;SK_URI_INVALID=0.9"
        ),
    ),
    ("spam", "_SUBTESTS_", b"none"),
    ("spam", "_SUBTESTSCOLLAPSED_", b"none"),
    ("spam", "_SUBJPREFIX_", b""),
    ("spam", "_HEADER(From)_", b"Winner Desk <desk@prizes.example.org>"),
    ("spam", "_HEADER(From:addr)_", b"desk@prizes.example.org"),
    ("spam", "_HEADER(From:name)_", b"Winner Desk"),
    ("spam", "_HEADER(X-None)_", b""),
    ("spam", "_HEADER()_", b""),
    ("spam", "_HEADER(To:raw)_", b" you@example.test"),
    ("spam", "_LANGUAGES_", b""),
    ("spam", "_RBL_", b""),
    ("spam", "_DKIMDOMAIN_", b""),
    ("spam", "_PYZOR_", b""),
    ("spam", "_AWL_", b""),
    ("spam", "_TXREPXX_", b"_TXREPXX_"),
    ("spam", "_UNKNOWNTAG_", b"_UNKNOWNTAG_"),
    ("spam", "_ADDEDHEADER_", b"_ADDEDHEADER_"),
    ("spam", "_ADDEDHEADERSPAM_", b"_ADDEDHEADERSPAM_"),
    ("spam", "_FIRSTTRUSTEDIP_", b""),
    ("spam", "_FIRSTTRUSTEDREVIP_", b""),
    ("spam", "_LASTEXTERNALIP_", b""),
    ("spam", "_LASTEXTERNALREVIP_", b""),
    ("spam", "_LASTEXTERNALRDNS_", b""),
    ("spam", "_LASTEXTERNALHELO_", b""),
    ("spam", "_RELAYSTRUSTED_", b""),
    ("spam", "_RELAYSUNTRUSTED_", b""),
    ("spam", "_RELAYSINTERNAL_", b""),
    ("spam", "_RELAYSEXTERNAL_", b""),
    ("spam", "_RELAYSEXTERNALREVIP_", b"_RELAYSEXTERNALREVIP_"),
    ("spam", "_RELAYSUNTRUSTEDREVIP_", b"_RELAYSUNTRUSTEDREVIP_"),
    ("spam", "_SENDERDOMAIN_", b"_SENDERDOMAIN_"),
    ("spam", "_AUTHORDOMAIN_", b"prizes.example.org"),
    ("spam", "_lower_ _SCORE_SCORE_ __REQD__ _REQD", b"_lower_ _SCORE_SCORE_ _5.0_ _REQD"),
    ("spam", "x_SCORE_y _REQD(_)_", b"x7.1y 5.0"),
    ("spam", "_STARS(**)_|_YESNO(a,b,c)_", b"**************|a"),
    ("spam", "_SCORE(0)_ _SCORE(000)_ _SCORE(0 )_", b"07.1 0007.1 7.1"),
    (
        "spam",
        "_TESTS(0)_|_STARS(0)_|_HEADER(0)_|_YESNO(0)_",
        (
            b"SK_BODY_WINNER,SK_CT_PLAIN,SK_META_BOTH,SK_RAW_CLICK,SK_SUBJ_MONEY,SK_"
            b"URI_INVALID|*******||0"
        ),
    ),
    ("ham", "_YESNO_", b"No"),
    ("ham", "_YESNO(spam,ham)_", b"ham"),
    ("ham", "_YESNO(onlyspam)_", b"No"),
    ("ham", "_YESNO(,)_", b""),
    ("ham", "_YESNOCAPS_", b"NO"),
    ("ham", "_YESNOCAPS(s,h)_", b"H"),
    ("ham", "_SCORE_", b"-0.5"),
    ("ham", "_SCORE(0)_", b"-0.5"),
    ("ham", "_SCORE(00)_", b"0-0.5"),
    ("ham", "_SCORE(  )_", b" -0.5"),
    ("ham", "_SCORE(x)_", b"-0.5"),
    ("ham", "_HITS_", b"-0.5"),
    ("ham", "_REQD_", b"5.0"),
    ("ham", "_VERSION_", b"4.0.1"),
    ("ham", "_SUBVERSION_", b"2024-03-25"),
    ("ham", "_RULESVERSION_", b""),
    ("ham", "_HOSTNAME_", b"filter.example.test"),
    ("ham", "_REMOTEHOSTNAME_", b"localhost"),
    ("ham", "_REMOTEHOSTADDR_", b"127.0.0.1"),
    ("ham", "_CONTACTADDRESS_", b"postmaster@example.test"),
    ("ham", "_BAYES_", b"0.5"),
    ("ham", "_STARS_", b""),
    ("ham", "_STARS(+)_", b""),
    ("ham", "_STARS()_", b""),
    ("ham", "_AUTOLEARN_", b"disabled"),
    ("ham", "_AUTOLEARNSCORE_", b"-0.5"),
    ("ham", "_TESTS_", b"SK_CT_PLAIN"),
    ("ham", "_TESTS( )_", b"SK_CT_PLAIN"),
    ("ham", "_TESTSSCORES_", b"SK_CT_PLAIN=-0.5"),
    ("ham", "_TESTSSCORES(;)_", b"SK_CT_PLAIN=-0.5"),
    ("ham", "_SUBTESTS_", b"none"),
    ("ham", "_SUBTESTSCOLLAPSED_", b"none"),
    ("ham", "_SUBJPREFIX_", b""),
    ("ham", "_HEADER(From)_", b"Sender <sender@example.org>"),
    ("ham", "_HEADER(From:addr)_", b"sender@example.org"),
    ("ham", "_HEADER(From:name)_", b"Sender"),
    ("ham", "_HEADER(X-None)_", b""),
    ("ham", "_HEADER()_", b""),
    ("ham", "_HEADER(To:raw)_", b" you@example.test"),
    ("ham", "_LANGUAGES_", b""),
    ("ham", "_RBL_", b""),
    ("ham", "_DKIMDOMAIN_", b""),
    ("ham", "_PYZOR_", b""),
    ("ham", "_AWL_", b""),
    ("ham", "_TXREPXX_", b"_TXREPXX_"),
    ("ham", "_UNKNOWNTAG_", b"_UNKNOWNTAG_"),
    ("ham", "_ADDEDHEADER_", b"_ADDEDHEADER_"),
    ("ham", "_ADDEDHEADERSPAM_", b"_ADDEDHEADERSPAM_"),
    ("ham", "_FIRSTTRUSTEDIP_", b""),
    ("ham", "_FIRSTTRUSTEDREVIP_", b""),
    ("ham", "_LASTEXTERNALIP_", b"192.0.2.1"),
    ("ham", "_LASTEXTERNALREVIP_", b"1.2.0.192"),
    ("ham", "_LASTEXTERNALRDNS_", b"mail.example.org"),
    ("ham", "_LASTEXTERNALHELO_", b"mail.example.org"),
    ("ham", "_RELAYSTRUSTED_", b""),
    (
        "ham",
        "_RELAYSUNTRUSTED_",
        (
            b"[ ip=192.0.2.1 rdns=mail.example.org helo=mail.example.org by=mx.examp"
            b"le.test ident= envfrom= intl=0 id=123 auth= msa=0 ]"
        ),
    ),
    ("ham", "_RELAYSINTERNAL_", b""),
    (
        "ham",
        "_RELAYSEXTERNAL_",
        (
            b"[ ip=192.0.2.1 rdns=mail.example.org helo=mail.example.org by=mx.examp"
            b"le.test ident= envfrom= intl=0 id=123 auth= msa=0 ]"
        ),
    ),
    ("ham", "_RELAYSEXTERNALREVIP_", b"1.2.0.192"),
    ("ham", "_RELAYSUNTRUSTEDREVIP_", b"1.2.0.192"),
    ("ham", "_SENDERDOMAIN_", b"example.org"),
    ("ham", "_AUTHORDOMAIN_", b"example.org"),
    ("ham", "_lower_ _SCORE_SCORE_ __REQD__ _REQD", b"_lower_ _SCORE_SCORE_ _5.0_ _REQD"),
    ("ham", "x_SCORE_y _REQD(_)_", b"x-0.5y 5.0"),
    ("ham", "_STARS(**)_|_YESNO(a,b,c)_", b"|b,c"),
    ("ham", "_SCORE(0)_ _SCORE(000)_ _SCORE(0 )_", b"-0.5 00-0.5 -0.5"),
    ("ham", "_TESTS(0)_|_STARS(0)_|_HEADER(0)_|_YESNO(0)_", b"SK_CT_PLAIN|||No"),
    ("long", "_YESNO_", b"No"),
    ("long", "_SCORE_", b"0.6"),
    ("long", "_STARS_", b""),
    (
        "long",
        "_TESTS_",
        (
            b"SK_LONG_RULE_NAME_NUMBER_FIVE_EEEE,SK_LONG_RULE_NAME_NUMBER_FOUR_DDDD,"
            b"SK_LONG_RULE_NAME_NUMBER_ONE_AAAA,SK_LONG_RULE_NAME_NUMBER_SIX_FFFFF,S"
            b"K_LONG_RULE_NAME_NUMBER_THREE_CCC,SK_LONG_RULE_NAME_NUMBER_TWO_BBBB"
        ),
    ),
    (
        "long",
        "_TESTSSCORES(;)_",
        (
            b"SK_LONG_RULE_NAME_NUMBER_FIVE_EEEE=0.1;SK_LONG_RULE_NAME_NUMBER_FOUR_D"
            b"DDD=0.1;SK_LONG_RULE_NAME_NUMBER_ONE_AAAA=0.1;SK_LONG_RULE_NAME_NUMBER"
            b"_SIX_FFFFF=0.1;SK_LONG_RULE_NAME_NUMBER_THREE_CCC=0.1;SK_LONG_RULE_NAM"
            b"E_NUMBER_TWO_BBBB=0.1"
        ),
    ),
    ("long", "_SUBTESTS_", b"__SK_HAS_LONG"),
    ("long", "_SUBTESTSCOLLAPSED_", b"__SK_HAS_LONG"),
    ("long", "_SUBJPREFIX_", b""),
    ("long", "_HEADER(From:name)_", b""),
    ("long", "_SENDERDOMAIN_", b"_SENDERDOMAIN_"),
    ("long", "_AUTHORDOMAIN_", b"example.org"),
    ("nosubj", "_YESNO_", b"Yes"),
    ("nosubj", "_SCORE_", b"14.5"),
    ("nosubj", "_STARS_", b"**************"),
    ("nosubj", "_TESTS_", b"SK_BODY_WINNER,SK_FULL_ZZZ"),
    ("nosubj", "_TESTSSCORES(;)_", b"SK_BODY_WINNER=2.5;SK_FULL_ZZZ=12"),
    ("nosubj", "_SUBTESTS_", b"none"),
    ("nosubj", "_SUBTESTSCOLLAPSED_", b"none"),
    ("nosubj", "_SUBJPREFIX_", b""),
    ("nosubj", "_HEADER(From:name)_", b""),
    ("nosubj", "_SENDERDOMAIN_", b"_SENDERDOMAIN_"),
    ("nosubj", "_AUTHORDOMAIN_", b"prizes.example.org"),
]

WRAP_CASES = [
    (
        (
            b"X-Spam-Status!!Yes, score=12.3 required=5.0 tests=AAA,BBBBBBBBBB"
            b",CCCCCCCCCCCCCCCC,DDDDDDDDDDDD,EEEEEEEEEEEEEEEE autolearn=no ver"
            b"sion=4.0.1"
        ),
        b"\t",
        b"",
        79,
        False,
        True,
        (
            b"X-Spam-Status!!Yes, score=12.3 required=5.0 tests=AAA,BBBBBBBBBB"
            b",\n\tCCCCCCCCCCCCCCCC,DDDDDDDDDDDD,EEEEEEEEEEEEEEEE autolearn=no\n\t"
            b"version=4.0.1"
        ),
    ),
    (
        (
            b"X-Spam-Foo!!averyveryveryveryveryveryveryveryveryveryveryveryver"
            b"yveryveryveryverylongword,tail"
        ),
        b"\t",
        b"",
        79,
        False,
        True,
        (
            b"X-Spam-Foo!!averyveryveryveryveryveryveryveryveryveryveryveryver"
            b"yveryveryveryverylongword,\n\ttail"
        ),
    ),
    (
        (
            b"X-Spam-Foo!!  leading spaces,,commas  and\ttabs\tin\tthe\tmiddle of "
            b"a line that goes on and on and on"
        ),
        b"\t",
        b"",
        40,
        False,
        True,
        (
            b"X-Spam-Foo!!  leading spaces,,commas\n\tand\ttabs\n\tin\tthe\tmiddle of"
            b"\n\ta line that goes on and on and\n\ton"
        ),
    ),
    (
        (
            b"Save up to 70% on Life Insurance. Why Spend More Than You Have T"
            b"o? Life Quote Savings Ensuring your family's security "
        ),
        b"  ",
        b"Content preview:  ",
        75,
        True,
        False,
        (
            b"Content preview:  Save up to 70% on Life Insurance. Why Spend Mo"
            b"re Than You\n  Have To? Life Quote Savings Ensuring your family's"
            b" security "
        ),
    ),
    (
        b"Body announces a winner, with a description long enough that the report has to wrap it",
        b"*      ",
        b"                                ",
        75,
        False,
        False,
        (
            b"                                Body announces a winner, with a "
            b"description\n*       long enough that the report has to wrap it"
        ),
    ),
    (b"", b"  ", b"Content preview:  ", 75, True, False, b"Content preview:  "),
    (b" ", b"  ", b"Content preview:  ", 75, True, False, b"Content preview:   "),
    (b"word", b"", b"", 0, False, False, b"word"),
]

MIME_CASES = [
    (b"plain ascii", b"plain ascii"),
    (b"caf\xc3\xa9 au lait", b"=?UTF-8?Q?caf=C3=A9?= au lait"),
    (
        b"\xc3\xa4\xc3\xb6\xc3\xbc\xc3\xa4\xc3\xb6\xc3\xbc=?_ end",
        b"=?UTF-8?B?w6TDtsO8w6TDtsO8PT9f?= end",
    ),
    (b"was: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln", b"was: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?="),
    (
        b"first line\n\tsecond \xe2\x82\xac line\n\tthird",
        b"first line\n\tsecond =?UTF-8?B?4oKs?= line\n\tthird",
    ),
    (b"\xff", b"=?UTF-8?Q?=FF?="),
    (b"a \xff b \xfe c", b"a =?UTF-8?Q?=FF_b_=FE?= c"),
    (b"tab\there\xc3\xa9\ttail \n", b"tab\t=?UTF-8?Q?here=C3=A9?=\ttail \n"),
]
SCORE_CASES = [
    (4.96, 5.0, False, "4.9"),
    (4.94, 5.0, False, "4.9"),
    (5.0, 5.0, True, "5.0"),
    (-0.04, 5.0, False, "-0.0"),
    (-0.06, 5.0, False, "-0.1"),
    (0.0, 0.0, True, "0.0"),
    (-0.05, 0.0, False, "-0.1"),
    (9.95, 10.0, False, "9.9"),
    (2.25, 5.0, False, "2.2"),
    (7.35, 5.0, True, "7.3"),
]


@pytest.fixture(scope="module")
def markup(tmp_path_factory: pytest.TempPathFactory) -> MarkupScanner:
    return build_markup_scanner(Path(tmp_path_factory.mktemp("markup")))


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    with local_time_in_utc():
        yield


@pytest.fixture(scope="module")
def expanders(markup: MarkupScanner) -> dict[str, TagExpander]:
    return {
        name: TagExpander(markup.scan(case.raw, {"report_safe": 0.0}), env())
        for name, case in MESSAGES.items()
    }


@pytest.mark.parametrize(("message", "template", "expected"), TAG_ROWS)
def test_tag_matches_spamassassin(
    expanders: dict[str, TagExpander], message: str, template: str, expected: bytes
) -> None:
    value = expanders[message].expand(template)
    assert value.rstrip(b"\n").replace(b"\n", b" ") == expected


def test_date_and_remote_client_come_from_the_environment(
    expanders: dict[str, TagExpander],
) -> None:
    tags = TagExpander(
        expanders["spam"].result,
        MarkupEnv(now=NOW, remote_hostname="relay.test", remote_addr="192.0.2.9"),
    )
    assert tags.expand("_DATE_|_REMOTEHOSTNAME_|_REMOTEHOSTADDR_") == (
        b"Tue, 14 Nov 2023 22:13:20 +0000|relay.test|192.0.2.9"
    )


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (NOW, "Tue, 14 Nov 2023 22:13:20 +0000"),
        (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"),
        (951_782_400.0, "Tue, 29 Feb 2000 00:00:00 +0000"),
    ],
)
def test_rfc822_date(when: float, expected: str) -> None:
    assert rfc822_date(when) == expected


@pytest.mark.parametrize(
    ("text", "prefix", "first", "length", "overflow", "header", "expected"), WRAP_CASES
)
def test_wrap_matches_spamassassin(
    text: bytes,
    prefix: bytes,
    first: bytes,
    length: int,
    overflow: bool,
    header: bool,
    expected: bytes,
) -> None:
    breaker = HEADER_BREAK if header else WHITESPACE_BREAK
    assert wrap(text, prefix, first, length or 77, overflow, breaker) == expected


def test_wrap_survives_a_prefix_wider_than_the_line() -> None:
    """SpamAssassin loops forever here; we must not (a user can set report_wrap_width)."""
    folded = wrap(b"aaaa bbbb cccc", b"\t\t", b"", 5)
    assert folded.split() == [b"aaaa", b"bbbb", b"cccc"]
    assert folded.count(b"\n") >= 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b" a b  ", [b"", b" ", b"a", b" ", b"b", b" ", b"", b" "]),  # leading empty field kept
        (b"a, b ", [b"a,", b"", b" ", b"", b"b "]),  # trailing empty fields dropped
    ],
)
def test_perl_split(text: bytes, expected: list[bytes]) -> None:
    breaker = WHITESPACE_BREAK if text.startswith(b" ") else HEADER_BREAK
    assert perl_split(breaker, text) == expected


@pytest.mark.parametrize(("text", "expected"), MIME_CASES)
def test_mime_encode_header_matches_spamassassin(text: bytes, expected: bytes) -> None:
    assert mime_encode_header(text) == expected


@pytest.mark.parametrize(("score", "required", "is_spam", "expected"), SCORE_CASES)
def test_score_text_never_shows_a_ham_at_the_threshold(
    expanders: dict[str, TagExpander], score: float, required: float, is_spam: bool, expected: str
) -> None:
    result = expanders["ham"].result
    fake = type(result)(
        score=score,
        required=required,
        hits=result.hits,
        scores=result.scores,
        context=result.context,
        ruleset=result.ruleset,
    )
    assert fake.is_spam is is_spam
    assert TagExpander(fake, env()).score_text() == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (r"plain", "plain"),
        (r"a\tb", "a\tb"),
        (r"a\nb", "a\nb"),
        (r"back\\slash", "back\\slash"),
        (r"\q\z dropped", " dropped"),
        (r"trailing\\", "trailing\\"),
        (r"lone\ ", "lone"),
        (r"ends in backslash\ ".rstrip(), "ends in backslash\\"),
    ],
)
def test_add_header_escapes(template: str, expected: str) -> None:
    assert unescape_template(template) == expected


@pytest.mark.parametrize(
    ("edits", "spam", "ham"),
    [
        ([], ["Checker-Version"], ["Checker-Version"]),
        (
            [["add", "spam", "Flag", "_YESNOCAPS_"], ["add", "all", "Level", "_STARS_"]],
            ["Checker-Version", "Flag", "Level"],
            ["Checker-Version", "Level"],
        ),
        (  # re-adding a name (any case) moves it to the end with the new template
            [["add", "all", "A", "1"], ["add", "all", "B", "2"], ["add", "ham", "a", "3"]],
            ["Checker-Version", "A", "B"],
            ["Checker-Version", "B", "a"],
        ),
        (  # Checker-Version cannot be removed
            [
                ["add", "all", "A", "1"],
                ["remove", "all", "Checker-Version"],
                ["remove", "spam", "a"],
            ],
            ["Checker-Version"],
            ["Checker-Version", "A"],
        ),
        (  # edits apply in order: a removed header can come back
            [["add", "all", "A", "1"], ["remove", "all", "A"], ["add", "spam", "A", "2"]],
            ["Checker-Version", "A"],
            ["Checker-Version"],
        ),
    ],
)
def test_header_lists(edits: list, spam: list[str], ham: list[str]) -> None:
    lists = header_lists(Config({"header_edits": edits}))
    assert [name for name, _ in lists.spam] == spam
    assert [name for name, _ in lists.ham] == ham
    assert lists.spam[0] == CHECKER_VERSION


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, "1"), (2.4, "2.4"), (0.001, "0.001"), (-0.5, "-0.5"), (12.0, "12"), (2.399, "2.399")],
)
def test_perl_number(value: float, expected: str) -> None:
    assert perl_number(value) == expected


def test_boundary_randomness_is_injectable() -> None:
    first = MarkupEnv(rng=random.Random(1)).random32()
    assert first == MarkupEnv(rng=random.Random(1)).random32()


@pytest.mark.parametrize(
    ("node", "hosts", "expected"),
    [
        ("box", "127.0.0.1 localhost\n127.0.1.1 box.example.net box  # here\n", "box.example.net"),
        ("box", "127.0.1.1 box\n", "box"),
        ("mail.example.org", "", "mail.example.org"),
    ],
)
def test_fq_hostname_from_the_hosts_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, node: str, hosts: str, expected: str
) -> None:
    from spamkiln.runtime import templates

    monkeypatch.setattr(templates.platform, "node", lambda: node)
    (tmp_path / "hosts").write_text(hosts)
    assert templates.fq_hostname.__wrapped__(str(tmp_path / "hosts")) == expected


def _logged_result() -> ScanResult:
    """Two header rules with test-log entries (SK_SECRET has tflags nolog)."""
    builder = RulesetBuilder("test", ())
    for name, score, describe, tflags in (
        ("SK_LOGGED", 1.5, "Logged rule", ()),
        ("SK_SECRET", 0.5, None, ("nolog",)),
    ):
        builder.regex(
            name,
            "header",
            score=(score,) * 4,
            describe=describe,
            tflags=tflags,
            src="t.cf:1",
            re2_set=0,
            set_pattern=b"x",
            exact_engine="re2",
            exact_pattern=b"x",
            header="Subject",
        )
    context = MessageContext(b"Subject: x\n\nbody\n", Config({}))
    context.test_logs = {  # type: ignore[attr-defined] - the contract evals will fill
        "SK_LOGGED": [
            "short(at)example.org",
            "a rather long log message that has to be cut into several pieces at whitespace"
            " for the report",
            "averyveryveryveryveryveryveryveryveryverylongwordwithoutanywhitespaceinside",
        ],
        "SK_SECRET": ["hidden"],
    }
    return ScanResult(
        score=2.0,
        required=5.0,
        hits={"SK_LOGGED": 1.0, "SK_SECRET": 1.0},
        scores={"SK_LOGGED": 1.5, "SK_SECRET": 0.5},
        context=context,
        ruleset=builder.finish(),
    )


def test_test_log_lines_match_spamassassin() -> None:
    """SpamAssassin's check_cleanup output for the same rules and test_log() calls."""
    tags = TagExpander(_logged_result(), env())
    assert tags.report_block == (
        b"*  1.5 SK_LOGGED Logged rule\n"
        b"*      [short(at)example.org]\n"
        b"[a rather long log message that has to be cut]\n"
        b"[into several pieces at whitespace for the]\n"
        b"[report]\n"
        b"[averyveryveryveryveryveryveryveryveryverylongwordwithoutanywhitespaceinside]\n"
        b"*  0.5 SK_SECRET No description available.\n"
        b"*      [*REDACTED*]\n"
    )
    assert tags.summary_block == (
        b" 1.5 SK_LOGGED              Logged rule\n"
        b"                            [short(at)example.org]\n"
        b"                            [a rather long log message that has to be cut]\n"
        b"                            [into several pieces at whitespace for the]\n"
        b"                            [report]\n"
        b" [averyveryveryveryveryveryveryveryveryverylongwordwithoutanywhitespaceinside]\n"
        b" 0.5 SK_SECRET              No description available.\n"
        b"                            [*REDACTED*]\n"
    )
