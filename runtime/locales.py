"""Which charsets count as "faraway" for the configured `ok_locales` (SpamAssassin's Locales.pm).

The *_FARAWAY rules fire on text in a charset none of the accepted locales uses. Roman and
Unicode charsets are always acceptable; the others belong to the locales listed here. Like
SpamAssassin, the process locale (LC_ALL, LANGUAGE, LC_MESSAGES or LANG) is accepted as well.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

__all__ = ["charset_ok_for_locales", "my_locales"]

_CYRILLIC = "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS CP1251 PT154 CP866"
_CHARSETS_FOR_LOCALE: dict[str, frozenset[str]] = {
    locale: frozenset(charsets.split())
    for locale, charsets in {
        "ja": "EUCJP JISX020119760 JISX020819830 JISX020819900 JISX020819970 JISX021219900 "
        "JISX021320001 JISX021320002 SHIFT_JIS SHIFTJIS ISO2022JP SJIS JIS7 JISX0201 "
        "JISX0208 JISX0212",
        "ko": "EUCKR KSC56011987",
        "ru": _CYRILLIC,
        "ka": _CYRILLIC,
        "tg": _CYRILLIC,
        "be": _CYRILLIC,
        "uk": _CYRILLIC,
        "bg": _CYRILLIC,
        "th": "TIS620",
        "zh": "GB1988 GB2312 GB231219800 GB18030 GBK BIG5HKSCS BIG5 EUCTW ISO2022CN",
        "zh.big5": "BIG5HKSCS BIG5 EUCTW",
        "zh.gb2312": "GB1988 GB2312 GB231219800 GB18030 GBK ISO2022CN",
    }.items()
}

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_ALWAYS_OK = re.compile(
    r"^(?:USASCII\Z|ASCII\Z|ISO8859|ISO10646|UTF|UCS|CP125|WINDOWS|IBM852\Z|UNICODE11UTF[78]"
    r"|XUNKNOWN\Z|ISO\Z)"
)
_LANGUAGE_PREFIX = re.compile(r"^([a-z][a-z]).*$", re.S)


def my_locales(ok_locales: str) -> list[str]:
    """The `ok_locales` words plus the process locale, as SpamAssassin's get_my_locales."""
    locales = ok_locales.split()
    lang = next(
        (os.environ[v] for v in ("LC_ALL", "LANGUAGE", "LC_MESSAGES", "LANG") if os.environ.get(v)),
        None,
    )
    if lang is not None:
        locales.append(lang)
    return locales


def charset_ok_for_locales(charset: str, locales: Sequence[str]) -> bool:
    """Whether text in `charset` is expected from someone using one of `locales`."""
    cs = _NOT_ALNUM.sub("", charset.upper())
    cs = cs.removeprefix("3D")  # "=3D" left over from a quoted-printable mangling
    if _ALWAYS_OK.match(cs):
        return True
    for locale in locales:
        if locale in ("", "C"):
            locale = "en"
        locale = _LANGUAGE_PREFIX.sub(r"\1", locale)
        accepted = _CHARSETS_FOR_LOCALE.get(locale)
        if accepted is not None and cs in accepted:
            return True
    return False
