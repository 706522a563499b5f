"""Reading address lists out of header values, as leniently as SpamAssassin does.

`From:addr`, `To:name` and friends run on whatever senders put in these fields: unquoted
commas, a bare phrase, `<>` twice, an address hidden in an encoded-word. SpamAssassin 4.0.1
(`Util::parse_header_addresses`) uses a relaxed pattern-based reader first and asks a strict
RFC 5322 parser (Email::Address::XS) only when the relaxed one found nothing or fewer
addresses than the value has commas + 1, keeping whichever found more. Both readers live here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Address", "parse_addresses"]


@dataclass(frozen=True, slots=True)
class Address:
    """One entry of an address list; any field may be missing on broken input."""

    phrase: bytes | None
    address: bytes | None
    user: bytes | None
    host: bytes | None
    comment: bytes | None
    invalid: bool


HostCheck = Callable[[bytes], bool]

# --- building blocks (bytes patterns: \s, \d and \S are ASCII, as in Perl on octets) --------
_QUOTED = rb'"(?:[^"\\]++|\\.)*+"'
# A display phrase: quoted strings and runs of anything but quote, comma, semicolon and "<".
_PHRASE = rb"(?:" + _QUOTED + rb'|[^",;<]++)+'
# user@host where the user may be quoted and the host may be a bracketed literal.
_MAILBOX = (
    rb"(?:" + _QUOTED + rb"|[^@\s<>()\[\],:;]+)"
    rb"@(?:[^\"\s<>()\[\],:;]+|\[[\d:.]+\])"
)
_ANGLE = rb"<\s*([^>@]*\S+|\s*)\s*>"
# Some mailers repeat the angle address; the copies are ignored.
_REPEATED_ANGLE = rb"(?:\s*<\s*(?:(?:" + _QUOTED + rb")?\S+|\s*)\s*>)*"
_TRAILING_COMMENT = rb"(?:\s*\(((?:[^()\\]++|\\.)*+)\))?"
_ENTRY = re.compile(
    rb"\s*(?:"
    rb"(?:(" + _PHRASE + rb")\s*)?" + _ANGLE + _REPEATED_ANGLE + rb"|"
    rb"(?:(" + _MAILBOX + rb")|(" + _PHRASE + rb"))"
    rb")" + _TRAILING_COMMENT + rb"\s*(?:[,;]|\Z)",
    re.I,
)
_IS_MAILBOX = re.compile(_MAILBOX, re.I)
_GROUP_PREFIX = re.compile(rb'[^"()<>]+:\s*(?:;.*)?', re.S)
_FLAT_COMMENT = re.compile(rb"\((?:[^()\\]++|\\.)*+\)")
_PHRASE_PIECE = re.compile(rb'"((?:[^"\\]++|\\.)*+)"|([^"]++)')
_LONE_BACKSLASH = re.compile(rb"\\(?!\\)")
_USER_AT_HOST = re.compile(rb"([^@]*)@([^@]*)")
_BRACKETED_MAILBOX = re.compile(rb"<(" + _MAILBOX + rb")>", re.I)
_NON_SPACE = re.compile(rb"\S")


def parse_addresses(value: bytes, host_is_valid: HostCheck) -> list[Address]:
    """Every address of a header value; `host_is_valid` is SpamAssassin's `is_fqdn_valid`.

    The host check is injected because it depends on IDN handling the caller owns; it only
    affects the `invalid` flag and whether a bare phrase is promoted to an address.
    """
    if not _NON_SPACE.search(value):
        return []
    found = _relaxed(value, host_is_valid)
    if not found or len(found) < value.count(b",") + 1:
        strict = _strict(value, host_is_valid)
        if len(strict) > len(found):
            return strict
    return found


def _valid_mailbox(address: bytes | None) -> bool:
    """Reject the shapes the relaxed reader is known to produce by mistake."""
    if address is None or address.startswith(b'""@'):
        return False
    return address.count(b'"') != 1


def _split_user_host(address: bytes) -> tuple[bytes, bytes | None, bytes | None]:
    """Keep `user@host` up to any second "@" (and the end of the first line)."""
    match = _USER_AT_HOST.match(address)
    if match is None:
        return address, None, None
    rest = address[match.end() :]
    newline = rest.find(b"\n")
    kept = match.group(0) + (rest[newline:] if newline >= 0 else b"")
    return kept, match.group(1), match.group(2)


def _clean_phrase(phrase: bytes) -> bytes | None:
    """Unquote quoted pieces and drop (flat) comments from unquoted ones."""
    pieces: list[bytes] = []
    for match in _PHRASE_PIECE.finditer(phrase):
        quoted, plain = match.group(1), match.group(2)
        if quoted is not None:
            pieces.append(_LONE_BACKSLASH.sub(b"", quoted).replace(b"\\\\", b"\\"))
        else:
            pieces.append(_FLAT_COMMENT.sub(b"", plain))
    return b"".join(pieces) if pieces else None


def _relaxed(value: bytes, host_is_valid: HostCheck) -> list[Address]:
    """SpamAssassin's internal reader: one relaxed pattern applied entry by entry."""
    text = value.rstrip(b" \t\n\r\x0b\x0c").replace(b"\\\\", b"")
    match = _GROUP_PREFIX.match(text)
    if match:  # "Group: a, b;" -> "a, b;" and an empty group "Group:;" -> ""
        text = text[match.end() :]
    if not _NON_SPACE.search(text):
        return []
    results: list[Address] = []
    while True:
        match = _ENTRY.match(text)
        if match is None or match.end() == 0:
            break
        text = text[match.end() :]
        results.append(_entry(match, host_is_valid))
        if not text:
            break
    if b"@" in text:
        for found in _BRACKETED_MAILBOX.finditer(text):
            address = found.group(1)
            if not _valid_mailbox(address):
                continue
            address, user, host = _split_user_host(address)
            invalid = host is None or not host_is_valid(host)
            results.append(Address(None, address, user, host, None, invalid))
    return results


