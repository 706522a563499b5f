"""HeaderEval checks on addresses, Subject, Message-ID and raw header bytes.

Semantics are SpamAssassin 4.0.1's (`Plugin::HeaderEval`), including how each check reads its
headers: most use the scalar `get` (first address only, values concatenated; see `_sa_get`).
The forged-ISP checks live in `forged_received`, the date checks in `date_eval`.

Rule arguments that become part of a pattern in SpamAssassin (the To address in
LOCALPART_IN_SUBJECT, the Message-ID name in __RATWARE_NAME_ID) are compared here with plain
string operations that accept exactly the same texts, so no regex is compiled per message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.locales import charset_ok_for_locales, my_locales

from ._perl import perl_number
from ._sa_get import get_scalar

__all__ = [
    "EVALS",
    "check_equal_from_domains",
    "check_for_faraway_charset_in_headers",
    "check_for_matching_env_and_hdr_from",
    "check_for_missing_to_header",
    "check_for_to_in_subject",
    "check_for_unique_subject_id",
    "check_header_count_range",
    "check_illegal_chars",
    "check_ratware_envelope_from",
    "check_ratware_name_id",
    "check_unresolved_template",
    "similar_recipients",
    "sorted_recipients",
    "subject_is_all_caps",
]

_WORD_BYTES = frozenset(b"_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPACE_BYTES = b" \t\n\r\x0b\x0c"  # Perl's \s on bytes


def _is_word(text: bytes, index: int) -> bool:
    return 0 <= index < len(text) and text[index] in _WORD_BYTES


def _boundary(text: bytes, index: int) -> bool:
    """Perl's \\b between text[index-1] and text[index]."""
    return _is_word(text, index - 1) != _is_word(text, index)


# ---- From vs envelope sender ---------------------------------------------------------------

_AFTER_LAST_AT = re.compile(rb"@([^@]*)\Z")
_LAST_TWO_LABELS = re.compile(rb"^.+\.([^.]+\.[^.]+)$")


def _second_level_domain(address: bytes) -> bytes:
    """The last two labels of an address's domain: a deliberately crude "organisation"."""
    m = _AFTER_LAST_AT.search(address)
    domain = m.group(1) if m else b""
    return _LAST_TWO_LABELS.sub(rb"\1", domain, count=1)


def check_equal_from_domains(ctx: MessageContext, *_args: str) -> bool:
    """HEADER_FROM_DIFFERENT_DOMAINS: From and envelope sender are at different domains."""
    from_domain = _second_level_domain(get_scalar(ctx, "From:addr"))
    if from_domain == b"":
        return False
    envelope_domain = _second_level_domain(get_scalar(ctx, "EnvelopeFrom:addr"))
    if envelope_domain == b"":
        return False
    return from_domain.lower() != envelope_domain.lower()


def check_for_matching_env_and_hdr_from(ctx: MessageContext, *_args: str) -> bool:
    """__ENV_AND_HDR_FROM_MATCH: the same address (two missing ones count as the same)."""
    envelope = get_scalar(ctx, "EnvelopeFrom:addr").lower()
    return envelope == get_scalar(ctx, "From:addr").lower()


def check_for_missing_to_header(ctx: MessageContext, *_args: str) -> bool:
    """MISSING_HEADERS: neither To nor Apparently-To."""
    return get_scalar(ctx, "To") == b"" and get_scalar(ctx, "Apparently-To") == b""


# ---- Subject -------------------------------------------------------------------------------

_REPLY_PREFIXES = re.compile(rb"^(?:(?:Re|Fwd|Fw|Aw|Antwort|WG|SV|VB|VS|VL):\s*)+", re.I)
_ANY_SPACE = re.compile(rb"\s")
_NOT_LETTER = re.compile(rb"[^a-zA-Z]")
# Charsets whose text, reduced to ASCII letters, looks shouted (Constants.pm).
_CAPS_PRONE_CHARSET = re.compile(
    rb"=\?[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251|windows-1251|georgianps|pt154|tis)"
    rb"[-_a-z0-9]*\?",
    re.I,
)
# Subjects shorter than this are too short to call shouting.
_MIN_CAPS_SUBJECT = 10


