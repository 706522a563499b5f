"""HeaderEval checks on addresses, Subject, Message-ID and raw header bytes."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamkiln.runtime.evals import header_eval as ev

from ._header_mail import context

RP = "Return-Path: <{}>"
TO_BOB = "To: Bob <bob@example.com>"
RATWARE_ID = "Message-ID: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@example.com>"

# (case, function, args, headers, expected)
CASES = [
    # check_equal_from_domains: last two labels of From vs envelope sender
    (
        "same organisation",
        "check_equal_from_domains",
        (),
        "From: a@mail.example.com\n" + RP.format("b@example.com"),
        False,
    ),
    (
        "different domains",
        "check_equal_from_domains",
        (),
        "From: a@example.com\n" + RP.format("b@example.org"),
        True,
    ),
    (
        "crude: any two .co.uk are equal",
        "check_equal_from_domains",
        (),
        "From: a@one.co.uk\n" + RP.format("b@two.co.uk"),
        False,
    ),
    ("no envelope sender", "check_equal_from_domains", (), "From: a@example.com", False),
    (
        "case ignored",
        "check_equal_from_domains",
        (),
        "From: a@EXAMPLE.com\n" + RP.format("b@example.COM"),
        False,
    ),
    # check_for_matching_env_and_hdr_from
    (
        "same address any case",
        "check_for_matching_env_and_hdr_from",
        (),
        "From: A <A@Example.com>\n" + RP.format("a@example.com"),
        True,
    ),
    (
        "different address",
        "check_for_matching_env_and_hdr_from",
        (),
        "From: a@example.com\n" + RP.format("bounce@example.com"),
        False,
    ),
    ("both missing match", "check_for_matching_env_and_hdr_from", (), "Subject: x", True),
    (
        "only the first From address",
        "check_for_matching_env_and_hdr_from",
        (),
        "From: a@example.com, b@example.com\n" + RP.format("b@example.com"),
        False,
    ),
    # check_for_missing_to_header
    ("has To", "check_for_missing_to_header", (), TO_BOB, False),
    (
        "Apparently-To will do",
        "check_for_missing_to_header",
        (),
        "Apparently-To: bob@example.com",
        False,
    ),
    ("neither", "check_for_missing_to_header", (), "Cc: bob@example.com", True),
    # subject_is_all_caps
    ("shouting", "subject_is_all_caps", (), "Subject: FREE MONEY NOW", True),
    (
        "reply prefixes stripped",
        "subject_is_all_caps",
        (),
        "Subject: Re: Fwd: FREE MONEY NOW",
        True,
    ),
    ("one word", "subject_is_all_caps", (), "Subject: FREEMONEYNOWPLEASE", False),
    ("too short", "subject_is_all_caps", (), "Subject: BUY IT", False),
    ("mixed case", "subject_is_all_caps", (), "Subject: Free money now", False),
    ("no letters", "subject_is_all_caps", (), "Subject: 1234 5678 90", False),
    (
        "caps-prone charset",
        "subject_is_all_caps",
        (),
        "Subject: =?koi8-r?Q?FREE_MONEY_NOW?=",
        False,
    ),
    (
        "other charset is fine",
        "subject_is_all_caps",
        (),
        "Subject: =?iso-8859-1?Q?FREE_MONEY_NOW?=",
        True,
    ),
    # check_for_to_in_subject('user')
    ("local part alone", "check_for_to_in_subject", ("user",), TO_BOB + "\nSubject: bob", True),
    (
        "local part any case alone",
        "check_for_to_in_subject",
        ("user",),
        TO_BOB + "\nSubject: BOB",
        True,
    ),
    (
        "local part then punctuation",
        "check_for_to_in_subject",
        ("user",),
        TO_BOB + "\nSubject: bob, read this",
        True,
    ),
    (
        "that shape is case-sensitive",
        "check_for_to_in_subject",
        ("user",),
        TO_BOB + "\nSubject: Bob, read this",
        False,
    ),
    (
        "reply to a word and the user",
        "check_for_to_in_subject",
        ("user",),
        TO_BOB + "\nSubject: Re: hello bob",
        True,
    ),
    (
        "comma, user, punctuation",
        "check_for_to_in_subject",
        ("user",),
        TO_BOB + "\nSubject: , bob!",
        True,
    ),
    (
        "user elsewhere",
        "check_for_to_in_subject",
        ("user",),
        TO_BOB + "\nSubject: hello bob",
        False,
    ),
    ("no To", "check_for_to_in_subject", ("user",), "Subject: bob", False),
    # check_for_to_in_subject('address')
    (
        "address as a word",
        "check_for_to_in_subject",
        ("address",),
        TO_BOB + "\nSubject: for BOB@example.com only",
        True,
    ),
    (
        "address inside a word",
        "check_for_to_in_subject",
        ("address",),
        TO_BOB + "\nSubject: xbob@example.com",
        False,
    ),
    # check_illegal_chars
    (
        "two raw 8-bit bytes",
        "check_illegal_chars",
        ("Subject", "0.00", "2"),
        b"Subject: caf\xe9 cr\xe8me",
        True,
    ),
    (
        "valid UTF-8 is allowed",
        "check_illegal_chars",
        ("Subject", "0.00", "2"),
        "Subject: café crème".encode(),
        False,
    ),
    (
        "one pound sign is excused",
        "check_illegal_chars",
        ("Subject", "0.00", "2"),
        b"Subject: \xa3100 and \xe9",
        False,
    ),
    (
        "ratio too low",
        "check_illegal_chars",
        ("From", "0.20", "2"),
        b"From: J\xf6rg J\xf6rgensen <joerg@example.com>",
        False,
    ),
    (
        "ratio high enough",
        "check_illegal_chars",
        ("From", "0.20", "2"),
        b"From: \xe9\xe9\xe9 <a@b.c>",
        True,
    ),
    (
        "control characters",
        "check_illegal_chars",
        ("Subject", "0.00", "2"),
        b"Subject: a\x01b\x02c",
        True,
    ),
    ("absent header", "check_illegal_chars", ("Subject", "0.00", "2"), "To: x@example.com", False),
    # check_unresolved_template
    ("unexpanded variable", "check_unresolved_template", (), "X-Campaign: %CAMPAIGN_ID", True),
    ("To may contain it", "check_unresolved_template", (), "To: %RCPT_TO", False),
    ("a plain percent", "check_unresolved_template", (), "X-Discount: 100%", False),
    # check_header_count_range
    (
        "two distinct subjects",
        "check_header_count_range",
        ("Subject", "2", "999"),
        "Subject: a\nSubject: b",
        True,
    ),
    (
        "identical ones count once",
        "check_header_count_range",
        ("Subject", "2", "999"),
        "Subject: a\nSubject: a",
        False,
    ),
    ("one subject", "check_header_count_range", ("Subject", "2", "999"), "Subject: a", False),
    # check_ratware_name_id
    (
        "ratware id and name",
        "check_ratware_name_id",
        (),
        RATWARE_ID + '\nFrom: "Joe" <joe@example.com>',
        True,
    ),
    (
        "the name must be quoted",
        "check_ratware_name_id",
        (),
        RATWARE_ID + "\nFrom: Joe <joe@example.com>",
        False,
    ),
    (
        "ordinary id",
        "check_ratware_name_id",
        (),
        'Message-ID: <1234@example.com>\nFrom: "Joe" <joe@example.com>',
        False,
    ),
    # check_ratware_envelope_from
    (
        "envelope built from recipient",
        "check_ratware_envelope_from",
        (),
        TO_BOB + "\n" + RP.format("example.com.bob@bulk.example.net"),
        True,
    ),
    (
        "SRS rewritten",
        "check_ratware_envelope_from",
        (),
        TO_BOB + "\n" + RP.format("SRS0=example.com.bob@bulk.example.net"),
        False,
    ),
    (
        "unrelated envelope",
        "check_ratware_envelope_from",
        (),
        TO_BOB + "\n" + RP.format("news@example.org"),
        False,
    ),
    (
        "recipient domain without a valid TLD",
        "check_ratware_envelope_from",
        (),
        "To: bob@example.invalid\n" + RP.format("example.invalid.bob@bulk.example.net"),
        False,
    ),
    # retired
    ("retired check", "check_for_unique_subject_id", (), "Subject: x [ab12]", False),
]


@pytest.mark.parametrize(
    ("case", "function", "args", "headers", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_header_checks(
    case: str, function: str, args: tuple[str, ...], headers: str | bytes, expected: bool
) -> None:
    assert bool(ev.EVALS[function](context(headers), *args)) is expected


def test_faraway_charset_in_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LANGUAGE", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    russian = "Subject: =?koi8-r?B?8NLJ18XU?="
    check = ev.check_for_faraway_charset_in_headers
    assert check(context(russian, ok_locales="en"))
    assert not check(context(russian, ok_locales="ru"))
    assert not check(context(russian, ok_locales="all"))
    assert not check(context("Subject: =?iso-8859-1?Q?caf=E9?=", ok_locales="en"))
    assert check(context('From: "=?big5?B?pKSk5Q==?=" <a@example.com>', ok_locales="en"))


def recipients(addresses: list[str]) -> str:
    return "To: " + ", ".join(addresses)


SORTED = [f"{chr(97 + i)}{i}@h{i}.example.com" for i in range(7)]
ALIKE = [f"ab{i}@ex{i}.com" for i in range(5)]

# (case, To addresses, sorted?, similarity)
RECIPIENTS = [
    ("seven sorted", SORTED, True, 0.0),
    ("seven unsorted", [*SORTED[1:], SORTED[0]], False, 0.0),
    ("six sorted are not enough", SORTED[:6], False, 0.0),
    ("adjacent duplicates dropped", [*SORTED[:6], SORTED[5].upper()], False, 0.0),
    ("alike users and hosts", ALIKE, False, 2.0),
    (
        "same host is not similar",
        ["aa@xx.com", "aa@xy.com", "ab@zz.org", "ba@zz.org", "cc@q.net"],
        False,
        0.1,
    ),
    ("four are too few to compare", ALIKE[:4], False, 0.0),
]


@pytest.mark.parametrize(
    ("case", "addresses", "is_sorted", "similarity"), RECIPIENTS, ids=[c[0] for c in RECIPIENTS]
)
def test_recipients(case: str, addresses: list[str], is_sorted: bool, similarity: float) -> None:
    ctx = context(recipients(addresses))
    assert ev.sorted_recipients(ctx) is is_sorted
    assert ev.similar_recipients(ctx, "undef", "undef")
    assert ev.similar_recipients(ctx, str(similarity), "undef")
    assert ev.similar_recipients(ctx, "undef", str(similarity)) is False
    assert ev.similar_recipients(ctx, "0.65", "undef") is (similarity >= 0.65)


def _pairwise_similarity(addresses: list[bytes]) -> float:
    """SpamAssassin's double loop, transcribed literally, as the reference."""
    users = [a[:2] for a in addresses]
    fqhn = [a.split(b"@", 1)[1] for a in addresses if b"@" in a]
    hosts = [h[:2] for h in fqhn]
    hits = combinations = 0
    for i in range(len(addresses)):
        for j in range(i + 1, len(addresses)):
            hits += users[i] == users[j]
            host_i = hosts[i] if i < len(hosts) else b""
            host_j = hosts[j] if j < len(hosts) else b""
            name_i = fqhn[i] if i < len(fqhn) else b""
            name_j = fqhn[j] if j < len(fqhn) else b""
            hits += host_i == host_j and name_i != name_j
            combinations += 1
    return hits / combinations


ADDRESS = st.sampled_from([b"aa", b"ab", b"b", b""]).flatmap(
    lambda user: st.sampled_from([b"@xx.com", b"@xy.com", b"@x", b"@", b""]).map(
        lambda host: user + host
    )
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ADDRESS, min_size=5, max_size=12))
def test_similarity_counts_like_the_pairwise_loop(addresses: list[bytes]) -> None:
    assert ev._similarity(addresses) == pytest.approx(_pairwise_similarity(addresses))


def test_similarity_is_linear_on_large_lists() -> None:
    rng = random.Random(1)
    addresses = [
        f"{rng.choice('abc')}{i}@{rng.choice('xyz')}{i % 7}.com".encode() for i in range(256)
    ]
    assert ev._similarity(addresses) == pytest.approx(_pairwise_similarity(addresses))
