"""WLBLEval: sender, recipient and URI-host lists, and the envelope sender vs its relay."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import wlbl_eval as ev

from ._header_mail import context, received

WHEN = "Mon, 3 Jun 2002 10:00:00 +0000"
FROM_LISTS = {
    "welcomelist_from": ["*@friends.example.com", "boss@example.org"],
    "blocklist_from": ["*@spammer.example.net"],
    "welcomelist_from_rcvd": [
        ["*@bank.example.com", "mail.bank.example.com"],
        ["*@bank.example.com", "[192.0.2.0/24]"],
    ],
    "def_welcomelist_from_rcvd": [["*@shop.example.org", "shop.example.org"]],
    "enlist_addrlist": {"BANKS": ["*@bank.example.com"], "NTLD": ["*@*.example.net"]},
    "welcomelist_to": ["me@example.com"],
    "blocklist_to": ["old-alias@example.com"],
    "more_spam_to": ["sales@example.com"],
    "all_spam_to": ["postmaster@example.com"],
}
FROM_BANK = "From: Bank <alerts@bank.example.com>"
BANK_RELAY = received("mail.bank.example.com", "203.0.113.9", "mx.example.com", WHEN)
OTHER_RELAY = received("relay.example.net", "198.51.100.7", "mx.example.com", WHEN)

# (case, function, args, headers, hit?)
CASES = [
    ("welcomelisted From", "check_from_in_welcomelist", (), "From: pal@friends.example.com", True),
    (
        "welcomelisted envelope sender",
        "check_from_in_welcomelist",
        (),
        "From: x@example.com\nReturn-Path: <BOSS@example.org>",
        True,
    ),
    ("unlisted", "check_from_in_welcomelist", (), "From: x@example.com", False),
    (
        "rcvd list with its relay",
        "check_from_in_welcomelist",
        (),
        FROM_BANK + "\n" + BANK_RELAY,
        True,
    ),
    (
        "rcvd list by relay address",
        "check_from_in_welcomelist",
        (),
        FROM_BANK + "\n" + received("x.example.net", "192.0.2.44", "mx.example.com", WHEN),
        True,
    ),
    (
        "rcvd list through another relay",
        "check_from_in_welcomelist",
        (),
        FROM_BANK + "\n" + OTHER_RELAY,
        False,
    ),
    ("rcvd list without any relay", "check_from_in_welcomelist", (), FROM_BANK, False),
    (
        "forged: listed sender, wrong relay",
        "check_forged_in_welcomelist",
        (),
        FROM_BANK + "\n" + OTHER_RELAY,
        True,
    ),
    (
        "not forged with the right relay",
        "check_forged_in_welcomelist",
        (),
        FROM_BANK + "\n" + BANK_RELAY,
        False,
    ),
    (
        "default welcomelist",
        "check_from_in_default_welcomelist",
        (),
        "From: orders@shop.example.org\n"
        + received("out.shop.example.org", "203.0.113.20", "mx.example.com", WHEN),
        True,
    ),
    (
        "default welcomelist, wrong relay",
        "check_from_in_default_welcomelist",
        (),
        "From: orders@shop.example.org\n" + OTHER_RELAY,
        False,
    ),
    (
        "forged default",
        "check_forged_in_default_welcomelist",
        (),
        "From: orders@shop.example.org\n" + OTHER_RELAY,
        True,
    ),
    ("blocklisted", "check_from_in_blocklist", (), "From: x@spammer.example.net", True),
    (
        "Resent-From hides the From",
        "check_from_in_blocklist",
        (),
        "From: x@spammer.example.net\nResent-From: y@example.com",
        False,
    ),
    ("named list", "check_from_in_list", ("BANKS",), FROM_BANK, True),
    ("named list, not in it", "check_from_in_list", ("BANKS",), "From: x@example.com", False),
    ("undefined list", "check_from_in_list", ("NO_SUCH_LIST",), FROM_BANK, False),
    (
        "Reply-To in a list",
        "check_replyto_in_list",
        ("NTLD",),
        "From: x@example.com\nReply-To: y@mail.example.net",
        True,
    ),
    (
        "Reply-To: only the first address",
        "check_replyto_in_list",
        ("NTLD",),
        "Reply-To: y@example.com, z@mail.example.net",
        False,
    ),
    ("To welcomelisted", "check_to_in_welcomelist", (), "To: Me <ME@example.com>", True),
    ("Cc counts too", "check_to_in_welcomelist", (), "To: a@example.org\nCc: me@example.com", True),
    (
        "Received for counts too",
        "check_to_in_welcomelist",
        (),
        received("a.example.net", "198.51.100.7", "mx.example.com", WHEN, " for <me@example.com>")
        + "\nTo: list@example.org",
        True,
    ),
    ("recipient not listed", "check_to_in_welcomelist", (), "To: you@example.com", False),
    ("recipient blocklisted", "check_to_in_blocklist", (), "To: old-alias@example.com", True),
    ("more spam", "check_to_in_more_spam", (), "Delivered-To: sales@example.com", True),
    ("all spam", "check_to_in_all_spam", (), "X-Original-To: postmaster@example.com", True),
    ("all spam, not listed", "check_to_in_all_spam", (), "To: you@example.com", False),
    (
        "a named recipient list",
        "check_to_in_list",
        ("more_spam_to",),
        "To: sales@example.com",
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "function", "args", "headers", "hit"), CASES, ids=[c[0] for c in CASES]
)
def test_address_lists(
    case: str, function: str, args: tuple[str, ...], headers: str, hit: bool
) -> None:
    assert bool(ev.EVALS[function](context(headers, **FROM_LISTS), *args)) is hit


def test_old_names_are_the_same_checks() -> None:
    assert ev.EVALS["check_from_in_whitelist"] is ev.EVALS["check_from_in_welcomelist"]
    assert ev.EVALS["check_to_in_blacklist"] is ev.EVALS["check_to_in_blocklist"]
    assert ev.EVALS["check_uri_host_in_whitelist"] is ev.EVALS["check_uri_host_in_welcomelist"]


# (case, envelope sender, relay rDNS, hit?)
MAILFROM = [
    ("same registrable domain", "bounce@lists.example.com", "mail.example.com", True),
    ("registry boundary respected", "bounce@shop.example.co.uk", "mx.other.co.uk", False),
    ("under .co.uk", "bounce@shop.example.co.uk", "out.example.co.uk", True),
    ("different domain", "bounce@example.com", "mail.example.net", False),
    ("relay without rDNS", "bounce@example.com", "", False),
]


@pytest.mark.parametrize(("case", "sender", "rdns", "hit"), MAILFROM, ids=[m[0] for m in MAILFROM])
def test_mailfrom_matches_rcvd(case: str, sender: str, rdns: str, hit: bool) -> None:
    if rdns:
        relay = received(rdns, "203.0.113.9", "mx.example.org", WHEN)
    else:
        relay = f"Received: from unknown (HELO x) (203.0.113.9) by mx.example.org; {WHEN}"
    ctx = context(f"Return-Path: <{sender}>\n{relay}")
    assert ev.check_mailfrom_matches_rcvd(ctx) is hit


def test_mailfrom_needs_an_envelope_sender() -> None:
    ctx = context(received("mail.example.com", "203.0.113.9", "mx.example.org", WHEN))
    assert not ev.check_mailfrom_matches_rcvd(ctx)


URI_LISTS = {
    "enlist_uri_host": {
        "BLOCK": ["bad.example.com", "evil.example"],
        "WELCOME": ["example.org", "!www.example.org"],
        "NTLD": ["example.net", "!safe.example.net", "192.0.2.8"],
    }
}

# (case, body, lists hit)
URI_CASES = [
    ("exact host", "see http://bad.example.com/x\n", {"BLOCK"}),
    ("parent domain", "see http://a.b.evil.example/\n", {"BLOCK"}),
    ("most specific entry decides", "see http://www.example.org/\n", set()),
    ("listed parent", "see http://docs.example.org/\n", {"WELCOME"}),
    (
        "negated subdomain, other host listed",
        "http://safe.example.net/ and http://x.example.net/\n",
        {"NTLD"},
    ),
    ("ip host listed literally", "http://192.0.2.8/login\n", {"NTLD"}),
    ("mailto is skipped", '<a href="mailto:x@bad.example.com">mail</a>\n', set()),
    ("nothing listed", "see http://www.example.com/\n", set()),
]


@pytest.mark.parametrize(("case", "body", "lists"), URI_CASES, ids=[u[0] for u in URI_CASES])
def test_uri_host_lists(case: str, body: str, lists: set[str]) -> None:
    headers = "From: a@example.com"
    if "<a " in body:
        headers += "\nContent-Type: text/html"
    ctx = context(headers, body, **URI_LISTS)
    for name in ("BLOCK", "WELCOME", "NTLD"):
        assert ev.check_uri_host_listed(ctx, name) is (name in lists), name
    assert ev.check_uri_host_in_blocklist(ctx) is ("BLOCK" in lists)
    assert ev.check_uri_host_in_welcomelist(ctx) is ("WELCOME" in lists)


def test_no_uri_lists_means_no_uri_work() -> None:
    ctx = context("From: a@example.com", "http://bad.example.com/\n")
    assert not ev.check_uri_host_listed(ctx, "BLOCK")
    assert "uri_table" not in vars(ctx)  # the (costly) URI table was never built