def subject_is_all_caps(ctx: MessageContext, *_args: str) -> bool:
    """SUBJ_ALL_CAPS: a Subject of several words whose letters are all capitals."""
    subject = _REPLY_PREFIXES.sub(b"", get_scalar(ctx, "Subject").strip(_SPACE_BYTES), count=1)
    if not _ANY_SPACE.search(subject) or len(subject) < _MIN_CAPS_SUBJECT:
        return False
    letters = _NOT_LETTER.sub(b"", subject)
    if _CAPS_PRONE_CHARSET.search(get_scalar(ctx, "Subject:raw")):
        return False
    return letters != b"" and letters == letters.upper()


_USER_REST = re.compile(rb"\s*[,:;!?-](?:\Z|\s)")
_REPLY_MARK = re.compile(rb"(?:re|fw):", re.I)
_OPTIONAL_WORD = re.compile(rb"\s*(?:\w+\s+)?")
_PUNCTUATION = b",:;!?-"
_AT_AND_AFTER = re.compile(rb"@.*")


def _ends(text: bytes) -> list[bytes]:
    """The texts a pattern ending in Perl's `$` can see: all of it, or all but a final LF."""
    return [text, text[:-1]] if text.endswith(b"\n") else [text]


def _user_in_subject(subject: bytes, user: bytes) -> bool:
    """LOCALPART_IN_SUBJECT: the To local part opens the Subject in one of four shapes.

    "Re: [word] user", "user: ..." (case-sensitive, followed by punctuation), "user" alone,
    and ", user!" — SpamAssassin's alternation anchored at the start.
    """
    lowered_user = user.lower()
    if subject.startswith(user) and _USER_REST.match(subject, len(user)):
        return True
    for text in _ends(subject):
        lowered = text.lower()
        if lowered == lowered_user:
            return True
        mark = _REPLY_MARK.match(text)
        if mark and lowered.endswith(lowered_user):
            middle_end = len(text) - len(user)
            if middle_end >= mark.end():
                gap = _OPTIONAL_WORD.match(text, mark.end(), middle_end)
                if gap and gap.end() == middle_end:
                    return True
        if (
            len(text) >= len(user) + 2
            and text[:1] == b","
            and text[-1] in _PUNCTUATION
            and lowered[:-1].endswith(lowered_user)
            and not text[1 : len(text) - 1 - len(user)].strip(_SPACE_BYTES)
        ):
            return True
    return False


def _address_in_subject(subject: bytes, address: bytes) -> bool:
    """The whole To address appears in the Subject as a word (any case)."""
    haystack, needle = subject.lower(), address.lower()
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        if _boundary(haystack, start) and _boundary(haystack, end):
            return True
        start = haystack.find(needle, start + 1)
    return False


def check_for_to_in_subject(ctx: MessageContext, test: str = "", *_args: str) -> bool:
    """LOCALPART_IN_SUBJECT ('user') or the full address ('address') in the Subject."""
    to = get_scalar(ctx, "To:addr")
    if to == b"":
        return False
    subject = get_scalar(ctx, "Subject")
    if test == "address":
        return _address_in_subject(subject, to)
    if test == "user":
        return _user_in_subject(subject, _AT_AND_AFTER.sub(b"", to, count=1))
    return False


def check_for_unique_subject_id(_ctx: MessageContext, *_args: str) -> bool:
    """Retired in SpamAssassin (bug 8051): always false."""
    return False


# ---- raw header bytes ------------------------------------------------------------------------

_NON_SPACE = re.compile(rb"\S")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ILLEGAL = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0x100)])
_SUBJECT_EXEMPT = b"\xa2\xa3\xae"  # one cent, pound or registered sign is tolerated


def _valid_utf8(text: bytes) -> bool:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_illegal_chars(
    ctx: MessageContext, header: str = "", ratio: str = "0", count: str = "0", *_args: str
) -> bool:
    """FROM_ILLEGAL_CHARS, __SUBJ/HEAD_ILLEGAL_CHARS: unencoded 8-bit or control bytes.

    Valid UTF-8 without control characters is accepted (SMTPUTF8 mail).
    """
    spec = header if header.endswith(":raw") else header + ":raw"
    text = get_scalar(ctx, spec, None)
    if text is None or not _NON_SPACE.search(text):
        return False
    if _NON_ASCII.search(text) and _valid_utf8(text) and not _CONTROLS.search(text):
        return False
    illegal = len(text) - len(text.translate(None, _ILLEGAL))
    if illegal > 0 and spec.lower() == "subject:raw":
        exempt = len(text) - len(text.translate(None, _SUBJECT_EXEMPT))
        if exempt == 1:
            illegal -= 1
    return illegal / len(text) >= perl_number(ratio) and illegal >= perl_number(count)


_ENCODED_WORD_CHARSET = re.compile(rb"=\?(.+?)\?.\?.*?\?=")