def _entry(match: re.Match[bytes], host_is_valid: HostCheck) -> Address:
    phrase = match.group(1) if match.group(1) is not None else match.group(4)
    address = match.group(2) if match.group(2) is not None else match.group(3)
    comment = match.group(5)
    if match.group(2) is not None:
        address = _FLAT_COMMENT.sub(b"", address)
        if not _IS_MAILBOX.fullmatch(address):
            address = None
    if not _valid_mailbox(address):
        address = None
    if phrase is not None:
        phrase = _clean_phrase(phrase)
        if (
            phrase is not None
            and address is None
            and _looks_like_own_address(phrase, host_is_valid)
        ):
            address, phrase = phrase, None
        elif phrase is not None and (phrase == b"" or phrase == address):
            phrase = None
    if phrase is None and comment is not None:
        phrase = comment
    user = host = None
    if address is not None:
        address, user, host = _split_user_host(address)
    invalid = host is None or not host_is_valid(host)
    return Address(phrase, address, user, host, comment, invalid)


def _looks_like_own_address(phrase: bytes, host_is_valid: HostCheck) -> bool:
    """A bare phrase that is really an address with a valid host name."""
    if not _IS_MAILBOX.fullmatch(phrase) or not _valid_mailbox(phrase):
        return False
    match = re.match(rb"[^@]*@([^@]*)", phrase)
    return match is not None and host_is_valid(match.group(1))


# --- the strict reader (the Email::Address::XS role) -----------------------------------------


