"""HTML entities, decoded by the reference decoder's rules (neither HTML 4's nor HTML5's)."""

from __future__ import annotations

import html.entities
import re

# HTML 4 entity names plus &apos;; only those below U+0100 may omit the semicolon.
_ENTITIES: dict[str, str] = {name: chr(cp) for name, cp in html.entities.name2codepoint.items()}
_ENTITIES["apos"] = "'"
_LATIN1_ENTITIES = frozenset(name for name, ch in _ENTITIES.items() if ord(ch) < 0x100)
_LONGEST_ENTITY = max(map(len, _ENTITIES))
_NONCHARACTERS = frozenset((0xFFFE, 0xFFFF))


def _numeric_entity(value: int) -> str | None:
    if value == 0 or value > 0x10FFFF or value in _NONCHARACTERS:
        return None
    if 0xD800 <= value <= 0xDFFF:
        return "\ufffd"
    return chr(value)


class _EntityDecoder:
    """Decodes character references written with a sentinel in place of ``&``.

    Text and attribute values follow different rules in the reference: in text a Latin-1
    entity name is recognised as a prefix (``&copy2`` -> ``©2``); in an attribute it must end
    at a non-word character, so query strings such as ``?a=1&region=2`` survive.
    """

    def __init__(self, amp: str) -> None:
        self.amp = amp
        self._pattern = re.compile(
            re.escape(amp) + r"(?:#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?|([A-Za-z][A-Za-z0-9]*)(;?))"
        )

    def _numeric(self, m: re.Match[str]) -> str | None:
        hex_digits, dec_digits = m.group(1), m.group(2)
        if hex_digits is not None:
            return _numeric_entity(int(hex_digits, 16)) if len(hex_digits) <= 8 else None
        if dec_digits is not None:
            return _numeric_entity(int(dec_digits)) if len(dec_digits) <= 9 else None
        return None

    def _text_ref(self, m: re.Match[str]) -> str:
        if m.group(3) is None:
            ch = self._numeric(m)
            return m.group(0).replace(self.amp, "&") if ch is None else ch
        name, semi = m.group(3), m.group(4)
        if semi and name in _ENTITIES:
            return _ENTITIES[name]
        for cut in range(min(len(name), _LONGEST_ENTITY), 1, -1):
            prefix = name[:cut]
            if prefix in _LATIN1_ENTITIES:
                return _ENTITIES[prefix] + name[cut:] + semi
        return "&" + name + semi

    def _attr_ref(self, m: re.Match[str]) -> str:
        if m.group(3) is None:
            ch = self._numeric(m)
            return m.group(0).replace(self.amp, "&") if ch is None else ch
        name, semi = m.group(3), m.group(4)
        if semi and name in _ENTITIES:
            return _ENTITIES[name]
        if not semi and name in _LATIN1_ENTITIES:
            following = m.string[m.end() : m.end() + 1]
            if not (following.isalnum() or following == "_"):
                return _ENTITIES[name]
        return "&" + name + semi

    def text(self, s: str) -> str:
        if self.amp not in s:
            return s
        return self._pattern.sub(self._text_ref, s).replace(self.amp, "&")

    def attribute(self, s: str) -> str:
        if self.amp not in s:
            return s
        return self._pattern.sub(self._attr_ref, s).replace(self.amp, "&")

    def raw(self, s: str) -> str:
        return s.replace(self.amp, "&") if self.amp in s else s


# Private-use code points that stand in for "&"; the first one absent from a document is used.
_SENTINELS = ("\ue000", "\uf8ff", "\U0010fffd")
_DECODERS = {amp: _EntityDecoder(amp) for amp in _SENTINELS}