def check_for_faraway_charset_in_headers(ctx: MessageContext, *_args: str) -> bool:
    """CHARSET_FARAWAY_HEADER: From or Subject encoded in a charset foreign to ok_locales."""
    locales = my_locales(str(ctx.config.get("ok_locales") or ""))
    if "all" in locales:
        return False
    for name in ("From:raw", "Subject:raw"):
        for value in ctx.header_values(name):
            for m in _ENCODED_WORD_CHARSET.finditer(value):
                if not charset_ok_for_locales(m.group(1).decode("latin-1"), locales):
                    return True
    return False


_TEMPLATE_VARIABLE = re.compile(rb"%[A-Z][A-Z_-]")
_TEMPLATE_EXEMPT = re.compile(
    rb"^(?:X-VMS-To|X-UIDL|X-Face|To|Cc|From|Subject|References|In-Reply-To"
    rb"|(?:X-|Resent-|X-Original-)?Message-Id):",
    re.I,
)


def check_unresolved_template(ctx: MessageContext, *_args: str) -> bool:
    """UNRESOLVED_TEMPLATE: a mass-mailer left a %VARIABLE unexpanded in some header."""
    for line in get_scalar(ctx, "ALL").split(b"\n"):
        if _TEMPLATE_VARIABLE.search(line) and not _TEMPLATE_EXEMPT.match(line):
            return True
    return False


def check_header_count_range(
    ctx: MessageContext, header: str = "", low: str = "0", high: str = "0", *_args: str
) -> bool:
    """HEADER_COUNT_*: the number of distinct values of a header is within [low, high]."""
    count = len(set(ctx.header_values(header))) if header else 0
    return perl_number(low) <= count <= perl_number(high)


# ---- ratware fingerprints ------------------------------------------------------------------

_RATWARE_MESSAGE_ID = re.compile(rb"<[A-Z]{28}\.([^>]+?)>")


def _quoted_name_before(text: bytes, index: int) -> bool:
    """Whether `"name" ` (a non-empty quoted phrase, then spaces) ends at text[index]."""
    j = index - 1
    while j >= 0 and text[j] in _SPACE_BYTES:
        j -= 1
    if j < 0 or text[j] != 0x22:
        return False
    opening = text.rfind(b'"', 0, j)
    return opening >= 0 and j - opening >= 2


def check_ratware_name_id(ctx: MessageContext, *_args: str) -> bool:
    """__RATWARE_NAME_ID: a 28-capital Message-ID whose tail is From's `"name" <tail>`."""
    m = _RATWARE_MESSAGE_ID.search(get_scalar(ctx, "MESSAGEID"))
    if m is None:
        return False
    sender = get_scalar(ctx, "From")
    wanted = b"<" + m.group(1) + b">"
    start = sender.find(wanted)
    while start >= 0:
        if _quoted_name_before(sender, start):
            return True
        start = sender.find(wanted, start + 1)
    return False


_SRS = re.compile(rb"^SRS\d[=+-]", re.I)
_USER_AT_DOMAIN = re.compile(rb"^([^@]+)@(.+)$")


def _domain_then_user(sender: bytes, domain: bytes, user: bytes) -> bool:
    """Perl's /\\bDOMAIN.USER@/i: the recipient's domain, any one character, its user, "@"."""
    haystack = sender.lower()
    domain, tail = domain.lower(), user.lower() + b"@"
    start = haystack.find(domain)
    while start >= 0:
        joint = start + len(domain)
        if (
            _boundary(haystack, start)
            and joint < len(haystack)
            and haystack[joint] != 0x0A
            and haystack.startswith(tail, joint + 1)
        ):
            return True
        start = haystack.find(domain, start + 1)
    return False


def check_ratware_envelope_from(ctx: MessageContext, *_args: str) -> bool:
    """RATWARE_EFROM: the envelope sender is built from the recipient, e.g. example.com.bob@."""
    to = get_scalar(ctx, "To:addr")
    sender = get_scalar(ctx, "EnvelopeFrom:addr")
    if sender == b"" or to == b"" or _SRS.match(sender):
        return False
    m = _USER_AT_DOMAIN.match(to)
    if m is None:
        return False
    registry = ctx.config.registry
    domain = registry.trim_domain(m.group(2).decode("utf-8", "surrogateescape"))
    if not registry.is_domain_valid(domain):
        return False
    return _domain_then_user(sender, domain.encode("utf-8", "surrogateescape"), m.group(1))