class _Tokens:
    """A tiny RFC 5322 lexer: quoted strings, (nested) comments, specials and atoms."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.pos = 0

    def skip_cfws(self) -> list[bytes]:
        """Skip whitespace and comments, returning the comments' text."""
        comments: list[bytes] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in b" \t\r\n":
                self.pos += 1
            elif ch == 0x28:  # "("
                comments.append(self._comment())
            else:
                break
        return comments

    def _comment(self) -> bytes:
        depth = 0
        start = self.pos + 1
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == 0x5C:  # backslash
                self.pos += 2
                continue
            if ch == 0x28:
                depth += 1
            elif ch == 0x29:
                depth -= 1
                if depth == 0:
                    self.pos += 1
                    return text[start : self.pos - 1]
            self.pos += 1
        return text[start:]

    def quoted(self) -> bytes | None:
        """A quoted string's content, or None when the closing quote is missing."""
        text = self.text
        self.pos += 1
        out = bytearray()
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == 0x5C and self.pos + 1 < len(text):
                out.append(text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if ch == 0x22:
                return bytes(out)
            out.append(ch)
        return None

    def atom(self) -> bytes:
        text = self.text
        start = self.pos
        while self.pos < len(text) and text[self.pos] not in b' \t\r\n()<>[]:;@\\,."':
            self.pos += 1
        return text[start : self.pos]


def _strict(value: bytes, host_is_valid: HostCheck) -> list[Address]:
    """A standards-minded address-list reader with nested comments and groups.

    It stands in for Email::Address::XS, whose answers SpamAssassin only takes when they hold
    more entries than the relaxed reader's, so what matters is how many entries it reports.
    Probing that parser showed its error recovery: an entry that is not a mailbox (an angle
    address without "@", an empty entry, a lone word before a comma) is reported without
    phrase and address, which SpamAssassin then names after the whole input; a phrase of
    several words before a comma, an unterminated quoted string or a group inside a group
    ends the parse after such an entry. A last entry that is a plain phrase stays a phrase.
    """
    text = value.replace(b"\\\\", b"")
    tokens = _Tokens(text)
    results: list[Address] = []
    words: list[bytes] = []
    comments: list[bytes] = []
    angle: bytes | None = None
    dotted = False
    in_group = False

    def invalid_entry(comment: bytes | None) -> Address:
        phrase = comment if comment is not None else text
        return Address(phrase, None, None, None, comment, True)

    def close(last: bool, separator: bytes) -> bool:
        """Finish one entry; True when the reader must stop here."""
        nonlocal words, comments, angle, dotted
        comment = comments[0] if comments else None
        phrase = b" ".join(w for w in words if w) or None
        count = len(words)
        had_dot = dotted
        words, comments, angle_text, angle, dotted = [], [], angle, None, False
        if angle_text is not None:
            if b"@" not in angle_text:
                results.append(invalid_entry(comment))
                return False
            address: bytes | None = angle_text
        elif phrase is not None:
            with_at = [w for w in (phrase.split(b" ")) if b"@" in w]
            if with_at:
                address, phrase = with_at[0], None
            elif last and not had_dot:
                address = None
            else:
                results.append(invalid_entry(comment))
                return count > 1 and not last
        elif comment is not None:
            address = None
        else:
            if separator == b",":
                results.append(invalid_entry(None))
            return False
        if phrase is None and comment is not None:
            phrase = comment
        user = host = None
        if address is not None:
            user, _, host = address.rpartition(b"@")
        invalid = host is None or not host_is_valid(host)
        results.append(Address(phrase, address, user, host, comment, invalid))
        return False

    while tokens.pos < len(text):
        comments.extend(tokens.skip_cfws())
        if tokens.pos >= len(text):
            break
        ch = text[tokens.pos]
        if ch == 0x22:
            quoted = tokens.quoted()
            if quoted is None:
                results.append(invalid_entry(None))
                return results
            words.append(quoted)
        elif ch == 0x3C:  # "<"
            end = text.find(b">", tokens.pos)
            end = len(text) if end < 0 else end
            inner = text[tokens.pos + 1 : end].strip()
            angle = inner.rsplit(b":", 1)[-1] if b":" in inner else inner  # drop obs-route
            tokens.pos = end + 1
        elif ch in b",;":
            tokens.pos += 1
            if ch == 0x3B:
                in_group = False
            if close(False, bytes([ch])):
                return results
        elif ch == 0x3A:  # ":" ends a group's display name
            tokens.pos += 1
            if in_group:
                results.append(invalid_entry(None))
                return results
            in_group = True
            words, dotted = [], False
        elif ch in b"@.":
            tokens.pos += 1
            dotted = dotted or ch == 0x2E
            if words:
                words[-1] += bytes([ch])
            else:
                words.append(bytes([ch]))
            words[-1] += tokens.atom()
        elif ch in b">[]\\)":
            tokens.pos += 1
        else:
            atom = tokens.atom()
            if words and words[-1].endswith((b"@", b".")):
                words[-1] += atom
            else:
                words.append(atom)
    if words or comments or angle is not None:
        close(True, b"")
    return results
