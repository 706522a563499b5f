"""How SpamAssassin recognises IP addresses, private ranges and "localhost" inside text.

These are not validators: they are the exact (and sometimes lax) textual forms that
SpamAssassin 4.0.1's relay parser and its evals accept (Constants.pm ``IP_ADDRESS``,
``IP_PRIVATE``, ``LOCALHOST``, ``IPV4_ADDRESS``). Rules and relay strings depend on which
substring is taken as the address, so the alternatives keep SpamAssassin's order: a longer
IPv4-mapped form must win over a shorter pure-IPv6 reading of the same text.

The sources are plain pattern strings, meant to be embedded in bigger patterns; each carries its
own case-insensitivity in a scoped ``(?i:...)`` group. Compile the bigger pattern with
``re.ASCII`` so that ``\\b``, ``\\d`` and ``\\s`` mean what they mean to Perl on byte strings.
"""

from __future__ import annotations

import re

__all__ = [
    "IPV4_ADDRESS",
    "IP_ADDRESS",
    "IP_PRIVATE",
    "IS_IPV4_ADDRESS",
    "IS_IP_ADDRESS",
    "IS_IP_PRIVATE",
    "LOCALHOST",
]

_OCTET = r"(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)"
_DOTTED_QUAD = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"
_HEX = r"[a-f0-9]{1,4}"
_ZERO = r"0{1,4}"
# Before an IPv6 address: an optional "IPv6:" literal (SMTP address-literal syntax), otherwise
# the address must not continue a longer hex/colon run.
_V6_START = r"(?:IPv6:|(?<![a-f0-9:]))"
_V6_END = r"(?![a-f0-9:])"


def _alternatives(forms: list[str]) -> str:
    return "(?:" + "|".join(forms) + ")"


def _mapped_heads(group: str, *, zeros_only: bool) -> list[str]:
    """The 96-bit heads that can precede an embedded dotted quad, most explicit first.

    With ``zeros_only`` the heads are those of ``::ffff:0:0/96`` (the only mapped form that
    counts as private or localhost); otherwise any hex groups, as in an address literal.
    """
    if zeros_only:
        ffff = "ffff:"
        return [
            rf"(?:{group}:){{5}}{ffff}",
            rf"::(?:{group}:){{0,4}}{ffff}",
            rf"(?:{group}:){{1,4}}:{ffff}",
            rf"{group}::(?:{group}:){{1,3}}{ffff}",
            rf"(?:{group}:){{2}}:0{{1,2}}:{ffff}",
            rf"(?:{group}:){{3}}:0:{ffff}",
            rf"(?:{group}:){{4}}:{ffff}",
        ]
    return [
        rf"(?:{group}:){{6}}",
        rf"::(?:{group}:){{0,5}}",
        rf"(?:{group}:){{1,5}}:",
        rf"{group}::(?:{group}:){{1,4}}",
        rf"(?:{group}:){{2}}:(?:{group}:){{1,3}}",
        rf"(?:{group}:){{3}}:(?:{group}:){{1,2}}",
        rf"(?:{group}:){{4}}:{group}:",
    ]


def _pure_v6(group: str) -> list[str]:
    """Textual IPv6 forms: full, then '::' with 0..6 groups in front of it."""
    forms = [rf"(?:{group}:){{7}}{group}", rf":(?::{group}){{1,7}}", rf"(?:{group}:){{1,7}}:"]
    forms.append(rf"{group}:(?::{group}){{1,6}}")
    forms += [rf"(?:{group}:){{{n}}}(?::{group}){{1,{7 - n}}}" for n in range(2, 6)]
    forms.append(rf"(?:{group}:){{6}}:{group}")
    forms.append("::")  # the unspecified address; SpamAssassin accepts it as an address too
    return forms


def _loopback_v6() -> list[str]:
    """Ways of writing ::1 with explicit or elided zero groups."""
    one = "0{0,3}1"
    forms = [rf"(?:{_ZERO}:){{7}}{one}", rf":(?::{_ZERO}){{0,6}}:{one}"]
    forms.append(rf"{_ZERO}:(?::{_ZERO}){{0,5}}:{one}")
    forms += [rf"(?:{_ZERO}:){{{n}}}(?::{_ZERO}){{0,{6 - n}}}:{one}" for n in range(2, 6)]
    forms.append(rf"(?:{_ZERO}:){{6}}:{one}")
    return forms


_PRIVATE_V4_HEAD = (
    r"(?:10|127|169\.254|172\.(?:1[6-9]|2[0-9]|3[01])|192\.168"
    r"|100\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7]))"
)

IPV4_ADDRESS = rf"\b{_DOTTED_QUAD}\b"

IP_ADDRESS = (
    rf"(?i:\b(?<!:){_DOTTED_QUAD}\b"
    rf"|{_V6_START}(?:{_alternatives(_mapped_heads(_HEX, zeros_only=False))}{_DOTTED_QUAD}"
    rf"|{'|'.join(_pure_v6(_HEX))}){_V6_END})"
)

# Starts with a private/reserved IPv4 prefix (anything may follow), an IPv4-mapped private
# address, fe80::/10, or ::1. Anchored at the start only, as SpamAssassin's is.
IP_PRIVATE = (
    rf"(?i:^(?:{_PRIVATE_V4_HEAD}\..*"
    rf"|{_V6_START}(?:{_alternatives(_mapped_heads(_ZERO, zeros_only=True))}"
    rf"{_PRIVATE_V4_HEAD}\..*"
    rf"|fe[89ab][0-9a-f]:.*"
    rf"|{'|'.join(_loopback_v6())}){_V6_END}))"
)

LOCALHOST = (
    rf"(?i:localhost(?:\.localdomain)?"
    rf"|\b(?<!:)127\.0\.0\.1\b"
    rf"|{_V6_START}(?:{_alternatives(_mapped_heads(_ZERO, zeros_only=True))}127\.0\.0\.1"
    rf"|{'|'.join(_loopback_v6())}){_V6_END})"
)

IS_IPV4_ADDRESS = re.compile(rf"^{IPV4_ADDRESS}$", re.ASCII)
IS_IP_ADDRESS = re.compile(rf"^{IP_ADDRESS}$", re.ASCII)
IS_IP_PRIVATE = re.compile(rf"^{IP_PRIVATE}$", re.ASCII)
