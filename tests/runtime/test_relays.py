"""Received parsing, one hand-written line per MTA format, then the trust path and the strings.

Every expected value in FORMAT_CASES was checked against SpamAssassin 4.0.1's own parser; the
row name pins which table row decides the line, so a reordering that shadows a row fails here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from spamkiln.runtime.netset import NetSet
from spamkiln.runtime.relays import (
    FORMATS,
    Relay,
    Skipped,
    explain_received_line,
    parse_received_line,
    parse_relays,
)

FIELDS = ("ip", "rdns", "helo", "by", "ident", "envfrom", "id", "auth")


@dataclass(frozen=True)
class R:
    """Expected relay fields; anything not given is expected empty."""

    ip: str = ""
    rdns: str = ""
    helo: str = ""
    by: str = ""
    ident: str = ""
    envfrom: str = ""
    id: str = ""
    auth: str = ""
    no_rdns: bool = False


SKIP = Skipped()
FETCH = Skipped(fetcher=True)

# (deciding row, Received value, expected: R, a Skipped, or None for unparseable)
FORMAT_CASES: list[tuple[str, str, R | Skipped | None]] = [
    (
        "ms-smtpsvc",
        "from helo.example.org ([192.0.2.10]) by mx1.example.net with Microsoft "
        "SMTPSVC(6.0.3790.4675); Mon, 5 Feb 2024 10:00:00 -0800",
        R(ip="192.0.2.10", helo="helo.example.org", by="mx1.example.net"),
    ),
    (
        "ms-pickup",
        "from mail pickup service by mx1.example.net with Microsoft SMTPSVC; Mon, 5 Feb 2024 "
        "10:00:00 -0800",
        SKIP,
    ),
    (
        "qmail",
        "from SRV-A.corp.example (192.0.2.11) by SRV-B.corp.example (192.0.2.12) with "
        "Microsoft SMTP Server (version=TLS1_2, "
        "cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.35; Mon, 5 Feb 2024 "
        "10:00:00 +0100",
        R(
            ip="192.0.2.11",
            rdns="SRV-A.corp.example",
            helo="SRV-A.corp.example",
            by="SRV-B.corp.example",
            id="15.1.2507.35",
        ),
    ),
    (
        "ms-exchange",
        "from AB1PR01MB0001.eurprd01.prod.example.com ([fe80::1234:5678:9abc:def0%4]) by "
        "AB1PR01MB0001.eurprd01.prod.example.com ([fe80::1234:5678:9abc:def0%4]) with mapi "
        "id 15.20.7270.010; Mon, 5 Feb 2024 09:00:00 +0000",
        R(
            ip="fe80::1234:5678:9abc:def0",
            helo="AB1PR01MB0001.eurprd01.prod.example.com",
            by="AB1PR01MB0001.eurprd01.prod.example.com",
        ),
    ),
    (
        "xmail",
        "from lists.example.org (198.51.100.7:40312) by mx.example.net with [XMail 1.27 "
        "ESMTP Server] id <S1A2B3> for <user@example.net> from <owner-list@example.org>; "
        "Mon, 5 Feb 2024 10:00:00 -0500",
        R(
            ip="198.51.100.7",
            helo="lists.example.org",
            by="mx.example.net",
            envfrom="owner-list@example.org",
            id="S1A2B3",
        ),
    ),
    (
        "ecelerity-helo",
        "from ([198.51.100.8:52311] helo=out.example.org) by mta-1.example.net (ecelerity "
        "3.6.0.10 r(123)) with ESMTP id AB/CD-01234-56789ABC; Mon, 5 Feb 2024 10:00:00 -0500",
        R(
            ip="198.51.100.8",
            helo="out.example.org",
            by="mta-1.example.net",
            id="AB/CD-01234-56789ABC",
        ),
    ),
    (
        "ecelerity",
        "from unknown ([198.51.100.9:41000]) by mta-2.example.net (ecelerity 3.6.0.10 "
        "r(123)) with ESMTP id 01/23-45678-9ABCDEF0; Mon, 5 Feb 2024 10:00:00 -0500",
        R(ip="198.51.100.9", by="mta-2.example.net", id="01/23-45678-9ABCDEF0"),
    ),
    (
        "exim-local",
        "from alice by box.example.org with local (Exim 4.96) (envelope-from "
        "<alice@example.org>) id 1rXyZa-000123-AB; Mon, 05 Feb 2024 10:00:00 +0000",
        SKIP,
    ),
    (
        "exim-bare-ip",
        "from [203.0.113.20] (helo=client.example ident=guest) by mx.example.org with smtp "
        "(Exim 4.96) id 1rXyZb-000456-CD for <bob@example.org>; Mon, 05 Feb 2024 10:00:00 "
        "+0000",
        R(
            ip="203.0.113.20",
            helo="client.example",
            by="mx.example.org",
            ident="guest",
            id="1rXyZb-000456-CD",
        ),
    ),
    (
        "exim",
        "from host20.example.com ([203.0.113.21] helo=laptop.local) by mx.example.org with "
        "esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from "
        "<carol@example.com>) id 1rXyZc-000789-EF; Mon, 05 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.21",
            rdns="host20.example.com",
            helo="laptop.local",
            by="mx.example.org",
            envfrom="carol@example.com",
            id="1rXyZc-000789-EF",
        ),
    ),
    (
        "exim",
        "from host22.example.com ([203.0.113.22]:51234) by mx.example.org with esmtpa (Exim "
        "4.96) id 1rXyZd-000ABC-GH; Mon, 05 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.22",
            rdns="host22.example.com",
            helo="host22.example.com",
            by="mx.example.org",
            id="1rXyZd-000ABC-GH",
            auth="esmtpa",
        ),
    ),
    (
        "exim-square",
        "from relay.example.com [203.0.113.23] by mx.example.org with esmtp (Exim 3.36 #1) "
        "id 1rXyZe-000DEF-IJ; Mon, 05 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.23",
            rdns="relay.example.com",
            helo="relay.example.com",
            by="mx.example.org",
            id="1rXyZe-000DEF-IJ",
        ),
    ),
    (
        "exim-scraps",
        "from inner.example.com (outer.example.com) [203.0.113.24.4455] (mail) by "
        "mx.example.org with esmtp (Exim 3.35 #1) id 1rXyZf-000GHI-KL; Mon, 05 Feb 2024 "
        "10:00:00 +0000",
        R(
            ip="203.0.113.24",
            rdns="inner.example.com",
            helo="outer.example.com",
            by="mx.example.org",
            id="1rXyZf-000GHI-KL",
        ),
    ),
    (
        "postfix",
        "from laptop.example (unknown [203.0.113.25]) by mx.example.org (Postfix) with "
        "ESMTPSA id 4TNxyz1234; Mon,  5 Feb 2024 10:00:00 +0000 (UTC)",
        R(
            ip="203.0.113.25",
            helo="laptop.example",
            by="mx.example.org",
            id="4TNxyz1234",
            auth="ESMTPSA",
            no_rdns=True,
        ),
    ),
    (
        "postfix-nospace",
        "from 192.0.2.30 (unknown[203.0.113.26]) by mx.example.org (Postfix) with SMTP id "
        "4TNxyz5678; Mon,  5 Feb 2024 10:00:00 +0000 (UTC)",
        R(
            ip="203.0.113.26",
            helo="192.0.2.30",
            by="mx.example.org",
            id="4TNxyz5678",
            no_rdns=True,
        ),
    ),
    (
        "scalix",
        "from DESKTOP-1 ( 203.0.113.27) by mail.example.org (Scalix SMTP Relay 11.4.6.12544) "
        "via ESMTP; Mon, 05 Feb 2024 10:00:00 -0600 (CST)",
        R(ip="203.0.113.27", helo="DESKTOP-1", by="mail.example.org"),
    ),
    (
        "lotus-domino",
        "from notes.example.com ([203.0.113.28]) by domino.example.org (Lotus Domino Release "
        "9.0.1FP10) with ESMTP id 2024020510000012-34 ; Mon, 5 Feb 2024 10:00:00 +0100",
        R(
            ip="203.0.113.28",
            helo="notes.example.com",
            by="domino.example.org",
            id="2024020510000012-34",
        ),
    ),
    (
        "http-numeric-helo",
        "from 203.0.113.29 ([203.0.113.29]) by webmail.example.org (Horde Framework) with "
        "HTTP; Mon, 05 Feb 2024 10:00:00 +0100",
        R(ip="203.0.113.29", by="webmail.example.org", auth="HTTP"),
    ),
    (
        "sendmail",
        "from helo.example.com (rdns.example.com [203.0.113.30]) by mx.example.org "
        "(8.17.1/8.17.1) with ESMTP id 415A0B0C012345 for <dave@example.org>; Mon, 5 Feb "
        "2024 10:00:00 GMT",
        R(
            ip="203.0.113.30",
            rdns="rdns.example.com",
            helo="helo.example.com",
            by="mx.example.org",
            id="415A0B0C012345",
        ),
    ),
    (
        "sendmail",
        "from helo.example.com (IDENT:root@rdns.example.com [203.0.113.31]) by "
        "mx.example.org (8.17.1/8.17.1) with SMTP id 415A0B0C012346; Mon, 5 Feb 2024 "
        "10:00:00 GMT",
        R(
            ip="203.0.113.31",
            rdns="rdns.example.com",
            helo="helo.example.com",
            by="mx.example.org",
            ident="root",
            id="415A0B0C012346",
        ),
    ),
    (
        "exchange-ims",
        "from helo.example.com (rdns.example.com [203.0.113.32]) by ims.example.org with "
        "SMTP (Microsoft Exchange Internet Mail Service Version 5.5.2653.13) id ABCD1234; "
        "Mon, 5 Feb 2024 10:00:00 -0500",
        R(
            ip="203.0.113.32",
            rdns="rdns.example.com",
            helo="helo.example.com",
            by="ims.example.org",
            id="ABCD1234",
        ),
    ),
    (
        "helo-equals",
        "from rdns33.example.com ([203.0.113.33] helo=helo33.example.com) by mx.example.org "
        "with smtp id 1rXyZg-000JKL-MN; Mon, 05 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.33",
            rdns="rdns33.example.com",
            helo="helo33.example.com",
            by="mx.example.org",
            id="1rXyZg-000JKL-MN",
        ),
    ),
    (
        "attbi-unknown",
        "from client.example (<unknown.domain>[203.0.113.34]) by relay.example.net (relay) "
        "with SMTP id <20240205100000000abcdef>; Mon, 5 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.34",
            helo="client.example",
            by="relay.example.net",
            id="20240205100000000abcdef",
        ),
    ),
    (
        "attbi",
        "from client.example (c-203-0-113-35.example.net[203.0.113.35]) by relay.example.net "
        "(relay) with SMTP id <20240205100000000abcdeg>; Mon, 5 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.35",
            rdns="c-203-0-113-35.example.net",
            helo="client.example",
            by="relay.example.net",
            id="20240205100000000abcdeg",
        ),
    ),
    (
        "sendmail-ident",
        "from zzTop (guest@[203.0.113.36]) by mx.example.org (8.11.6/8.11.6) with SMTP id "
        "h1ABCDE12345; Mon, 5 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.36",
            helo="zzTop",
            by="mx.example.org",
            ident="guest",
            id="h1ABCDE12345",
            no_rdns=True,
        ),
    ),
    (
        "hotmail-web",
        "from 203.0.113.37 by web01.hotmail.msn.com with HTTP; Mon, 05 Feb 2024 10:00:00 GMT",
        R(ip="203.0.113.37", by="web01.hotmail.msn.com", auth="HTTP"),
    ),
    (
        "qpsmtpd",
        "from rdns38.example.com (HELO helo38) (203.0.113.38) by mx.example.org "
        "(qpsmtpd/0.96) with ESMTP; Mon, 05 Feb 2024 10:00:00 -0800",
        R(ip="203.0.113.38", rdns="rdns38.example.com", helo="helo38", by="mx.example.org"),
    ),
    (
        "lmtp-lhlo",
        "from store.example.org (LHLO store.example.org) (10.9.8.7) by store.example.org "
        "with LMTP; Mon, 5 Feb 2024 10:00:00 -0700 (MST)",
        R(
            ip="10.9.8.7",
            rdns="store.example.org",
            helo="store.example.org",
            by="store.example.org",
        ),
    ),
    (
        "gmx",
        "from dyn-203-0-113-39.example.net (EHLO homepc) [203.0.113.39] by mail.gmx.net "
        "(mp001) with SMTP; 05 Feb 2024 10:00:00 +0100",
        R(
            ip="203.0.113.39",
            rdns="dyn-203-0-113-39.example.net",
            helo="homepc",
            by="mail.gmx.net",
            auth="GMX (SMTP / mail.gmx.net)",
        ),
    ),
    (
        "smtpd-for",
        "from imo.example.com ([203.0.113.40]) by gw.example.org via smtpd (for "
        "[198.51.100.1]) with SMTP(x); Mon, 05 Feb 2024 10:00:00 -0400",
        R(ip="203.0.113.40", helo="imo.example.com", by="gw.example.org"),
    ),
    (
        "qmail",
        "from rdns41.example.net (HELO helo41.example.net) (ann@203.0.113.41) by "
        "qmail.example.org with SMTP; 5 Feb 2024 10:00:00 -0000",
        R(
            ip="203.0.113.41",
            rdns="rdns41.example.net",
            helo="helo41.example.net",
            by="qmail.example.org",
            ident="ann",
        ),
    ),
    (
        "qmail",
        "from unknown (HELO helo42) (203.0.113.42) by qmail.example.org with SMTP; 5 Feb "
        "2024 10:00:00 -0000",
        R(ip="203.0.113.42", helo="helo42", by="qmail.example.org"),
    ),
    (
        "qmail",
        "from rdns43.example.net (ben@203.0.113.43) by qmail.example.org with SMTP; 5 Feb "
        "2024 10:00:00 -0000",
        R(
            ip="203.0.113.43",
            rdns="rdns43.example.net",
            helo="rdns43.example.net",
            by="qmail.example.org",
            ident="ben",
        ),
    ),
    (
        "qmail",
        "from rdns44.example.net (203.0.113.44) by qmail.example.org with SMTP; 5 Feb 2024 "
        "10:00:00 -0000",
        R(
            ip="203.0.113.44",
            rdns="rdns44.example.net",
            helo="rdns44.example.net",
            by="qmail.example.org",
        ),
    ),
    (
        "qmail",
        "from unknown (HELO helo45) (cat@[203.0.113.45]) (envelope-sender <cat@example.net>) "
        "by ldap.example.org (qmail-ldap-1.03) with SMTP for <dan@example.org>; 5 Feb 2024 "
        "10:00:00 -0000",
        R(
            ip="203.0.113.45",
            helo="helo45",
            by="ldap.example.org",
            ident="cat",
            envfrom="cat@example.net",
        ),
    ),
    (
        "yahoo-web",
        "from [203.0.113.46] by web1.mail.example.com via HTTP; Mon, 05 Feb 2024 10:00:00 PST",
        R(ip="203.0.113.46", by="web1.mail.example.com"),
    ),
    (
        "as-user",
        "from 10.20.30.40 ( [10.20.30.40]) as user eve@localhost by mail.example.org with "
        "HTTP; Mon, 5 Feb 2024 10:00:00 -0500",
        R(ip="10.20.30.40", by="mail.example.org", auth="HTTP"),
    ),
    (
        "paren-helo-ip",
        "from (203.0.113.47 [203.0.113.47]) by mail.example.org with ESMTP id QWERTY12; Mon, "
        "5 Feb 2024 10:00:00 -0700 (PST)",
        R(ip="203.0.113.47", helo="203.0.113.47", by="mail.example.org", id="QWERTY12"),
    ),
    (
        "bare-ip",
        "from [203.0.113.48] by relay.example.org (Wall 1.1.0) with SMTP; 5 Feb 2024 "
        "10:00:00 -0000",
        R(ip="203.0.113.48", by="relay.example.org"),
    ),
    (
        "paren-ip",
        "from (203.0.113.49) by gw.example.edu via smtp id 0123_abcdef_0123; Mon, 5 Feb 2024 "
        "10:00:00 -0400",
        R(ip="203.0.113.49", by="gw.example.edu", id="0123_abcdef_0123"),
    ),
    (
        "mdaemon",
        "from office [203.0.113.50] by scan.example.com.au [203.0.113.51] with SMTP "
        "(MDaemon.PRO.v5.0.6.R) for <fay@example.org>; Mon, 05 Feb 2024 10:00:00 +1000",
        R(ip="203.0.113.50", helo="office", by="scan.example.com.au", no_rdns=True),
    ),
    (
        "mdaemon-paren",
        "from smtp.example.de [(203.0.113.52)] by mail.example.de (203.0.113.53) (MDaemon "
        "PRO v19.0.2) with ESMTP id md50001234567.msg; Mon, 5 Feb 2024 10:00:00 +0200",
        R(
            ip="203.0.113.52",
            helo="smtp.example.de",
            by="mail.example.de",
            id="md50001234567.msg",
        ),
    ),
    (
        "sendmail-no-rdns",
        "from mail.example.cn ([203.0.113.54]) by mx.example.org (8.11.6/8.11.6) with ESMTP "
        "id h2FH0Zx11330 for <gus@example.org>; Mon, 5 Feb 2024 10:00:00 GMT",
        R(
            ip="203.0.113.54",
            helo="mail.example.cn",
            by="mx.example.org",
            id="h2FH0Zx11330",
            no_rdns=True,
        ),
    ),
    (
        "sendmail-loose",
        "from helo55 (rdns55.example.net [203.0.113.55]) via ESMTP by relay.example.edu "
        "(8.12.1/) id h06GHYLZ022481; Mon, 5 Feb 2024 10:00:00 -0600",
        R(
            ip="203.0.113.55",
            rdns="rdns55.example.net",
            helo="helo55",
            by="relay.example.edu",
            id="h06GHYLZ022481",
        ),
    ),
    (
        "sendmail-loose",
        "from helo56 (softdnserr [::ffff:203.0.113.56]) by mail.example.fi with esmtp; Mon, "
        "5 Feb 2024 10:00:00 +0300",
        R(ip="203.0.113.56", helo="helo56", by="mail.example.fi"),
    ),
    (
        "ip-with-port",
        "from helo57.example.com ([203.0.113.57.63559]) by mailhost.example.com with esmtp "
        "(v3.35.1) id 1GNrLz-000295-00; Mon, 5 Feb 2024 10:00:00 -0400",
        R(
            ip="203.0.113.57",
            helo="helo57.example.com",
            by="mailhost.example.com",
            id="1GNrLz-000295-00",
            no_rdns=True,
        ),
    ),
    (
        "mail-fetcher",
        "from pop.example.org [127.0.0.1] by localhost with POP3 (fetchmail-6.4.37) for "
        "<hal@localhost> (single-drop); Mon, 05 Feb 2024 10:00:00 +0000 (GMT)",
        FETCH,
    ),
    (
        "qmail-helo-loose",
        "from unknown (HELO helo58) (203.0.113.58) by qmail.example.org with ESMTP id 123; 5 "
        "Feb 2024 10:00:00 -0000",
        R(ip="203.0.113.58", helo="helo58", by="qmail.example.org", id="123", no_rdns=True),
    ),
    (
        "qmail-loose",
        "from rdns59.example.net (ivy@203.0.113.59) by totor.example.org with ESMTP id 456; "
        "5 Feb 2024 10:00:00 -0000",
        R(
            ip="203.0.113.59",
            rdns="rdns59.example.net",
            helo="rdns59.example.net",
            by="totor.example.org",
            ident="ivy",
            id="456",
        ),
    ),
    (
        "bare-ip",
        "from [203.0.113.60] by ws1.example.com with http for <jay@example.com>; Mon, 5 Feb "
        "2024 10:00:00 -0500",
        R(ip="203.0.113.60", by="ws1.example.com", auth="http"),
    ),
    (
        "smap",
        "from gw.example.com(203.0.113.61) by fw.example.org via smap (V1.3) id xma000001; "
        "Mon, 5 Feb 24 10:00:00 -0600",
        R(ip="203.0.113.61", rdns="gw.example.com", by="fw.example.org", id="xma000001"),
    ),
    (
        "smap-helo",
        "from smtp.example.com(203.0.113.62, HELO smtp.example.net) by fw.example.org via "
        "smap (V1.3) id xma000002; Mon, 5 Feb 24 10:00:00 -0600",
        R(
            ip="203.0.113.62",
            rdns="smtp.example.com",
            helo="smtp.example.net",
            by="fw.example.org",
            id="xma000002",
        ),
    ),
    (
        "interscan",
        "from 203.0.113.63 by scan.example.com (InterScan E-Mail VirusWall NT); Mon, 05 Feb "
        "2024 10:00:00 -0800",
        R(ip="203.0.113.63", by="scan.example.com"),
    ),
    (
        "bsmtp",
        "from batch.example.org by relay.example.org with BSMTP (rsmtp 0.4) for "
        "kim@example.org; 5 Feb 2024 10:00:00 -0000",
        SKIP,
    ),
    (
        "yahoo-smtp",
        "from rdns64.example.net (HELO helo64) (lee@203.0.113.64 with plain) by "
        "smtp.mail.example.com with SMTP; 5 Feb 2024 10:00:00 -0000",
        R(
            ip="203.0.113.64",
            rdns="rdns64.example.net",
            helo="helo64",
            by="smtp.mail.example.com",
            ident="lee",
        ),
    ),
    (
        "communigate-account",
        "from [203.0.113.65] (account max HELO [203.0.113.65]) by cg.example.org "
        "(CommuniGate Pro SMTP 6.3.9) with ESMTPA id 12345678; Mon, 05 Feb 2024 10:00:00 "
        "-0500",
        R(
            ip="203.0.113.65",
            helo="!203.0.113.65!",
            by="cg.example.org",
            id="12345678",
            auth="ESMTPA",
        ),
    ),
    (
        "communigate-verified",
        "from host66.example.com ([203.0.113.66] verified) by cg.example.org (CommuniGate "
        "Pro SMTP 6.3.9) with ESMTP id 12345679 for ned@example.org; Mon, 05 Feb 2024 "
        "10:00:00 +0600",
        R(
            ip="203.0.113.66",
            rdns="host66.example.com",
            helo="host66.example.com",
            by="cg.example.org",
            id="12345679",
        ),
    ),
    (
        "content-technologies",
        "from scv.example.com (scv.example.com) by gate.example.com (Content Technologies "
        "SMTPRS 4.3.12) with ESMTP id <T1234@gate.example.com>; Mon, 5 Feb 2024 10:00:00 "
        "-0800",
        SKIP,
    ),
    (
        "sendmail-loose",
        "from host68.example.com ([203.0.113.68] [203.0.113.68]) by smtp.example.com with "
        "ESMTP; Mon, 5 Feb 2024 10:00:00 -0500",
        R(ip="203.0.113.68", helo="host68.example.com", by="smtp.example.com", no_rdns=True),
    ),
    (
        "ip-by-with",
        "from 203.0.113.69 by relay.example.ca with ESMTP (Tumbleweed MMS SMTP Relay (MMS "
        "v5.0)); Mon, 5 Feb 2024 10:00:00 -0500",
        R(ip="203.0.113.69", by="relay.example.ca"),
    ),
    (
        "f-secure",
        "from [10.1.1.70]:50999 (HELO intra.example.com) by av.example.com ([10.1.1.71]:25) "
        "(AV for Internet Mail 6.0) with SMTP; Mon, 5 Feb 2024 10:00:00 -0000",
        R(ip="10.1.1.70", helo="intra.example.com", by="av.example.com"),
    ),
    (
        "ip-helo",
        "from 203.0.113.72 (HELO daisy) by smtp.example.de (198.51.100.2) with SMTP; 5 Feb "
        "2024 10:00:00 +0000",
        R(ip="203.0.113.72", helo="daisy", by="smtp.example.de"),
    ),
    (
        "square-ip",
        "from oldpc [203.0.113.73] by smtpd.example.net (SMTPD32-8.15) id A1B2C3D4; Mon, 05 "
        "Feb 2024 10:00:00 -0500",
        R(ip="203.0.113.73", helo="oldpc", by="smtpd.example.net", id="A1B2C3D4"),
    ),
    (
        "rdns-paren-ip",
        "from nodnsquery(203.0.113.74) by herbivore.example.edu via csmap (V4.1) id srcAAA1234",
        R(ip="203.0.113.74", rdns="nodnsquery", by="herbivore.example.edu", id="srcAAA1234"),
    ),
    (
        "ip-comment",
        "from 203.0.113.75 (proxying for 198.51.100.3) by webmail.example.org with HTTP; "
        "Mon, 05 Feb 2024 10:00:00 +0000",
        R(ip="203.0.113.75", by="webmail.example.org", auth="HTTP"),
    ),
    (
        "bare-ip-comment",
        "from [203.0.113.76] (helo=home.example.de) by mx.example.de with ESMTP (Nemesis), "
        "id 0MKpdM-1CkRpr-000608; Mon, 05 Feb 2024 10:00:00 +0100",
        R(
            ip="203.0.113.76",
            helo="home.example.de",
            by="mx.example.de",
            id="0MKpdM-1CkRpr-000608",
        ),
    ),
    (
        "obtuse",
        'from TCE-203-0-113-77.example.cn(203.0.113.77), claiming to be "fake.example.net" '
        "via SMTP by st.example.at, id smtpdAB12cd; Mon Feb 5 10:00:00 2024",
        R(
            ip="203.0.113.77",
            rdns="TCE-203-0-113-77.example.cn",
            helo="fake.example.net",
            by="st.example.at",
            id="smtpdAB12cd",
        ),
    ),
    (
        "obtuse",
        "from UNKNOWN(203.0.113.78) via SMTP by st.example.at, id smtpdAB12ce; Mon Feb 5 "
        "10:00:00 2024",
        R(ip="203.0.113.78", by="st.example.at", id="smtpdAB12ce"),
    ),
    (
        "yahoo-login",
        "from itrqtn (oscar@203.0.113.79 with login) by smtp101.mail.example.yahoo.com with "
        "SMTP; 05 Feb 2024 10:00:00 -0800 PST",
        R(ip="203.0.113.79", helo="itrqtn", by="smtp101.mail.example.yahoo.com"),
    ),
    (
        "ident-at-localhost",
        "from ray.example.com (ray@localhost) by ray.example.com (SGI-8.9.3/8.8.7) with "
        "ESMTP id KAA14788 for <sam@example.org>; Mon, 5 Feb 2024 10:00:00 -0500 (EST)",
        SKIP,
    ),
    (
        "avg-scanner",
        "from 127.0.0.1 (AVG SMTP 7.0.299 [265.6.8]); Mon, 05 Feb 2024 10:00:00 -0800",
        SKIP,
    ),
    (
        "qmail-scanner-uid",
        "from admin@lists.example.net by alpha by uid 7791 with qmail-scanner-1.14 "
        "(clamdscan: 0.80. Clear:SA:0(-4.1/5.0):. Processed in 0.2 secs)",
        SKIP,
    ),
    (
        "address-by",
        "from uma@example.com by imo.example.com (mail_out_v34.13.) id 7.53.208064a0 (4394); "
        "Mon, 05 Feb 2024 10:00:00 -0500 (EST)",
        SKIP,
    ),
    (
        "unknown-local",
        "from Unknown/Local ([?.?.?.?]) by mailcity.example.com; Mon, 05 Feb 2024 10:00:00 -0000",
        SKIP,
    ),
    (
        "ident-bracket-localhost",
        "from casper.example.com (raph@casper [127.0.0.1]) h148aux8016336verify=FAIL); Mon, "
        "5 Feb 2024 10:00:00 -0800",
        SKIP,
    ),
    (
        "courier-auth",
        "from (AUTH: e40a9cea) by vqx.example.net with esmtp (courier-0.40) for "
        "<xia@example.org>; Mon, 05 Feb 2024 10:00:00 +0000",
        SKIP,
    ),
    (
        "unix-socket",
        "from localhost (localhost [[UNIX: localhost]]) by home.example.com "
        "(8.12.11/8.12.11/Submit) id iBADHRP6011034; Mon, 5 Feb 2024 10:00:00 GMT",
        SKIP,
    ),
    (
        "amazon-internal",
        "from dc-mail-1.iad3.amazon.com by mail-store-1.amazon.com with ESMTP (peer "
        "crosscheck: dc-mail-1.iad3.amazon.com)",
        SKIP,
    ),
    (
        "groupwise",
        "from GWGC6-MTA by gc6.example.us with Novell_GroupWise; Mon, 05 Feb 2024 10:00:00 -0700",
        SKIP,
    ),
    (
        "raptor-firewall",
        "from no.name.available by [198.51.100.4] via smtpd (for [198.51.100.5]) with ESMTP; "
        "Mon, 05 Feb 2024 10:00:00 -0500",
        SKIP,
    ),
    (
        "qmail-scanner",
        "from 198.51.100.6 by blazing.example.org (envelope-from <list-return@example.org>, "
        "uid 502) with qmail-scanner-1.24 (clamdscan: 0.80/594. Clear:RC:0(198.51.100.6):. "
        "Processed in 0.288806 secs); 05 Feb 2024 10:00:00 -0000",
        Skipped(carried_envfrom="list-return@example.org"),
    ),
    (
        "local-by",
        "from mmail by argon.example.org.uk with local (connectmail/exim) id "
        "18tOsg-0008FX-00; Mon, 05 Feb 2024 10:00:00 +0000",
        SKIP,
    ),
    (
        "cyrus-socket",
        "from cyrus.example.vm ([unix socket]) by cyrus.example.vm (Cyrus v2.3.14) with "
        "LMTPA; Mon, 05 Feb 2024 10:00:00 +0200",
        SKIP,
    ),
    (
        "name-by",
        "from CATHY.EXAMPLE.SI by CATHY.EXAMPLE.SI (PMDF V4.3-10 #8779) id "
        "<01KTSSR50NSW001MXN@CATHY.EXAMPLE.SI>; Mon, 05 Feb 2024 10:00:00 +0100",
        SKIP,
    ),
    (
        "name-with-by",
        "from sen.example.gov with LMTP by sen2 (3.0.2/sieved-3-0-build-942) for "
        "<yul@example.org>; Mon, 05 Feb 2024 10:00:00 -0400",
        SKIP,
    ),
    (
        "sendgrid",
        "from MjA3NDc4Mg (unknown) by ismtpd0001p1lon1.sendgrid.net (SG) with HTTP id "
        "aqHKNX2kSp for <zed@example.com>; Mon, 05 Feb 2024 10:00:00.516 +0000 (UTC)",
        SKIP,
    ),
    (
        "opensmtpd-local",
        "from localhost (example.com [local]) by example.com (OpenSMTPD) with ESMTPA id "
        "5db34e0d for <amy@example.com>; Mon, 5 Feb 2024 10:00:00 -0600 (MDT)",
        SKIP,
    ),
    (
        "lsmtp",
        "from DL1 (dl1.example.com) by email.example.com (LSMTP for Windows NT v1.1b) with "
        "SMTP id <21.000575A0@email.example.com>; Mon, 5 Feb 2024 10:00:00 -0500",
        SKIP,
    ),
    (
        "mailenable-local",
        "from ([127.0.0.1]) with MailEnable ESMTP; Mon, 05 Feb 2024 10:00:00 +0300",
        SKIP,
    ),
    (
        "facebook-thrift",
        "from facebook.com (abcDEF 2401:db00:1110:50e8:face:0000:002f:0000) by facebook.com "
        "with Thrift id 423753524b5011e9a83e248a0796a3b2-169bd530; Mon, 5 Feb 2024 10:00:00 "
        "-0700",
        SKIP,
    ),
    (
        "gmail-api",
        "from 384836569573 named unknown by gmailapi.google.com with HTTPREST; Mon, 5 Feb "
        "2024 10:00:00 -0500",
        SKIP,
    ),
    (
        "id-only",
        "from mail.example.com id <B5b8f11e30004>; Mon, 05 Feb 2024 10:00:00 +0200",
        SKIP,
    ),
    (
        "jetsend",
        "from [<1-2-3@be.example.com>] ([<1-2-3@be.example.com>] helo=example.com)  by "
        "643852-mailer2 (envelope-from 1-2-3@be.example.com) (Jetsend MTA 0.0.1 with ESMTP; "
        "Mon Feb 5 10:00:00 EDT 2024",
        SKIP,
    ),
    (
        "simta",
        "FROM helo80.example.edu (smtp.example.edu [203.0.113.80]) BY madman.example.edu ID "
        "434B508E.174A6.13932 ; 5 Feb 2024 10:00:00 -0400",
        R(
            ip="203.0.113.80",
            rdns="smtp.example.edu",
            helo="helo80.example.edu",
            by="madman.example.edu",
            id="434B508E.174A6.13932",
        ),
    ),
    (
        "simta",
        "FROM helo81 (unverified [203.0.113.81]) BY xxx.example.com (Rockliffe SMTPRA "
        "10.3.0) WITH SMTP ID <B0065361981@xxx.example.com> FOR <bo@example.net>; Mon, 5 Feb "
        "2024 10:00:00 +0200",
        R(
            ip="203.0.113.81",
            helo="helo81",
            by="xxx.example.com",
            id="B0065361981@xxx.example.com",
            no_rdns=True,
        ),
    ),
    (
        "navgw",
        "(from localhost [203.0.113.82]) by host.example.co.uk (NAVGW 2.5.2.12) with SMTP id "
        "M2006060503484615455 for <cy@example.co.uk>; Mon, 05 Feb 2024 10:00:00 +0100",
        R(
            ip="203.0.113.82",
            helo="localhost",
            by="host.example.co.uk",
            id="M2006060503484615455",
        ),
    ),
    (
        "sendmail-submit",
        "(from dee@localhost) by home.example.com (8.12.11/8.12.11/Submit) id "
        "iBADHRP6011034; Mon, 5 Feb 2024 10:00:00 GMT",
        SKIP,
    ),
    (
        "unparseable",
        "(from eli@example.com) by m06.example.com (jqueuemail) id LRVB3JAJ; Mon, 05 Feb "
        "2024 10:00:00 PDT",
        None,
    ),
    (
        "squirrelmail",
        "from 203.0.113.83 (SquirrelMail authenticated user fox) by mail.example.org with "
        "HTTP; Mon, 5 Feb 2024 10:00:00 -0500 (EST)",
        R(ip="203.0.113.83", by="mail.example.org", auth="HTTP"),
    ),
    (
        "aol-webmail",
        "from 203.0.113.84 by FWM-M18.sysops.aol.com (198.51.100.9) with HTTP (WebMailUI); "
        "Mon, 05 Feb 2024 10:00:00 -0400",
        R(ip="203.0.113.84", by="FWM-M18.sysops.aol.com", auth="HTTP"),
    ),
    (
        "originating-ip",
        "from X-Originating-IP: 203.0.113.85",
        R(ip="203.0.113.85"),
    ),
    (
        "no-address",
        "from virtual-access.example.org by bolero.example.com ; Mon, 05 Feb 2024 10:00:00 +0100",
        SKIP,
    ),
    (
        "generic",
        "from [203.0.113.86] by mta2.example.com; Mon, 5 Feb 2024 10:00:00 -0200",
        R(ip="203.0.113.86", helo="!203.0.113.86!", by="mta2.example.com"),
    ),
    (
        "local-delivery",
        "from www-data by www.example.de (Exim 4.50) with local for <guy@example.org> id "
        "1GFbZc-0006QV-L8; Mon, 05 Feb 2024 10:00:00 +0200",
        SKIP,
    ),
    (
        "not-a-handover",
        "Message by Barricade wall.example.ee with ESMTP id h1I7hGU06122 for "
        "<hy@example.net>; Mon, 05 Feb 2024 10:00:00 +0200",
        SKIP,
    ),
    (
        "sendmail-loose",
        "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by "
        "mx.google.com with SMTPS id a1sor123456qkl.12.2024.02.05.10.00.00 for "
        "<ian@example.org> (Google Transport Security); Mon, 05 Feb 2024 10:00:00 -0800 (PST)",
        R(
            ip="209.85.220.41",
            rdns="mail-sor-f41.google.com",
            helo="mail-sor-f41.google.com",
            by="mx.google.com",
            id="a1sor123456qkl.12.2024.02.05.10.00.00",
        ),
    ),
    (
        "sendmail-loose",
        "from client.example (x.example.net [203.0.113.87]) by mx.google.com with ESMTPSA id "
        "a12sm1234567abc.12.2024.02.05.10.00.00 for <jo@example.org> (version=TLS1_3 "
        "cipher=TLS_AES_256_GCM_SHA384 bits=256/256); Mon, 05 Feb 2024 10:00:00 -0800 (PST)",
        R(
            ip="203.0.113.87",
            rdns="x.example.net",
            helo="client.example",
            by="mx.google.com",
            id="a12sm1234567abc.12.2024.02.05.10.00.00",
            auth="ESMTPSA",
        ),
    ),
    (
        "sendmail-loose",
        "from client.example (x.example.net [203.0.113.88]) by mx.google.com with ESMTPS id "
        "a12sm1234567abc.12.2024.02.05.10.00.00 (version=TLS1_3 "
        "cipher=TLS_AES_256_GCM_SHA384 bits=256/256); Mon, 05 Feb 2024 10:00:00 -0800 (PST)",
        R(
            ip="203.0.113.88",
            rdns="x.example.net",
            helo="client.example",
            by="mx.google.com",
            id="a12sm1234567abc.12.2024.02.05.10.00.00",
            auth="GMail - transport=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256",
        ),
    ),
    (
        "ip-with-port",
        "from helo89 ([203.0.113.89]) (AUTH: LOGIN kay, TLS: TLSv1.2) by courier.example.org "
        "with ESMTPSA; Mon, 05 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.89",
            helo="helo89",
            by="courier.example.org",
            auth="ESMTPSA",
            no_rdns=True,
        ),
    ),
    (
        "ip-with-port",
        "from helo90 ([203.0.113.90]) (AUTH: PLAIN kay) by courier.example.org with esmtp; "
        "Mon, 05 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.90",
            helo="helo90",
            by="courier.example.org",
            auth="PLAIN",
            no_rdns=True,
        ),
    ),
    (
        "sendmail",
        "from helo91 (rdns91.example.net [203.0.113.91]) (authenticated bits=0) by "
        "mx.example.org (8.17.1/8.17.1) with ESMTP id 415A0B0C0; Mon, 5 Feb 2024 10:00:00 GMT",
        R(
            ip="203.0.113.91",
            rdns="rdns91.example.net",
            helo="helo91",
            by="mx.example.org",
            id="415A0B0C0",
            auth="Sendmail",
        ),
    ),
    (
        "sendmail",
        "from helo93 (rdns93.example.net [203.0.113.93]) (Authenticated sender: "
        "lu@example.org) by mx.example.org (Postfix) with ESMTPSA id 4TN1; Mon, 5 Feb 2024 "
        "10:00:00 +0000",
        R(
            ip="203.0.113.93",
            rdns="rdns93.example.net",
            helo="helo93",
            by="mx.example.org",
            id="4TN1",
            auth="ESMTPSA",
        ),
    ),
    (
        "sendmail",
        "from helo94 (rdns94.example.net [203.0.113.94]) (Authenticated sender: "
        "lu@example.org) by mx.example.org (MyMTA) with ESMTP id 4TN2; Mon, 5 Feb 2024 "
        "10:00:00 +0000",
        R(
            ip="203.0.113.94",
            rdns="rdns94.example.net",
            helo="helo94",
            by="mx.example.org",
            id="4TN2",
            auth="Postfix (MyMTA)",
        ),
    ),
    (
        "communigate-account",
        "from [203.0.113.95] (account mo@example.org HELO laptop) by cg.example.org "
        "(CommuniGate Pro SMTP 6.3.9) with ESMTPSA id 1; Mon, 05 Feb 2024 10:00:00 -0500",
        R(ip="203.0.113.95", helo="laptop", by="cg.example.org", auth="ESMTPSA"),
    ),
    (
        "ip-with-port",
        "from owa.example.org ([203.0.113.97]) by ex.example.org with Microsoft Exchange "
        "Server HTTP-DAV ; Mon, 5 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.97",
            helo="owa.example.org",
            by="ex.example.org",
            auth="HTTP-DAV",
            no_rdns=True,
        ),
    ),
    (
        "bare-ip",
        "from [203.0.113.98] by web.example.de (via HTTP); Mon, 5 Feb 2024 10:00:00 +0100",
        R(ip="203.0.113.98", by="web.example.de", auth="HTTP"),
    ),
    (
        "sendmail",
        "from helo99 (rdns99.example.net [203.0.113.99]) by cp.example.org (8.1.234) "
        "(authenticated as nu@example.org) id 1234ABCD; Mon, 5 Feb 2024 10:00:00 +0000",
        R(
            ip="203.0.113.99",
            rdns="rdns99.example.net",
            helo="helo99",
            by="cp.example.org",
            id="1234ABCD",
            auth="CriticalPath",
        ),
    ),
    (
        "postfix",
        "from mail-yw1-f170.google.com (mail-yw1-f170.google.com [209.85.128.170]) by "
        "mx.example.org (Postfix) with ESMTPS id 4TNx7; Mon,  5 Feb 2024 10:00:00 +0000 (UTC)",
        R(
            ip="209.85.128.170",
            rdns="mail-yw1-f170.google.com",
            helo="mail-yw1-f170.google.com",
            by="mx.example.org",
            id="4TNx7",
        ),
    ),
    (
        "postfix",
        "from helo100 (rdns100.example.net [2001:db8::100]) by mx.example.org (Postfix) with "
        "ESMTP id 4TNx8; Mon,  5 Feb 2024 10:00:00 +0000 (UTC)",
        R(
            ip="2001:db8::100",
            rdns="rdns100.example.net",
            helo="helo100",
            by="mx.example.org",
            id="4TNx8",
        ),
    ),
    (
        "sendmail",
        "from helo101 (rdns101.example.net [IPv6:2001:db8::101]) by mx.example.org "
        "(8.17.1/8.17.1) with ESMTP id 415A0B0C1; Mon, 5 Feb 2024 10:00:00 GMT",
        R(
            ip="2001:db8::101",
            rdns="rdns101.example.net",
            helo="helo101",
            by="mx.example.org",
            id="415A0B0C1",
        ),
    ),
    (
        "sendmail",
        "from helo102 (localhost [IPv6:::1]) by mx.example.org (8.17.1/8.17.1) with ESMTP id "
        "415A0B0C2; Mon, 5 Feb 2024 10:00:00 GMT",
        R(ip="::1", rdns="localhost", helo="helo102", by="mx.example.org", id="415A0B0C2"),
    ),
    (
        "postfix",
        "from helo103 (rdns103.example.net. [203.0.113.103]) by mx.example.org (Postfix) "
        "with ESMTP id 4TNx9; Mon,  5 Feb 2024 10:00:00 +0000 (UTC)",
        R(
            ip="203.0.113.103",
            rdns="rdns103.example.net",
            helo="helo103",
            by="mx.example.org",
            id="4TNx9",
        ),
    ),
    (
        "postfix",
        "from helo104 (host|104#x.example.net [203.0.113.104]) by mx.example.org (Postfix) "
        "with ESMTP id 4TNxA; Mon,  5 Feb 2024 10:00:00 +0000 (UTC)",
        R(
            ip="203.0.113.104",
            rdns="host!104!x.example.net",
            helo="helo104",
            by="mx.example.org",
            id="4TNxA",
        ),
    ),
    (
        "postfix",
        "from [IPv6:2001:db8::105] (unknown [IPv6:2001:db8::105]) by mx.example.org "
        "(Postfix) with ESMTPSA id 4TNxB; Mon,  5 Feb 2024 10:00:00 +0000 (UTC)",
        R(
            ip="2001:db8::105",
            helo="!IPv6:2001:db8::105!",
            by="mx.example.org",
            id="4TNxB",
            auth="ESMTPSA",
            no_rdns=True,
        ),
    ),
    (
        "postfix",
        "from helo106 (rdns106.example.net [198.51.100.106]) by mx.example.org (Postfix) "
        "with ESMTP id 4TNxC (envelope-from <pam@example.net>); Mon,  5 Feb 2024 10:00:00 "
        "+0000 (UTC)",
        R(
            ip="198.51.100.106",
            rdns="rdns106.example.net",
            helo="helo106",
            by="mx.example.org",
            envfrom="pam@example.net",
            id="4TNxC",
        ),
    ),
    (
        "postfix",
        "from helo107 (rdns107.example.net [198.51.100.107]) by mx.example.org (Postfix) "
        "with ESMTP id 4TNxD (envelope-from <>); Mon,  5 Feb 2024 10:00:00 +0000 (UTC)",
        R(
            ip="198.51.100.107",
            rdns="rdns107.example.net",
            helo="helo107",
            by="mx.example.org",
            id="4TNxD",
        ),
    ),
]


@pytest.mark.parametrize(
    ("row", "value", "expected"), FORMAT_CASES, ids=[c[0] for c in FORMAT_CASES]
)
def test_format(row: str, value: str, expected: R | Skipped | None) -> None:
    parsed = parse_received_line(value)
    assert explain_received_line(value) == row
    if expected is None or isinstance(expected, Skipped):
        assert parsed == expected
        return
    assert isinstance(parsed, Relay)
    got = {name: getattr(parsed, name) or "" for name in FIELDS}
    assert got == {name: getattr(expected, name) for name in FIELDS}
    assert parsed.no_reverse_dns is expected.no_rdns
    assert not (parsed.no_reverse_dns and parsed.rdns_not_in_headers)
    assert parsed.rdns_not_in_headers is (not parsed.rdns and not expected.no_rdns)


def test_row_names_are_unique() -> None:
    names = [row.name for row in FORMATS]
    assert len(names) == len(set(names))


# -- normalisation and clean-up ----------------------------------------------------------------

# (Received value, field, expected value)
CLEANUP_CASES = [
    # folding white space and stray semicolons do not matter
    (
        "from h (r.example [192.0.2.1])\r\n\tby mx.example (Postfix) with ESMTP id AB12 ;;",
        "id",
        "AB12",
    ),
    # an IPv6 literal loses "IPv6:", brackets and the zone
    (
        "from h (r [IPv6:2001:db8::7]) by mx.example (8.17.1/8.17.1) with ESMTP id q1ab",
        "ip",
        "2001:db8::7",
    ),
    (
        "from a.example ([fe80::1%25]) by b.example ([fe80::1%25]) with mapi id 15.20.1.2",
        "ip",
        "fe80::1",
    ),
    # an IPv4-mapped address becomes plain IPv4
    (
        "from h (r [::ffff:192.0.2.9]) by mx.example (8.17.1/8.17.1) with ESMTP id q1ab",
        "ip",
        "192.0.2.9",
    ),
    # an address-literal HELO keeps its brackets, as "!"
    (
        "from [192.0.2.2] (r [192.0.2.2]) by mx.example (8.17.1/8.17.1) with ESMTP id q1ab",
        "helo",
        "!192.0.2.2!",
    ),
    # trailing dots come off the rDNS; "unknown" (any case) means none
    (
        "from h (r.example. [192.0.2.3]) by mx.example (Postfix) with ESMTP id q1ab",
        "rdns",
        "r.example",
    ),
    ("from h (UNKNOWN [192.0.2.3]) by mx.example (Postfix) with ESMTP id q1ab", "rdns", ""),
    # the envelope sender loses its angle brackets
    (
        "from h (r [192.0.2.4]) by mx.example (8.17.1/8.17.1) with ESMTP id q1ab "
        "(envelope-from <a@b.example>)",
        "envfrom",
        "a@b.example",
    ),
    # a by ending in ";" (no date after it) keeps no ";"
    ("from [192.0.2.5] by mx.example;", "by", "mx.example"),
    # a date ending in "(TZ)" is not recognised as a date, so the id scan sees all of it
    (
        "from h (r [192.0.2.6]) by mx.example (Postfix) with ESMTP id Q7AB; "
        "Mon, 5 Feb 2024 10:00:00 -0500 (EST)",
        "id",
        "Q7AB",
    ),
]


@pytest.mark.parametrize(("value", "field", "expected"), CLEANUP_CASES)
def test_cleanup(value: str, field: str, expected: str) -> None:
    parsed = parse_received_line(value)
    assert isinstance(parsed, Relay)
    assert getattr(parsed, field) == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("by mx.example (Postfix, from userid 1000) id 1234; Mon, 5 Feb 2024", "not-a-handover"),
        ("(qmail 1234 invoked by uid 89); 5 Feb 2024 10:00:00 -0000", "not-a-handover"),
        ("from www by web.example (Exim 4.96) with local for <a@b.example>", "local-delivery"),
        ("from gw.example by mx.example ; Mon, 5 Feb 2024 10:00:00 +0000", "no-address"),
    ],
)
def test_prescreen_skips(value: str, why: str) -> None:
    assert parse_received_line(value) == SKIP
    assert explain_received_line(value) == why


def test_bracketed_address_is_not_a_bare_from_by() -> None:
    parsed = parse_received_line("from [192.0.2.8] by mx.example; Mon, 5 Feb 2024 10:00:00 +0000")
    assert isinstance(parsed, Relay)
    assert (parsed.ip, parsed.by) == ("192.0.2.8", "mx.example")


def test_mixed_case_from_uses_generic_fields_only() -> None:
    value = "From host (r [192.0.2.9]) by mx.example with SMTP id abc"
    assert explain_received_line(value) == "generic"
    parsed = parse_received_line(value)
    assert isinstance(parsed, Relay)
    assert (parsed.ip, parsed.by, parsed.rdns) == ("192.0.2.9", "mx.example", "")


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "from",
        "from ",
        "from (",
        "from [",
        "from x by",
        "\x00\x00",
        "from " + "(" * 5000,
        "from a " + "; " * 3000 + "by b",
        "from " + "a.b " * 2000 + "by c with SMTP",
    ],
)
def test_garbage_never_raises(value: str) -> None:
    parse_received_line(value)
    parse_relays([value, value], originating_values=[value])


@pytest.mark.parametrize(
    "value",
    [
        # several lazy wildcards in a row: SpamAssassin's Perl needs minutes for these
        "from " + "]) (authenticated) " * 1000 + "x",
        "from x" + ") by a (12.3.456) (authenticated as b)" * 1000,
        "from " + "]) (AUTH: LOGIN x, " * 1000,
    ],
)
def test_hostile_lines_stay_fast(value: str) -> None:
    started = time.perf_counter()
    parse_received_line(value)
    assert time.perf_counter() - started < 2.0  # linear work is milliseconds here


# -- the relay string ------------------------------------------------------------------------------


def test_relay_string_exact() -> None:
    relay = Relay(
        ip="192.0.2.10",
        rdns="mail.example.org",
        helo="mail.example.org",
        by="mx.example.net",
        id="12345",
    )
    assert relay.as_string == (
        "[ ip=192.0.2.10 rdns=mail.example.org helo=mail.example.org by=mx.example.net "
        "ident= envfrom= intl=0 id=12345 auth= msa=0 ]"
    )


@pytest.mark.parametrize(("envfrom", "shown"), [(None, ""), ("", ""), ("0", ""), ("a@b", "a@b")])
def test_relay_string_prints_optional_envfrom_like_perl(envfrom: str | None, shown: str) -> None:
    assert f" envfrom={shown} " in Relay(ip="192.0.2.1", envfrom=envfrom).as_string


# -- the trust path --------------------------------------------------------------------------------

# Newest first: our MX got it from a public host, which got it from a LAN client.
MX = (
    "from relay.example.com (relay.example.com [198.51.100.20]) by mx.example.org (Postfix) "
    "with ESMTP id MX1AB; Mon, 5 Feb 2024 10:00:05 +0000"
)
FILTER = (
    "from localhost (localhost [127.0.0.1]) by mx.example.org (Postfix) with ESMTP id F1AB; "
    "Mon, 5 Feb 2024 10:00:06 +0000"
)
LAN = (
    "from pc.lan (pc.lan [192.168.1.10]) by relay.example.com (Postfix) with ESMTP id L1AB; "
    "Mon, 5 Feb 2024 10:00:04 +0000"
)
AUTHED = (
    "from laptop (dsl.example.net [203.0.113.30]) by relay.example.com (Postfix) "
    "with ESMTPSA id A1AB; Mon, 5 Feb 2024 10:00:03 +0000"
)
GARBAGE = "from nowhere with nothing"
FETCH_LINE = (
    "from pop.example.org [192.0.2.77] by localhost with POP3 (fetchmail-6.4.37) "
    "for <me@localhost> (single-drop); Mon, 05 Feb 2024 10:00:07 +0000"
)


def ips(relays: tuple[Relay, ...]) -> list[str]:
    return [r.ip for r in relays]


def test_inferred_trust_private_then_public() -> None:
    info = parse_relays([FILTER, MX, LAN])
    assert ips(info.trusted) == ["127.0.0.1"]
    assert ips(info.untrusted) == ["198.51.100.20", "192.168.1.10"]
    # without configuration, internal is trusted
    assert ips(info.internal) == ["127.0.0.1"]
    assert ips(info.external) == ["198.51.100.20", "192.168.1.10"]
    assert (info.last_trusted_index, info.last_internal_index) == (0, 0)
    assert [r.internal for r in info.trusted + info.untrusted] == [True, False, False]


def test_inferred_trust_extends_over_authenticated_hop() -> None:
    info = parse_relays([FILTER, AUTHED, MX])
    assert ips(info.trusted) == ["127.0.0.1", "203.0.113.30"]
    assert ips(info.untrusted) == ["198.51.100.20"]


def test_configured_trusted_and_internal() -> None:
    trusted = NetSet.of("198.51.100.0/24", loopback=True)
    internal = NetSet.of("127.0.0.0/8", loopback=True)
    info = parse_relays([FILTER, MX, LAN], trusted=trusted, internal=internal)
    assert ips(info.trusted) == ["127.0.0.1", "198.51.100.20"]
    assert ips(info.untrusted) == ["192.168.1.10"]  # private but not configured
    assert ips(info.internal) == ["127.0.0.1"]
    assert ips(info.external) == ["198.51.100.20", "192.168.1.10"]
    assert (info.last_trusted_index, info.last_internal_index) == (1, 0)


def test_one_configured_set_stands_for_both() -> None:
    trusted = NetSet.of("198.51.100.0/24", loopback=True)
    for info in (
        parse_relays([FILTER, MX, LAN], trusted=trusted),
        parse_relays([FILTER, MX, LAN], internal=trusted),
    ):
        assert ips(info.trusted) == ips(info.internal) == ["127.0.0.1", "198.51.100.20"]


def test_configured_auth_makes_relay_trusted_and_internal() -> None:
    trusted = NetSet.of("198.51.100.0/24", loopback=True)
    info = parse_relays([FILTER, MX, AUTHED, LAN], trusted=trusted)
    assert ips(info.trusted) == ["127.0.0.1", "198.51.100.20", "203.0.113.30"]
    assert ips(info.internal) == ["127.0.0.1", "198.51.100.20", "203.0.113.30"]
    assert ips(info.untrusted) == ["192.168.1.10"]


def test_msa_freezes_trust_for_older_hops() -> None:
    trusted = NetSet.of("198.51.100.0/24", loopback=True)
    msa = NetSet.of("198.51.100.20")
    info = parse_relays([FILTER, MX, LAN], trusted=trusted, msa=msa)
    assert ips(info.trusted) == ["127.0.0.1", "198.51.100.20", "192.168.1.10"]
    assert [r.msa for r in info.trusted] == [False, True, False]
    assert " msa=1 ]" in info.trusted_str


def test_originating_assertion_keeps_trust_but_not_internality() -> None:
    trusted = NetSet("trusted_networks", loopback=True)
    info = parse_relays([FILTER, MX, LAN], trusted=trusted, originating=True)
    assert ips(info.trusted) == ["127.0.0.1", "198.51.100.20", "192.168.1.10"]
    assert ips(info.internal) == ["127.0.0.1"]
    assert [r.msa for r in info.trusted] == [False, False, False]


def test_unparseable_and_skipped_lines_count_in_the_header_indexes() -> None:
    info = parse_relays(["by localhost with LMTP", FILTER, GARBAGE, MX])
    assert info.unparseable == 1
    assert info.num_received == 4
    assert ips(info.trusted) == ["127.0.0.1"]
    assert ips(info.untrusted) == ["198.51.100.20"]
    assert info.last_trusted_index == 2  # skipped, FILTER, GARBAGE are all in the trusted zone


def test_fetcher_marker_restarts_the_trust_path() -> None:
    info = parse_relays([FILTER, FETCH_LINE, MX, LAN])
    assert ips(info.trusted) == []  # the local hop before the fetch is forgotten
    assert ips(info.untrusted) == ["198.51.100.20", "192.168.1.10"]
    assert ips(info.internal) == []


def test_fetcher_marker_outside_the_trusted_zone_is_ignored() -> None:
    info = parse_relays([MX, FETCH_LINE, FILTER])
    assert ips(info.untrusted) == ["198.51.100.20", "127.0.0.1"]


def test_qmail_scanner_line_gives_its_envelope_sender_to_the_next_hop() -> None:
    scanner = (
        "from 198.51.100.6 by mx.example.org (envelope-from <list-bounce@example.org>, "
        "uid 502) with qmail-scanner-2.11 (clamdscan: 0.103. Clear:RC:0(198.51.100.6):. "
        "Processed in 0.1 secs); 05 Feb 2024 10:00:00 -0000"
    )
    qmail = (
        "from list.example.org (HELO list.example.org) (198.51.100.6) by mx.example.org "
        "with SMTP; 5 Feb 2024 10:00:00 -0000"
    )
    info = parse_relays([scanner, qmail])
    assert [r.envfrom for r in info.untrusted] == ["list-bounce@example.org"]
    # only the very next header gets it
    info = parse_relays([scanner, "by x (y) id z", qmail])
    assert [r.envfrom for r in info.untrusted] == [None]


def test_originating_ip_headers_add_a_bottom_hop() -> None:
    info = parse_relays([MX], originating_values=[None, "[203.0.113.99]", "", "0"])
    assert ips(info.untrusted) == ["198.51.100.20", "203.0.113.99"]
    assert info.untrusted[-1].by == ""
    assert info.num_received == 1


HEADERS = parse_relays([FILTER, MX, LAN])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (
            "X-Spam-Relays-Trusted",
            "[ ip=127.0.0.1 rdns=localhost helo=localhost by=mx.example.org ident= envfrom= intl=1 "
            "id=F1AB auth= msa=0 ]",
        ),
        (
            "X-Spam-Relays-Untrusted",
            "[ ip=198.51.100.20 rdns=relay.example.com helo=relay.example.com by=mx.example.org "
            "ident= envfrom= intl=0 id=MX1AB auth= msa=0 ] "
            "[ ip=192.168.1.10 rdns=pc.lan helo=pc.lan "
            "by=relay.example.com ident= envfrom= intl=0 id=L1AB auth= msa=0 ]",
        ),
        (
            "x-spam-relays-internal:",
            "[ ip=127.0.0.1 rdns=localhost helo=localhost by=mx.example.org ident= envfrom= intl=1 "
            "id=F1AB auth= msa=0 ]",
        ),
        ("X-Spam-Relays-External", HEADERS.untrusted_str),
        ("X-Spam-Relays-Elsewhere", ""),
    ],
)
def test_pseudo_headers(name: str, value: str) -> None:
    assert HEADERS.header(name) == value


def test_no_received_headers() -> None:
    info = parse_relays([])
    assert info.header("X-Spam-Relays-Untrusted") == ""
    assert (info.last_trusted_index, info.last_internal_index) == (-1, -1)
