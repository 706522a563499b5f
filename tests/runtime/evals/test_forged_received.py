"""HeaderEval's forged-provider checks on hand-made relay paths."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import forged_received as ev

from ._header_mail import context, received

WHEN = "Mon, 3 Jun 2002 10:00:00 +0000"
PLAIN = received("relay.example.net", "198.51.100.7", "mx.example.org", WHEN)
EZMLM = (
    "Mailing-List: contact list-help@lists.example.org; run by ezmlm\n"
    "Delivered-To: mailing list list@lists.example.org\n"
    "Received: (qmail 1234 invoked from network); 3 Jun 2002 10:00:00 -0000"
)
HOTMAIL = (
    "Received: from hotmail.com (f135.law8.hotmail.com [216.33.241.135]) by mx.example.org"
    f" (Postfix) id X1; {WHEN}"
)
HELO_HOTMAIL = f"Received: from unknown (HELO hotmail.com) (198.51.100.7) by mx.example.org; {WHEN}"
EUDORA = f"Received: from Unknown/Local ([?.?.?.?]) by shared1-mail.whowhere.com; {WHEN}"
JUNO = received("m1.juno.com", "64.136.1.1", "mx.example.org", WHEN)

# (case, function, headers, expected)
CASES = [
    # AOL relay names
    (
        "fake rly- relay",
        "check_for_fake_aol_relay_in_rcvd",
        f"Received: from x (x [198.51.100.7]) by rly-xa01.mx.aol.com with QMQP; {WHEN}",
        True,
    ),
    (
        "real AOL sendmail",
        "check_for_fake_aol_relay_in_rcvd",
        f"Received: from a (a [152.163.1.1]) by rly-ip01.mx.aol.com (8.8.8/8.8.8/AOL-5.0.0)"
        f" with ESMTP id NAA1; {WHEN}",
        False,
    ),
    ("no rly- relay", "check_for_fake_aol_relay_in_rcvd", PLAIN, False),
    # Received headers removed on the way
    ("no Received at all", "gated_through_received_hdr_remover", "From: a@example.com", True),
    ("an ordinary path", "gated_through_received_hdr_remover", PLAIN, False),
    ("ezmlm list", "gated_through_received_hdr_remover", EZMLM, True),
    (
        "ezmlm header alone",
        "gated_through_received_hdr_remover",
        "Mailing-List: contact list-help@lists.example.org; run by ezmlm\n" + PLAIN,
        False,
    ),
    (
        "msn groups",
        "gated_through_received_hdr_remover",
        f"Received: from groups.msn.com (tk2.msn.com [65.54.195.210]) by mx.example.org; {WHEN}",
        True,
    ),
    # Hotmail
    (
        "genuine hotmail",
        "check_for_forged_hotmail_received_headers",
        f"From: a@hotmail.com\n{HOTMAIL}\nX-Originating-IP: [192.0.2.4]",
        False,
    ),
    (
        "genuine hotmail, From checked",
        "check_for_no_hotmail_received_headers",
        f"From: a@hotmail.com\n{HOTMAIL}\nX-Originating-IP: [192.0.2.4]",
        False,
    ),
    (
        "hotmail relay without origin ip",
        "check_for_forged_hotmail_received_headers",
        f"From: a@hotmail.com\n{HOTMAIL}",
        True,
    ),
    (
        "HELO hotmail.com",
        "check_for_forged_hotmail_received_headers",
        f"From: a@example.com\n{HELO_HOTMAIL}",
        True,
    ),
    (
        "HELO claim is not the From check",
        "check_for_no_hotmail_received_headers",
        f"From: a@hotmail.com\n{HELO_HOTMAIL}",
        False,
    ),
    (
        "From hotmail, path elsewhere",
        "check_for_no_hotmail_received_headers",
        f"From: a@HotMail.com\n{PLAIN}",
        True,
    ),
    (
        "From hotmail, path elsewhere, no forged relay",
        "check_for_forged_hotmail_received_headers",
        f"From: a@hotmail.com\n{PLAIN}",
        False,
    ),
    (
        "not hotmail at all",
        "check_for_no_hotmail_received_headers",
        f"From: a@example.com\n{PLAIN}",
        False,
    ),
    (
        "hotmail pickup service",
        "check_for_forged_hotmail_received_headers",
        f"From: a@example.com\n{HELO_HOTMAIL}\nReceived: from mail pickup service by hotmail.com"
        f" with Microsoft SMTPSVC; {WHEN}",
        False,
    ),
    # Eudoramail
    (
        "eudoramail via whowhere",
        "check_for_forged_eudoramail_received_headers",
        f"From: a@eudoramail.com\n{EUDORA}\nX-Sender-Ip: 192.0.2.4",
        False,
    ),
    (
        "eudoramail without sender ip",
        "check_for_forged_eudoramail_received_headers",
        f"From: a@eudoramail.com\n{EUDORA}",
        True,
    ),
    (
        "not eudoramail",
        "check_for_forged_eudoramail_received_headers",
        f"From: a@example.com\n{PLAIN}",
        False,
    ),
    (
        "eudoramail but gated",
        "check_for_forged_eudoramail_received_headers",
        "From: a@eudoramail.com",
        False,
    ),
    # Yahoo
    (
        "yahoo webmail",
        "check_for_forged_yahoo_received_headers",
        f"From: a@yahoo.com\nReceived: from [192.0.2.4] by web10.mail.yahoo.com via HTTP; {WHEN}",
        False,
    ),
    (
        "yahoo rdns on the first untrusted hop",
        "check_for_forged_yahoo_received_headers",
        "From: a@yahoo.com\n"
        + received("mta1.mail.yahoo.com", "216.136.1.1", "mx.example.org", WHEN),
        False,
    ),
    (
        "yahoo From, other path",
        "check_for_forged_yahoo_received_headers",
        f"From: a@yahoo.com\n{PLAIN}",
        True,
    ),
    (
        "not yahoo",
        "check_for_forged_yahoo_received_headers",
        f"From: a@example.com\n{PLAIN}",
        False,
    ),
    # Juno
    (
        "juno with its traces",
        "check_for_forged_juno_received_headers",
        f"From: a@juno.com\n{JUNO}\nX-Originating-IP: 192.0.2.4\nX-Mailer: Juno 5.0.33",
        False,
    ),
    (
        "juno with another mailer",
        "check_for_forged_juno_received_headers",
        f"From: a@juno.com\n{JUNO}\nX-Originating-IP: 192.0.2.4\nX-Mailer: Outlook",
        True,
    ),
    (
        "juno without origin header",
        "check_for_forged_juno_received_headers",
        f"From: a@juno.com\n{JUNO}\nX-Mailer: Juno 5.0.33",
        True,
    ),
    ("not juno", "check_for_forged_juno_received_headers", f"From: a@example.com\n{PLAIN}", False),
    # Gmail
    (
        "gmail internal hop",
        "check_for_forged_gmail_received_headers",
        f"From: a@gmail.com\n{PLAIN}\nX-Received: by 10.1.2.3 with SMTP id abc; {WHEN}",
        False,
    ),
    (
        "gmail tokens",
        "check_for_forged_gmail_received_headers",
        f"From: a@gmail.com\n{PLAIN}\nX-Gm-Message-State: {'A' * 60}\n"
        f"X-Google-Smtp-Source: {'B' * 60}",
        False,
    ),
    (
        "gmail short tokens",
        "check_for_forged_gmail_received_headers",
        f"From: a@gmail.com\n{PLAIN}\nX-Gm-Message-State: AAA\nX-Google-Smtp-Source: BBB",
        True,
    ),
    (
        "gmail without traces",
        "check_for_forged_gmail_received_headers",
        f"From: a@gmail.com\n{PLAIN}",
        True,
    ),
    (
        "not gmail",
        "check_for_forged_gmail_received_headers",
        f"From: a@example.com\n{PLAIN}",
        False,
    ),
    # gw05 ratware
    (
        "gw05 as the last Received",
        "check_for_forged_gw05_received_headers",
        f"{PLAIN}\nReceived: from mail3.example.com by gw05 with ESMTP; Thu, 21 Jun 2001 02:28:32"
        " -0400",
        True,
    ),
    (
        "a dotted by host",
        "check_for_forged_gw05_received_headers",
        f"{PLAIN}\nReceived: from mail3.example.com by gw05.example.com with ESMTP;"
        " Thu, 21 Jun 2001 02:28:32 -0400",
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "function", "headers", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_forged_received(case: str, function: str, headers: str, expected: bool) -> None:
    assert bool(ev.EVALS[function](context(headers))) is expected


MSN_LIST = (
    "To: The List <TheList@groups.msn.com>\n"
    "Return-Path: <TheList-bounce@groups.msn.com>\n"
    f"Received: from mail pickup service by p04.groups.msn.com with Microsoft SMTPSVC; {WHEN}\n"
)


def test_msn_groups() -> None:
    check = ev.check_for_msn_groups_headers
    assert check(context(MSN_LIST + "Message-Id: <TheList-101@groups.msn.com>"))
    assert not check(context(MSN_LIST + "Message-Id: <x-1@example.com>"))
    # a list name that is no valid pattern breaks SpamAssassin's check: no hit, no error
    broken = MSN_LIST.replace("TheList", "The(List")
    assert not check(context(broken + "Message-Id: <The(List-1@groups.msn.com>"))