# ---- recipient lists -----------------------------------------------------------------------

# SpamAssassin's experimentally chosen constants (HeaderEval.pm TOCC_*).
_SORTED_MIN_COUNT = 7
_SIMILAR_MIN_COUNT = 5
_SIMILAR_PREFIX = 2
_MAX_RECIPIENTS = 256
_AT_REST = re.compile(rb"@(.*)")


def _recipients(ctx: MessageContext) -> tuple[bool, float]:
    """(sorted?, similarity) of the To/Cc (or Bcc) address list, computed once per message."""
    cache = ctx.msg.cache
    found = cache.get("header_eval:recipients")
    if isinstance(found, tuple):
        return found
    inputs: list[bytes] = []
    for spec in ("ToCc:addr", "Bcc:addr"):
        inputs.extend(ctx.header_values(spec))
        if len(inputs) >= _SIMILAR_MIN_COUNT:
            break
    addresses: list[bytes] = []
    previous = b""
    for current in inputs:
        if current in (b"", b"0"):  # Perl's `while (my $x = shift ...)` stops at a false value
            break
        if current.lower() != previous.lower():  # drop adjacent duplicates only
            addresses.append(current)
            previous = current
            if len(addresses) == _MAX_RECIPIENTS:
                break
    is_sorted = len(addresses) >= _SORTED_MIN_COUNT and b",".join(addresses) == b",".join(
        sorted(addresses)
    )
    similarity = 0.0
    if len(addresses) >= _SIMILAR_MIN_COUNT:
        similarity = _similarity(addresses)
    found = (is_sorted, similarity)
    cache["header_eval:recipients"] = found
    return found


def _pairs(counts: dict[bytes, int]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def _similarity(addresses: list[bytes]) -> float:
    """Share of address pairs with the same 2-byte user prefix, plus pairs with the same
    2-byte host prefix but different hosts, over all pairs.

    Hosts are collected only from addresses that have an "@", so after an address without
    one the hosts are paired with the wrong (later) addresses; SpamAssassin does the same.
    Counted by grouping, so a 256-address list costs no 32k pair comparisons.
    """
    n = len(addresses)
    users: dict[bytes, int] = {}
    for address in addresses:
        users[address[:_SIMILAR_PREFIX]] = users.get(address[:_SIMILAR_PREFIX], 0) + 1
    hosts = [m.group(1) for a in addresses if (m := _AT_REST.search(a))]
    hosts += [b""] * (n - len(hosts))  # Perl's undef: equal prefixes, but never different
    by_prefix: dict[bytes, int] = {}
    by_host: dict[bytes, int] = {}
    for host in hosts:
        by_prefix[host[:_SIMILAR_PREFIX]] = by_prefix.get(host[:_SIMILAR_PREFIX], 0) + 1
        by_host[host] = by_host.get(host, 0) + 1
    hits = _pairs(users) + _pairs(by_prefix) - _pairs(by_host)
    return hits / (n * (n - 1) // 2)


def sorted_recipients(ctx: MessageContext, *_args: str) -> bool:
    """SORTED_RECIPS: seven or more recipients, already in sorted order (a harvested list)."""
    return _recipients(ctx)[0]


def similar_recipients(
    ctx: MessageContext, low: str = "undef", high: str = "undef", *_args: str
) -> bool:
    """SUSPICIOUS_RECIPS: recipient pairs look alike (dictionary attack) within [low, high)."""
    similarity = _recipients(ctx)[1]
    return (low == "undef" or similarity >= perl_number(low)) and (
        high == "undef" or similarity < perl_number(high)
    )


EVALS: dict[str, Callable[..., object]] = {
    "check_equal_from_domains": check_equal_from_domains,
    "check_for_faraway_charset_in_headers": check_for_faraway_charset_in_headers,
    "check_for_matching_env_and_hdr_from": check_for_matching_env_and_hdr_from,
    "check_for_missing_to_header": check_for_missing_to_header,
    "check_for_to_in_subject": check_for_to_in_subject,
    "check_for_unique_subject_id": check_for_unique_subject_id,
    "check_header_count_range": check_header_count_range,
    "check_illegal_chars": check_illegal_chars,
    "check_ratware_envelope_from": check_ratware_envelope_from,
    "check_ratware_name_id": check_ratware_name_id,
    "check_unresolved_template": check_unresolved_template,
    "similar_recipients": similar_recipients,
    "sorted_recipients": sorted_recipients,
    "subject_is_all_caps": subject_is_all_caps,
}
