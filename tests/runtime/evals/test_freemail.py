"""FreeMail: freemail senders, Reply-To and body addresses, and the body limits."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import freemail as ev

from ._header_mail import context

FREEMAIL = {
    "freemail_domains": [
        "freemail.example",
        "webmail.example",
        "mail.*",
        "*.free.example",
        "bad_entry!.example",
    ],
    "freemail_welcomelist": ["vip@freemail.example", "partner.example", "junk"],
}

# (case, header, regex or None, header lines, hit?)
HEADER_CASES = [
    ("plain freemail", "Reply-To", None, "Reply-To: x@freemail.example", True),
    ("any case", "Reply-To", None, "Reply-To: X@FreeMail.Example", True),
    ("not freemail", "Reply-To", None, "Reply-To: x@example.com", False),
    ("role account", "Reply-To", None, "Reply-To: info@freemail.example", False),
    ("postmaster", "Reply-To", None, "Reply-To: postmaster@freemail.example", False),
    ("gmail-style forward", "Reply-To", None, "Reply-To: a=b=c@freemail.example", False),
    # SpamAssassin's role pattern wants the "@" right after "bounce-": this one is not excused
    ("bounce with a tag", "Reply-To", None, "Reply-To: bounce-123@freemail.example", True),
    ("welcomelisted address", "Reply-To", None, "Reply-To: vip@freemail.example", False),
    ("star stops at a dot", "Reply-To", None, "Reply-To: a@mail.co.uk", False),
    ("star wildcard", "Reply-To", None, "Reply-To: a@mail.xyz", True),
    ("leading star wildcard", "Reply-To", None, "Reply-To: a@pop.free.example", True),
    ("second address counts", "Reply-To", None, "Reply-To: a@example.com, b@webmail.example", True),
    ("digit before @", "Reply-To", r"\d@", "Reply-To: joe77@freemail.example", True),
    ("no digit before @", "Reply-To", r"\d@", "Reply-To: joe@freemail.example", False),
    ("regex that does not compile", "Reply-To", "(", "Reply-To: joe7@freemail.example", False),
    ("envelope sender", "EnvelopeFrom", None, "Return-Path: <x@webmail.example>", True),
    ("absent header", "Reply-To", None, "From: x@freemail.example", False),
]


@pytest.mark.parametrize(
    ("case", "header", "regex", "headers", "hit"), HEADER_CASES, ids=[c[0] for c in HEADER_CASES]
)
def test_freemail_header(
    case: str, header: str, regex: str | None, headers: str, hit: bool
) -> None:
    args = (header,) if regex is None else (header, regex)
    assert ev.check_freemail_header(context(headers, **FREEMAIL), *args) is hit


def test_freemail_needs_configured_domains() -> None:
    assert not ev.check_freemail_header(context("Reply-To: x@freemail.example"), "Reply-To")
    assert not ev.check_freemail_from(context("From: x@freemail.example"))


# (case, regex or None, headers, hit?)
FROM_CASES = [
    ("From", None, "From: X <x@freemail.example>", True),
    ("envelope sender only", None, "From: x@example.com\nReturn-Path: <y@webmail.example>", True),
    ("not freemail", None, "From: x@example.com", False),
    ("with a regex", r"^x", "From: x@freemail.example", True),
    ("regex not matching", r"^y", "From: x@freemail.example", False),
    ("no sender at all", None, "Subject: hi", False),
]


@pytest.mark.parametrize(
    ("case", "regex", "headers", "hit"), FROM_CASES, ids=[c[0] for c in FROM_CASES]
)
def test_freemail_from(case: str, regex: str | None, headers: str, hit: bool) -> None:
    args = () if regex is None else (regex,)
    assert ev.check_freemail_from(context(headers, **FREEMAIL), *args) is hit


FM_FROM = "From: A <a@freemail.example>"
FIVE = "x1@example.com x2@example.com x3@example.com x4@example.com"

# (case, headers, body, extra settings, 'replyto' hit?, 'reply' hit?)
REPLY_CASES = [
    (
        "From and Reply-To different freemails",
        FM_FROM + "\nReply-To: b@webmail.example",
        "hi\n",
        {},
        True,
        True,
    ),
    ("same freemail address", FM_FROM + "\nReply-To: a@freemail.example", "hi\n", {}, False, False),
    (
        "bulk envelope sender",
        FM_FROM + "\nReply-To: b@webmail.example\nReturn-Path: <list-bounces@example.org>",
        "hi\n",
        {},
        False,
        False,
    ),
    (
        "freemail Reply-To, other freemail in body",
        "From: a@example.com\nReply-To: b@freemail.example",
        "write to c@webmail.example please\n",
        {},
        True,
        False,
    ),
    (
        "no Reply-To, freemail From, other in body",
        FM_FROM,
        "contact b@webmail.example\n",
        {},
        False,
        True,
    ),
    (
        "body address in angle brackets is quoting",
        FM_FROM,
        "From <b@webmail.example> today\n",
        {},
        False,
        False,
    ),
    (
        "body address before 'wrote:' is quoting",
        FM_FROM,
        "b@webmail.example wrote:\n> hi\n",
        {},
        False,
        False,
    ),
    (
        "body address in a URL",
        FM_FROM,
        "see http://example.com/?u=b@webmail.example\n",
        {},
        False,
        False,
    ),
    ("too many body addresses", FM_FROM, f"b@webmail.example {FIVE}\n", {}, False, False),
    (
        "limit switched off",
        FM_FROM,
        f"b@webmail.example {FIVE}\n",
        {"freemail_skip_when_over_max": 0.0},
        False,
        True,
    ),
    (
        "limit raised",
        FM_FROM,
        f"b@webmail.example {FIVE}\n",
        {"freemail_max_body_emails": 6.0},
        False,
        True,
    ),
    (
        "too many body freemails",
        FM_FROM,
        "b@webmail.example c@webmail.example d@webmail.example\n",
        {},
        False,
        False,
    ),
    (
        "not freemail at all",
        "From: a@example.com\nReply-To: b@example.org",
        "c@webmail.example\n",
        {},
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "headers", "body", "extra", "replyto", "reply"),
    REPLY_CASES,
    ids=[c[0] for c in REPLY_CASES],
)
def test_freemail_replyto(
    case: str, headers: str, body: str, extra: dict[str, object], replyto: bool, reply: bool
) -> None:
    settings = {**FREEMAIL, **extra}
    assert ev.check_freemail_replyto(context(headers, body, **settings), "replyto") is replyto
    assert ev.check_freemail_replyto(context(headers, body, **settings), "reply") is reply
    assert ev.check_freemail_replyto(context(headers, body, **settings)) is replyto
    assert ev.check_freemail_replyto(context(headers, body, **settings), "bogus") is False


def test_mailto_links_count_as_body_addresses() -> None:
    html = '<html><body><a href="mailto:b@webmail.example">write</a></body></html>\n'
    ctx = context(FM_FROM + "\nContent-Type: text/html", html, **FREEMAIL)
    assert ev.check_freemail_replyto(ctx, "reply")
    assert ev.check_freemail_body(ctx)
    assert ev.check_freemail_body(ctx, r"^b@")
    assert not ev.check_freemail_body(ctx, r"^c@")


def test_body_without_freemail() -> None:
    ctx = context(FM_FROM, "write to x@example.com\n", **FREEMAIL)
    assert not ev.check_freemail_body(ctx)


def test_reading_the_body_strips_quoted_addresses_from_it() -> None:
    """SpamAssassin edits the rendered body in place; later body rules see the edit."""
    body = "reach me <zz@example.com> now\nsee http://example.com/?u=q@example.org ok\n"
    reached = context(FM_FROM + "\nReply-To: a@freemail.example", body, **FREEMAIL)
    assert not ev.check_freemail_replyto(reached, "replyto")
    text = b"".join(reached.body_lines)
    assert b"<zz@example.com>" not in text and b"q@example.org" not in text
    assert b"reach me" in text
    skipped = context("From: a@example.com\nReply-To: b@example.org", body, **FREEMAIL)
    assert not ev.check_freemail_replyto(skipped, "replyto")
    assert b"<zz@example.com>" in b"".join(skipped.body_lines)


def test_hits_leave_a_detail_line_for_the_report() -> None:
    ctx = context("From: Joe <joe@freemail.example>", **FREEMAIL)
    ctx.current_rule = "FREEMAIL_FROM"
    assert ev.check_freemail_from(ctx)
    assert ctx.test_logs == {"FREEMAIL_FROM": ["joe(at)freemail.example"]}
