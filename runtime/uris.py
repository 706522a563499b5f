"""Find the URIs in a message and expand each into the variants ``uri`` rules are run on.

Spammers hide links: ``http://%77%77%77.example.com``, ``http://0x7f.1/``, a redirector
wrapping the real target, a bare ``example.com`` in text.  SpamAssassin therefore tests every
``uri`` rule against the URI as written *and* every cleaned-up variant it can derive.  This
module reproduces that pipeline:

* :func:`find_text_uris` scans the rendered body lines (Subject first) with a
  Thunderbird/Outlook-like linkifier: schemes, ``www.``/``ftp.`` prefixes, ``mailto:`` and bare
  addresses, and scheme-less ``host.tld`` when the TLD is configured;
* :func:`canonicalize` expands one URI into its variants (%-decoding, ``&#NN;`` decoding,
  default ports, user-info and odd host characters removed, hex/octal/integer IPs as dotted
  quads, IDN to ACE, redirector targets unwrapped and expanded in turn);
* :class:`UriExtractor` combines both with the links of the HTML parts into a
  :class:`UriDetail` table, whose :meth:`UriTable.uri_list` is the target of ``uri`` rules.

URIs are ``str``.  Text found in the body is scanned as the UTF-8 bytes the rules see and
decoded back with ``surrogateescape``, so ``uri.encode("utf-8", "surrogateescape")`` gives the
reference's bytes even for broken input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .domains import RegistryBoundaries, idn_to_ascii, is_fqdn_valid
from .html import MAX_URI_LENGTH, HtmlDocument

__all__ = [
    "MAX_URI_LENGTH",
    "RedirectorPattern",
    "TextUriPatterns",
    "UriDetail",
    "UriExtractor",
    "UriTable",
    "canonicalize",
    "find_text_uris",
    "redirector_from_regex",
    "url_decode",
]

RedirectorPattern = Callable[[str], "str | None"]
"""Given a URI, the redirect target it wraps (capture group 1 of a ``redirector_pattern``)."""


class _SearchablePattern(Protocol):
    def search(self, string: str) -> re.Match[str] | None: ...


def redirector_from_regex(pattern: _SearchablePattern) -> RedirectorPattern:
    """Adapt a compiled ``redirector_pattern`` regex (``re`` or ``regex``) to a callable."""

    def unwrap(uri: str) -> str | None:
        m = pattern.search(uri)
        if m is None or m.re.groups < 1:
            return None
        return m.group(1)

    return unwrap


# ---------------------------------------------------------------------------------------------
# %-decoding

_ESCAPE_SPLIT_RE = re.compile(r"(%[0-9a-fA-F]{2})")
_HAS_ESCAPE_RE = re.compile(r"%[0-9a-fA-F]{2}")
# Bytes that are written as %XX when they appear bare: controls, space, '"', '%', '<', '>',
# DEL and everything above.
_NEEDS_ESCAPE = frozenset([*range(0x00, 0x21), 0x22, 0x25, 0x3C, 0x3E, *range(0x7F, 0x100)])


def url_decode(uri: str, octets: bool = False) -> str:
    """Decode %XX escapes of printable ASCII and escape bare unsafe characters.

    Escapes of controls, space, DEL and 8-bit bytes stay encoded, because decoding them would
    change how the URI splits; bare unsafe characters are encoded so that the result is
    comparable.  With ``octets`` the URI stands for UTF-8 bytes (text found in the body), so a
    non-ASCII character is encoded byte by byte; otherwise it is a decoded character string
    (HTML), where only U+007F..U+00FF are encoded and wider characters are kept.
    """
    out = []
    for piece in _ESCAPE_SPLIT_RE.split(uri):
        if not piece:
            continue
        if piece[0] == "%" and len(piece) == 3 and _HAS_ESCAPE_RE.fullmatch(piece):
            code = piece[1:].lower()
            if "2" <= code[0] <= "7" and code not in ("20", "7f"):
                out.append(chr(int(code, 16)))
            else:
                out.append(piece)
            continue
        if octets and not piece.isascii():
            raw = piece.encode("utf-8", "surrogateescape")
            out.append("".join(f"%{b:02x}" if b in _NEEDS_ESCAPE else chr(b) for b in raw))
        else:
            out.append(
                "".join(f"%{ord(ch):02x}" if ord(ch) in _NEEDS_ESCAPE else ch for ch in piece)
            )
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Canonicalisation

# Perl's \s as used in the reference's trim, without Python's extra \x1c-\x1f.
_SPACE = "\t\n\x0b\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TRIM_RE = re.compile(f"^[{_SPACE}]+|[{_SPACE}]+$")
_NOT_A_LINK_RE = re.compile(r"[#?&]|/(?!/)")
_MAILTO_RE = re.compile("mailto:", re.IGNORECASE)
_ADDRESS_RE = re.compile(r"[^:]*@")
_MAIL_QUERY_RE = re.compile(r"([^@]+@[^?]+)\?")
_MAIL_AMP_RE = re.compile(r"([^@]+@[^?&]+)&")
_MAIL_SPACES_RE = re.compile(r"(?:mailto:)?(?:%20)*([^@]+@[^?&%]+)")
_MAIL_ANGLE_RE = re.compile(r"[^?&]*<([^@>]+@[^>]+)>")
_HTTP_SLASHES_RE = re.compile(r"^(https?:)/{0,2}", re.IGNORECASE)
_HAS_SCHEME_RE = re.compile(r"[-_a-z0-9]+:", re.IGNORECASE)
_SLASH_BEFORE_QUERY_RE = re.compile(r"^(https?://[^/?#]+)([?#])", re.IGNORECASE)
_DEC_ENTITY_RE = re.compile(r"&#0*(3[3-9]|[4-9]\d|1[01]\d|12[0-6]);")
_HEX_ENTITY_RE = re.compile(r"&#x0*(2[1-9]|[3-6][a-fA-F0-9]|7[0-9a-eA-E]);")
_DOT_ENTITY_RE = re.compile(r"&#(?:x2e|12290|x3002|65294|xff0e|65377|xff61);", re.IGNORECASE)
_HTTP_PARTS_RE = re.compile(r"^(https?://)([^@/?#]*@)?([^/?#:]+)((?::(\d*))?.*)$", re.IGNORECASE)
_PORT_80_RE = re.compile(r"^:80\b")
_PORT_443_RE = re.compile(r"^:443\b")
_CONTROL_CHARS = "".join(map(chr, range(0x21)))
_CONTROL_TABLE = str.maketrans("", "", _CONTROL_CHARS)
_EMBEDDED_URL_RE = re.compile(r"(https?:/{0,2}[^&#]+)", re.IGNORECASE)
_USERINFO_RE = re.compile(r"^[^@]+@")
_TRAILING_JUNK_RE = re.compile(r"[^0-9A-Za-z]+$")
_DOTTED_NUMBERS_RE = re.compile(
    r"((?:0x[0-9a-f]+|[0-9]+)\.)((?:0x[0-9a-f]+|[0-9]+)\.)((?:0x[0-9a-f]+|[0-9]+)\.)"
    r"(0x[0-9a-f]+|[0-9]+)\Z",
    re.IGNORECASE,
)
_HEX_OCTET_RE = re.compile(r"^0x([0-9a-f]+)", re.IGNORECASE)
_OCTAL_OCTET_RE = re.compile(r"^0+([1-3][0-7]{0,2}|[4-7][0-7]?)\b")
_LEADING_ZEROS_RE = re.compile(r"^0+")
_HEX_HOST_RE = re.compile(r"0x[0-9a-f]+\Z", re.IGNORECASE)
_HEX_HOST_TAIL_RE = re.compile(r"^0x[0-9a-f]*?([0-9a-f]{1,8})$", re.IGNORECASE)
_DECIMAL_HOST_RE = re.compile(r"[0-9]+\Z")
_SINGLE_LABEL_RE = re.compile(r"^(?:www\.)?([^.]+)$")
_UINT64_MAX = 2**64 - 1


def _long_to_ip(value: int) -> str:
    """Dotted quad of an integer host, taking the first four bytes of its hex form (as the
    reference's pack/unpack does, so values beyond 32 bits keep their high bytes)."""
    digits = format(min(value, _UINT64_MAX), "08x")
    if len(digits) % 2:
        digits += "0"
    octets = bytes.fromhex(digits)[:4]
    return ".".join(str(b) for b in octets)


def _decimal_octet(chunk: str) -> str:
    chunk = _HEX_OCTET_RE.sub(lambda m: str(int(m.group(1), 16)), chunk, count=1)
    chunk = _OCTAL_OCTET_RE.sub(lambda m: str(int(m.group(1), 8)), chunk, count=1)
    return _LEADING_ZEROS_RE.sub("", chunk, count=1)


def _clean_one(
    uri: str,
    pending: list[str],
    variants: list[str],
    redirectors: Sequence[RedirectorPattern],
    registry: RegistryBoundaries | None,
    octets: bool,
) -> str:
    """Add the variants of one URI to ``variants`` (redirect targets to ``pending``)."""
    uri = _TRIM_RE.sub("", uri.replace("\n", "")).replace("\r", "")
    # Fragments, queries and site-relative paths name no host ("//host" does).
    if len(uri) <= 1 or _NOT_A_LINK_RE.match(uri):
        return uri
    nuri = uri
    if _MAILTO_RE.match(nuri) or _ADDRESS_RE.match(nuri):
        # Clients linkify "foo@bar.com?subject=x" and even "foo@bar.com&x" to the address.
        m = _MAIL_QUERY_RE.match(nuri)
        if m:
            variants.append(m.group(1))
        m = _MAIL_AMP_RE.match(nuri)
        if m:
            variants.append(m.group(1))
        if "%20" in nuri:
            m = _MAIL_SPACES_RE.match(nuri)
            if m:
                variants.append("mailto:" + m.group(1))
        m = _MAIL_ANGLE_RE.match(nuri)
        if m:
            variants.append("mailto:" + m.group(1))
        return uri

    nuri = nuri.replace("\\", "/")  # some clients treat backslashes as slashes
    nuri = _HTTP_SLASHES_RE.sub(r"\1//", nuri, count=1)
    if _HAS_ESCAPE_RE.search(nuri):
        nuri = url_decode(nuri, octets)
    if not _HAS_SCHEME_RE.match(nuri):
        nuri = ("ftp://" if nuri.startswith("ftp.") else "http://") + nuri
    nuri = _SLASH_BEFORE_QUERY_RE.sub(r"\1/\2", nuri, count=1)
    if "&#" in nuri:
        nuri = _DEC_ENTITY_RE.sub(lambda m: chr(int(m.group(1))), nuri)
        nuri = _HEX_ENTITY_RE.sub(lambda m: chr(int(m.group(1), 16)), nuri)
        nuri = _DOT_ENTITY_RE.sub(".", nuri)
    if nuri != uri:
        variants.append(nuri)

    m = _HTTP_PARTS_RE.match(nuri)
    if m is None:
        return uri
    proto, auth, host, rest, port = m.groups()
    auth = auth or ""
    rest_noport: str | None = None
    if not port:  # "http://host:/x" has an empty port, which means the default
        port = "80" if proto == "http://" else "443"
    else:
        rest_noport = rest
        if proto == "http://":
            if _PORT_80_RE.match(rest_noport):
                rest_noport = rest_noport[3:]
                variants.append(proto + host + rest_noport)
        elif _PORT_443_RE.match(rest_noport):
            rest_noport = rest_noport[4:]
            variants.append(proto + host + rest_noport)

    nhost = idn_to_ascii(host)
    if nhost != host.lower():
        variants.append(proto + nhost + rest)
        if rest_noport:
            variants.append(proto + nhost + rest_noport)
        host = nhost

    # Browsers drop control characters and spaces from host names.
    stripped = host.translate(_CONTROL_TABLE)
    if stripped != host:
        host = stripped
        variants.append(proto + host + rest)

    # Unwrap one level of redirection; the target is cleaned in turn.
    target = proto + host + rest
    for unwrap in redirectors:
        wrapped = unwrap(target)
        if wrapped is not None and "." in wrapped:
            pending.append(wrapped)
            break
    else:
        m = _EMBEDDED_URL_RE.search(rest)
        if m and "." in m.group(1):
            pending.append(m.group(1))

    without_user = _USERINFO_RE.sub("", host, count=1)
    if without_user != host:
        host = without_user
        variants.append(proto + host + rest)
    # "visit http://example.biz!!!": a host ends in an alphanumeric.
    trimmed = _TRAILING_JUNK_RE.sub("", host, count=1)
    if trimmed != host:
        host = trimmed
        variants.append(proto + host + rest)

    dotted = _DOTTED_NUMBERS_RE.match(host)
    if dotted:
        variants.append(proto + "".join(map(_decimal_octet, dotted.groups())) + rest)
    elif _HEX_HOST_RE.match(host):
        tail = _HEX_HOST_TAIL_RE.match(host)
        value = int(tail.group(1), 16) if tail else 0
        variants.append(proto + _long_to_ip(value) + rest)
    elif _DECIMAL_HOST_RE.match(host):
        variants.append(proto + _long_to_ip(int(host)) + rest)
    elif proto == "http://" and not auth and nhost != "localhost" and port == "80":
        # A single word is completed to www.word.com, as Firefox does.
        single = _SINGLE_LABEL_RE.match(nhost)
        if single and not (registry is not None and registry.is_domain_valid(nhost)):
            variants.append(proto + "www." + single.group(1) + ".com" + rest)
    return uri


def canonicalize(
    uri: str,
    redirectors: Sequence[RedirectorPattern] = (),
    registry: RegistryBoundaries | None = None,
    *,
    octets: bool = False,
) -> list[str]:
    """The URI itself (trimmed) plus every cleaned variant and unwrapped redirect target.

    ``registry`` stops ``http://foo.com`` style hosts that are already valid domains from
    gaining a ``www.`` / ``.com`` guess; ``octets`` says the URI came from body text (see
    :func:`url_decode`).  The order of the list carries no meaning.
    """
    pending = [uri]
    variants: list[str] = []
    i = 0
    while i < len(pending):
        pending[i] = _clean_one(pending[i], pending, variants, redirectors, registry, octets)
        i += 1
    return list(dict.fromkeys(pending + variants))


# ---------------------------------------------------------------------------------------------
# URIs in text


def _text_uri_regex(tlds_pattern: str, with_mail: bool = True) -> re.Pattern[bytes]:
    """The linkifier: a hybrid of Thunderbird's and Outlook Express's rules.

    Group 1 is a URI with a scheme or www./ftp. prefix, group 2 an e-mail address, group 3 a
    scheme-less ``host.tld...`` whose host is group 4.  ESC ``(`` x (ISO-2022 shift) and NBSP
    bytes delimit like spaces.  ``with_mail=False`` gives the same groups with the address
    branch disabled, for words that cannot hold one (its scan is the expensive part).
    """
    start_delim = rb"><\"'`,{[(|\s\x1b\xa0"
    end_delim = rb"><\"`}\]{[|\s\x1b\xa0"
    # Addresses also end at , ( ' and any 8-bit byte; a local part cannot contain "@".
    end_email = end_delim + rb",('\x80-\xff"
    end_local = end_email + b"@"
    scheme_less_start = rb"[!\"#$&'()*+,/:;<=>?@\[\\\]^`{|}~\s\x1b\xa0]"
    tlds = tlds_pattern.encode("ascii")
    scheme_less = (
        rb"([a-z\d][a-z\d._-]{0,251}\." + tlds + rb")\.?(?::\d{1,5})?"
        rb"(?:/[^" + end_delim + rb"]{1,2048})?"
    )
    known_scheme = rb"(?:(?:https?|ftp)://|(?:www\d{0,2}|ftp)\.)[^" + end_delim + rb"]{1,2048}"
    mail = (
        rb"(?:mailto:[^"
        + end_email
        + rb"]{1,2048}|[^"
        + end_local
        + rb"]{1,251}@[^"
        + end_email
        + rb"]{1,251})"
        if with_mail
        else rb"(?!)"
    )
    pattern = (
        rb"(?:\b|(?<=\x1b\(.)|(?<=[" + start_delim + rb"]))"
        rb"(?:(?:(" + known_scheme + rb")(?=[" + end_delim + rb"]|\Z))"
        rb"|(?:(" + mail + rb")(?=[" + end_email + rb"]|\Z))"
        rb"|(?:(?:^|(?<="
        + scheme_less_start
        + rb"))("
        + scheme_less
        + rb")(?=["
        + end_delim
        + rb"]|\Z)))"
    )
    return re.compile(pattern, re.IGNORECASE)


_PAREN_TAIL_RE = re.compile(rb"(^[^(]*)\).*$")
_PUNCT_TAIL_RE = re.compile(rb"[-~!@#^&*()_+=:;'?,.]*$")
_CID_RE = re.compile(r"[cm]id:", re.IGNORECASE)
_EMPTY_URI_RE = re.compile(r"\w+:/{0,2}$", re.IGNORECASE | re.ASCII)
_WEB_OR_MAIL_SCHEME_RE = re.compile(r"(?:https?|ftp|mailto):", re.IGNORECASE)
_FTP_PREFIX_RE = re.compile(r"ftp\.", re.IGNORECASE)
_WWW_PREFIX_RE = re.compile(r"www\d{0,2}\.", re.IGNORECASE)
_SLASH_BEFORE_AT_RE = re.compile(r"/.+@")
_DOT_AFTER_AT_RE = re.compile(r"@.+?\.")
_MAIL_MISPARSE_RE = re.compile(r"^(?:skype|e?-?mail)?:+", re.IGNORECASE)
_MAIL_HOST_RE = re.compile(r"@([^?&>]*)")
_TRAILING_SPACES_RE = re.compile(r"(?:%20)+$")


@dataclass(frozen=True, slots=True)
class TextUriPatterns:
    """The compiled linkifier for one TLD list (build once per configuration)."""

    full: re.Pattern[bytes]
    without_mail: re.Pattern[bytes]

    @classmethod
    def for_registry(cls, registry: RegistryBoundaries) -> TextUriPatterns:
        return cls(
            _text_uri_regex(registry.valid_tlds_pattern),
            _text_uri_regex(registry.valid_tlds_pattern, with_mail=False),
        )


# A whitespace-delimited word holding "@", ":" or a "." with something after it.
_CANDIDATE_WORD_RE = re.compile(rb"(?<!\S)[^\s@:.]*(?:[@:]|\.\S)\S*")


def _candidate_matches(data: bytes, patterns: TextUriPatterns) -> Iterable[re.Match[bytes]]:
    """The linkifier's matches in one line, trying only words that could hold a URI.

    No match spans whitespace (every alternative excludes it) and each needs a ".", "@" or
    ":", so the regex runs on those words alone, a few percent of the text.  A space is put
    in front so the word starts after a delimiter, exactly as it did in the line.
    """
    for candidate in _CANDIDATE_WORD_RE.finditer(data):
        word = b" " + candidate.group()
        if b"@" in word or b"mailto:" in word.lower():
            yield from patterns.full.finditer(word)
        else:
            yield from patterns.without_mail.finditer(word)


def find_text_uris(
    lines: Iterable[str | bytes],
    patterns: TextUriPatterns,
    registry: RegistryBoundaries,
) -> list[tuple[str, dict[str, None]]]:
    """Linkify rendered body text: (URI with scheme added, its types) in order of discovery.

    Types are ``parsed``, plus ``schemeless`` when a scheme had to be added and ``unlinked``
    for bare ``host.tld`` that mail clients would not make clickable.  Addresses without a
    valid TLD, hosts that are not valid names and ``cid:``/``mid:`` references are dropped.
    """
    found: list[tuple[str, dict[str, None]]] = []
    seen: set[bytes] = set()
    for line in lines:
        data = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line
        for m in _candidate_matches(data, patterns):
            raw = m.group(1) or m.group(2) or m.group(3)
            is_mail = m.group(1) is None and m.group(2) is not None
            raw = _PAREN_TAIL_RE.sub(rb"\1", raw, count=1)
            raw = _PUNCT_TAIL_RE.sub(b"", raw, count=1)
            if raw in seen:
                continue
            seen.add(raw)
            if is_mail and b"@" not in raw:
                continue
            host = m.group(4)
            if host is not None and not is_fqdn_valid(host.decode("latin-1"), True):
                continue
            uri = raw.decode("utf-8", "surrogateescape")
            if _CID_RE.match(uri) or _EMPTY_URI_RE.match(uri):
                continue
            types: dict[str, None] = {"parsed": None}
            if not _WEB_OR_MAIL_SCHEME_RE.match(uri):
                if _FTP_PREFIX_RE.match(uri):
                    uri = "ftp://" + uri
                elif _WWW_PREFIX_RE.match(uri):
                    uri = "http://" + uri
                elif _SLASH_BEFORE_AT_RE.search(uri):
                    uri = "http://" + uri  # a "/" before the "@": not an address
                elif "@" in uri:
                    if not _DOT_AFTER_AT_RE.search(uri) or "&nbsp;" in uri:
                        continue
                    uri = "mailto:" + _MAIL_MISPARSE_RE.sub("", uri, count=1)
                else:
                    if "." not in uri:
                        continue
                    uri = "http://" + uri
                    types["unlinked"] = None
                types["schemeless"] = None
            if _MAILTO_RE.match(uri):
                if _HAS_ESCAPE_RE.search(uri):
                    uri = url_decode(uri, octets=True)
                mh = _MAIL_HOST_RE.search(uri)
                if mh is None:
                    continue
                if not registry.is_domain_valid(_TRAILING_SPACES_RE.sub("", mh.group(1))):
                    continue
            found.append((uri, types))
    return found


# ---------------------------------------------------------------------------------------------
# The detail table


@dataclass(slots=True)
class UriDetail:
    """Everything known about one URI as found (the key of :class:`UriTable`).

    ``types``: HTML tags that referenced it, ``parsed`` (seen in text), ``schemeless``,
    ``unlinked``, ``domainkeys``; ``cleaned``: the canonical variants uri rules test;
    ``hosts`` maps each full host to its registrable domain.
    """

    types: dict[str, None] = field(default_factory=dict)
    cleaned: list[str] = field(default_factory=list)
    anchor_text: list[str] = field(default_factory=list)
    domains: dict[str, None] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class UriTable:
    """The per-message URI detail table and the flags derived while building it."""

    details: dict[str, UriDetail] = field(default_factory=dict)
    truncated: bool = False

    def uri_list(self) -> list[str]:
        """Every distinct cleaned URI: what ``uri`` rules are run against, one by one."""
        out: dict[str, None] = {}
        for detail in self.details.values():
            for uri in detail.cleaned:
                out[uri] = None
        return list(out)


class UriExtractor:
    """URI extraction bound to one compiled configuration (TLD lists, redirector patterns).

    Build one per configuration and reuse it: the linkifier regex embeds the TLD list and is
    compiled once here.
    """

    def __init__(
        self,
        registry: RegistryBoundaries,
        redirectors: Sequence[RedirectorPattern] = (),
    ) -> None:
        self.registry = registry
        self.redirectors = tuple(redirectors)
        self.text_patterns = TextUriPatterns.for_registry(registry)

    def canonicalize(self, uri: str, *, octets: bool = False) -> list[str]:
        """:func:`canonicalize` with this configuration's redirectors and registry."""
        return canonicalize(uri, self.redirectors, self.registry, octets=octets)

    def find_text_uris(self, lines: Iterable[str | bytes]) -> list[tuple[str, dict[str, None]]]:
        """:func:`find_text_uris` with this configuration's TLD list."""
        return find_text_uris(lines, self.text_patterns, self.registry)

    def build_table(
        self,
        body_lines: Iterable[str | bytes],
        html_parts: Iterable[HtmlDocument] = (),
        dkim_domains: Iterable[str] = (),
    ) -> UriTable:
        """The URI detail table of one message.

        ``body_lines`` is the rendered body array (Subject line first); ``html_parts`` the
        parsed HTML parts in message order; ``dkim_domains`` the ``d=`` values of DKIM and
        DomainKeys signatures when ``parse_dkim_uris`` is on (they feed URIBL lookups only and
        never reach ``uri_list``).
        """
        table = UriTable()
        for uri, types in self.find_text_uris(body_lines):
            self._add(table, uri, types, valid_domain=True, octets=True)
        for doc in html_parts:
            if doc.uri_truncated:
                table.truncated = True
            for uri, info in doc.uris.items():
                types = info.types or {"parsed": None}
                if self._add(table, uri, types, valid_domain=False, octets=False):
                    detail = table.details[uri]
                    detail.anchor_text.extend(dict.fromkeys(info.anchor_text))
        for domain in dkim_domains:
            domain = "".join(domain.split())
            self._add(
                table,
                "domainkeys:" + domain,
                {"domainkeys": None, "nocanon": None, "noclean": None},
                valid_domain=True,
                octets=False,
                canonical=False,
            )
        return table

    @staticmethod
    def _truncate(table: UriTable, uri: str, octets: bool) -> str:
        """Cut a URI to MAX_URI_LENGTH (bytes for text URIs, characters for HTML ones)."""
        if octets:
            raw = uri.encode("utf-8", "surrogateescape")
            if len(raw) > MAX_URI_LENGTH:
                table.truncated = True
                return raw[:MAX_URI_LENGTH].decode("utf-8", "surrogateescape")
        elif len(uri) > MAX_URI_LENGTH:
            table.truncated = True
            return uri[:MAX_URI_LENGTH]
        return uri

    def _add(
        self,
        table: UriTable,
        uri: str,
        types: dict[str, None],
        *,
        valid_domain: bool,
        octets: bool,
        canonical: bool = True,
    ) -> bool:
        variants = self.canonicalize(uri, octets=octets) if canonical else [uri]
        cleaned: dict[str, None] = {}
        domains: dict[str, None] = {}
        hosts: dict[str, str] = {}
        for variant in variants:
            if len(variant) > MAX_URI_LENGTH // 4:  # cheap pre-check before measuring
                variant = self._truncate(table, variant, octets)
            cleaned[variant] = None
            found = self.registry.uri_to_domain(variant)
            if found is not None:
                domain, host = found
                domains[domain] = None
                hosts[host] = domain
        if not cleaned or (valid_domain and not domains):
            return False
        detail = table.details.get(uri)
        if detail is None:
            detail = table.details[uri] = UriDetail()
        if canonical:  # signature domains are for lookups, not for uri rules
            merged = dict.fromkeys(detail.cleaned)
            merged.update(cleaned)
            detail.cleaned = list(merged)
        detail.domains.update(domains)
        detail.hosts.update(hosts)
        detail.types.update(types)
        return True
